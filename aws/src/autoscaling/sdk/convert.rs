//! Conversions between the operator's Application Auto Scaling types and the SDK's: policy
//! configurations both ways, targets, scheduled actions, activities, tags and timestamps.

use std::collections::HashMap;

use aws_sdk_applicationautoscaling::types as sdk;
use aws_smithy_types::DateTime;
use aws_smithy_types::error::operation::BuildError;
use jiff::Timestamp;

use crate::autoscaling::{
    CustomizedMetric, MetricDimension, PolicyAlarm, PolicyConfiguration, PredefinedMetric,
    ScalableTarget, ScalingActivity, ScalingPolicy, ScheduledAction, StepAdjustment,
    StepScalingConfiguration, SuspendedState, Tag, TargetTrackingConfiguration,
};

/// An SDK timestamp as a jiff one (`None` outside jiff's range).
pub(super) fn timestamp(t: &DateTime) -> Option<Timestamp> {
    Timestamp::new(t.secs(), t.subsec_nanos() as i32).ok()
}

/// A jiff timestamp as an SDK one.
pub(super) fn date_time(t: Timestamp) -> DateTime {
    DateTime::from_secs_and_nanos(t.as_second(), t.subsec_nanosecond().max(0) as u32)
}

/// Operator tags as the map AWS takes.
pub(super) fn tags_to_sdk(tags: Vec<Tag>) -> HashMap<String, String> {
    tags.into_iter()
        .map(|Tag { key, value }| (key, value))
        .collect()
}

/// AWS's tag map as operator tags, sorted by key.
pub(super) fn tags_from_sdk(tags: HashMap<String, String>) -> Vec<Tag> {
    let mut out: Vec<Tag> = tags
        .into_iter()
        .map(|(key, value)| Tag { key, value })
        .collect();
    out.sort();
    out
}

/// The operator's suspended state as the SDK's.
pub(super) fn suspended_to_sdk(s: SuspendedState) -> sdk::SuspendedState {
    sdk::SuspendedState::builder()
        .dynamic_scaling_in_suspended(s.dynamic_scaling_in_suspended)
        .dynamic_scaling_out_suspended(s.dynamic_scaling_out_suspended)
        .scheduled_scaling_suspended(s.scheduled_scaling_suspended)
        .build()
}

/// A described scalable target.
pub(super) fn target_from_sdk(t: sdk::ScalableTarget) -> ScalableTarget {
    let suspended = t
        .suspended_state
        .unwrap_or_else(|| sdk::SuspendedState::builder().build());
    ScalableTarget {
        resource_id: t.resource_id,
        scalable_target_arn: t.scalable_target_arn,
        min_capacity: t.min_capacity,
        max_capacity: t.max_capacity,
        suspended_state: SuspendedState {
            dynamic_scaling_in_suspended: suspended.dynamic_scaling_in_suspended.unwrap_or(false),
            dynamic_scaling_out_suspended: suspended.dynamic_scaling_out_suspended.unwrap_or(false),
            scheduled_scaling_suspended: suspended.scheduled_scaling_suspended.unwrap_or(false),
        },
        creation_time: timestamp(&t.creation_time),
    }
}

fn dimensions_to_sdk(dims: Vec<MetricDimension>) -> Result<Vec<sdk::MetricDimension>, BuildError> {
    dims.into_iter()
        .map(|d| {
            sdk::MetricDimension::builder()
                .name(d.name)
                .value(d.value)
                .build()
        })
        .collect()
}

/// A target-tracking configuration as the SDK's.
pub(super) fn target_tracking_to_sdk(
    c: TargetTrackingConfiguration,
) -> Result<sdk::TargetTrackingScalingPolicyConfiguration, BuildError> {
    let predefined = c
        .predefined_metric
        .map(|p| {
            sdk::PredefinedMetricSpecification::builder()
                .predefined_metric_type(sdk::MetricType::from(p.predefined_metric_type.as_str()))
                .set_resource_label(p.resource_label)
                .build()
        })
        .transpose()?;
    let customized = c
        .customized_metric
        .map(|m| -> Result<_, BuildError> {
            Ok(sdk::CustomizedMetricSpecification::builder()
                .metric_name(m.metric_name)
                .namespace(m.namespace)
                .set_dimensions(Some(dimensions_to_sdk(m.dimensions)?).filter(|d| !d.is_empty()))
                .statistic(sdk::MetricStatistic::from(m.statistic.as_str()))
                .set_unit(m.unit)
                .build())
        })
        .transpose()?;
    sdk::TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(c.target_value)
        .set_predefined_metric_specification(predefined)
        .set_customized_metric_specification(customized)
        .set_scale_out_cooldown(c.scale_out_cooldown)
        .set_scale_in_cooldown(c.scale_in_cooldown)
        .set_disable_scale_in(c.disable_scale_in)
        .build()
}

