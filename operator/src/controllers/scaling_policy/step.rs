//! The ScalingPolicy's AWS mutations as data: what `plan` decides, what `diff` and `alarms`
//! produce, and what `apply` runs.

use aws::autoscaling::{PutScalingPolicyInput, RegisterScalableTargetInput, ScheduledAction, Tag};
use aws::cloudwatch::PutMetricAlarmInput;

/// One AWS mutation. A plan's steps run in order; each is idempotent.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Take over an untagged scalable target by tagging it.
    TagTarget {
        /// Target ARN.
        arn: String,
        /// The owner tag.
        tags: Vec<Tag>,
    },
    /// Register the target, or change its min/max or suspended state.
    RegisterTarget {
        /// The call.
        input: RegisterScalableTargetInput,
        /// What differed.
        why: Vec<String>,
    },
    /// Delete a policy the spec no longer has.
    DeletePolicy {
        /// Target resource id.
        resource_id: String,
        /// Policy name.
        name: String,
    },
    /// Create or replace a policy.
    PutPolicy(PutScalingPolicyInput),
    /// Delete the alarms of step policies the spec no longer has (before the policies).
    DeleteAlarms(Vec<String>),
    /// Create or replace a step policy's alarm, its action the policy's ARN.
    PutAlarm {
        /// The alarm, without actions.
        input: PutMetricAlarmInput,
        /// The step policy it drives.
        policy_name: String,
        /// The policy's ARN when it already exists (else the one a PutPolicy step answers).
        policy_arn: Option<String>,
    },
    /// Delete a scheduled action the spec no longer has.
    DeleteScheduledAction {
        /// Target resource id.
        resource_id: String,
        /// Action name.
        name: String,
    },
    /// Create or replace a scheduled action.
    PutScheduledAction(ScheduledAction),
}

impl Step {
    /// The step's name: the AWS action it calls.
    pub fn name(&self) -> &'static str {
        match self {
            Step::TagTarget { .. } => "TagResource",
            Step::RegisterTarget { .. } => "RegisterScalableTarget",
            Step::DeletePolicy { .. } => "DeleteScalingPolicy",
            Step::PutPolicy(_) => "PutScalingPolicy",
            Step::DeleteAlarms(_) => "DeleteAlarms",
            Step::PutAlarm { .. } => "PutMetricAlarm",
            Step::DeleteScheduledAction { .. } => "DeleteScheduledAction",
            Step::PutScheduledAction(_) => "PutScheduledAction",
        }
    }

    /// The call in one line, for dry runs and diffs.
    pub fn summary(&self) -> String {
        let name = self.name();
        match self {
            Step::TagTarget { arn, .. } => format!("{name} {arn} with the owner tag (adopting)"),
            Step::RegisterTarget { input, why } => {
                format!("{name} {}: {}", input.resource_id, why.join(", "))
            }
            Step::DeletePolicy {
                resource_id,
                name: policy,
            } => {
                format!("{name} {policy} of {resource_id}")
            }
            Step::PutPolicy(input) => {
                format!("{name} {} of {}", input.policy_name, input.resource_id)
            }
            Step::DeleteAlarms(names) => format!("{name} {}", names.join(", ")),
            Step::PutAlarm {
                input, policy_name, ..
            } => {
                format!("{name} {} for policy {policy_name}", input.alarm_name)
            }
            Step::DeleteScheduledAction {
                resource_id,
                name: action,
            } => {
                format!("{name} {action} of {resource_id}")
            }
            Step::PutScheduledAction(action) => format!(
                "{name} {} of {} ({})",
                action.scheduled_action_name, action.resource_id, action.schedule
            ),
        }
    }
}
