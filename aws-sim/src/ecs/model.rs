//! ECS state of the simulated account: clusters, services, their deployments, tasks, service
//! deployments and revisions, and how they look through the API (`Service`, `Deployment`, …).
//! Plain data and views, and the deployment strategy a service is configured with; the rules
//! that move it live in `ecs::engine`, `ecs::deployments`, `ecs::rolling`, `ecs::blue_green`
//! and `ecs::services`.

use std::collections::BTreeMap;

use crate::ecs::blue_green::model::BlueGreenRun;
use crate::ecs::task_definitions::TaskDefinitions;
use crate::time::{Secs, to_timestamp};
use aws::ecs::{
    Deployment, DeploymentController, DeploymentStatus, Service, ServiceConfig, ServiceDeployment,
    ServiceRevision, Tag,
};

/// Service status ACTIVE.
pub const SERVICE_ACTIVE: &str = "ACTIVE";
/// Service status DRAINING (deleted, tasks stopping).
pub const SERVICE_DRAINING: &str = "DRAINING";
/// Service status INACTIVE (deleted).
pub const SERVICE_INACTIVE: &str = "INACTIVE";

/// Service deployment statuses (DescribeServiceDeployments).
pub mod sd_status {
    /// Deploying.
    pub const IN_PROGRESS: &str = "IN_PROGRESS";
    /// Done.
    pub const SUCCESSFUL: &str = "SUCCESSFUL";
    /// Stopped: circuit breaker or alarm without rollback, ABORT, or superseded.
    pub const STOPPED: &str = "STOPPED";
    /// Rolling back to the previous revision.
    pub const ROLLBACK_IN_PROGRESS: &str = "ROLLBACK_IN_PROGRESS";
    /// Rolled back.
    pub const ROLLBACK_SUCCESSFUL: &str = "ROLLBACK_SUCCESSFUL";
    /// The rollback failed too.
    pub const ROLLBACK_FAILED: &str = "ROLLBACK_FAILED";
}

/// Rollout state of an ECS deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rollout {
    /// IN_PROGRESS.
    InProgress,
    /// COMPLETED.
    Completed,
    /// FAILED.
    Failed,
}

impl Rollout {
    /// The AWS string.
    pub fn as_str(self) -> &'static str {
        match self {
            Rollout::InProgress => "IN_PROGRESS",
            Rollout::Completed => "COMPLETED",
            Rollout::Failed => "FAILED",
        }
    }
}

/// One task of a service. Its whole life is planned at launch (`ecs_tasks`); state at any time
/// is read off the timestamps, so nothing needs to happen between decision points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SimTask {
    /// Sequence number within the service.
    pub seq: u64,
    /// The deployment (sequence) it belongs to.
    pub deployment: u64,
    /// When it was launched (PROVISIONING).
    pub launched_at: Secs,
    /// When it reaches PENDING.
    pub pending_at: Secs,
    /// When it reaches RUNNING (None: never starts).
    pub running_at: Option<Secs>,
    /// When it passes its health checks (None: never).
    pub healthy_at: Option<Secs>,
    /// When ECS stops it as failed (None: it does not fail).
    pub fails_at: Option<Secs>,
    /// Once ECS stopped it: when it is gone (deregistered, STOPPED).
    pub stop_done_at: Option<Secs>,
    /// How long it drains when stopped after registering with a target group (0: no LB).
    pub drain_secs: Secs,
}

impl SimTask {
    /// Whether ECS is stopping it.
    pub fn is_stopping(&self) -> bool {
        self.stop_done_at.is_some()
    }

    /// Counted in runningCount at `now`.
    pub fn is_running(&self, now: Secs) -> bool {
        !self.is_stopping() && self.running_at.is_some_and(|r| r <= now)
    }

    /// Counted in pendingCount at `now` (PROVISIONING or PENDING).
    pub fn is_pending(&self, now: Secs) -> bool {
        !self.is_stopping() && !self.is_running(now)
    }

    /// Healthy (and not stopping) at `now`.
    pub fn is_healthy(&self, now: Secs) -> bool {
        !self.is_stopping() && self.healthy_at.is_some_and(|h| h <= now)
    }

    /// The next time after `after` when its state changes in a way the scheduler cares about.
    pub fn next_event(&self, after: Secs) -> Option<Secs> {
        if let Some(done) = self.stop_done_at {
            return (done > after).then_some(done);
        }
        [self.healthy_at, self.fails_at]
            .into_iter()
            .flatten()
            .filter(|t| *t > after)
            .min()
    }
}

