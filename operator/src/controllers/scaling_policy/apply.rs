//! The only ScalingPolicy code that changes AWS: runs the plan's steps in order, stops at the
//! first failure, and says what happened.

use std::sync::Arc;

use super::step::Step;
use crate::controllers::runtime::StepError;
use aws::AwsError;
use aws::accounts::AwsClients;
use aws::autoscaling::PutScalingPolicyOutput;

/// What the steps did.
#[derive(Debug, Default)]
pub struct Applied {
    /// ARN answered by RegisterScalableTarget.
    pub registered_arn: Option<String>,
    /// Policies put: (name, answer).
    pub put_policies: Vec<(String, PutScalingPolicyOutput)>,
    /// Policies deleted.
    pub deleted_policies: Vec<String>,
    /// Events to publish: (reason, note).
    pub events: Vec<(&'static str, String)>,
    /// The step that failed, which stopped the ones after it.
    pub failed: Option<StepError>,
}

/// Runs the steps in order, up to the first that fails.
pub async fn apply(steps: &[Step], aws: &Arc<AwsClients>) -> Applied {
    let mut applied = Applied::default();
    for step in steps {
        if let Err(source) = run(step, aws, &mut applied).await {
            applied.failed = Some(StepError {
                step: step.name(),
                source,
            });
            break;
        }
    }
    applied
}

async fn run(step: &Step, aws: &Arc<AwsClients>, applied: &mut Applied) -> Result<(), AwsError> {
    let api = &aws.autoscaling;
    match step {
        Step::TagTarget { arn, tags } => {
            api.tag_resource(arn, tags.clone()).await?;
            tracing::info!(scalable_target_arn = %arn, "adopted scalable target");
            applied
                .events
                .push(("AdoptedScalableTarget", format!("took over {arn}")));
        }
        Step::RegisterTarget { input, why } => {
            let arn = api.register_scalable_target(input.clone()).await?;
            tracing::info!(scalable_target_arn = %arn, resource_id = %input.resource_id, changes = %why.join(", "), "registered scalable target");
            applied.events.push((
                "RegisteredScalableTarget",
                format!("{}: {}", input.resource_id, why.join(", ")),
            ));
            applied.registered_arn = Some(arn);
        }
        Step::DeletePolicy { resource_id, name } => {
            match api.delete_scaling_policy(resource_id, name).await {
                Ok(()) => {}
                // Already gone: nothing left to do.
                Err(e) if e.kind == aws::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            tracing::info!(resource_id = %resource_id, policy_name = %name, "deleted scaling policy");
            applied
                .events
                .push(("DeletedScalingPolicy", format!("deleted policy {name}")));
            applied.deleted_policies.push(name.clone());
        }
        Step::PutPolicy(input) => {
            let out = api.put_scaling_policy(input.clone()).await?;
            tracing::info!(policy_arn = %out.policy_arn, policy_name = %input.policy_name, "put scaling policy");
            applied.events.push((
                "PutScalingPolicy",
                format!(
                    "put {} policy {}",
                    input.configuration.policy_type(),
                    input.policy_name
                ),
            ));
            applied.put_policies.push((input.policy_name.clone(), out));
        }
        Step::DeleteAlarms(names) => {
            aws.cloudwatch.delete_alarms(names).await?;
            tracing::info!(alarms = %names.join(", "), "deleted step policy alarms");
            applied
                .events
                .push(("DeletedAlarms", format!("deleted {}", names.join(", "))));
        }
        Step::PutAlarm {
            input,
            policy_name,
            policy_arn,
        } => {
            let arn = applied
                .put_policies
                .iter()
                .find(|(name, _)| name == policy_name)
                .map(|(_, out)| out.policy_arn.clone())
                .or_else(|| policy_arn.clone())
                .ok_or_else(|| {
                    AwsError::new(
                        aws::ErrorKind::Conflict,
                        "PolicyNotFound",
                        format!("step policy {policy_name} has no ARN yet"),
                    )
                })?;
            let mut input = input.clone();
            input.alarm_actions = vec![arn];
            aws.cloudwatch.put_metric_alarm(input.clone()).await?;
            tracing::info!(alarm = %input.alarm_name, policy_name = %policy_name, "put step policy alarm");
            applied.events.push((
                "PutMetricAlarm",
                format!("put alarm {} for policy {policy_name}", input.alarm_name),
            ));
        }
        Step::DeleteScheduledAction { resource_id, name } => {
            match api.delete_scheduled_action(resource_id, name).await {
                Ok(()) => {}
                Err(e) if e.kind == aws::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            tracing::info!(resource_id = %resource_id, scheduled_action = %name, "deleted scheduled action");
            applied.events.push((
                "DeletedScheduledAction",
                format!("deleted scheduled action {name}"),
            ));
        }
        Step::PutScheduledAction(input) => {
            api.put_scheduled_action(input.clone()).await?;
            tracing::info!(resource_id = %input.resource_id, scheduled_action = %input.scheduled_action_name, schedule = %input.schedule, "put scheduled action");
            applied.events.push((
                "PutScheduledAction",
                format!(
                    "put scheduled action {} ({})",
                    input.scheduled_action_name, input.schedule
                ),
            ));
        }
    }
    Ok(())
}
