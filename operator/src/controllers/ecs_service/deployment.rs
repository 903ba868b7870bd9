//! The deployment an EcsService's spec caused, as ECS shows it (or as the status last saw it
//! once ECS dropped it), and whether it failed.

use crds::ecs_service::{DeploymentStatus, EcsServiceStatus};

use aws::ecs::{DeploymentStatus as EcsDeploymentStatus, RolloutState, Service};

/// The deployment the spec caused: the PRIMARY one when it runs the desired revision, else
/// the one the status already tracks (kept with its last known state once ECS dropped it).
pub fn tracked_deployment(
    service: &Service,
    prev: &EcsServiceStatus,
    desired: &str,
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
            if service.task_definition.as_deref() != Some(desired) {
                d.status = Some(EcsDeploymentStatus::Inactive.to_string());
                d.rollout_state = Some(RolloutState::Failed.to_string());
                d.reason
                    .get_or_insert_with(|| "ECS rolled the deployment back".into());
            }
            d
        })
}

/// Whether the deployment the status tracks for `desired` failed (circuit breaker or rollback).
pub fn deployment_failure(
    service: &Service,
    prev: &EcsServiceStatus,
    desired: Option<&str>,
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
        None if service.task_definition.as_deref() != desired => Some(
            tracked
                .reason
                .clone()
                .unwrap_or_else(|| "ECS rolled the deployment back".into()),
        ),
        None => None,
    }
}
