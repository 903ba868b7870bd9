//! The simulated AWS account behind `ecs-operator local` and the controller tests: stateful,
//! deterministic, with time taken from a `SimClock` (faster than the wall clock, or moved by
//! hand). Implements the AWS traits (`EcsApi`, `CodeDeployApi`, `ElbApi`, `CloudWatchApi`,
//! `AutoScalingApi`, and the HTTP `TestTrafficProbe`), enforces the token buckets, counts
//! every call, injects faults and latency on request. Never talks to the network.
//!
//! Layout: `seed` (what exists at start), `world` (state, lazy time), one state module per AWS
//! service (`network`, `elb`, `alarms`, `ecs_model`), the ECS behaviour (`ecs_tasks` timing,
//! `ecs_engine` events and strategy dispatch, `ecs_rollout` deployment records, `ecs_deploy`
//! the ROLLING strategy, `ecs_validate`, `ecs_services`, `ecs_taskdefs`,
//! `ecs_service_deployments`), the call path (`gate`, `throttle`, `ecs_api`).
//!
//! Blue/green: `ecs_bluegreen` (runs through the lifecycle stages, hooks, traffic, rollback;
//! data in `ecs_bluegreen_model`) and `ecs_bluegreen_start` (ECS-native runs, CodeDeploy task
//! sets, the listener weights and target groups runs hold), dispatched from
//! `ecs::engine::schedule`. CodeDeploy: `codedeploy` (state; a deployment's progress is its
//! service's run), `codedeploy_ops` (applications, groups, configs), `codedeploy_deployments`,
//! `codedeploy_appspec`, `codedeploy_api`. ELBv2 reads and the effective listener weights:
//! `elb_api`; CloudWatch alarms: `cloudwatch_api`; HTTP checks through listeners: `probe`.
//!
//! Extension: another AWS service goes in sibling modules with its own state field in `World`
//! and, when it acts on its own, its own step in `World::advance`.

pub mod arn;
mod autoscaling;
mod cloudwatch;
mod codedeploy;
mod ecs;
mod elb;
mod gate;
mod network;
pub mod seed;
pub mod throttle;
mod world;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use jiff::Timestamp;

pub use autoscaling::api::ActivityRecord;
pub use autoscaling::engine::{SCALE_IN_DATAPOINTS, SCALE_OUT_DATAPOINTS};
pub use cloudwatch::alarms::{ALARM_ALARM, ALARM_INSUFFICIENT_DATA, ALARM_OK};
pub use ecs::blue_green::model::LAMBDA_HOOK_SECS;
pub use ecs::engine::DRAIN_MIN_SECS;
pub use ecs::tasks::{
    EXIT_SECS, LB_HEALTHY_SECS, LB_UNHEALTHY_SECS, PROVISIONING_MIN_SECS, RUNNING_MIN_SECS,
    STOP_SECS,
};
pub use elb::probe::{NO_TARGET_STATUS, SMOKE_FAIL_STATUS};
pub use gate::SimFault;
pub use seed::{SeedError, SimSeed};

use aws::clock::{Clock, SimClock};
use aws::ecs::{
    AwsVpcConfiguration, ContainerDefinition, CreateServiceInput, NetworkConfiguration, Service,
    ServiceConfig, Tag, TaskDefinition, TaskDefinitionInput, UpdateServiceInput,
};
use aws::error::AwsResult;
use gate::{Gate, Operation};
use world::{Secs, World};

/// The simulated AWS account. Cheap to clone: clones share one account.
#[derive(Debug, Clone)]
pub struct SimAws {
    inner: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    clock: Arc<SimClock>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    world: World,
    gate: Gate,
}

/// One line of the `local` progress view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSummary {
    /// Cluster name.
    pub cluster: String,
    /// Service name.
    pub service_name: String,
    /// ACTIVE, DRAINING or INACTIVE.
    pub status: aws::ecs::ServiceStatus,
    /// desiredCount.
    pub desired_count: i32,
    /// runningCount.
    pub running_count: i32,
    /// pendingCount.
    pub pending_count: i32,
    /// Task definition of the PRIMARY deployment.
    pub task_definition: Option<String>,
    /// rolloutState of the PRIMARY deployment.
    pub rollout_state: Option<aws::ecs::RolloutState>,
    /// How many deployments the service has (PRIMARY and ACTIVE).
    pub deployments: usize,
}

