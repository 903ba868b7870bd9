//! Tests of the simulated Application Auto Scaling: the API's answers and errors, and the
//! autoscaler over simulated time (datapoints, cooldowns, min/max, disableScaleIn, suspended
//! states, scheduled actions in a time zone, step policies and their alarms), on a frozen clock
//! moved by hand.

use crate::SimAws;
use crate::tests::{CLUSTER, advance, completed, create, peek, run_until, sim};
use aws::ErrorKind;
use aws::autoscaling::{
    AutoScalingApi, PolicyConfiguration, PredefinedMetric, PutScalingPolicyInput,
    RegisterScalableTargetInput, ScheduledAction, StepAdjustment, StepScalingConfiguration,
    SuspendedState, TargetTrackingConfiguration,
};
use aws::cloudwatch::{CloudWatchApi, Dimension, PutMetricAlarmInput};

const ID: &str = "service/event-booking/auth";

fn cpu(target: f64, disable_scale_in: bool) -> PutScalingPolicyInput {
    PutScalingPolicyInput {
        policy_name: "cpu".into(),
        resource_id: ID.into(),
        configuration: PolicyConfiguration::TargetTracking(TargetTrackingConfiguration {
            target_value: target,
            predefined_metric: Some(PredefinedMetric {
                predefined_metric_type: "ECSServiceAverageCPUUtilization".into(),
                resource_label: None,
            }),
            customized_metric: None,
            scale_out_cooldown: Some(60),
            scale_in_cooldown: Some(300),
            disable_scale_in: Some(disable_scale_in),
        }),
    }
}

async fn scaled(min: i32, max: i32) -> SimAws {
    let sim = sim();
    create(&sim, "auth", "repo/auth:1", 2);
    run_until(&sim, "auth", 300, completed);
    sim.register_scalable_target(RegisterScalableTargetInput {
        resource_id: ID.into(),
        min_capacity: Some(min),
        max_capacity: Some(max),
        ..RegisterScalableTargetInput::default()
    })
    .await
    .unwrap();
    sim
}

fn desired(sim: &SimAws) -> i32 {
    peek(sim, "auth").desired_count
}

fn minutes(sim: &SimAws, n: u64) {
    for _ in 0..n {
        advance(sim, 60);
        let _ = peek(sim, "auth");
    }
}

