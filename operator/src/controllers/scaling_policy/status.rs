//! The ScalingPolicy status: computed from the plan's report, the steps' results and AWS, and
//! written only when it changed.

use crds::scaling::{AlarmStatus, PolicyStatus, ScalingActivityStatus, ScalingPolicyStatus};
use jiff::Timestamp;

use super::apply::Applied;
use super::observe::Observed;
use super::plan::Report;
use super::step::Step;
use crate::controllers::conditions::merge;

/// The status after this reconcile.
pub fn compute(
    prev: &ScalingPolicyStatus,
    report: &Report,
    steps: &[Step],
    applied: &Applied,
    observed: &Observed,
    generation: Option<i64>,
    now: Timestamp,
) -> ScalingPolicyStatus {
    let scalable = observed.scalable_target.as_ref();
    let owned = report.owned;
    let scalable_target_arn = if owned {
        applied
            .registered_arn
            .clone()
            .or_else(|| scalable.and_then(|t| t.scalable_target_arn.clone()))
            .or_else(|| prev.scalable_target_arn.clone())
    } else {
        prev.scalable_target_arn.clone()
    };
    // The range as AWS has it after the steps.
    let registered_range = steps.iter().find_map(|s| match s {
        Step::RegisterTarget { input, .. } => input.min_capacity.zip(input.max_capacity),
        _ => None,
    });
    let range = registered_range
        .filter(|_| applied.registered_arn.is_some())
        .or_else(|| scalable.map(|t| (t.min_capacity, t.max_capacity)));
    let policies = if owned {
        policies(observed, applied, &report.step_alarms)
    } else {
        prev.policies.clone()
    };
    ScalingPolicyStatus {
        observed_generation: generation,
        conditions: merge(&prev.conditions, &report.conditions, generation, now),
        aws_account: prev.aws_account.clone(),
        scalable_target_arn,
        resource_id: report.resource_id.clone(),
        min_capacity: range.map(|r| r.0).or(prev.min_capacity).filter(|_| owned),
        max_capacity: range.map(|r| r.1).or(prev.max_capacity).filter(|_| owned),
        applied_capacity: report.applied_capacity,
        policies,
        current_desired_count: observed
            .service
            .as_ref()
            .map(|s| s.desired_count)
            .or(prev.current_desired_count),
        scale_in_suspended: report.scale_in_suspended,
        last_scaling_activity: observed
            .last_activity
            .as_ref()
            .map(|a| ScalingActivityStatus {
                activity_id: a.activity_id.clone(),
                description: a.description.clone(),
                status_code: a.status_code.clone(),
                start_time: a.start_time.to_string(),
            })
            .or_else(|| prev.last_scaling_activity.clone()),
    }
}

/// The policies in AWS after the steps, by name; a step policy's alarm is the operator's.
fn policies(
    observed: &Observed,
    applied: &Applied,
    step_alarms: &[(String, AlarmStatus)],
) -> Vec<PolicyStatus> {
    let aws_alarms = |a: &[aws::autoscaling::PolicyAlarm]| -> Vec<AlarmStatus> {
        a.iter()
            .map(|a| AlarmStatus {
                alarm_name: a.alarm_name.clone(),
                alarm_arn: a.alarm_arn.clone(),
                spec_hash: None,
            })
            .collect()
    };
    let alarms = |name: &str, a: &[aws::autoscaling::PolicyAlarm]| -> Vec<AlarmStatus> {
        let ours: Vec<AlarmStatus> = step_alarms
            .iter()
            .filter(|(policy, _)| policy == name)
            .map(|(_, a)| a.clone())
            .collect();
        if ours.is_empty() { aws_alarms(a) } else { ours }
    };
    let mut out: Vec<PolicyStatus> = observed
        .policies
        .iter()
        .filter(|p| !applied.deleted_policies.contains(&p.policy_name))
        .filter(|p| {
            !applied
                .put_policies
                .iter()
                .any(|(n, _)| *n == p.policy_name)
        })
        .map(|p| PolicyStatus {
            policy_name: p.policy_name.clone(),
            policy_arn: p.policy_arn.clone(),
            alarms: alarms(&p.policy_name, &p.alarms),
        })
        .collect();
    out.extend(applied.put_policies.iter().map(|(name, o)| PolicyStatus {
        policy_name: name.clone(),
        policy_arn: o.policy_arn.clone(),
        alarms: alarms(name, &o.alarms),
    }));
    out.sort_by(|a, b| a.policy_name.cmp(&b.policy_name));
    out
}
