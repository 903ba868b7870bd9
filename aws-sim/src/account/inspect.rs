//! Reads of the simulated account without an API call, for tests and the `local` progress view:
//! services and task definitions as the API would return them, a summary of every service, and
//! the ARNs of seeded resources.

use crate::account::SimAws;
use crate::arn;
use aws::ecs::{Service, TaskDefinition};

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
}