#[tokio::test]
async fn the_api_answers_like_aws() {
    let sim = sim();
    let err = sim
        .register_scalable_target(RegisterScalableTargetInput {
            resource_id: ID.into(),
            min_capacity: Some(1),
            max_capacity: Some(2),
            ..RegisterScalableTargetInput::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.kind),
        ("ValidationException", ErrorKind::InvalidRequest)
    );
    let err = sim.put_scaling_policy(cpu(70.0, false)).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let ids: Vec<String> = (0..51).map(|i| format!("service/c/s{i}")).collect();
    assert_eq!(
        sim.describe_scalable_targets(&ids).await.unwrap_err().kind,
        ErrorKind::InvalidRequest
    );

    let sim = scaled(2, 10).await;
    let out = sim.put_scaling_policy(cpu(70.0, false)).await.unwrap();
    assert_eq!(
        out.alarms.len(),
        2,
        "target tracking creates AlarmHigh and AlarmLow"
    );
    let again = sim.put_scaling_policy(cpu(60.0, false)).await.unwrap();
    assert_eq!(again.policy_arn, out.policy_arn, "a put replaces in place");
    let err = sim
        .register_scalable_target(RegisterScalableTargetInput {
            resource_id: ID.into(),
            min_capacity: Some(5),
            max_capacity: Some(3),
            ..RegisterScalableTargetInput::default()
        })
        .await
        .unwrap_err();
    assert!(err.message.contains("cannot be greater"), "{err}");
    sim.deregister_scalable_target(ID).await.unwrap();
    assert!(
        sim.describe_scalable_targets(&[ID.into()])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(sim.describe_scaling_policies(ID).await.unwrap().is_empty());
    assert_eq!(
        sim.call_count("application-autoscaling:PutScalingPolicy"),
        2
    );
    assert_eq!(sim.autoscaling_write_calls(), 5);
}

#[tokio::test]
async fn raising_the_minimum_scales_at_once() {
    let sim = scaled(2, 10).await;
    sim.register_scalable_target(RegisterScalableTargetInput {
        resource_id: ID.into(),
        min_capacity: Some(4),
        ..RegisterScalableTargetInput::default()
    })
    .await
    .unwrap();
    assert_eq!(desired(&sim), 4);
    let acts = sim.describe_scaling_activities(ID, 5).await.unwrap();
    assert_eq!(acts[0].description, "Setting desired count to 4.");
}

#[tokio::test]
async fn target_tracking_scales_out_after_three_datapoints_within_cooldowns_and_max() {
    let sim = scaled(2, 6).await;
    sim.put_scaling_policy(cpu(70.0, false)).await.unwrap();
    assert!(sim.set_service_load(CLUSTER, "auth", 250.0, 10.0));
    minutes(&sim, 2);
    assert_eq!(desired(&sim), 2, "two datapoints are not enough");
    minutes(&sim, 1);
    assert_eq!(desired(&sim), 3, "ceil(2 × 100 / 70)");
    minutes(&sim, 10);
    assert_eq!(desired(&sim), 6, "capped at max");
    let acts = sim.describe_scaling_activities(ID, 50).await.unwrap();
    let times: Vec<i64> = acts
        .iter()
        .rev()
        .map(|a| a.start_time.as_second())
        .collect();
    assert!(times.windows(2).all(|w| w[1] - w[0] >= 60), "{times:?}");
}

#[tokio::test]
async fn scale_in_needs_fifteen_low_datapoints_and_is_blocked_by_disable_or_suspension() {
    let sim = scaled(2, 10).await;
    sim.register_scalable_target(RegisterScalableTargetInput {
        resource_id: ID.into(),
        min_capacity: Some(6),
        ..RegisterScalableTargetInput::default()
    })
    .await
    .unwrap();
    run_until(&sim, "auth", 300, |s| s.running_count == 6);
    sim.register_scalable_target(RegisterScalableTargetInput {
        resource_id: ID.into(),
        min_capacity: Some(1),
        suspended_state: Some(SuspendedState {
            dynamic_scaling_in_suspended: true,
            ..SuspendedState::default()
        }),
        ..RegisterScalableTargetInput::default()
    })
    .await
    .unwrap();
    sim.put_scaling_policy(cpu(70.0, false)).await.unwrap();
    assert!(sim.set_service_load(CLUSTER, "auth", 20.0, 20.0));
    minutes(&sim, 30);
    assert_eq!(desired(&sim), 6, "scale-in suspended");
    // A put starts the policy's alarms afresh.
    sim.put_scaling_policy(cpu(70.0, true)).await.unwrap();
    sim.register_scalable_target(RegisterScalableTargetInput {
        resource_id: ID.into(),
        suspended_state: Some(SuspendedState::default()),
        ..RegisterScalableTargetInput::default()
    })
    .await
    .unwrap();
    minutes(&sim, 30);
    assert_eq!(desired(&sim), 6, "disableScaleIn");
    sim.put_scaling_policy(cpu(70.0, false)).await.unwrap();
    minutes(&sim, 14);
    assert_eq!(desired(&sim), 6, "fourteen datapoints are not enough");
    minutes(&sim, 1);
    assert_eq!(desired(&sim), 2, "ceil(6 × 20 / 70)");
}

#[tokio::test]
async fn a_service_without_load_reports_no_data_and_is_left_alone() {
    let sim = scaled(1, 10).await;
    sim.put_scaling_policy(cpu(70.0, false)).await.unwrap();
    minutes(&sim, 60);
    assert_eq!(desired(&sim), 2);
    assert!(
        sim.describe_scaling_activities(ID, 5)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn scheduled_actions_fire_in_their_time_zone_and_can_be_suspended() {
    // The frozen clock starts at 2026-03-02T09:00:00Z (10:00 in Berlin).
    let sim = scaled(2, 10).await;
    sim.put_scheduled_action(ScheduledAction {
        scheduled_action_name: "lunch".into(),
        resource_id: ID.into(),
        schedule: "cron(30 11 * * ? *)".into(),
        timezone: Some("Europe/Berlin".into()),
        min_capacity: Some(5),
        max_capacity: Some(12),
        ..ScheduledAction::default()
    })
    .await
    .unwrap();
    minutes(&sim, 89);
    assert_eq!(desired(&sim), 2, "not yet 11:30 in Berlin");
    minutes(&sim, 1);
    assert_eq!(desired(&sim), 5);
    let target = sim.scalable_target(ID).unwrap();
    assert_eq!((target.min_capacity, target.max_capacity), (5, 12));
    let acts = sim.describe_scaling_activities(ID, 2).await.unwrap();
    assert_eq!(
        acts[1].description,
        "Setting min capacity to 5 and max capacity to 12"
    );
    assert!(acts[1].cause.contains("lunch"));

    // Suspended scheduled scaling: the next day's run changes nothing.
    sim.register_scalable_target(RegisterScalableTargetInput {
        resource_id: ID.into(),
        min_capacity: Some(2),
        max_capacity: Some(10),
        suspended_state: Some(SuspendedState {
            scheduled_scaling_suspended: true,
            ..SuspendedState::default()
        }),
        ..RegisterScalableTargetInput::default()
    })
    .await
    .unwrap();
    minutes(&sim, 24 * 60);
    assert_eq!(sim.scalable_target(ID).unwrap().min_capacity, 2);
    let scheduled = sim.describe_scheduled_actions(ID).await.unwrap();
    assert!(
        scheduled[0]
            .scheduled_action_arn
            .contains("scheduledActionName/lunch")
    );
}

fn step_policy() -> PutScalingPolicyInput {
    PutScalingPolicyInput {
        policy_name: "burst".into(),
        resource_id: ID.into(),
        configuration: PolicyConfiguration::StepScaling(StepScalingConfiguration {
            adjustment_type: "ChangeInCapacity".into(),
            step_adjustments: vec![
                StepAdjustment {
                    metric_interval_lower_bound: Some(0.0),
                    metric_interval_upper_bound: Some(10.0),
                    scaling_adjustment: 1,
                },
                StepAdjustment {
                    metric_interval_lower_bound: Some(10.0),
                    metric_interval_upper_bound: None,
                    scaling_adjustment: 3,
                },
            ],
            min_adjustment_magnitude: None,
            cooldown: Some(120),
            metric_aggregation_type: Some("Average".into()),
        }),
    }
}

fn alarm(name: &str, namespace: &str, policy_arn: &str) -> PutMetricAlarmInput {
    let dim = |name: &str, value: &str| Dimension {
        name: name.into(),
        value: value.into(),
    };
    PutMetricAlarmInput {
        alarm_name: name.into(),
        metric_name: "CPUUtilization".into(),
        namespace: namespace.into(),
        statistic: "Average".into(),
        dimensions: vec![dim("ClusterName", CLUSTER), dim("ServiceName", "auth")],
        period: 60,
        evaluation_periods: 2,
        threshold: 80.0,
        comparison_operator: "GreaterThanThreshold".into(),
        alarm_actions: vec![policy_arn.into()],
        tags: vec![],
    }
}

#[tokio::test]
async fn step_policies_follow_their_alarm_on_the_service_metric() {
    let sim = scaled(2, 10).await;
    let arn = sim
        .put_scaling_policy(step_policy())
        .await
        .unwrap()
        .policy_arn;
    sim.put_metric_alarm(alarm("burst-high", "AWS/ECS", &arn))
        .await
        .unwrap();
    let described = sim.describe_scaling_policies(ID).await.unwrap();
    assert_eq!(described[0].alarms[0].alarm_name, "burst-high");

    // 95 % is 15 above the threshold: +3 after two breaching datapoints.
    assert!(sim.set_service_load(CLUSTER, "auth", 95.0, 10.0));
    minutes(&sim, 1);
    assert_eq!(desired(&sim), 2);
    minutes(&sim, 1);
    assert_eq!(desired(&sim), 5);
    // 95 % of 2 tasks spread over 5 is 38 %: the alarm goes back to OK.
    minutes(&sim, 10);
    assert_eq!(desired(&sim), 5);
    let state = sim.describe_alarms(&["burst-high".into()]).await.unwrap();
    assert_eq!(state[0].state_value, "OK");

    // An alarm on a metric the simulator does not know follows its hand-set state.
    sim.put_metric_alarm(alarm("queue-deep", "EventBooking", &arn))
        .await
        .unwrap();
    assert!(sim.set_alarm_state("queue-deep", "ALARM"));
    minutes(&sim, 1);
    assert_eq!(desired(&sim), 6, "the step holding the threshold: +1");
    minutes(&sim, 1);
    assert_eq!(desired(&sim), 6, "cooldown 120 s");
    minutes(&sim, 1);
    assert_eq!(desired(&sim), 7);
    let acts = sim.describe_scaling_activities(ID, 1).await.unwrap();
    assert!(acts[0].cause.contains("queue-deep") && acts[0].cause.contains("burst"));
}
