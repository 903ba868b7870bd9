//! What an EcsService plan decides (one AWS step and the status to report) and the condition
//! sets its branches share.

use crds::common::condition;
use crds::ecs_service::{DeploymentStatus, MemberRelease};

use crate::controllers::conditions::Desired;
use crate::controllers::runtime::Requeue;
use aws::ecs::{
    CreateServiceInput, RolloutState, Service, Tag, TaskDefinitionInput, UpdateServiceInput,
};

/// One AWS mutation.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Register the spec's task definition (no ACTIVE revision carries its hash).
    RegisterTaskDefinition(TaskDefinitionInput),
    /// Create the service on the desired revision.
    CreateService(CreateServiceInput),
    /// Update the service; `why` lists what differs.
    UpdateService {
        /// The call.
        input: UpdateServiceInput,
        /// What differed, for the event and the log.
        why: Vec<String>,
    },
    /// Take over an untagged service by tagging it.
    AdoptService {
        /// Service ARN.
        arn: String,
        /// The owner tag.
        tags: Vec<Tag>,
    },
    /// Deregister old revisions the operator registered.
    DeregisterTaskDefinitions(Vec<String>),
}

impl Step {
    /// The step's name: the AWS action it calls.
    pub fn name(&self) -> &'static str {
        match self {
            Step::RegisterTaskDefinition(_) => "RegisterTaskDefinition",
            Step::CreateService(_) => "CreateService",
            Step::UpdateService { .. } => "UpdateService",
            Step::AdoptService { .. } => "TagResource",
            Step::DeregisterTaskDefinitions(_) => "DeregisterTaskDefinition",
        }
    }

    /// Whether the step acts on what the spec names (cluster, network, roles, secrets, target
    /// groups): those are verified before it runs.
    pub fn uses_references(&self) -> bool {
        matches!(
            self,
            Step::RegisterTaskDefinition(_) | Step::CreateService(_) | Step::UpdateService { .. }
        )
    }
}

/// What the status should say, as far as the plan knows before the step runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Conditions (Ready, Reconciling, Stalled, Degraded, Drifted).
    pub conditions: Vec<Desired>,
    /// The revision the spec renders to, when known.
    pub desired_task_definition_arn: Option<String>,
    /// The last revision whose deployment completed.
    pub last_good_task_definition_arn: Option<String>,
    /// A content hash whose deployment failed.
    pub failed_content_hash: Option<String>,
    /// The deployment caused by the spec.
    pub deployment: Option<DeploymentStatus>,
    /// The ReleaseGroup release the spec belongs to.
    pub release: Option<MemberRelease>,
    /// When to look again.
    pub requeue: Requeue,
}

/// The decision of one reconcile.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// At most one mutating step.
    pub step: Option<Step>,
    /// What to report.
    pub report: Report,
}

/// The revision the service has settled on: one deployment, and it completed.
pub fn settled_revision(service: &Service) -> Option<&str> {
    let primary = service.primary_deployment()?;
    let completed = primary
        .rollout_state
        .as_ref()
        .is_none_or(|s| *s == RolloutState::Completed);
    (service.deployments.len() == 1 && completed).then_some(primary.task_definition.as_str())
}

/// Ready=True: the spec is what runs.
pub fn ready_conditions(reason: &str, message: String) -> Vec<Desired> {
    vec![
        Desired::yes(condition::READY, reason, message),
        Desired::no(condition::RECONCILING, reason, ""),
        Desired::no(condition::STALLED, reason, ""),
        Desired::no(condition::DEGRADED, reason, ""),
    ]
}

/// Reconciling=True with `reason`; a step polls again soon.
pub fn progressing(
    mut report: Report,
    step: Option<Step>,
    reason: &str,
    message: impl Into<String>,
) -> Plan {
    let message = message.into();
    if step.is_some() {
        report.requeue = Requeue::Soon;
    }
    report.conditions = vec![
        Desired::no(condition::READY, reason, message.clone()),
        Desired::yes(condition::RECONCILING, reason, message),
        Desired::no(condition::STALLED, reason, ""),
    ];
    Plan { step, report }
}

/// Stalled=True: nothing happens until the spec or AWS changes.
pub fn stalled(mut report: Report, reason: &str, message: String) -> Plan {
    report.conditions = vec![
        Desired::no(condition::READY, reason, message.clone()),
        Desired::no(condition::RECONCILING, reason, ""),
        Desired::yes(condition::STALLED, reason, message),
    ];
    report.requeue = Requeue::Idle;
    Plan { step: None, report }
}

/// `family:revision` of a task definition ARN (for messages).
pub fn short_arn(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}