impl SimAws {
    /// A new account seeded with `seed`, living on `clock`.
    pub fn new(clock: Arc<SimClock>, seed: SimSeed) -> SimAws {
        let now = clock.now().as_second();
        let state = State {
            world: World::new(&seed, now),
            gate: Gate::default(),
        };
        SimAws {
            inner: Arc::new(Shared {
                clock,
                state: Mutex::new(state),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs an API operation: latency, gate (count, fault, throttle), advance, operation.
    pub(crate) async fn call<T, F>(&self, op: &Operation, f: F) -> AwsResult<T>
    where
        F: FnOnce(&mut World, Secs) -> AwsResult<T>,
    {
        let latency = self.lock().gate.latency;
        if !latency.is_zero() {
            // Latency is simulated time, like everything else the account does.
            tokio::time::sleep(self.clock().to_wall(latency)).await;
        }
        self.call_now(op, f)
    }

    /// An API operation without the latency: gate, advance, operation (sync; tests use it).
    pub(crate) fn call_now<T, F>(&self, op: &Operation, f: F) -> AwsResult<T>
    where
        F: FnOnce(&mut World, Secs) -> AwsResult<T>,
    {
        let now = self.inner.clock.now();
        let mut state = self.lock();
        state.gate.admit(op, now.as_millisecond())?;
        let secs = now.as_second();
        state.world.advance(secs);
        f(&mut state.world, secs)
    }

    /// Runs `f` on the world advanced to now, outside the gate (hooks and peeks).
    fn with_world<T>(&self, f: impl FnOnce(&mut World, Secs) -> T) -> T {
        let now = self.inner.clock.now().as_second();
        let mut state = self.lock();
        state.world.advance(now);
        f(&mut state.world, now)
    }

    /// Calls made so far by operation (`ecs:DescribeServices` → 12), including failed ones.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.lock().gate.calls().clone()
    }

    /// Calls of one operation: `ecs:UpdateService`, or a bare action name summed over services.
    pub fn call_count(&self, operation: &str) -> u64 {
        let state = self.lock();
        state
            .gate
            .calls()
            .iter()
            .filter(|(k, _)| {
                k.as_str() == operation
                    || (!operation.contains(':')
                        && k.split_once(':').is_some_and(|(_, a)| a == operation))
            })
            .map(|(_, n)| n)
            .sum()
    }

    /// Forgets the call counts.
    pub fn reset_calls(&self) {
        self.lock().gate.reset_calls();
    }

    /// Sum of mutating ECS calls (Create/Update/DeleteService, Register/DeregisterTaskDefinition,
    /// TagResource, Stop/ContinueServiceDeployment), throttled and failed attempts included.
    pub fn write_calls(&self) -> u64 {
        self.lock().gate.mutating_calls("ecs:")
    }

    /// Sum of mutating calls of one service prefix (`codedeploy:`, `cloudwatch:`, `ecs:`).
    pub fn write_calls_of(&self, prefix: &str) -> u64 {
        self.lock().gate.mutating_calls(prefix)
    }

    /// Makes the next `fault.count` calls of `fault.operation` fail with `fault.error`.
    pub fn inject_fault(&self, fault: SimFault) {
        self.lock().gate.inject(fault);
    }

    /// Latency added to every API call, in simulated time (zero by default).
    pub fn set_latency(&self, latency: Duration) {
        self.lock().gate.latency = latency;
    }

    /// Turns the token buckets on (default) or off.
    pub fn set_throttling(&self, enabled: bool) {
        self.lock().gate.throttle.set_enabled(enabled);
    }

    /// The service as DescribeServices would return it (any status), without a call.
    pub fn service(&self, cluster: &str, name: &str) -> Option<Service> {
        self.with_world(|w, now| {
            let cluster = w.cluster_name(cluster)?;
            w.ecs.clusters[cluster]
                .services
                .get(name)
                .map(|s| s.to_api(now))
        })
    }

    /// Every revision of a task definition family (ACTIVE and INACTIVE), oldest first.
    pub fn task_definitions(&self, family: &str) -> Vec<TaskDefinition> {
        self.with_world(|w, _| w.ecs.task_definitions.revisions(family))
    }

    /// Someone else changes desiredCount (drift), as an UpdateService that is not counted.
    pub fn set_desired_count(&self, cluster: &str, name: &str, desired: i32) -> AwsResult<Service> {
        let input = UpdateServiceInput {
            cluster: cluster.to_owned(),
            service: name.to_owned(),
            desired_count: Some(desired),
            ..UpdateServiceInput::default()
        };
        self.with_world(|w, now| w.ecs_update_service(now, input))
    }

    /// Replaces every tag of a service (set up "untagged" or "owned by someone else").
    pub fn set_service_tags(&self, cluster: &str, name: &str, tags: Vec<Tag>) -> AwsResult<()> {
        self.with_world(|w, _| {
            let cluster = w
                .cluster_name(cluster)
                .ok_or_else(ecs::errors::cluster_not_found)?
                .to_owned();
            let svc = w
                .ecs
                .clusters
                .get_mut(&cluster)
                .and_then(|c| c.services.get_mut(name))
                .ok_or_else(ecs::errors::service_not_found)?;
            svc.tags = tags;
            Ok(())
        })
    }

    /// Creates a service the operator did not create (another team's, or a pre-operator one):
    /// an nginx task definition of family `name`, one task, tagged with `tags`. On Fargate in the
    /// first seeded subnet and security group when the seed has a network, on EC2 otherwise.
    /// Not counted as calls.
    pub fn create_foreign_service(
        &self,
        cluster: &str,
        name: &str,
        tags: Vec<Tag>,
    ) -> AwsResult<Service> {
        self.with_world(|w, now| {
            let subnet = w.network.subnets.keys().next().cloned();
            let group = w.network.security_groups.keys().next().cloned();
            let container = ContainerDefinition {
                name: "app".to_owned(),
                image: "public.ecr.aws/nginx/nginx:stable".to_owned(),
                memory: Some(512),
                ..ContainerDefinition::default()
            };
            let mut td = TaskDefinitionInput {
                family: name.to_owned(),
                container_definitions: vec![container],
                ..TaskDefinitionInput::default()
            };
            let mut config = ServiceConfig::default();
            if let Some(subnet) = subnet {
                td.cpu = Some("256".to_owned());
                td.memory = Some("512".to_owned());
                td.network_mode = Some("awsvpc".to_owned());
                td.requires_compatibilities = vec!["FARGATE".to_owned()];
                config.launch_type = Some("FARGATE".to_owned());
                config.network_configuration = Some(NetworkConfiguration {
                    awsvpc_configuration: AwsVpcConfiguration {
                        subnets: vec![subnet],
                        security_groups: group.map(|g| vec![g]),
                        assign_public_ip: None,
                    },
                });
            }
            let (region, account) = (w.region.clone(), w.account_id.clone());
            let td = w
                .ecs
                .task_definitions
                .register(&region, &account, td, now)?;
            let input = CreateServiceInput {
                cluster: cluster.to_owned(),
                service_name: name.to_owned(),
                task_definition: td.task_definition_arn,
                desired_count: 1,
                config,
                tags,
                ..CreateServiceInput::default()
            };
            w.ecs_create_service(now, input)
        })
    }

    /// Sets a CloudWatch alarm to OK, ALARM or INSUFFICIENT_DATA; deployments watching it react
    /// at once. False when there is no such alarm or state.
    pub fn set_alarm_state(&self, alarm_name: &str, state: &str) -> bool {
        self.with_world(|w, now| {
            if !w
                .alarms
                .set_state(alarm_name, state, "Set by the simulator", now)
            {
                return false;
            }
            let (clusters, env) = w.ecs_parts();
            for svc in clusters.values_mut().flat_map(|c| c.services.values_mut()) {
                ecs::engine::schedule(svc, now, &env);
            }
            w.ecs.invalidate_wake();
            true
        })
    }

    /// The clock the account lives on.
    pub fn clock(&self) -> Arc<SimClock> {
        self.inner.clock.clone()
    }

    /// The simulated time now.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// Account id.
    pub fn account_id(&self) -> String {
        self.lock().world.account_id.clone()
    }

    /// Region.
    pub fn region(&self) -> String {
        self.lock().world.region.clone()
    }

    /// ARN of a seeded target group.
    pub fn target_group_arn(&self, name: &str) -> Option<String> {
        let state = self.lock();
        let w = &state.world;
        let arn = arn::target_group_arn(&w.region, &w.account_id, name);
        w.elb.target_group(&arn).map(|tg| tg.arn.clone())
    }

    /// ARN of a seeded listener.
    pub fn listener_arn(&self, load_balancer: &str, port: i32) -> Option<String> {
        let state = self.lock();
        state
            .world
            .elb
            .listener(load_balancer, port)
            .map(|l| l.arn.clone())
    }

    /// ARN of a seeded listener rule.
    pub fn listener_rule_arn(
        &self,
        load_balancer: &str,
        port: i32,
        priority: i32,
    ) -> Option<String> {
        let state = self.lock();
        let listener = state.world.elb.listener(load_balancer, port)?;
        listener
            .rules
            .iter()
            .find(|r| r.priority == priority)
            .map(|r| r.arn.clone())
    }

    /// ARN of a seeded IAM role.
    pub fn role_arn(&self, role_name: &str) -> Option<String> {
        let state = self.lock();
        state
            .world
            .iam
            .roles
            .iter()
            .find(|(_, name)| name.as_str() == role_name)
            .map(|(arn, _)| arn.clone())
    }

    /// Every service (any status) summarised for a progress view, by cluster and name.
    pub fn snapshot(&self) -> Vec<ServiceSummary> {
        self.with_world(|w, now| {
            w.ecs
                .clusters
                .iter()
                .flat_map(|(cluster, c)| {
                    c.services.values().map(move |s| {
                        let api = s.to_api(now);
                        let primary = api.primary_deployment();
                        ServiceSummary {
                            cluster: cluster.clone(),
                            service_name: api.service_name.clone(),
                            status: api.status.clone(),
                            desired_count: api.desired_count,
                            running_count: api.running_count,
                            pending_count: api.pending_count,
                            task_definition: api.task_definition.clone(),
                            rollout_state: primary.and_then(|d| d.rollout_state.clone()),
                            deployments: api.deployments.len(),
                        }
                    })
                })
                .collect()
        })
    }
}
