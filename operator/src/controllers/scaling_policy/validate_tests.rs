//! Validation of ScalingPolicy specs: good specs render with AWS defaults; every bad field is
//! named in the error.

use super::*;

fn object(spec: &str) -> ScalingPolicy {
    let yaml = format!(
        "apiVersion: ecs-operator.dev/v1alpha1\nkind: ScalingPolicy\nmetadata: {{name: auth, namespace: shop}}\nspec:\n{spec}"
    );
    serde_saphyr::from_str(&yaml).expect("fixture parses")
}

const BASE: &str = r#"
  serviceRef: {name: auth}
  minCapacity: 2
  maxCapacity: 10
  targetTrackingPolicies:
    - policyName: cpu
      targetValue: 70
      predefinedMetricSpecification: {predefinedMetricType: ECSServiceAverageCPUUtilization}
"#;

const STEP: &str = r#"  stepPolicies:
    - policyName: burst
      adjustmentType: ChangeInCapacity
      stepAdjustments:
        - {metricIntervalLowerBound: 0, metricIntervalUpperBound: 10, scalingAdjustment: 1}
        - {metricIntervalLowerBound: 10, scalingAdjustment: 3}
      alarm: {metricName: CPUUtilization, namespace: AWS/ECS, threshold: 85, comparisonOperator: GreaterThanOrEqualToThreshold}
"#;

const SCHEDULED: &str = r#"  scheduledActions:
    - scheduledActionName: business-hours
      schedule: cron(0 8 ? * MON-FRI *)
      timezone: Europe/Berlin
      startTime: "2026-01-01T00:00:00Z"
      scalableTargetAction: {minCapacity: 4, maxCapacity: 15}
"#;

#[test]
fn a_good_spec_gets_aws_defaults() {
    let v = validate(&object(&format!("{BASE}{STEP}{SCHEDULED}"))).unwrap();
    assert_eq!(v.owner, "shop/auth");
    assert!(v.suspend_scale_in_during_rollout, "default true");
    let PolicyConfiguration::TargetTracking(tt) = &v.policies[0].configuration else {
        panic!()
    };
    assert_eq!(tt.scale_out_cooldown, Some(DEFAULT_COOLDOWN));
    assert_eq!(tt.disable_scale_in, Some(false));
    assert_eq!(
        tt.predefined_metric
            .as_ref()
            .unwrap()
            .predefined_metric_type,
        "ECSServiceAverageCPUUtilization"
    );
    let PolicyConfiguration::StepScaling(step) = &v.policies[1].configuration else {
        panic!()
    };
    assert_eq!(step.adjustment_type, "ChangeInCapacity");
    assert_eq!(step.metric_aggregation_type.as_deref(), Some("Average"));
    assert!(v.policies[1].alarm.is_some());
    let a = &v.scheduled_actions[0];
    assert_eq!(a.schedule, "cron(0 8 ? * MON-FRI *)");
    assert_eq!(a.start_time.unwrap().to_string(), "2026-01-01T00:00:00Z");
}

