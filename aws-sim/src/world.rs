//! The simulated account's state: one sub-state per AWS service (EC2 network, IAM, Secrets
//! Manager and Systems Manager parameters, ELBv2, CloudWatch alarms and metrics, ECS,
//! Application Auto Scaling, CodeDeploy), and lazy time.
//! Every call first advances the world to the clock's `now`; services with nothing to do cost
//! nothing. CodeDeploy deployments progress as ECS blue/green runs, so CodeDeploy has no step of
//! its own. The metrics of each stretch of time between events are recorded on the way
//! (`cloudwatch::recording`).

use crate::arn;
use crate::autoscaling::AutoScalingState;
use crate::cloudwatch::alarms::AlarmState;
use crate::cloudwatch::alb_metrics::AlbMetrics;
use crate::cloudwatch::metrics::MetricsState;
use crate::codedeploy::CodeDeployState;
use crate::ecs::engine::{advance_service, next_event};
use crate::ecs::env::EcsEnv;
use crate::ecs::model::{Cluster, EcsState};
use crate::elb::ElbState;
use crate::network::{IamState, NetworkState};
use crate::secrets::SecretsState;
use crate::seed::SimSeed;
use crate::sns::model::SnsState;
use crate::time::Secs;

/// Everything in the simulated account.
#[derive(Debug, Clone)]
pub(crate) struct World {
    /// Account id.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// VPCs, subnets, security groups.
    pub network: NetworkState,
    /// IAM roles.
    pub iam: IamState,
    /// Secrets Manager secrets and Systems Manager parameters (names and ARNs, no values).
    pub secrets: SecretsState,
    /// Target groups, load balancers, listeners, rules.
    pub elb: ElbState,
    /// CloudWatch alarms.
    pub alarms: AlarmState,
    /// ECS clusters, services, task definitions.
    pub ecs: EcsState,
    /// Application Auto Scaling targets, policies, scheduled actions.
    pub autoscaling: AutoScalingState,
    /// Simulated service metrics (CPU/memory load and its samples).
    pub metrics: MetricsState,
    /// The ALB metrics of the simulated traffic.
    pub alb_metrics: AlbMetrics,
    /// CodeDeploy applications, deployment groups, configs and deployments (which progress as
    /// ECS blue/green runs, so CodeDeploy needs no step in `advance`).
    pub codedeploy: CodeDeployState,
    /// SNS topics and the messages they delivered.
    pub sns: SnsState,
    /// Time the world has been advanced to.
    pub advanced_to: Secs,
}

impl World {
    /// The seeded account at `now`.
    pub fn new(seed: &SimSeed, now: Secs) -> Self {
        let clusters = seed
            .clusters
            .iter()
            .map(|name| {
                let cluster = Cluster {
                    arn: arn::cluster_arn(&seed.region, &seed.account_id, name),
                    tags: Vec::new(),
                    services: Default::default(),
                };
                (name.clone(), cluster)
            })
            .collect();
        Self {
            account_id: seed.account_id.clone(),
            region: seed.region.clone(),
            network: NetworkState::from_seed(seed),
            iam: IamState::from_seed(seed),
            secrets: SecretsState::from_seed(seed),
            elb: ElbState::from_seed(seed),
            alarms: AlarmState::from_seed(seed),
            ecs: EcsState {
                clusters,
                ..EcsState::default()
            },
            autoscaling: AutoScalingState::default(),
            metrics: MetricsState::default(),
            alb_metrics: AlbMetrics::default(),
            codedeploy: CodeDeployState::default(),
            sns: SnsState::from_seed(seed),
            advanced_to: now,
        }
    }

    /// ECS clusters (mutable) and what the ECS engine reads from the rest of the account.
    pub fn ecs_parts(&mut self) -> (&mut std::collections::BTreeMap<String, Cluster>, EcsEnv<'_>) {
        let env = EcsEnv {
            region: &self.region,
            account: &self.account_id,
            task_definitions: &self.ecs.task_definitions,
            iam: &self.iam,
            elb: &self.elb,
            alarms: &self.alarms,
        };
        (&mut self.ecs.clusters, env)
    }

    /// Advances the account to `now`: Application Auto Scaling evaluates once a simulated
    /// minute, with ECS advanced to each evaluation first; the metrics of the time in between
    /// are recorded on the way.
    pub fn advance(&mut self, now: Secs) {
        while let Some(t) = self.autoscaling.due(self.advanced_to, now) {
            self.advance_ecs(t);
            self.autoscaling_tick(t);
        }
        self.advance_ecs(now);
    }

    /// Advances every service to `now`, event by event, recording the metrics of each stretch
    /// between the events they depend on.
    fn advance_ecs(&mut self, now: Secs) {
        self.step_ecs(self.advanced_to);
        while self.advanced_to < now {
            let from = self.advanced_to;
            let until = self
                .metrics_wake()
                .map_or(now, |wake| wake.clamp(from + 1, now));
            self.record_metrics(from, until);
            self.step_ecs(until);
        }
    }

    /// Advances every service to `now`, event by event. Cheap when nothing is due.
    fn step_ecs(&mut self, now: Secs) {
        if now < self.advanced_to {
            return;
        }
        self.advanced_to = now;
        if self.ecs.next_wake.is_some_and(|wake| wake > now) {
            return;
        }
        let (clusters, env) = self.ecs_parts();
        let mut wake = Secs::MAX;
        for svc in clusters.values_mut().flat_map(|c| c.services.values_mut()) {
            advance_service(svc, now, &env);
            if let Some(t) = next_event(svc) {
                wake = wake.min(t);
            }
        }
        self.ecs.next_wake = Some(wake);
    }

    /// Resolves a cluster name or ARN of this account to its name.
    pub fn cluster_name<'a>(&self, cluster: &'a str) -> Option<&'a str> {
        let name = if cluster.is_empty() {
            "default"
        } else if cluster.starts_with("arn:") {
            let prefix = arn::cluster_arn(&self.region, &self.account_id, "");
            cluster.strip_prefix(prefix.as_str())?
        } else {
            cluster
        };
        self.ecs.clusters.contains_key(name).then_some(name)
    }
}
