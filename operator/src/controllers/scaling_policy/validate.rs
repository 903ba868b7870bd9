//! Checks a ScalingPolicy beyond what the CRD schema and CEL rules can say (policy name clashes,
//! step intervals, schedule expressions, time zones and times) and turns it into a
//! `ValidatedSpec`: the policies and scheduled actions as AWS will be asked for them, defaults
//! filled. No IO.

use crds::common::{AdoptionPolicy, DeletionPolicy};
use crds::scaling::{
    AdjustmentType, MetricStatistic, PredefinedMetricType, ScalingPolicy, StepPolicy,
    TargetTrackingPolicy,
};
use jiff::Timestamp;

use aws::autoscaling::schedule;
use aws::autoscaling::{
    CustomizedMetric, PolicyConfiguration, PredefinedMetric, ScheduledAction,
    StepScalingConfiguration, TargetTrackingConfiguration,
};

/// Cooldown AWS applies when a policy sets none; sent explicitly so AWS and spec compare equal.
pub const DEFAULT_COOLDOWN: i32 = 300;

/// A ScalingPolicy whose spec passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedSpec {
    /// `<namespace>/<name>`: the owner tag value.
    pub owner: String,
    /// The EcsService scaled.
    pub service_ref: String,
    /// Minimum capacity.
    pub min_capacity: i32,
    /// Maximum capacity.
    pub max_capacity: i32,
    /// Policies, in spec order (target tracking first).
    pub policies: Vec<DesiredPolicy>,
    /// Scheduled actions, without a resource id (the plan knows it).
    pub scheduled_actions: Vec<ScheduledAction>,
    /// Suspend dynamic scale-in while the service deploys.
    pub suspend_scale_in_during_rollout: bool,
    /// Delete or Retain.
    pub deletion_policy: DeletionPolicy,
    /// Never or Adopt.
    pub adoption_policy: AdoptionPolicy,
}

/// One policy as PutScalingPolicy will send it, and the alarm of a step policy.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredPolicy {
    /// Policy name.
    pub name: String,
    /// Its configuration, defaults filled.
    pub configuration: PolicyConfiguration,
    /// A step policy's alarm, as the spec gives it.
    pub alarm: Option<crds::scaling::StepAlarm>,
}

/// Why a spec cannot be acted on; the message names the field and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ValidationError {
    /// The offending field, as a path in the spec.
    pub field: String,
    /// What is wrong and how to fix it.
    pub problem: String,
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> ValidationError {
    ValidationError {
        field: field.into(),
        problem: problem.into(),
    }
}

/// Validates a ScalingPolicy.
pub fn validate(obj: &ScalingPolicy) -> Result<ValidatedSpec, ValidationError> {
    let spec = &obj.spec;
    let namespace = obj.metadata.namespace.clone().unwrap_or_default();
    let name = obj.metadata.name.clone().unwrap_or_default();
    if spec.service_ref.name.is_empty() {
        return Err(invalid(
            "spec.serviceRef.name",
            "name the EcsService to scale",
        ));
    }
    if spec.min_capacity < 0 || spec.min_capacity > spec.max_capacity {
        return Err(invalid(
            "spec.minCapacity",
            format!(
                "{} must be between 0 and maxCapacity ({})",
                spec.min_capacity, spec.max_capacity
            ),
        ));
    }
    let mut names = std::collections::BTreeSet::new();
    let mut policies = Vec::new();
    for (i, p) in spec.target_tracking_policies.iter().enumerate() {
        let field = format!("spec.targetTrackingPolicies[{i}]");
        if !names.insert(p.policy_name.as_str()) {
            return Err(duplicate(&format!("{field}.policyName"), &p.policy_name));
        }
        policies.push(target_tracking(p, &field)?);
    }
    for (i, p) in spec.step_policies.iter().enumerate() {
        let field = format!("spec.stepPolicies[{i}]");
        if !names.insert(p.policy_name.as_str()) {
            return Err(duplicate(&format!("{field}.policyName"), &p.policy_name));
        }
        policies.push(step(p, &field)?);
    }
    let mut action_names = std::collections::BTreeSet::new();
    let mut scheduled_actions = Vec::new();
    for (i, a) in spec.scheduled_actions.iter().enumerate() {
        let field = format!("spec.scheduledActions[{i}]");
        if !action_names.insert(a.scheduled_action_name.as_str()) {
            return Err(invalid(
                format!("{field}.scheduledActionName"),
                format!("{:?} is used twice", a.scheduled_action_name),
            ));
        }
        scheduled_actions.push(scheduled(a, &field)?);
    }
    Ok(ValidatedSpec {
        owner: format!("{namespace}/{name}"),
        service_ref: spec.service_ref.name.clone(),
        min_capacity: spec.min_capacity,
        max_capacity: spec.max_capacity,
        policies,
        scheduled_actions,
        suspend_scale_in_during_rollout: spec.suspend_scale_in_during_rollout,
        deletion_policy: spec.deletion_policy,
        adoption_policy: spec.adoption_policy,
    })
}

