//! The ScalingPolicy plan: from the validated spec, the previous status and what AWS shows,
//! decide the AWS calls that make the scalable target, its policies and scheduled actions match
//! the spec (only what differs), whether dynamic scale-in must be suspended for a rollout, and
//! the conditions to report. Pure: no IO, no clock.

use crds::common::{AdoptionPolicy, OWNER_TAG, condition};
use crds::scaling::{AlarmStatus, CapacityStatus, ScalingPolicyStatus};

use super::alarms;
use super::diff::{policy_steps, scheduled_steps};
use super::observe::Observed;
use super::step::Step;
use super::validate::ValidatedSpec;
use crate::controllers::conditions::Desired;
use crate::controllers::ownership::ServiceAccess;
use crate::controllers::runtime::Requeue;
use aws::autoscaling::{RegisterScalableTargetInput, SuspendedState, Tag};

/// What the status should say, as far as the plan knows before the steps run.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Ready, Reconciling, Stalled.
    pub conditions: Vec<Desired>,
    /// The target's resource id, once the EcsService is known.
    pub resource_id: Option<String>,
    /// The spec's capacity, once it is AWS's business.
    pub applied_capacity: Option<CapacityStatus>,
    /// Whether the target is the operator's (its ARN may be recorded).
    pub owned: bool,
    /// Dynamic scale-in suspended once the steps ran.
    pub scale_in_suspended: Option<bool>,
    /// (policy name, alarm) of every step policy of the spec, once the steps ran.
    pub step_alarms: Vec<(String, AlarmStatus)>,
    /// When to look again.
    pub requeue: Requeue,
}

/// The decision of one reconcile.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Mutations, in order.
    pub steps: Vec<Step>,
    /// What to report.
    pub report: Report,
}

