//! What differs between the spec and AWS for policies and scheduled actions: the deletes and
//! puts that make them equal, comparing both sides with AWS's defaults filled in. Pure; used by
//! `plan`.

use super::observe::{Observed, ServiceTarget};
use super::step::Step;
use super::validate::{DEFAULT_COOLDOWN, ValidatedSpec};
use aws::autoscaling::{PolicyConfiguration, PutScalingPolicyInput, ScheduledAction};

/// Deletes of policies the spec no longer has, puts of the ones that are missing or differ.
pub fn policy_steps(
    spec: &ValidatedSpec,
    target: &ServiceTarget,
    observed: &Observed,
    why: &mut Vec<String>,
) -> (Vec<Step>, Vec<Step>) {
    let (mut deletes, mut puts) = (Vec::new(), Vec::new());
    for p in &observed.policies {
        if !spec.policies.iter().any(|d| d.name == p.policy_name) {
            deletes.push(Step::DeletePolicy {
                resource_id: target.resource_id.clone(),
                name: p.policy_name.clone(),
            });
            why.push(format!("delete policy {}", p.policy_name));
        }
    }
    for d in &spec.policies {
        let live = observed.policies.iter().find(|p| p.policy_name == d.name);
        let same = live.is_some_and(|p| normalise(&p.configuration) == normalise(&d.configuration));
        if !same {
            puts.push(Step::PutPolicy(PutScalingPolicyInput {
                policy_name: d.name.clone(),
                resource_id: target.resource_id.clone(),
                configuration: d.configuration.clone(),
            }));
            why.push(format!(
                "{} policy {}",
                if live.is_some() { "update" } else { "create" },
                d.name
            ));
        }
    }
    (deletes, puts)
}

/// Deletes scheduled actions the spec no longer has, puts the ones missing or different.
pub fn scheduled_steps(
    spec: &ValidatedSpec,
    target: &ServiceTarget,
    observed: &Observed,
    steps: &mut Vec<Step>,
    why: &mut Vec<String>,
) {
    for a in &observed.scheduled_actions {
        if !spec
            .scheduled_actions
            .iter()
            .any(|d| d.scheduled_action_name == a.scheduled_action_name)
        {
            steps.push(Step::DeleteScheduledAction {
                resource_id: target.resource_id.clone(),
                name: a.scheduled_action_name.clone(),
            });
            why.push(format!(
                "delete scheduled action {}",
                a.scheduled_action_name
            ));
        }
    }
    for d in &spec.scheduled_actions {
        let desired = ScheduledAction {
            resource_id: target.resource_id.clone(),
            ..d.clone()
        };
        let live = observed
            .scheduled_actions
            .iter()
            .find(|a| a.scheduled_action_name == d.scheduled_action_name);
        if !live.is_some_and(|a| same_action(a, &desired)) {
            why.push(format!(
                "{} scheduled action {}",
                if live.is_some() { "update" } else { "create" },
                d.scheduled_action_name
            ));
            steps.push(Step::PutScheduledAction(desired));
        }
    }
}

/// A policy configuration with AWS's defaults filled and lists in a stable order, so a
/// configuration AWS echoes back compares equal to the one sent.
pub fn normalise(c: &PolicyConfiguration) -> PolicyConfiguration {
    match c {
        PolicyConfiguration::TargetTracking(t) => {
            let mut t = t.clone();
            t.scale_out_cooldown.get_or_insert(DEFAULT_COOLDOWN);
            t.scale_in_cooldown.get_or_insert(DEFAULT_COOLDOWN);
            t.disable_scale_in.get_or_insert(false);
            if let Some(m) = t.customized_metric.as_mut() {
                m.dimensions
                    .sort_by(|a, b| (&a.name, &a.value).cmp(&(&b.name, &b.value)));
            }
            PolicyConfiguration::TargetTracking(t)
        }
        PolicyConfiguration::StepScaling(s) => {
            let mut s = s.clone();
            s.cooldown.get_or_insert(DEFAULT_COOLDOWN);
            s.metric_aggregation_type
                .get_or_insert_with(|| "Average".into());
            s.step_adjustments.sort_by(|a, b| {
                let key = |x: &aws::autoscaling::StepAdjustment| {
                    x.metric_interval_lower_bound.unwrap_or(f64::NEG_INFINITY)
                };
                key(a).total_cmp(&key(b))
            });
            PolicyConfiguration::StepScaling(s)
        }
        other => other.clone(),
    }
}

fn same_action(live: &ScheduledAction, desired: &ScheduledAction) -> bool {
    let tz = |a: &ScheduledAction| a.timezone.clone().unwrap_or_else(|| "UTC".into());
    let secs = |t: Option<jiff::Timestamp>| t.map(|t| t.as_second());
    live.schedule.trim() == desired.schedule
        && tz(live) == tz(desired)
        && secs(live.start_time) == secs(desired.start_time)
        && secs(live.end_time) == secs(desired.end_time)
        && live.min_capacity == desired.min_capacity
        && live.max_capacity == desired.max_capacity
}