fn duplicate(field: &str, name: &str) -> ValidationError {
    invalid(
        field,
        format!("{name:?} is used twice; policy names are unique per service"),
    )
}

/// The AWS name of a unit enum (its serde name).
pub fn enum_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn target_tracking(
    p: &TargetTrackingPolicy,
    field: &str,
) -> Result<DesiredPolicy, ValidationError> {
    if !p.target_value.is_finite() || p.target_value <= 0.0 {
        return Err(invalid(
            format!("{field}.targetValue"),
            format!("{} must be a positive number", p.target_value),
        ));
    }
    let predefined = match &p.predefined_metric_specification {
        Some(m) => {
            let percent =
                m.predefined_metric_type != PredefinedMetricType::ALBRequestCountPerTarget;
            if percent && p.target_value > 100.0 {
                return Err(invalid(
                    format!("{field}.targetValue"),
                    format!("{} is a percentage: at most 100", p.target_value),
                ));
            }
            match (&m.resource_label, percent) {
                (Some(_), true) => {
                    return Err(invalid(
                        format!("{field}.predefinedMetricSpecification.resourceLabel"),
                        "only ALBRequestCountPerTarget takes a resourceLabel",
                    ));
                }
                (Some(label), false) if !is_alb_label(label) => {
                    return Err(invalid(
                        format!("{field}.predefinedMetricSpecification.resourceLabel"),
                        format!(
                            "{label:?} must be app/<load-balancer>/<id>/targetgroup/<target-group>/<id>"
                        ),
                    ));
                }
                (None, false) => {
                    return Err(invalid(
                        format!("{field}.predefinedMetricSpecification.resourceLabel"),
                        "ALBRequestCountPerTarget needs the load balancer and target group label",
                    ));
                }
                _ => {}
            }
            Some(PredefinedMetric {
                predefined_metric_type: enum_name(&m.predefined_metric_type),
                resource_label: m.resource_label.clone(),
            })
        }
        None => None,
    };
    let customized = match &p.customized_metric_specification {
        Some(m) => {
            if m.metric_name.is_empty() || m.namespace.is_empty() {
                return Err(invalid(
                    format!("{field}.customizedMetricSpecification"),
                    "metricName and namespace must be set",
                ));
            }
            let mut dimensions = m.dimensions.clone();
            dimensions.sort_by(|a, b| (&a.name, &a.value).cmp(&(&b.name, &b.value)));
            Some(CustomizedMetric {
                metric_name: m.metric_name.clone(),
                namespace: m.namespace.clone(),
                dimensions,
                statistic: enum_name(&m.statistic),
                unit: m.unit.clone(),
            })
        }
        None => None,
    };
    if predefined.is_some() == customized.is_some() {
        return Err(invalid(
            field,
            "set exactly one of predefinedMetricSpecification or customizedMetricSpecification",
        ));
    }
    Ok(DesiredPolicy {
        name: p.policy_name.clone(),
        configuration: PolicyConfiguration::TargetTracking(TargetTrackingConfiguration {
            target_value: p.target_value,
            predefined_metric: predefined,
            customized_metric: customized,
            scale_out_cooldown: Some(p.scale_out_cooldown.unwrap_or(DEFAULT_COOLDOWN)),
            scale_in_cooldown: Some(p.scale_in_cooldown.unwrap_or(DEFAULT_COOLDOWN)),
            disable_scale_in: Some(p.disable_scale_in.unwrap_or(false)),
        }),
        alarm: None,
    })
}

fn is_alb_label(label: &str) -> bool {
    let parts: Vec<&str> = label.split('/').collect();
    parts.len() == 7
        && parts[0] == "app"
        && parts[3] == "targetgroup"
        && parts.iter().all(|p| !p.is_empty())
}