/// A step scaling configuration as the SDK's.
pub(super) fn step_scaling_to_sdk(
    c: StepScalingConfiguration,
) -> Result<sdk::StepScalingPolicyConfiguration, BuildError> {
    let steps = c
        .step_adjustments
        .into_iter()
        .map(|s| {
            sdk::StepAdjustment::builder()
                .set_metric_interval_lower_bound(s.metric_interval_lower_bound)
                .set_metric_interval_upper_bound(s.metric_interval_upper_bound)
                .scaling_adjustment(s.scaling_adjustment)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(sdk::StepScalingPolicyConfiguration::builder()
        .adjustment_type(sdk::AdjustmentType::from(c.adjustment_type.as_str()))
        .set_step_adjustments(Some(steps))
        .set_min_adjustment_magnitude(c.min_adjustment_magnitude)
        .set_cooldown(c.cooldown)
        .set_metric_aggregation_type(
            c.metric_aggregation_type
                .map(|a| sdk::MetricAggregationType::from(a.as_str())),
        )
        .build())
}

fn target_tracking_from_sdk(
    c: sdk::TargetTrackingScalingPolicyConfiguration,
) -> TargetTrackingConfiguration {
    TargetTrackingConfiguration {
        target_value: c.target_value,
        predefined_metric: c.predefined_metric_specification.map(|p| PredefinedMetric {
            predefined_metric_type: p.predefined_metric_type.as_str().to_owned(),
            resource_label: p.resource_label,
        }),
        customized_metric: c.customized_metric_specification.map(|m| CustomizedMetric {
            metric_name: m.metric_name.unwrap_or_default(),
            namespace: m.namespace.unwrap_or_default(),
            dimensions: m
                .dimensions
                .unwrap_or_default()
                .into_iter()
                .map(|d| MetricDimension {
                    name: d.name,
                    value: d.value,
                })
                .collect(),
            statistic: m
                .statistic
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            unit: m.unit,
        }),
        scale_out_cooldown: c.scale_out_cooldown,
        scale_in_cooldown: c.scale_in_cooldown,
        disable_scale_in: c.disable_scale_in,
    }
}

fn step_scaling_from_sdk(c: sdk::StepScalingPolicyConfiguration) -> StepScalingConfiguration {
    StepScalingConfiguration {
        adjustment_type: c
            .adjustment_type
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default(),
        step_adjustments: c
            .step_adjustments
            .unwrap_or_default()
            .into_iter()
            .map(|s| StepAdjustment {
                metric_interval_lower_bound: s.metric_interval_lower_bound,
                metric_interval_upper_bound: s.metric_interval_upper_bound,
                scaling_adjustment: s.scaling_adjustment,
            })
            .collect(),
        min_adjustment_magnitude: c.min_adjustment_magnitude,
        cooldown: c.cooldown,
        metric_aggregation_type: c.metric_aggregation_type.map(|a| a.as_str().to_owned()),
    }
}

/// SDK alarms as the operator's.
pub(super) fn alarms_from_sdk(alarms: Option<Vec<sdk::Alarm>>) -> Vec<PolicyAlarm> {
    alarms
        .unwrap_or_default()
        .into_iter()
        .map(|a| PolicyAlarm {
            alarm_name: a.alarm_name,
            alarm_arn: a.alarm_arn,
        })
        .collect()
}

/// A described scaling policy.
pub(super) fn policy_from_sdk(p: sdk::ScalingPolicy) -> ScalingPolicy {
    let configuration = match (
        p.target_tracking_scaling_policy_configuration,
        p.step_scaling_policy_configuration,
    ) {
        (Some(tt), _) => PolicyConfiguration::TargetTracking(target_tracking_from_sdk(tt)),
        (None, Some(step)) => PolicyConfiguration::StepScaling(step_scaling_from_sdk(step)),
        (None, None) => PolicyConfiguration::Other(p.policy_type.as_str().to_owned()),
    };
    ScalingPolicy {
        policy_name: p.policy_name,
        policy_arn: p.policy_arn,
        resource_id: p.resource_id,
        configuration,
        alarms: alarms_from_sdk(p.alarms),
    }
}

/// A described scheduled action.
pub(super) fn scheduled_action_from_sdk(a: sdk::ScheduledAction) -> ScheduledAction {
    let action = a.scalable_target_action;
    ScheduledAction {
        scheduled_action_name: a.scheduled_action_name,
        scheduled_action_arn: a.scheduled_action_arn,
        resource_id: a.resource_id,
        schedule: a.schedule,
        timezone: a.timezone,
        start_time: a.start_time.as_ref().and_then(timestamp),
        end_time: a.end_time.as_ref().and_then(timestamp),
        min_capacity: action.as_ref().and_then(|t| t.min_capacity),
        max_capacity: action.as_ref().and_then(|t| t.max_capacity),
    }
}

/// A described scaling activity.
pub(super) fn activity_from_sdk(a: sdk::ScalingActivity) -> ScalingActivity {
    ScalingActivity {
        activity_id: a.activity_id,
        resource_id: a.resource_id,
        description: a.description,
        cause: a.cause,
        start_time: timestamp(&a.start_time).unwrap_or(Timestamp::UNIX_EPOCH),
        end_time: a.end_time.as_ref().and_then(timestamp),
        status_code: a.status_code.as_str().to_owned(),
        status_message: a.status_message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_tracking_survives_the_round_trip() {
        let c = TargetTrackingConfiguration {
            target_value: 70.0,
            predefined_metric: Some(PredefinedMetric {
                predefined_metric_type: "ECSServiceAverageCPUUtilization".into(),
                resource_label: None,
            }),
            customized_metric: None,
            scale_out_cooldown: Some(60),
            scale_in_cooldown: Some(300),
            disable_scale_in: Some(false),
        };
        let back = target_tracking_from_sdk(target_tracking_to_sdk(c.clone()).unwrap());
        assert_eq!(back, c);
    }

    #[test]
    fn timestamps_round_trip() {
        let t: Timestamp = "2026-03-01T08:00:00Z".parse().unwrap();
        assert_eq!(timestamp(&date_time(t)), Some(t));
    }
}