#[test]
fn bad_specs_name_the_field() {
    let cases = [
        (
            BASE.replace("minCapacity: 2", "minCapacity: 12"),
            "spec.minCapacity",
        ),
        (
            BASE.replace("targetValue: 70", "targetValue: 170"),
            "spec.targetTrackingPolicies[0].targetValue",
        ),
        (
            BASE.replace("targetValue: 70", "targetValue: 0"),
            "spec.targetTrackingPolicies[0].targetValue",
        ),
        (
            BASE.replace(
                "ECSServiceAverageCPUUtilization}",
                "ALBRequestCountPerTarget}",
            ),
            "spec.targetTrackingPolicies[0].predefinedMetricSpecification.resourceLabel",
        ),
        (
            BASE.replace(
                "ECSServiceAverageCPUUtilization}",
                "ALBRequestCountPerTarget, resourceLabel: my-alb}",
            ),
            "spec.targetTrackingPolicies[0].predefinedMetricSpecification.resourceLabel",
        ),
        (
            format!("{BASE}{}", STEP.replace("burst", "cpu")),
            "spec.stepPolicies[0].policyName",
        ),
        (
            format!(
                "{BASE}{}",
                STEP.replace(
                    "metricIntervalLowerBound: 10",
                    "metricIntervalLowerBound: 12"
                )
            ),
            "spec.stepPolicies[0].stepAdjustments",
        ),
        (
            format!("{BASE}{}", STEP.replace("UpperBound: 10", "UpperBound: -1")),
            "spec.stepPolicies[0].stepAdjustments[0]",
        ),
        (
            format!(
                "{BASE}{}",
                STEP.replace("threshold: 85", "threshold: 85, period: 45")
            ),
            "spec.stepPolicies[0].alarm.period",
        ),
        (
            format!(
                "{BASE}{}",
                STEP.replace(
                    "adjustmentType: ChangeInCapacity",
                    "adjustmentType: ChangeInCapacity\n      minAdjustmentMagnitude: 2"
                )
            ),
            "spec.stepPolicies[0].minAdjustmentMagnitude",
        ),
        (
            format!(
                "{BASE}{}",
                SCHEDULED.replace("cron(0 8 ? * MON-FRI *)", "cron(0 8 * * MON-FRI *)")
            ),
            "spec.scheduledActions[0].schedule",
        ),
        (
            format!(
                "{BASE}{}",
                SCHEDULED.replace("cron(0 8 ? * MON-FRI *)", "cron(0 25 ? * MON-FRI *)")
            ),
            "spec.scheduledActions[0].schedule",
        ),
        (
            format!(
                "{BASE}{}",
                SCHEDULED.replace("\"2026-01-01T00:00:00Z\"", "tomorrow")
            ),
            "spec.scheduledActions[0].startTime",
        ),
        (
            format!(
                "{BASE}{}",
                SCHEDULED.replace(
                    "minCapacity: 4, maxCapacity: 15",
                    "minCapacity: 16, maxCapacity: 15"
                )
            ),
            "spec.scheduledActions[0].scalableTargetAction.minCapacity",
        ),
        (
            format!(
                "{BASE}{SCHEDULED}{}",
                SCHEDULED.replace("  scheduledActions:\n", "")
            ),
            "spec.scheduledActions[1].scheduledActionName",
        ),
    ];
    for (spec, field) in cases {
        let err = validate(&object(&spec)).expect_err(field);
        assert_eq!(err.field, field, "{err}");
    }
}

#[test]
fn unknown_time_zones_are_named() {
    if !schedule::can_check_time_zones() {
        return;
    }
    let spec = format!(
        "{BASE}{}",
        SCHEDULED.replace("Europe/Berlin", "Mars/Olympus")
    );
    let err = validate(&object(&spec)).unwrap_err();
    assert_eq!(err.field, "spec.scheduledActions[0].timezone");
}

#[test]
fn end_before_start_is_refused() {
    let spec = format!(
        "{BASE}{}",
        SCHEDULED.replace(
            "startTime: \"2026-01-01T00:00:00Z\"",
            "startTime: \"2026-01-01T00:00:00Z\"\n      endTime: \"2025-01-01T00:00:00Z\""
        )
    );
    assert_eq!(
        validate(&object(&spec)).unwrap_err().field,
        "spec.scheduledActions[0].endTime"
    );
}

#[test]
fn unknown_metric_types_do_not_even_parse() {
    let spec = BASE.replace(
        "ECSServiceAverageCPUUtilization",
        "ECSServiceAverageDiskUtilization",
    );
    let yaml = format!(
        "apiVersion: ecs-operator.dev/v1alpha1\nkind: ScalingPolicy\nmetadata: {{name: a}}\nspec:\n{spec}"
    );
    assert!(serde_saphyr::from_str::<ScalingPolicy>(&yaml).is_err());
}