fn step(p: &StepPolicy, field: &str) -> Result<DesiredPolicy, ValidationError> {
    let mut steps = p.step_adjustments.clone();
    if steps.is_empty() {
        return Err(invalid(
            format!("{field}.stepAdjustments"),
            "give at least one step",
        ));
    }
    for (i, s) in steps.iter().enumerate() {
        if let (Some(lo), Some(hi)) = (s.metric_interval_lower_bound, s.metric_interval_upper_bound)
            && lo >= hi
        {
            return Err(invalid(
                format!("{field}.stepAdjustments[{i}]"),
                format!(
                    "metricIntervalLowerBound {lo} must be below metricIntervalUpperBound {hi}"
                ),
            ));
        }
    }
    steps.sort_by(|a, b| {
        let key = |s: &crds::scaling::StepAdjustment| {
            s.metric_interval_lower_bound.unwrap_or(f64::NEG_INFINITY)
        };
        key(a).total_cmp(&key(b))
    });
    for pair in steps.windows(2) {
        let (upper, lower) = (
            pair[0].metric_interval_upper_bound,
            pair[1].metric_interval_lower_bound,
        );
        if upper.is_none() || lower.is_none() || upper != lower {
            return Err(invalid(
                format!("{field}.stepAdjustments"),
                "the steps' intervals must neither overlap nor leave gaps (each upper bound is the next step's lower bound; only the first may omit its lower bound and only the last its upper bound)",
            ));
        }
    }
    if p.min_adjustment_magnitude.is_some()
        && p.adjustment_type != AdjustmentType::PercentChangeInCapacity
    {
        return Err(invalid(
            format!("{field}.minAdjustmentMagnitude"),
            "only applies with adjustmentType PercentChangeInCapacity",
        ));
    }
    let alarm = &p.alarm;
    if alarm.metric_name.is_empty() || alarm.namespace.is_empty() {
        return Err(invalid(
            format!("{field}.alarm"),
            "metricName and namespace must be set",
        ));
    }
    if !alarm.threshold.is_finite() {
        return Err(invalid(
            format!("{field}.alarm.threshold"),
            "must be a number",
        ));
    }
    if let Some(period) = alarm.period
        && !(period == 10 || period == 30 || (period > 0 && period % 60 == 0))
    {
        return Err(invalid(
            format!("{field}.alarm.period"),
            format!("{period} must be 10, 30 or a multiple of 60"),
        ));
    }
    if alarm.evaluation_periods.is_some_and(|n| n < 1) {
        return Err(invalid(
            format!("{field}.alarm.evaluationPeriods"),
            "must be at least 1",
        ));
    }
    let aggregation = p
        .metric_aggregation_type
        .unwrap_or(MetricStatistic::Average);
    if matches!(
        aggregation,
        MetricStatistic::SampleCount | MetricStatistic::Sum
    ) {
        return Err(invalid(
            format!("{field}.metricAggregationType"),
            "must be Average, Minimum or Maximum",
        ));
    }
    Ok(DesiredPolicy {
        name: p.policy_name.clone(),
        configuration: PolicyConfiguration::StepScaling(StepScalingConfiguration {
            adjustment_type: enum_name(&p.adjustment_type),
            step_adjustments: steps,
            min_adjustment_magnitude: p.min_adjustment_magnitude,
            cooldown: Some(p.cooldown.unwrap_or(DEFAULT_COOLDOWN)),
            metric_aggregation_type: Some(enum_name(&aggregation)),
        }),
        alarm: Some(alarm.clone()),
    })
}

fn scheduled(
    a: &crds::scaling::ScheduledAction,
    field: &str,
) -> Result<ScheduledAction, ValidationError> {
    schedule::parse(&a.schedule).map_err(|e| {
        invalid(
            format!("{field}.schedule"),
            format!("{:?}: {e}", a.schedule),
        )
    })?;
    if let Some(tz) = &a.timezone
        && schedule::can_check_time_zones()
    {
        schedule::time_zone(Some(tz)).map_err(|e| invalid(format!("{field}.timezone"), e.0))?;
    }
    let time = |value: &Option<String>, name: &str| -> Result<Option<Timestamp>, ValidationError> {
        value
            .as_deref()
            .map(|v| {
                v.parse::<Timestamp>().map_err(|_| {
                    invalid(
                        format!("{field}.{name}"),
                        format!("{v:?} is not an RFC 3339 time (2026-03-01T08:00:00Z)"),
                    )
                })
            })
            .transpose()
    };
    let start_time = time(&a.start_time, "startTime")?;
    let end_time = time(&a.end_time, "endTime")?;
    if let (Some(s), Some(e)) = (start_time, end_time)
        && s >= e
    {
        return Err(invalid(
            format!("{field}.endTime"),
            "must be after startTime",
        ));
    }
    let target = &a.scalable_target_action;
    if target.min_capacity.is_none() && target.max_capacity.is_none() {
        return Err(invalid(
            format!("{field}.scalableTargetAction"),
            "set minCapacity, maxCapacity or both",
        ));
    }
    if let (Some(min), Some(max)) = (target.min_capacity, target.max_capacity)
        && min > max
    {
        return Err(invalid(
            format!("{field}.scalableTargetAction.minCapacity"),
            format!("{min} must not exceed maxCapacity {max}"),
        ));
    }
    Ok(ScheduledAction {
        scheduled_action_name: a.scheduled_action_name.clone(),
        scheduled_action_arn: String::new(),
        resource_id: String::new(),
        schedule: a.schedule.trim().to_owned(),
        timezone: a.timezone.clone(),
        start_time: start_time.map(whole_seconds),
        end_time: end_time.map(whole_seconds),
        min_capacity: target.min_capacity,
        max_capacity: target.max_capacity,
    })
}

/// AWS keeps scheduled action times to the second.
fn whole_seconds(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
