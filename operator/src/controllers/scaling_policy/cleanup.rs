//! Deletion of a ScalingPolicy: with deletionPolicy Delete, delete the step policies' alarms
//! and deregister the scalable target (AWS deletes its policies and scheduled actions with it);
//! with Retain, leave everything but resume a scale-in the operator suspended for a rollout. A
//! target the operator does not own is never touched.

use std::sync::Arc;

use crds::ScalingPolicy;
use crds::common::{DeletionPolicy, OWNER_TAG};

use super::alarms;
use super::observe::service_target;
use crate::controllers::Context;
use crate::controllers::runtime::finalizer::Cleanup;
use aws::accounts::AwsClients;
use aws::autoscaling::{RegisterScalableTargetInput, SuspendedState};
use aws::{AwsError, ErrorKind};

/// The region and resource id of the policy's target, from the EcsService or, when that is
/// gone, from the status (the region is the ARN's).
pub fn target_of(obj: &ScalingPolicy, ctx: &Context) -> Option<(Option<String>, String)> {
    let namespace = obj.metadata.namespace.as_deref().unwrap_or_default();
    if let Some(t) = service_target(ctx, namespace, &obj.spec.service_ref.name) {
        return Some((t.region, t.resource_id));
    }
    let status = obj.status.as_ref()?;
    let region = status
        .scalable_target_arn
        .as_deref()
        .and_then(|arn| arn.split(':').nth(3))
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    Some((region, status.resource_id.clone()?))
}

/// Runs the clean-up; returns the events to publish: (reason, note).
pub async fn cleanup(
    obj: &ScalingPolicy,
    aws: &Arc<AwsClients>,
    resource_id: &str,
) -> Result<Cleanup, AwsError> {
    events(obj, aws, resource_id).await.map(Cleanup::Done)
}

async fn events(
    obj: &ScalingPolicy,
    aws: &Arc<AwsClients>,
    resource_id: &str,
) -> Result<Vec<(&'static str, String)>, AwsError> {
    let Some(target) = aws.scalable_targets.describe(resource_id).await? else {
        return Ok(Vec::new());
    };
    let owner = format!(
        "{}/{}",
        obj.metadata.namespace.as_deref().unwrap_or_default(),
        obj.metadata.name.as_deref().unwrap_or_default()
    );
    let recorded = obj
        .status
        .as_ref()
        .and_then(|s| s.scalable_target_arn.as_deref());
    let ours = match target.scalable_target_arn.as_deref() {
        Some(arn) if recorded == Some(arn) => true,
        Some(arn) => aws
            .autoscaling
            .list_tags_for_resource(arn)
            .await?
            .iter()
            .any(|t| t.key == OWNER_TAG && t.value == owner),
        None => false,
    };
    if !ours {
        return Ok(Vec::new());
    }
    if obj.spec.deletion_policy == DeletionPolicy::Retain {
        if !target.suspended_state.dynamic_scaling_in_suspended {
            return Ok(Vec::new());
        }
        aws.autoscaling
            .register_scalable_target(RegisterScalableTargetInput {
                resource_id: resource_id.to_owned(),
                suspended_state: Some(SuspendedState {
                    dynamic_scaling_in_suspended: false,
                    ..target.suspended_state
                }),
                ..RegisterScalableTargetInput::default()
            })
            .await?;
        tracing::info!(
            resource_id,
            "resumed scale-in of a retained scalable target"
        );
        return Ok(vec![(
            "ResumedScaleIn",
            format!("resumed scale-in of {resource_id}; the target is retained"),
        )]);
    }
    let mut events = Vec::new();
    let step_policies: Vec<&str> = obj
        .spec
        .step_policies
        .iter()
        .map(|p| p.policy_name.as_str())
        .collect();
    let names = alarms::known(
        &owner,
        &step_policies,
        &obj.status.clone().unwrap_or_default(),
    );
    if !names.is_empty() {
        let existing: Vec<String> = aws
            .cloudwatch
            .describe_alarms(&names)
            .await?
            .into_iter()
            .map(|a| a.alarm_name)
            .collect();
        if !existing.is_empty() {
            aws.cloudwatch.delete_alarms(&existing).await?;
            tracing::info!(alarms = %existing.join(", "), "deleted step policy alarms");
            events.push(("DeletedAlarms", format!("deleted {}", existing.join(", "))));
        }
    }
    match aws
        .autoscaling
        .deregister_scalable_target(resource_id)
        .await
    {
        Ok(()) => {}
        Err(e) if e.kind == ErrorKind::NotFound => return Ok(events),
        Err(e) => return Err(e),
    }
    tracing::info!(resource_id, "deregistered scalable target");
    events.push((
        "DeregisteredScalableTarget",
        format!("deregistered {resource_id} with its policies and scheduled actions"),
    ));
    Ok(events)
}