/// Plans one reconcile of a ScalingPolicy.
pub fn plan(spec: &ValidatedSpec, prev: &ScalingPolicyStatus, observed: &Observed) -> Plan {
    let mut report = Report {
        conditions: Vec::new(),
        resource_id: observed
            .target
            .as_ref()
            .map(|t| t.resource_id.clone())
            .or_else(|| prev.resource_id.clone()),
        applied_capacity: prev.applied_capacity,
        owned: false,
        scale_in_suspended: prev.scale_in_suspended,
        step_alarms: Vec::new(),
        requeue: Requeue::Idle,
    };
    if let Some(other) = &observed.claimed_by {
        return stalled(
            report,
            "DuplicateScalingPolicy",
            format!(
                "spec.serviceRef.name: EcsService {} is already scaled by ScalingPolicy {other}; a service takes one ScalingPolicy. Delete this one or merge it into {other}.",
                spec.service_ref
            ),
        );
    }
    let Some(target) = observed.target.as_ref() else {
        report.requeue = Requeue::Wait;
        return waiting(
            report,
            format!(
                "waiting for EcsService {} (spec.serviceRef.name) to exist in this namespace",
                spec.service_ref
            ),
        );
    };
    match &observed.access {
        ServiceAccess::Granted => {}
        ServiceAccess::Wait(message) => {
            report.requeue = Requeue::Wait;
            return waiting(report, message.clone());
        }
        ServiceAccess::Refused(r) => {
            return stalled(report, r.reason, r.message.clone());
        }
    }
    if observed.service.is_none() {
        report.requeue = Requeue::Wait;
        return waiting(
            report,
            format!(
                "waiting for ECS service {} of EcsService {} to be created",
                target.resource_id, spec.service_ref
            ),
        );
    }
    let mut steps = Vec::new();
    if let (Some(scalable), Some(owner)) = (&observed.scalable_target, &observed.owner) {
        match owner {
            Some(o) if *o == spec.owner => {}
            Some(other) => {
                return stalled(
                    report,
                    "OwnedByAnotherObject",
                    format!(
                        "scalable target {} belongs to {other}; ecs-operator never takes over another object's target",
                        target.resource_id
                    ),
                );
            }
            None if spec.adoption_policy == AdoptionPolicy::Adopt => {
                if let Some(arn) = &scalable.scalable_target_arn {
                    steps.push(Step::TagTarget {
                        arn: arn.clone(),
                        tags: vec![owner_tag(spec)],
                    });
                }
            }
            None => {
                return stalled(
                    report,
                    "AlreadyExists",
                    format!(
                        "scalable target {} already exists and is not managed by ecs-operator; set spec.adoptionPolicy: Adopt to take it over (its policies and scheduled actions become the spec's)",
                        target.resource_id
                    ),
                );
            }
        }
    }
    report.owned = true;
    let capacity = CapacityStatus {
        min_capacity: spec.min_capacity,
        max_capacity: spec.max_capacity,
    };
    let suspend = spec.suspend_scale_in_during_rollout && observed.rollout.is_some();
    let mut why = Vec::new();
    match &observed.scalable_target {
        None => {
            steps.push(Step::RegisterTarget {
                input: RegisterScalableTargetInput {
                    resource_id: target.resource_id.clone(),
                    min_capacity: Some(spec.min_capacity),
                    max_capacity: Some(spec.max_capacity),
                    suspended_state: Some(SuspendedState {
                        dynamic_scaling_in_suspended: suspend,
                        ..SuspendedState::default()
                    }),
                    tags: vec![owner_tag(spec)],
                },
                why: vec![format!(
                    "register with min {} and max {}",
                    spec.min_capacity, spec.max_capacity
                )],
            });
            why.push(format!("registering {}", target.resource_id));
        }
        Some(t) => {
            // With scheduled actions, the range is the schedule's until the spec's changes.
            let spec_owns_range =
                spec.scheduled_actions.is_empty() || prev.applied_capacity != Some(capacity);
            let mut input = RegisterScalableTargetInput {
                resource_id: target.resource_id.clone(),
                ..RegisterScalableTargetInput::default()
            };
            let mut changes = Vec::new();
            if spec_owns_range
                && (t.min_capacity, t.max_capacity) != (spec.min_capacity, spec.max_capacity)
            {
                input.min_capacity = Some(spec.min_capacity);
                input.max_capacity = Some(spec.max_capacity);
                changes.push(format!(
                    "capacity {}–{} → {}–{}",
                    t.min_capacity, t.max_capacity, spec.min_capacity, spec.max_capacity
                ));
            }
            if t.suspended_state.dynamic_scaling_in_suspended != suspend {
                input.suspended_state = Some(SuspendedState {
                    dynamic_scaling_in_suspended: suspend,
                    ..t.suspended_state
                });
                changes.push(if suspend {
                    "suspend scale-in".to_owned()
                } else {
                    "resume scale-in".to_owned()
                });
            }
            if !changes.is_empty() {
                why.extend(changes.iter().cloned());
                steps.push(Step::RegisterTarget {
                    input,
                    why: changes,
                });
            }
        }
    }
    report.applied_capacity = Some(capacity);
    report.scale_in_suspended = Some(suspend);
    let (deletes, puts) = policy_steps(spec, target, observed, &mut why);
    let alarm_plan = alarms::plan(spec, prev, observed, target);
    for step in alarm_plan.deletions.iter().chain(&alarm_plan.puts) {
        match step {
            Step::DeleteAlarms(names) => why.push(format!("delete alarms {}", names.join(", "))),
            Step::PutAlarm { input, .. } => why.push(format!("put alarm {}", input.alarm_name)),
            _ => {}
        }
    }
    steps.extend(alarm_plan.deletions);
    steps.extend(deletes);
    steps.extend(puts);
    steps.extend(alarm_plan.puts);
    report.step_alarms = alarm_plan.statuses;
    scheduled_steps(spec, target, observed, &mut steps, &mut why);

    let only_suspension = matches!(
        steps.as_slice(),
        [Step::RegisterTarget { input, .. }] if input.min_capacity.is_none() && input.max_capacity.is_none()
    ) && observed.scalable_target.is_some();
    if !steps.is_empty() && !only_suspension {
        let reason = if observed.scalable_target.is_none() {
            "Creating"
        } else if observed.owner == Some(None) {
            "Adopting"
        } else {
            "Updating"
        };
        report.requeue = Requeue::Soon;
        report.conditions = progressing(reason, why.join(", "));
        return Plan { steps, report };
    }
    let scalable = observed.scalable_target.as_ref();
    let (min, max) = scalable
        .map(|t| (t.min_capacity, t.max_capacity))
        .unwrap_or((spec.min_capacity, spec.max_capacity));
    let desired = observed
        .service
        .as_ref()
        .map(|s| s.desired_count)
        .unwrap_or_default();
    let mut message = format!(
        "{} scales between {min} and {max} (desired {desired})",
        target.resource_id
    );
    if (min, max) != (spec.min_capacity, spec.max_capacity) {
        message.push_str("; range set by a scheduled action");
    }
    let reason = match &observed.rollout {
        Some(rollout) if suspend => {
            message.push_str(&format!("; scale-in suspended while {rollout}"));
            "ScaleInSuspended"
        }
        _ => "Active",
    };
    // Suspending or resuming scale-in is routine: Ready stays True while it happens.
    report.requeue = if only_suspension {
        Requeue::Soon
    } else if observed.rollout.is_some() {
        Requeue::Poll
    } else {
        Requeue::Idle
    };
    report.conditions = vec![
        Desired::yes(condition::READY, reason, message),
        Desired::no(condition::RECONCILING, reason, ""),
        Desired::no(condition::STALLED, reason, ""),
    ];
    Plan { steps, report }
}

fn owner_tag(spec: &ValidatedSpec) -> Tag {
    Tag {
        key: OWNER_TAG.into(),
        value: spec.owner.clone(),
    }
}

fn progressing(reason: &str, message: String) -> Vec<Desired> {
    vec![
        Desired::no(condition::READY, reason, message.clone()),
        Desired::yes(condition::RECONCILING, reason, message),
        Desired::no(condition::STALLED, reason, ""),
    ]
}

fn waiting(mut report: Report, message: String) -> Plan {
    report.conditions = progressing("WaitingForService", message);
    Plan {
        steps: Vec::new(),
        report,
    }
}

fn stalled(mut report: Report, reason: &str, message: String) -> Plan {
    report.conditions = vec![
        Desired::no(condition::READY, reason, message.clone()),
        Desired::no(condition::RECONCILING, reason, ""),
        Desired::yes(condition::STALLED, reason, message),
    ];
    report.requeue = Requeue::Idle;
    Plan {
        steps: Vec::new(),
        report,
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
