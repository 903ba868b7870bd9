//! The ScalingPolicy controller with the simulated autoscaler at work: load scales a service out
//! within cooldowns and back in, the EcsService controller never resets the autoscaled count,
//! scale-in is suspended during a rollout and resumed afterwards — also when the operator
//! restarts mid-rollout. Asserts states, counts and orderings (simulated-time spacing of scaling
//! activities included) — never wall times.

use e2e_tests::sandbox::Sandbox;
use e2e_tests::scaling::*;
use kube::api::{Patch, PatchParams};

#[tokio::test]
async fn load_scales_out_within_cooldowns_then_in_and_resyncs_keep_the_count() {
    let sb = Sandbox::start().await;
    scaled_service(&sb, "payment", 2, 10).await;
    let settled = scale_out(&sb, "payment").await;
    let acts = activities(&sb, "payment");
    let counts = desired_counts(&acts);
    assert!(
        counts.windows(2).all(|w| w[0] < w[1]),
        "only scale-outs: {counts:?}"
    );
    assert!(counts.len() >= 2, "several steps: {counts:?}");
    for pair in acts.windows(2) {
        let gap = pair[1].start_time.as_second() - pair[0].start_time.as_second();
        assert!(gap >= 60, "scale-out cooldown respected: {acts:?}");
    }
    assert!(
        acts.iter()
            .all(|a| a.cause.contains("AlarmHigh") && a.cause.contains("cpu70"))
    );

    // The status follows the autoscaler.
    wait_policy(&sb, "payment", "desired count in status", |o| {
        o.status.as_ref().and_then(|s| s.current_desired_count) == Some(settled)
    })
    .await;

    // The EcsService is reconciled (and even its desiredCount changed): the count stays.
    let updates = sb.sim.call_count("ecs:UpdateService");
    sb.apply(&service_manifest("payment", "repo/payment:1.0", 3))
        .await
        .unwrap();
    wait_service_ready(&sb, "payment").await;
    let api = services(&sb);
    api.patch(
        "payment",
        &PatchParams::apply("nudge"),
        &Patch::Apply(serde_json::json!({
            "apiVersion": "ecs-operator.dev/v1alpha1", "kind": "EcsService",
            "metadata": {"name": "payment", "annotations": {"nudge": "1"}}
        })),
    )
    .await
    .unwrap();
    wait_service_ready(&sb, "payment").await;
    assert_eq!(
        sb.sim.service(CLUSTER, "payment").unwrap().desired_count,
        settled
    );
    assert_eq!(
        sb.sim.call_count("ecs:UpdateService"),
        updates,
        "the EcsService controller never resets an autoscaled count"
    );

    // Load drops: after 15 low minutes the service scales in, once, to what the load needs.
    assert!(sb.sim.set_service_load(CLUSTER, "payment", 10.0, 10.0));
    advance(&sb, 20);
    let low = wait_desired(&sb, "payment", "scale-in", |d| d < settled).await;
    assert_eq!(low, 2, "10 % of 8 tasks fits the minimum");
    let counts = desired_counts(&activities(&sb, "payment"));
    assert_eq!(counts.last(), Some(&2));
    sb.shutdown().await;
}

/// Scale out, then deploy a revision that never becomes healthy: the deployment stays in
/// progress until the spec is fixed.
async fn stuck_rollout(sb: &Sandbox, name: &str) -> i32 {
    scaled_service(sb, name, 2, 10).await;
    let live = scale_out(sb, name).await;
    sb.apply(&service_manifest(
        name,
        &format!("repo/{name}:2.0-unhealthy"),
        2,
    ))
    .await
    .unwrap();
    sb.wait_for("scale-in suspended", WAIT, || async {
        (suspended(sb, name) == Some(true)).then_some(())
    })
    .await;
    let svc = sb.sim.service(CLUSTER, name).unwrap();
    let primary = svc.primary_deployment().unwrap();
    assert_eq!(
        (svc.desired_count, primary.desired_count),
        (live, live),
        "the new revision starts at the live count, not the spec's 2"
    );
    live
}

