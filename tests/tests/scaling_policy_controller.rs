//! The ScalingPolicy controller for real: kube-rs controllers against the local API server and
//! the simulated AWS account — creation, changes, scheduled actions, step policies, deletion and
//! bad input. Asserts states, counts and orderings — never wall times. Load, rollouts and
//! restarts are in `scaling_policy_rollouts.rs`.

use aws::clock::Clock;
use e2e_tests::sandbox::Sandbox;
use e2e_tests::scaling::*;
use kube::api::DeleteParams;

#[tokio::test]
async fn create_registers_the_target_and_reports_it_then_stays_quiet() {
    let sb = Sandbox::start().await;
    let ready = scaled_service(&sb, "auth", 2, 10).await;
    let id = resource_id("auth");
    let target = sb.sim.scalable_target(&id).expect("registered");
    assert_eq!((target.min_capacity, target.max_capacity), (2, 10));
    let mut names: Vec<String> = sb
        .sim
        .scaling_policies(&id)
        .into_iter()
        .map(|p| p.policy_name)
        .collect();
    names.sort();
    assert_eq!(names, ["cpu70", "memory80"]);
    let status = ready.status.unwrap();
    assert_eq!(status.scalable_target_arn, target.scalable_target_arn);
    assert_eq!(status.resource_id.as_deref(), Some(id.as_str()));
    assert_eq!(status.current_desired_count, Some(2));
    assert_eq!(status.scale_in_suspended, Some(false));
    assert_eq!(status.policies.len(), 2);
    assert!(status.policies.iter().all(|p| p.alarms.len() == 2));
    // Registered while the first deployment ran (scale-in suspended), resumed once it completed.
    assert_eq!(sb.sim.call_count("RegisterScalableTarget"), 2);
    assert_eq!(sb.sim.call_count("PutScalingPolicy"), 2);

    // Resyncs change nothing: no AWS writes, no status writes.
    sb.sim.reset_calls();
    sb.server.clear_requests();
    let reconciles = || {
        sb.metrics
            .encode()
            .lines()
            .filter(|l| {
                l.starts_with("ecs_operator_reconcile_total{") && l.contains("scalingpolicy")
            })
            .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
            .sum::<f64>()
    };
    let start = reconciles();
    sb.wait_for("two more reconciles", WAIT, || async {
        (reconciles() >= start + 2.0).then_some(())
    })
    .await;
    assert_eq!(sb.sim.autoscaling_write_calls(), 0, "{:?}", sb.sim.calls());
    let status_writes: Vec<_> = sb
        .server
        .requests()
        .into_iter()
        .filter(|r| {
            r.is_write() && r.path.contains("scalingpolicies") && r.path.ends_with("/status")
        })
        .collect();
    assert!(status_writes.is_empty(), "{status_writes:?}");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_policy_for_a_missing_service_waits_then_proceeds() {
    let sb = Sandbox::start().await;
    sb.apply(&policy_manifest("late", "late", 2, 6, ""))
        .await
        .unwrap();
    let waiting = wait_policy(&sb, "late", "WaitingForService", |o| {
        condition(o, "Reconciling").is_some_and(|(s, r, _)| s == "True" && r == "WaitingForService")
    })
    .await;
    assert!(
        condition(&waiting, "Reconciling")
            .unwrap()
            .2
            .contains("EcsService late")
    );
    assert!(!is(&waiting, "Stalled"));
    assert_eq!(sb.sim.autoscaling_write_calls(), 0);
    sb.apply(&service_manifest("late", "repo/late:1.0", 2))
        .await
        .unwrap();
    wait_policy(&sb, "late", "Ready once the service exists", |o| {
        is(o, "Ready")
    })
    .await;
    assert!(sb.sim.scalable_target(&resource_id("late")).is_some());
    sb.shutdown().await;
}

#[tokio::test]
async fn changing_min_max_and_replacing_a_policy_change_only_that() {
    let sb = Sandbox::start().await;
    scaled_service(&sb, "event", 2, 10).await;
    let id = resource_id("event");
    let cpu_arn = sb
        .sim
        .scaling_policies(&id)
        .into_iter()
        .find(|p| p.policy_name == "cpu70")
        .unwrap()
        .policy_arn;
    sb.sim.reset_calls();

    // Raising the minimum scales the service up to it at once.
    sb.apply(&policy_manifest("event", "event", 4, 12, ""))
        .await
        .unwrap();
    wait_policy(&sb, "event", "Ready with 4-12", |o| {
        is(o, "Ready") && o.status.as_ref().and_then(|s| s.min_capacity) == Some(4)
    })
    .await;
    let target = sb.sim.scalable_target(&id).unwrap();
    assert_eq!((target.min_capacity, target.max_capacity), (4, 12));
    wait_desired(&sb, "event", "desired raised to the minimum", |d| d == 4).await;
    assert_eq!(sb.sim.call_count("RegisterScalableTarget"), 1);
    assert_eq!(
        sb.sim.call_count("PutScalingPolicy"),
        0,
        "policies untouched"
    );

    // Replace the memory policy by another: one delete, one put; cpu70 is the same policy.
    sb.sim.reset_calls();
    let replaced = policy_manifest("event", "event", 4, 12, "")
        .replace("policyName: memory80", "policyName: memory75")
        .replace("targetValue: 80", "targetValue: 75");
    sb.apply(&replaced).await.unwrap();
    let ready = wait_policy(&sb, "event", "Ready with memory75", |o| {
        is(o, "Ready")
            && o.status
                .as_ref()
                .is_some_and(|s| s.policies.iter().any(|p| p.policy_name == "memory75"))
    })
    .await;
    let mut live: Vec<String> = sb
        .sim
        .scaling_policies(&id)
        .into_iter()
        .map(|p| p.policy_name)
        .collect();
    live.sort();
    assert_eq!(live, ["cpu70", "memory75"]);
    assert_eq!(sb.sim.call_count("DeleteScalingPolicy"), 1);
    assert_eq!(sb.sim.call_count("PutScalingPolicy"), 1);
    assert_eq!(sb.sim.call_count("RegisterScalableTarget"), 0);
    let status = ready.status.unwrap();
    assert_eq!(
        status
            .policies
            .iter()
            .find(|p| p.policy_name == "cpu70")
            .unwrap()
            .policy_arn,
        cpu_arn
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_scheduled_action_fires_in_simulated_time_and_is_not_fought() {
    let sb = Sandbox::start().await;
    scaled_service(&sb, "ticket", 3, 15).await;
    // Ten simulated minutes from now, as the local wall clock of the action's time zone (UTC).
    let at = (sb.clock.now() + jiff::SignedDuration::from_mins(10))
        .strftime("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let extra = format!(
        "  scheduledActions:\n    - scheduledActionName: sale\n      schedule: at({at})\n      scalableTargetAction: {{minCapacity: 6, maxCapacity: 20}}"
    );
    sb.apply(&policy_manifest("ticket", "ticket", 3, 15, &extra))
        .await
        .unwrap();
    wait_policy(&sb, "ticket", "Ready with the action", |o| {
        is(o, "Ready") && !sb.sim.scheduled_actions(&resource_id("ticket")).is_empty()
    })
    .await;
    advance(&sb, 15);
    wait_desired(&sb, "ticket", "raised to the scheduled minimum", |d| d == 6).await;
    let target = sb.sim.scalable_target(&resource_id("ticket")).unwrap();
    assert_eq!((target.min_capacity, target.max_capacity), (6, 20));
    let acts = activities(&sb, "ticket");
    assert!(
        acts.iter()
            .any(|a| a.cause.contains("scheduled action name sale")),
        "{acts:?}"
    );
    // The operator reports the schedule's range and leaves it alone.
    sb.sim.reset_calls();
    let ready = wait_policy(&sb, "ticket", "range reported", |o| {
        o.status.as_ref().and_then(|s| s.min_capacity) == Some(6)
    })
    .await;
    assert!(
        condition(&ready, "Ready")
            .unwrap()
            .2
            .contains("scheduled action")
    );
    advance(&sb, 3);
    wait_policy(&sb, "ticket", "still Ready", |o| is(o, "Ready")).await;
    assert_eq!(
        sb.sim.call_count("RegisterScalableTarget"),
        0,
        "{:?}",
        sb.sim.calls()
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn deletion_deregisters_or_retains() {
    let sb = Sandbox::start().await;
    scaled_service(&sb, "gone", 2, 6).await;
    sb.apply(&service_manifest("kept", "repo/kept:1.0", 2))
        .await
        .unwrap();
    sb.apply(&policy_manifest(
        "kept",
        "kept",
        2,
        6,
        "  deletionPolicy: Retain",
    ))
    .await
    .unwrap();
    wait_policy(&sb, "kept", "Ready", |o| is(o, "Ready")).await;
    let api = policies(&sb);
    for name in ["gone", "kept"] {
        api.delete(name, &DeleteParams::default()).await.unwrap();
        sb.wait_for("object removed", WAIT, || {
            let api = api.clone();
            async move { api.get_opt(name).await.unwrap().is_none().then_some(()) }
        })
        .await;
    }
    assert!(sb.sim.scalable_target(&resource_id("gone")).is_none());
    assert!(sb.sim.scaling_policies(&resource_id("gone")).is_empty());
    assert!(sb.sim.scalable_target(&resource_id("kept")).is_some());
    assert_eq!(sb.sim.scaling_policies(&resource_id("kept")).len(), 2);
    assert_eq!(sb.sim.call_count("DeregisterScalableTarget"), 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn bad_input_is_rejected_or_stalled_without_aws_writes() {
    let sb = Sandbox::start().await;
    // CEL: min > max.
    let err = sb
        .apply(&policy_manifest("bad", "svc", 5, 2, ""))
        .await
        .expect_err("min > max is refused");
    assert!(
        err.to_string()
            .contains("minCapacity must not exceed maxCapacity"),
        "{err}"
    );
    // Schema enum: unknown metric type.
    let err = sb
        .apply(&policy_manifest("bad", "svc", 2, 5, "").replace(
            "ECSServiceAverageMemoryUtilization",
            "ECSServiceAverageDiskUtilization",
        ))
        .await
        .expect_err("unknown metric type is refused");
    assert!(
        err.to_string().contains("ECSServiceAverageDiskUtilization"),
        "{err}"
    );

    scaled_service(&sb, "svc", 2, 5).await;
    sb.sim.reset_calls();
    // A cron the operator cannot parse: Stalled, naming the field.
    sb.apply(&policy_manifest(
        "svc",
        "svc",
        2,
        5,
        "  scheduledActions:\n    - {scheduledActionName: x, schedule: 'cron(0 8 * * *)', scalableTargetAction: {minCapacity: 3}}",
    ))
    .await
    .unwrap();
    let stalled = wait_policy(&sb, "svc", "Stalled on the cron", |o| is(o, "Stalled")).await;
    let (_, reason, message) = condition(&stalled, "Stalled").unwrap();
    assert_eq!(reason, "InvalidSpec");
    assert!(
        message.contains("spec.scheduledActions[0].schedule"),
        "{message}"
    );
    // A second ScalingPolicy for the same service.
    sb.apply(&policy_manifest("svc-again", "svc", 2, 8, ""))
        .await
        .unwrap();
    let dup = wait_policy(&sb, "svc-again", "Stalled duplicate", |o| is(o, "Stalled")).await;
    let (_, reason, message) = condition(&dup, "Stalled").unwrap();
    assert_eq!(reason, "DuplicateScalingPolicy");
    assert!(
        message.contains("spec.serviceRef.name") && message.contains("svc"),
        "{message}"
    );
    assert_eq!(sb.sim.autoscaling_write_calls(), 0, "{:?}", sb.sim.calls());
    // Deleting the duplicate leaves the first one's target alone.
    policies(&sb)
        .delete("svc-again", &DeleteParams::default())
        .await
        .unwrap();
    sb.wait_for("duplicate removed", WAIT, || async {
        policies(&sb)
            .get_opt("svc-again")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    assert!(sb.sim.scalable_target(&resource_id("svc")).is_some());
    sb.shutdown().await;
}

#[tokio::test]
async fn step_policies_scale_through_their_alarm_and_are_cleaned_up() {
    use aws::cloudwatch::CloudWatchApi;
    let sb = Sandbox::start().await;
    let step = |threshold: i32| {
        format!(
            "  stepPolicies:\n    - policyName: burst\n      adjustmentType: ChangeInCapacity\n      cooldown: 120\n      stepAdjustments: [{{metricIntervalLowerBound: 0, scalingAdjustment: 2}}]\n      alarm: {{metricName: CPUUtilization, namespace: AWS/ECS, threshold: {threshold}, comparisonOperator: GreaterThanThreshold, evaluationPeriods: 2}}"
        )
    };
    sb.apply(&service_manifest("event", "repo/event:1.0", 2))
        .await
        .unwrap();
    sb.apply(&policy_manifest("event", "event", 2, 10, &step(85)))
        .await
        .unwrap();
    wait_service_ready(&sb, "event").await;
    let alarm = "ecs-operator/default/event/burst".to_owned();
    let ready = wait_policy(&sb, "event", "Ready with the alarm's ARN", |o| {
        is(o, "Ready")
            && o.status.as_ref().is_some_and(|s| {
                s.policies.iter().any(|p| {
                    p.policy_name == "burst"
                        && p.alarms
                            .iter()
                            .any(|a| a.alarm_name == alarm && !a.alarm_arn.is_empty())
                })
            })
    })
    .await;
    let policy_arn = ready
        .status
        .unwrap()
        .policies
        .into_iter()
        .find(|p| p.policy_name == "burst")
        .unwrap()
        .policy_arn;
    let live = sb
        .sim
        .describe_alarms(std::slice::from_ref(&alarm))
        .await
        .unwrap();
    assert_eq!(live[0].alarm_actions, [policy_arn]);
    assert_eq!(sb.sim.call_count("cloudwatch:PutMetricAlarm"), 1);

    // CPU at 95 % breaches 85 %: after two datapoints the step adds 2 tasks.
    assert!(sb.sim.set_service_load(CLUSTER, "event", 95.0, 10.0));
    advance(&sb, 3);
    wait_desired(&sb, "event", "step scale-out", |d| d >= 4).await;
    assert!(
        activities(&sb, "event")
            .iter()
            .any(|a| a.cause.contains(&alarm) && a.cause.contains("burst")),
        "{:?}",
        activities(&sb, "event")
    );

    // A new threshold puts the alarm again; nothing else changes.
    sb.sim.reset_calls();
    sb.apply(&policy_manifest("event", "event", 2, 10, &step(90)))
        .await
        .unwrap();
    wait_policy(&sb, "event", "Ready after the threshold change", |o| {
        is(o, "Ready")
    })
    .await;
    assert_eq!(sb.sim.call_count("cloudwatch:PutMetricAlarm"), 1);
    assert_eq!(sb.sim.call_count("PutScalingPolicy"), 0);

    // Deletion removes the alarm and the target.
    policies(&sb)
        .delete("event", &DeleteParams::default())
        .await
        .unwrap();
    sb.wait_for("object removed", WAIT, || async {
        policies(&sb)
            .get_opt("event")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    assert!(sb.sim.describe_alarms(&[alarm]).await.unwrap().is_empty());
    assert!(sb.sim.scalable_target(&resource_id("event")).is_none());
    sb.shutdown().await;
}
