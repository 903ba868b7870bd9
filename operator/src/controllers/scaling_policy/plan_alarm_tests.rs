//! Plan tests of step policies' alarms: created pointing at their policy, left alone in sync,
//! put again when changed or pointed elsewhere, deleted before their policy.

use super::*;

const STEP: &str = "  stepPolicies:\n    - policyName: burst\n      adjustmentType: ChangeInCapacity\n      stepAdjustments: [{metricIntervalLowerBound: 0, scalingAdjustment: 2}]\n      alarm: {metricName: CPUUtilization, namespace: AWS/ECS, threshold: 90, comparisonOperator: GreaterThanThreshold}";

/// In sync, with the step policy's alarm in AWS and its hash in the status.
fn with_alarm(s: &ValidatedSpec) -> (ScalingPolicyStatus, Observed) {
    let mut observed = in_sync(s);
    let target = observed.target.clone().unwrap();
    let p = s.policies.iter().find(|p| p.alarm.is_some()).unwrap();
    let input = alarms::alarm_input(&s.owner, &p.name, p.alarm.as_ref().unwrap(), &target);
    observed.alarms = vec![aws::cloudwatch::MetricAlarm {
        alarm_name: input.alarm_name.clone(),
        alarm_arn: "arn:alarm:burst".into(),
        state_value: "OK".into(),
        state_reason: None,
        alarm_actions: vec![format!("arn:policy/{}", p.name)],
    }];
    let mut status = owned_status(s);
    status.policies = vec![crds::scaling::PolicyStatus {
        policy_name: p.name.clone(),
        policy_arn: format!("arn:policy/{}", p.name),
        alarms: vec![AlarmStatus {
            alarm_name: input.alarm_name.clone(),
            alarm_arn: "arn:alarm:burst".into(),
            spec_hash: Some(alarms::spec_hash(&input)),
        }],
    }];
    (status, observed)
}

#[test]
fn a_step_policy_gets_an_alarm_pointing_at_it() {
    let s = spec(STEP);
    // A new step policy: put the policy, then its alarm with the ARN the put answers.
    let mut observed = in_sync(&s);
    observed.policies.retain(|p| p.policy_name != "burst");
    let p = plan(&s, &owned_status(&s), &observed);
    assert_eq!(names(&p), ["PutScalingPolicy", "PutMetricAlarm"]);
    let Step::PutAlarm {
        input,
        policy_name,
        policy_arn,
    } = &p.steps[1]
    else {
        panic!()
    };
    assert_eq!((policy_name.as_str(), policy_arn), ("burst", &None));
    assert_eq!(input.alarm_name, "ecs-operator/shop/auth/burst");
    let dims: Vec<(&str, &str)> = input
        .dimensions
        .iter()
        .map(|d| (d.name.as_str(), d.value.as_str()))
        .collect();
    assert_eq!(
        dims,
        [("ClusterName", "event-booking"), ("ServiceName", "auth")]
    );
    assert_eq!((input.period, input.evaluation_periods), (60, 1));
    assert_eq!(input.comparison_operator, "GreaterThanThreshold");
    // The policy exists but its alarm does not: the alarm alone, with the known ARN.
    let p = plan(&s, &owned_status(&s), &in_sync(&s));
    assert_eq!(names(&p), ["PutMetricAlarm"]);
    let Step::PutAlarm { policy_arn, .. } = &p.steps[0] else {
        panic!()
    };
    assert_eq!(policy_arn.as_deref(), Some("arn:policy/burst"));
}

#[test]
fn step_alarms_in_sync_are_left_alone_and_changed_ones_put_again() {
    let s = spec(STEP);
    let (status, observed) = with_alarm(&s);
    let p = plan(&s, &status, &observed);
    assert!(p.steps.is_empty(), "{:?}", p.steps);
    assert_eq!(p.report.step_alarms[0].1.alarm_arn, "arn:alarm:burst");
    let raised = spec(&STEP.replace("threshold: 90", "threshold: 95"));
    assert_eq!(
        names(&plan(&raised, &status, &observed)),
        ["PutMetricAlarm"]
    );
    // Pointed at something else (edited by hand): put again.
    let mut hijacked = observed.clone();
    hijacked.alarms[0].alarm_actions = vec!["arn:elsewhere".into()];
    assert_eq!(names(&plan(&s, &status, &hijacked)), ["PutMetricAlarm"]);
}

#[test]
fn a_removed_step_policy_loses_its_alarm_first() {
    let s = spec(STEP);
    let (status, observed) = with_alarm(&s);
    let without = spec("");
    let p = plan(&without, &status, &observed);
    assert_eq!(names(&p), ["DeleteAlarms", "DeleteScalingPolicy"]);
    let Step::DeleteAlarms(names) = &p.steps[0] else {
        panic!()
    };
    assert_eq!(names, &["ecs-operator/shop/auth/burst".to_owned()]);
    assert_eq!(
        alarms::candidates(&without, &status),
        ["ecs-operator/shop/auth/burst".to_owned()],
        "the status remembers alarms to clean up"
    );
}

#[test]
fn normalise_orders_steps_and_fills_defaults() {
    let s = spec(
        "  stepPolicies:\n    - policyName: burst\n      adjustmentType: ChangeInCapacity\n      stepAdjustments: [{metricIntervalLowerBound: 10, scalingAdjustment: 3}, {metricIntervalLowerBound: 0, metricIntervalUpperBound: 10, scalingAdjustment: 1}]\n      alarm: {metricName: CPUUtilization, namespace: AWS/ECS, threshold: 90, comparisonOperator: GreaterThanThreshold}",
    );
    let (status, mut observed) = with_alarm(&s);
    if let PolicyConfiguration::StepScaling(c) = &mut observed.policies[2].configuration {
        c.step_adjustments.reverse();
        c.cooldown = None;
        c.metric_aggregation_type = None;
    }
    let p = plan(&s, &status, &observed);
    assert!(p.steps.is_empty(), "{:?}", p.steps);
}