#[tokio::test]
async fn scale_in_is_suspended_during_a_rollout_and_resumed_after() {
    let sb = Sandbox::start().await;
    let live = stuck_rollout(&sb, "notification").await;
    wait_policy(&sb, "notification", "ScaleInSuspended", |o| {
        condition(o, "Ready").is_some_and(|(s, r, _)| s == "True" && r == "ScaleInSuspended")
    })
    .await;
    // Load drops while deploying: no scale-in however long it lasts.
    assert!(sb.sim.set_service_load(CLUSTER, "notification", 10.0, 10.0));
    advance(&sb, 40);
    assert_eq!(suspended(&sb, "notification"), Some(true));
    assert_eq!(
        sb.sim
            .service(CLUSTER, "notification")
            .unwrap()
            .desired_count,
        live
    );

    // Fixed: the deployment completes, scale-in resumes, the service scales in.
    sb.apply(&service_manifest(
        "notification",
        "repo/notification:2.1",
        2,
    ))
    .await
    .unwrap();
    sb.wait_for("scale-in resumed", WAIT, || async {
        (suspended(&sb, "notification") == Some(false)).then_some(())
    })
    .await;
    advance(&sb, 20);
    wait_desired(&sb, "notification", "scale-in after the rollout", |d| {
        d == 2
    })
    .await;
    sb.shutdown().await;
}

#[tokio::test]
async fn scale_in_is_resumed_when_the_operator_restarts_mid_rollout() {
    let mut sb = Sandbox::start().await;
    stuck_rollout(&sb, "auth").await;
    sb.kill_operator().await;
    sb.apply(&service_manifest("auth", "repo/auth:2.1", 2))
        .await
        .unwrap();
    assert_eq!(
        suspended(&sb, "auth"),
        Some(true),
        "the operator died with scale-in suspended"
    );
    sb.start_operator();
    sb.wait_for("scale-in resumed by the new operator", WAIT, || async {
        (suspended(&sb, "auth") == Some(false)).then_some(())
    })
    .await;
    let svc = sb.sim.service(CLUSTER, "auth").unwrap();
    assert_eq!(
        svc.deployments.len(),
        1,
        "resumed only once the rollout ended"
    );
    assert!(
        svc.task_definition
            .as_deref()
            .is_some_and(|t| t.ends_with(":3"))
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn scale_in_is_suspended_while_a_blue_green_release_waits_for_promotion() {
    use crds::rollout::RolloutPhase;
    use e2e_tests::rollouts;
    let sb = Sandbox::start().await;
    let manual = "  autoPromotionEnabled: false\n";
    sb.apply(&rollouts::ecs_native_rollout(
        &sb.sim,
        "event",
        "BLUE_GREEN",
        manual,
    ))
    .await
    .unwrap();
    sb.apply(&rollouts::service_manifest(
        &sb.sim,
        "event",
        "repo/event:1",
    ))
    .await
    .unwrap();
    sb.apply(&policy_manifest("event", "event", 2, 10, ""))
        .await
        .unwrap();
    rollouts::wait_healthy_on(&sb, "event", ":1").await;
    wait_policy(&sb, "event", "scale-in active", |o| {
        is(o, "Ready") && o.status.as_ref().and_then(|s| s.scale_in_suspended) == Some(false)
    })
    .await;

    sb.apply(&rollouts::service_manifest(
        &sb.sim,
        "event",
        "repo/event:2",
    ))
    .await
    .unwrap();
    rollouts::wait_rollout(&sb, "event", "Paused", |r| {
        rollouts::phase(r) == Some(RolloutPhase::Paused)
    })
    .await;
    sb.wait_for("scale-in suspended while paused", WAIT, || async {
        (suspended(&sb, "event") == Some(true)).then_some(())
    })
    .await;
    rollouts::request(&sb, "event", "promote").await;
    rollouts::wait_healthy_on(&sb, "event", ":2").await;
    sb.wait_for("scale-in resumed after the release", WAIT, || async {
        (suspended(&sb, "event") == Some(false)).then_some(())
    })
    .await;
    sb.shutdown().await;
}