/// An ECS deployment of a service (Service.deployments[]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SimDeployment {
    /// Sequence number within the service.
    pub seq: u64,
    /// `ecs-svc/…` id.
    pub id: String,
    /// Task definition revision ARN.
    pub task_definition: String,
    /// Service revision ARN.
    pub revision_arn: String,
    /// Rollout state.
    pub rollout: Rollout,
    /// rolloutStateReason.
    pub reason: Option<String>,
    /// Tasks that failed.
    pub failed_tasks: i32,
    /// Created.
    pub created_at: Secs,
    /// Last changed.
    pub updated_at: Secs,
    /// Index of its service deployment in `SimService::service_deployments`.
    pub sd_index: usize,
    /// Started by a rollback (circuit breaker, alarm, StopServiceDeployment): never rolls back.
    pub is_rollback: bool,
    /// ECS launches no more tasks for it (failed without rollback, or aborted).
    pub launch_stopped: bool,
}

/// A service deployment (ECS-native view of a deployment and its rollback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceDeploymentRec {
    /// ARN.
    pub arn: String,
    /// Status (`sd_status`).
    pub status: &'static str,
    /// statusReason.
    pub status_reason: Option<String>,
    /// Target revision ARN.
    pub target_revision_arn: String,
    /// Revisions it replaces.
    pub source_revision_arns: Vec<String>,
    /// Created.
    pub created_at: Secs,
    /// Finished.
    pub finished_at: Option<Secs>,
    /// Why it rolled back.
    pub rollback_reason: Option<String>,
}

impl ServiceDeploymentRec {
    /// Whether it is still moving.
    pub fn is_active(&self) -> bool {
        [sd_status::IN_PROGRESS, sd_status::ROLLBACK_IN_PROGRESS].contains(&self.status)
    }
}

/// The last deployment that reached COMPLETED: where a rollback goes back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompletedRef {
    /// Its deployment id.
    pub deployment_id: String,
    /// Its task definition.
    pub task_definition: String,
    /// Its service revision.
    pub revision_arn: String,
}

/// An ECS service and everything that belongs to it.
#[derive(Debug, Clone)]
pub(crate) struct SimService {
    /// ARN.
    pub arn: String,
    /// Name.
    pub name: String,
    /// Cluster name.
    pub cluster: String,
    /// Cluster ARN.
    pub cluster_arn: String,
    /// ACTIVE, DRAINING or INACTIVE.
    pub status: &'static str,
    /// desiredCount.
    pub desired_count: i32,
    /// Configuration with AWS defaults filled in.
    pub config: ServiceConfig,
    /// ECS, CODE_DEPLOY or EXTERNAL.
    pub deployment_controller: DeploymentController,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Idempotency token of CreateService.
    pub client_token: Option<String>,
    /// Created.
    pub created_at: Secs,
    /// When DeleteService was called.
    pub deleted_at: Option<Secs>,
    /// Deployments, oldest first; the last is PRIMARY.
    pub deployments: Vec<SimDeployment>,
    /// Tasks of every deployment.
    pub tasks: Vec<SimTask>,
    /// Service deployments, oldest first.
    pub service_deployments: Vec<ServiceDeploymentRec>,
    /// Service revision ARN → task definition ARN.
    pub revisions: BTreeMap<String, String>,
    /// Rollback target.
    pub last_completed: Option<CompletedRef>,
    /// Time up to which the service has been advanced.
    pub cursor: Secs,
    /// Next deployment sequence number.
    pub next_deployment_seq: u64,
    /// Next task sequence number.
    pub next_task_seq: u64,
    /// The latest blue/green run (ECS-native strategies and CodeDeploy task sets).
    pub bluegreen: Option<BlueGreenRun>,
}

impl SimService {
    /// The PRIMARY deployment.
    pub fn primary(&self) -> Option<&SimDeployment> {
        self.deployments.last()
    }

    /// The PRIMARY deployment, mutably.
    pub fn primary_mut(&mut self) -> Option<&mut SimDeployment> {
        self.deployments.last_mut()
    }

    /// A deployment by sequence number.
    pub fn deployment_mut(&mut self, seq: u64) -> Option<&mut SimDeployment> {
        self.deployments.iter_mut().find(|d| d.seq == seq)
    }

    /// Task definition of the PRIMARY deployment.
    pub fn task_definition(&self) -> Option<&str> {
        self.primary().map(|d| d.task_definition.as_str())
    }

