//! The EcsService controller for real: kube-rs controllers against the local API server and
//! the simulated AWS account. Asserts states, counts and orderings — never times.

use std::time::Duration;

use aws::AwsError;
use aws::ErrorKind;
use aws::clock::Clock;
use aws::ecs::Tag;
use aws_sim::SimFault;
use e2e_tests::sandbox::Sandbox;
use e2e_tests::services::{WAIT, api, condition, is, manifest, tracked, wait_until};
use kube::api::{DeleteParams, Patch, PatchParams};

#[tokio::test]
async fn created_service_is_ready_only_after_its_deployment_completes() {
    let sb = Sandbox::start().await;
    sb.apply(&manifest("auth", "repo/auth:1.0", ""))
        .await
        .unwrap();
    let progressing = wait_until(&sb, "auth", "deployment in progress", |o| {
        condition(o, "Reconciling")
            .is_some_and(|(s, r, _)| s == "True" && r == "DeploymentInProgress")
    })
    .await;
    assert!(!is(&progressing, "Ready"));
    let ready = wait_until(&sb, "auth", "Ready", |o| is(o, "Ready")).await;
    let svc = sb
        .sim
        .service("event-booking", "auth")
        .expect("service exists in AWS");
    let primary = svc.primary_deployment().unwrap();
    assert_eq!(
        primary.rollout_state.as_ref().map(|s| s.as_str()),
        Some("COMPLETED")
    );
    let status = ready.status.unwrap();
    assert_eq!(
        status.task_definition_arn,
        primary.task_definition.clone().into()
    );
    assert_eq!(
        status.last_good_task_definition_arn,
        status.task_definition_arn
    );
    assert_eq!(status.running_count, Some(2));
    assert_eq!(sb.sim.call_count("ecs:RegisterTaskDefinition"), 1);
    assert_eq!(sb.sim.call_count("ecs:CreateService"), 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn image_change_rolls_out_a_new_revision_and_an_identical_spec_writes_nothing() {
    let sb = Sandbox::start().await;
    sb.apply(&manifest("event", "repo/event:1.0", ""))
        .await
        .unwrap();
    wait_until(&sb, "event", "Ready", |o| is(o, "Ready")).await;

    sb.apply(&manifest("event", "repo/event:1.1", ""))
        .await
        .unwrap();
    let ready = wait_until(&sb, "event", "Ready on revision 2", |o| {
        is(o, "Ready")
            && o.status
                .as_ref()
                .and_then(|s| s.task_definition_arn.as_deref())
                .is_some_and(|a| a.ends_with(":2"))
    })
    .await;
    assert_eq!(
        ready
            .status
            .as_ref()
            .unwrap()
            .last_good_task_definition_arn
            .as_deref()
            .map(|a| a.ends_with(":2")),
        Some(true)
    );
    assert_eq!(sb.sim.call_count("ecs:RegisterTaskDefinition"), 2);

    // Identical spec applied again, plus a nudge that makes the controller reconcile.
    sb.sim.reset_calls();
    sb.server.clear_requests();
    let before = sb.server.resource_version();
    sb.apply(&manifest("event", "repo/event:1.1", ""))
        .await
        .unwrap();
    let reconciles = || {
        sb.metrics
            .encode()
            .lines()
            .filter(|l| l.starts_with("ecs_operator_reconcile_total{") && l.contains("ecsservice"))
            .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
            .sum::<f64>()
    };
    let start = reconciles();
    api(&sb).patch("event", &PatchParams::apply("nudge"), &Patch::Apply(serde_json::json!({
        "apiVersion": "ecs-operator.dev/v1alpha1", "kind": "EcsService", "metadata": {"name": "event", "annotations": {"nudge": "1"}}
    }))).await.unwrap();
    sb.wait_for("a reconcile after the nudge", WAIT, || async {
        (reconciles() >= start + 1.0).then_some(())
    })
    .await;
    assert_eq!(
        sb.sim.write_calls(),
        0,
        "no AWS writes on a no-op reconcile: {:?}",
        sb.sim.calls()
    );
    let status_writes: Vec<_> = sb
        .server
        .requests()
        .into_iter()
        .filter(|r| r.is_write() && r.path.ends_with("/status"))
        .collect();
    assert!(
        status_writes.is_empty(),
        "no status writes on a no-op reconcile: {status_writes:?}"
    );
    assert!(
        sb.server.resource_version() > before,
        "the nudge itself is one write"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn unhealthy_image_rolls_back_and_is_not_retried() {
    let sb = Sandbox::start().await;
    sb.apply(&manifest("ticket", "repo/ticket:1.0", ""))
        .await
        .unwrap();
    let good = wait_until(&sb, "ticket", "Ready", |o| is(o, "Ready")).await;
    let good_arn = good.status.unwrap().task_definition_arn.unwrap();

    sb.apply(&manifest("ticket", "repo/ticket:2.0-unhealthy", ""))
        .await
        .unwrap();
    let degraded = wait_until(&sb, "ticket", "Degraded", |o| is(o, "Degraded")).await;
    let (_, reason, message) = condition(&degraded, "Stalled").unwrap();
    assert_eq!(reason, "DeploymentFailed");
    assert!(message.contains("circuit breaker"), "{message}");
    assert!(!is(&degraded, "Ready"));
    let status = degraded.status.unwrap();
    assert_eq!(
        status.last_good_task_definition_arn.as_deref(),
        Some(good_arn.as_str())
    );

    // ECS finishes the rollback; the operator stays put and never retries the bad revision.
    sb.wait_for("rollback completes", WAIT, || async {
        sb.sim
            .service("event-booking", "ticket")
            .filter(|s| {
                s.deployments.len() == 1 && s.task_definition.as_deref() == Some(good_arn.as_str())
            })
            .map(|_| ())
    })
    .await;
    let updates = sb.sim.call_count("ecs:UpdateService");
    let later = sb.clock.now() + jiff::SignedDuration::from_secs(300);
    sb.wait_for("five more simulated minutes", WAIT, || async {
        (sb.clock.now() > later).then_some(())
    })
    .await;
    assert_eq!(
        sb.sim.call_count("ecs:UpdateService"),
        updates,
        "the failed revision is not retried"
    );
    let still = api(&sb).get("ticket").await.unwrap();
    assert!(is(&still, "Degraded"));

    // A spec change rolls out again.
    sb.apply(&manifest("ticket", "repo/ticket:2.1", ""))
        .await
        .unwrap();
    wait_until(&sb, "ticket", "Ready after the fix", |o| {
        is(o, "Ready") && !is(o, "Degraded")
    })
    .await;
    sb.shutdown().await;
}

#[tokio::test]
async fn drift_is_corrected_and_observe_only_never_writes() {
    let sb = Sandbox::start().await;
    sb.apply(&manifest("payment", "repo/payment:1.0", ""))
        .await
        .unwrap();
    wait_until(&sb, "payment", "Ready", |o| is(o, "Ready")).await;
    sb.sim
        .set_desired_count("event-booking", "payment", 7)
        .unwrap();
    sb.wait_for("desiredCount corrected back to 2", WAIT, || async {
        sb.sim
            .service("event-booking", "payment")
            .filter(|s| s.desired_count == 2)
            .map(|_| ())
    })
    .await;

    // Switch to ObserveOnly, change the spec: drift reported, AWS untouched.
    sb.apply(&manifest(
        "payment",
        "repo/payment:9.9",
        "  desiredCount: 2\n  managementPolicy: ObserveOnly"
            .replace("  desiredCount: 2\n", "")
            .as_str(),
    ))
    .await
    .unwrap();
    sb.sim.reset_calls();
    let drifted = wait_until(&sb, "payment", "Drifted", |o| is(o, "Drifted")).await;
    assert!(
        condition(&drifted, "Drifted")
            .unwrap()
            .2
            .contains("taskDefinition")
    );
    sb.sim
        .set_desired_count("event-booking", "payment", 4)
        .unwrap();
    wait_until(&sb, "payment", "count drift reported", |o| {
        condition(o, "Drifted").is_some_and(|(_, _, m)| m.contains("desiredCount"))
    })
    .await;
    assert_eq!(
        sb.sim.write_calls(),
        0,
        "ObserveOnly never writes: {:?}",
        sb.sim.calls()
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn deletion_policies() {
    let sb = Sandbox::start().await;
    sb.apply(&manifest("gone", "repo/gone:1.0", ""))
        .await
        .unwrap();
    sb.apply(&manifest(
        "kept",
        "repo/kept:1.0",
        "  deletionPolicy: Retain",
    ))
    .await
    .unwrap();
    wait_until(&sb, "gone", "Ready", |o| is(o, "Ready")).await;
    wait_until(&sb, "kept", "Ready", |o| is(o, "Ready")).await;
    let api = api(&sb);
    api.delete("gone", &DeleteParams::default()).await.unwrap();
    api.delete("kept", &DeleteParams::default()).await.unwrap();
    for name in ["gone", "kept"] {
        sb.wait_for("object removed", WAIT, || {
            let api = api.clone();
            async move { api.get_opt(name).await.unwrap().is_none().then_some(()) }
        })
        .await;
    }
    let gone = sb
        .sim
        .service("event-booking", "gone")
        .expect("still described");
    assert_eq!(gone.status.as_str(), "INACTIVE");
    assert!(
        sb.sim
            .task_definitions("gone")
            .iter()
            .all(|td| td.status.as_str() == "INACTIVE"),
        "revisions deregistered"
    );
    let kept = sb.sim.service("event-booking", "kept").unwrap();
    assert_eq!(kept.status.as_str(), "ACTIVE");
    assert_eq!(kept.desired_count, 2);
    sb.shutdown().await;
}

#[tokio::test]
async fn services_of_others_are_refused_unless_adopted() {
    let sb = Sandbox::start().await;
    sb.sim
        .create_foreign_service("event-booking", "legacy", vec![])
        .unwrap();
    sb.sim
        .create_foreign_service(
            "event-booking",
            "theirs",
            vec![Tag {
                key: "ecs-operator.dev/owner".into(),
                value: "other-team/theirs".into(),
            }],
        )
        .unwrap();
    sb.apply(&manifest("legacy", "repo/legacy:1.0", ""))
        .await
        .unwrap();
    sb.apply(&manifest(
        "theirs",
        "repo/theirs:1.0",
        "  adoptionPolicy: Adopt",
    ))
    .await
    .unwrap();
    let refused = wait_until(&sb, "legacy", "Stalled", |o| is(o, "Stalled")).await;
    assert_eq!(condition(&refused, "Stalled").unwrap().1, "AlreadyExists");
    let other = wait_until(&sb, "theirs", "Stalled", |o| is(o, "Stalled")).await;
    assert_eq!(
        condition(&other, "Stalled").unwrap().1,
        "OwnedByAnotherObject"
    );
    assert_eq!(sb.sim.call_count("ecs:UpdateService"), 0);

    sb.apply(&manifest(
        "legacy",
        "repo/legacy:1.0",
        "  adoptionPolicy: Adopt",
    ))
    .await
    .unwrap();
    wait_until(&sb, "legacy", "Ready after adoption", |o| is(o, "Ready")).await;
    assert_eq!(
        sb.sim
            .service("event-booking", "legacy")
            .unwrap()
            .tag("ecs-operator.dev/owner"),
        Some("default/legacy")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn operator_killed_mid_deployment_resumes_without_repeating_writes() {
    let mut sb = Sandbox::start().await;
    sb.apply(&manifest("notify", "repo/notify:1.0", ""))
        .await
        .unwrap();
    wait_until(&sb, "notify", "Ready", |o| is(o, "Ready")).await;
    sb.apply(&manifest("notify", "repo/notify:1.1", ""))
        .await
        .unwrap();
    sb.wait_for("the update reached AWS", WAIT, || async {
        (sb.sim.call_count("ecs:UpdateService") >= 1).then_some(())
    })
    .await;
    sb.kill_operator().await;
    let (registers, updates) = (
        sb.sim.call_count("ecs:RegisterTaskDefinition"),
        sb.sim.call_count("ecs:UpdateService"),
    );
    sb.start_operator();
    let ready = wait_until(&sb, "notify", "Ready after restart", |o| {
        is(o, "Ready")
            && o.status
                .as_ref()
                .and_then(|s| s.task_definition_arn.as_deref())
                .is_some_and(|a| a.ends_with(":2"))
    })
    .await;
    assert_eq!(
        sb.sim.call_count("ecs:RegisterTaskDefinition"),
        registers,
        "no second RegisterTaskDefinition"
    );
    assert_eq!(
        sb.sim.call_count("ecs:UpdateService"),
        updates,
        "no second UpdateService"
    );
    assert!(ready.status.unwrap().deployment.is_some());
    sb.shutdown().await;
}

#[tokio::test]
async fn deployments_that_end_while_the_operator_is_down_are_judged_by_what_ecs_says() {
    let mut sb = Sandbox::start().await;
    sb.apply(&manifest("ticket", "repo/ticket:1.0", ""))
        .await
        .unwrap();
    let good = wait_until(&sb, "ticket", "Ready", |o| is(o, "Ready")).await;
    let good_arn = good.status.unwrap().task_definition_arn.unwrap();
    let sim = sb.sim.clone();
    let settled_on = |arn: String| {
        let sim = sim.clone();
        move || {
            let sim = sim.clone();
            let arn = arn.clone();
            async move {
                sim.service("event-booking", "ticket")
                    .filter(|s| {
                        s.deployments.len() == 1
                            && s.task_definition.as_deref() == Some(arn.as_str())
                    })
                    .map(|_| ())
            }
        }
    };

    // A bad revision starts; the operator dies while it is in progress, and ECS rolls it back
    // and drops it before a new operator looks.
    sb.apply(&manifest("ticket", "repo/ticket:2.0-unhealthy", ""))
        .await
        .unwrap();
    wait_until(&sb, "ticket", "the deployment of :2 in status", |o| {
        tracked(o).is_some_and(|(td, state)| td.ends_with(":2") && state == "IN_PROGRESS")
    })
    .await;
    sb.kill_operator().await;
    sb.wait_for("ECS rolled back to :1", WAIT, settled_on(good_arn.clone()))
        .await;
    let updates = sb.sim.call_count("ecs:UpdateService");
    sb.start_operator();
    let degraded = wait_until(&sb, "ticket", "Degraded", |o| is(o, "Degraded")).await;
    let (_, reason, message) = condition(&degraded, "Stalled").unwrap();
    assert_eq!(reason, "DeploymentFailed");
    assert!(
        message.contains("circuit breaker"),
        "ECS's own reason: {message}"
    );
    assert!(!message.contains("in progress"), "{message}");
    assert_eq!(sb.sim.call_count("ecs:UpdateService"), updates, "no retry");

    // A good revision goes out; while the operator is down someone puts the old revision back.
    // That is not a failure of the spec's revision: the operator deploys it again.
    sb.apply(&manifest("ticket", "repo/ticket:2.1", ""))
        .await
        .unwrap();
    let fixed = wait_until(&sb, "ticket", "Ready on :3", |o| {
        is(o, "Ready") && tracked(o).is_some_and(|(td, _)| td.ends_with(":3"))
    })
    .await;
    let fixed_arn = fixed.status.unwrap().task_definition_arn.unwrap();
    sb.kill_operator().await;
    aws::ecs::EcsApi::update_service(
        &sb.sim,
        aws::ecs::UpdateServiceInput {
            cluster: "event-booking".into(),
            service: "ticket".into(),
            task_definition: Some(good_arn.clone()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    sb.wait_for(
        "the outside change settled",
        WAIT,
        settled_on(good_arn.clone()),
    )
    .await;
    sb.start_operator();
    sb.wait_for(
        "the spec's revision again",
        WAIT,
        settled_on(fixed_arn.clone()),
    )
    .await;
    let back = wait_until(&sb, "ticket", "Ready again", |o| is(o, "Ready")).await;
    assert!(!is(&back, "Degraded"));
    sb.shutdown().await;
}

#[tokio::test]
async fn throttling_and_server_errors_are_absorbed() {
    let sb = Sandbox::start().await;
    sb.sim.inject_fault(SimFault {
        operation: "ecs:CreateService".into(),
        count: 2,
        error: AwsError::new(ErrorKind::Throttled, "ThrottlingException", "Rate exceeded"),
    });
    sb.sim.inject_fault(SimFault {
        operation: "ecs:DescribeServices".into(),
        count: 2,
        error: AwsError::new(
            ErrorKind::Transient,
            "ServerException",
            "Service unavailable",
        ),
    });
    sb.apply(&manifest("flaky", "repo/flaky:1.0", ""))
        .await
        .unwrap();
    let api = api(&sb);
    let seen_stalled = std::sync::atomic::AtomicBool::new(false);
    let ready = sb
        .wait_for("Ready despite faults", WAIT, || {
            let api = api.clone();
            let seen = &seen_stalled;
            async move {
                let o = api.get("flaky").await.ok()?;
                if condition(&o, "Stalled").is_some_and(|(s, _, _)| s == "True") {
                    seen.store(true, std::sync::atomic::Ordering::SeqCst);
                }
                is(&o, "Ready").then_some(o)
            }
        })
        .await;
    assert!(
        !seen_stalled.into_inner(),
        "transient AWS errors never surface as Stalled"
    );
    assert_eq!(sb.sim.call_count("ecs:CreateService"), 3);
    assert!(
        ready
            .status
            .unwrap()
            .conditions
            .iter()
            .all(|c| !c.message.contains("Throttl"))
    );
    sb.shutdown().await;
}

/// A subnet that does not exist is found before any mutation (the reference check), not by
/// CreateService failing after RegisterTaskDefinition.
#[tokio::test]
async fn missing_infrastructure_is_refused_before_any_mutation() {
    let sb = Sandbox::start().await;
    let yaml = manifest("lost", "repo/lost:1.0", "")
        .replace("subnet-0a1f2e3d4c5b60002", "subnet-doesnotexist");
    sb.apply(&yaml).await.unwrap();
    let stalled = wait_until(&sb, "lost", "Stalled", |o| is(o, "Stalled")).await;
    let (_, reason, message) = condition(&stalled, "Stalled").unwrap();
    assert_eq!(reason, "InvalidReference");
    assert!(
        message.contains("subnets[1]: subnet subnet-doesnotexist does not exist"),
        "{message}"
    );
    assert_eq!(sb.sim.call_count("ecs:RegisterTaskDefinition"), 0);
    assert_eq!(sb.sim.call_count("ecs:CreateService"), 0);
    sb.shutdown().await;
}

/// A controller never acts on a cold cache: with the ScalingPolicy CRD missing, the
/// ScalingPolicy watch cannot list, so no controller starts (the EcsService controller would
/// otherwise take an autoscaled service for a plain one) — no AWS call at all, the cache metric
/// says which kind is missing — until the CRD is installed.
#[tokio::test]
async fn nothing_acts_until_every_cache_has_filled() {
    let settings = ecs_operator::controllers::Settings {
        resync: Duration::from_secs(60),
        poll: Duration::from_secs(10),
        wait_poll: Duration::from_secs(10),
        dry_run: false,
    };
    let sb = Sandbox::start_without_crds(settings, &["scalingpolicies.ecs-operator.dev"]).await;
    sb.apply(&manifest("auth", "repo/auth:1", ""))
        .await
        .unwrap();
    // The manager reports the missing cache from inside its wait, before any controller runs.
    sb.wait_for(
        "the missing cache reported",
        Duration::from_secs(30),
        || async {
            let text = sb.metrics.encode();
            text.contains("ecs_operator_cache_synced{kind=\"ScalingPolicy\"} 0")
                .then_some(())
        },
    )
    .await;
    assert!(sb.sim.calls().is_empty(), "{:?}", sb.sim.calls());
    assert!(api(&sb).get("auth").await.unwrap().status.is_none());
    sb.install_crd("scalingpolicies.ecs-operator.dev").await;
    wait_until(&sb, "auth", "Ready", |o| is(o, "Ready")).await;
    assert!(
        sb.metrics
            .encode()
            .contains("ecs_operator_cache_synced{kind=\"ScalingPolicy\"} 1")
    );
    sb.shutdown().await;
}
