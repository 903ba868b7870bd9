//! The deployment an EcsService's spec caused, as ECS shows it (or as the status last saw it
//! once ECS dropped it, with how it ended), and whether it failed.

use crds::ecs_service::{DeploymentStatus, EcsServiceStatus};

use aws::ecs::{
    DeploymentStatus as EcsDeploymentStatus, RolloutState, Service, ServiceDeployment,
    ServiceDeploymentStatus,
};

/// How a deployment ended that ECS no longer lists, before the status saw it end: the service
/// deployment that carried its revision says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeploymentEnd {
    /// ECS rolled it back (circuit breaker or alarm), for this reason (AWS's words).
    RolledBack(String),
    /// A later deployment replaced it (an UpdateService from outside the operator).
    Replaced,
}

/// Whether the deployment the status tracks for `desired` is gone from the service, which
/// runs another revision, while the status has not recorded how it ended: that is then asked
/// of ECS's service deployments, once.
pub fn vanished(service: &Service, prev: &EcsServiceStatus, desired: &str) -> bool {
    let Some(tracked) = prev.deployment.as_ref() else {
        return false;
    };
    tracked.task_definition_arn.as_deref() == Some(desired)
        && !ended_in_status(tracked)
        && service.task_definition.as_deref() != Some(desired)
        && !service.deployments.iter().any(|d| d.id == tracked.id)
}

/// How the service deployment `deployment` (the newest one that deployed the vanished
/// revision) ended.
pub fn end_of(deployment: &ServiceDeployment) -> DeploymentEnd {
    use ServiceDeploymentStatus as S;
    match deployment.status {
        S::RollbackRequested
        | S::RollbackInProgress
        | S::RollbackSuccessful
        | S::RollbackFailed => DeploymentEnd::RolledBack(
            (deployment.rollback_reason.clone())
                .or_else(|| deployment.status_reason.clone())
                .unwrap_or_else(|| ROLLED_BACK.into()),
        ),
        _ => DeploymentEnd::Replaced,
    }
}

/// Whether the status recorded that its tracked deployment ended (INACTIVE, or FAILED).
fn ended_in_status(tracked: &DeploymentStatus) -> bool {
    tracked.status.as_deref() == Some(EcsDeploymentStatus::Inactive.as_str())
        || tracked.rollout_state.as_deref() == Some(RolloutState::Failed.as_str())
}

/// The reason given when ECS rolled a deployment back and said no more.
const ROLLED_BACK: &str = "ECS rolled the deployment back";

/// The deployment the spec caused: the PRIMARY one when it runs the desired revision, else
/// the one the status already tracks (kept with its last known state once ECS dropped it).
pub fn tracked_deployment(
    service: &Service,
    prev: &EcsServiceStatus,
    desired: &str,
    ended: Option<&DeploymentEnd>,
) -> Option<DeploymentStatus> {
    if let Some(d) = service
        .deployments
        .iter()
        .find(|d| d.task_definition == desired && d.status == EcsDeploymentStatus::Primary)
        .or_else(|| {
            prev.deployment
                .as_ref()
                .and_then(|t| service.deployments.iter().find(|d| d.id == t.id))
        })
    {
        return Some(DeploymentStatus {
            id: d.id.clone(),
            status: Some(d.status.to_string()),
            rollout_state: d.rollout_state.as_ref().map(ToString::to_string),
            reason: d.rollout_state_reason.clone(),
            task_definition_arn: Some(d.task_definition.clone()),
        });
    }
    prev.deployment
        .clone()
        .filter(|d| d.task_definition_arn.as_deref() == Some(desired))
        .map(|mut d| {
            if service.task_definition.as_deref() == Some(desired) || ended_in_status(&d) {
                return d;
            }
            d.status = Some(EcsDeploymentStatus::Inactive.to_string());
            match ended {
                Some(DeploymentEnd::Replaced) => {
                    d.reason = Some("a later deployment replaced it".into());
                }
                Some(DeploymentEnd::RolledBack(reason)) => {
                    d.rollout_state = Some(RolloutState::Failed.to_string());
                    d.reason = Some(reason.clone());
                }
                // What ECS last said of it while in progress is not why it ended.
                None => {
                    d.rollout_state = Some(RolloutState::Failed.to_string());
                    d.reason = Some(ROLLED_BACK.into());
                }
            }
            d
        })
}

/// Whether the deployment the status tracks for `desired` failed (circuit breaker or rollback).
pub fn deployment_failure(
    service: &Service,
    prev: &EcsServiceStatus,
    desired: Option<&str>,
    ended: Option<&DeploymentEnd>,
) -> Option<String> {
    let tracked = prev.deployment.as_ref()?;
    if tracked.task_definition_arn.as_deref() != desired || desired.is_none() {
        return None;
    }
    match service.deployments.iter().find(|d| d.id == tracked.id) {
        Some(d) if d.rollout_state == Some(RolloutState::Failed) => Some(
            d.rollout_state_reason
                .clone()
                .unwrap_or_else(|| "the deployment failed".into()),
        ),
        Some(_) => None,
        None if service.task_definition.as_deref() == desired => None,
        // Seen failing before ECS dropped it: the reason the status kept.
        None if tracked.rollout_state.as_deref() == Some(RolloutState::Failed.as_str()) => {
            Some(tracked.reason.clone().unwrap_or_else(|| ROLLED_BACK.into()))
        }
        // Recorded as replaced by a later deployment: not a failure of this revision.
        None if ended_in_status(tracked) => None,
        None => match ended {
            Some(DeploymentEnd::RolledBack(reason)) => Some(reason.clone()),
            Some(DeploymentEnd::Replaced) => None,
            None => Some(ROLLED_BACK.into()),
        },
    }
}