    /// The API view at `now`.
    pub fn to_api(&self, now: Secs) -> Service {
        let primary_seq = self.primary().map(|d| d.seq);
        let mut deployments: Vec<Deployment> = self
            .deployments
            .iter()
            .rev()
            .map(|d| self.deployment_to_api(d, Some(d.seq) == primary_seq, now))
            .collect();
        if self.status == SERVICE_INACTIVE {
            deployments.truncate(1);
        }
        Service {
            service_arn: self.arn.clone(),
            service_name: self.name.clone(),
            cluster_arn: self.cluster_arn.clone(),
            status: self.status.into(),
            task_definition: self.task_definition().map(str::to_owned),
            desired_count: self.desired_count,
            running_count: deployments.iter().map(|d| d.running_count).sum(),
            pending_count: deployments.iter().map(|d| d.pending_count).sum(),
            config: self.config.clone(),
            deployment_controller: self.deployment_controller.clone(),
            deployments,
            tags: self.tags.clone(),
            created_at: Some(to_timestamp(self.created_at)),
        }
    }

    fn deployment_to_api(&self, d: &SimDeployment, primary: bool, now: Secs) -> Deployment {
        let tasks = || self.tasks.iter().filter(|t| t.deployment == d.seq);
        let running = count(tasks().filter(|t| t.is_running(now)));
        let pending = count(tasks().filter(|t| t.is_pending(now)));
        Deployment {
            id: d.id.clone(),
            status: if primary {
                DeploymentStatus::Primary
            } else {
                DeploymentStatus::Active
            },
            task_definition: d.task_definition.clone(),
            desired_count: if primary {
                self.desired_count
            } else {
                running + pending
            },
            running_count: running,
            pending_count: pending,
            failed_tasks: d.failed_tasks,
            rollout_state: Some(d.rollout.as_str().into()),
            rollout_state_reason: d.reason.clone(),
            created_at: to_timestamp(d.created_at),
            updated_at: to_timestamp(d.updated_at),
        }
    }

    /// The API view of a service deployment.
    pub fn service_deployment_to_api(&self, sd: &ServiceDeploymentRec) -> ServiceDeployment {
        ServiceDeployment {
            service_deployment_arn: sd.arn.clone(),
            service_arn: self.arn.clone(),
            status: sd.status.into(),
            status_reason: sd.status_reason.clone(),
            lifecycle_stage: None,
            target_service_revision_arn: Some(sd.target_revision_arn.clone()),
            source_service_revision_arns: sd.source_revision_arns.clone(),
            lifecycle_hook_details: Vec::new(),
            created_at: to_timestamp(sd.created_at),
            finished_at: sd.finished_at.map(to_timestamp),
            rollback_reason: sd.rollback_reason.clone(),
        }
    }

    /// The API view of a service revision.
    pub fn revision_to_api(&self, arn: &str) -> Option<ServiceRevision> {
        self.revisions.get(arn).map(|td| ServiceRevision {
            service_revision_arn: arn.to_owned(),
            task_definition: td.clone(),
        })
    }
}

/// deploymentConfiguration.strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    /// ROLLING (default).
    Rolling,
    /// BLUE_GREEN.
    BlueGreen,
    /// LINEAR.
    Linear,
    /// CANARY.
    Canary,
}

impl Strategy {
    /// The strategy a service is configured with.
    pub fn of(svc: &SimService) -> Self {
        let strategy = svc
            .config
            .deployment_configuration
            .as_ref()
            .and_then(|d| d.strategy.as_deref());
        match strategy {
            Some("BLUE_GREEN") => Strategy::BlueGreen,
            Some("LINEAR") => Strategy::Linear,
            Some("CANARY") => Strategy::Canary,
            _ => Strategy::Rolling,
        }
    }
}

/// Counts as i32 (ECS counts are Int32).
pub(crate) fn count<T>(it: impl Iterator<Item = T>) -> i32 {
    i32::try_from(it.count()).unwrap_or(i32::MAX)
}

/// An ECS cluster.
#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    /// ARN.
    pub arn: String,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Services by name (INACTIVE ones until a service of the same name is created).
    pub services: BTreeMap<String, SimService>,
}

/// All ECS state of the account.
#[derive(Debug, Clone, Default)]
pub(crate) struct EcsState {
    /// Clusters by name.
    pub clusters: BTreeMap<String, Cluster>,
    /// Task definition families.
    pub task_definitions: TaskDefinitions,
    /// Earliest time any service has something to do (None: unknown, scan on next advance).
    pub next_wake: Option<Secs>,
}

impl EcsState {
    /// Forgets the cached wake-up time (after a change to many services).
    pub fn invalidate_wake(&mut self) {
        self.next_wake = None;
    }

    /// Notes that a changed service next has something to do at `at` (after a change to one
    /// service, whose earlier wake-ups can only have moved later or stayed).
    pub fn wake_at(&mut self, at: Option<Secs>) {
        if let (Some(wake), Some(at)) = (self.next_wake, at) {
            self.next_wake = Some(wake.min(at));
        }
    }
}
