//! The BlueGreenRollout controller with the ECS-native engine (BLUE_GREEN, CANARY, LINEAR with a
//! PAUSE hook as the gate), for real: kube-rs controllers on the local API server, the
//! simulated AWS account. Asserts states, counts and orderings — never times.

use aws::ecs::EcsApi;
use crds::rollout::{ReleaseState, RolloutPhase};
use e2e_tests::rollouts::*;
use e2e_tests::sandbox::Sandbox;

const MANUAL: &str = "  autoPromotionEnabled: false\n";

async fn start(sb: &Sandbox, name: &str, strategy: &str, extra: &str) {
    sb.apply(&ecs_native_rollout(&sb.sim, name, strategy, extra))
        .await
        .unwrap();
    sb.apply(&service_manifest(&sb.sim, name, &format!("repo/{name}:1")))
        .await
        .unwrap();
    wait_healthy_on(sb, name, ":1").await;
}

async fn release(sb: &Sandbox, name: &str, image: &str) {
    sb.apply(&service_manifest(&sb.sim, name, image))
        .await
        .unwrap();
}

/// Service deployments of the service, newest first: (status, target task definition).
async fn service_deployments(sb: &Sandbox, name: &str) -> Vec<String> {
    let arns = sb
        .sim
        .list_service_deployments("event-booking", name)
        .await
        .unwrap();
    sb.sim
        .describe_service_deployments(&arns)
        .await
        .unwrap()
        .into_iter()
        .map(|sd| sd.status.to_string())
        .collect()
}

#[tokio::test]
async fn happy_path_blue_green_with_checks_on_the_test_listener() {
    let sb = Sandbox::start().await;
    start(&sb, "event", "BLUE_GREEN", &checks("event")).await;
    let svc = sb.sim.service("event-booking", "event").unwrap();
    assert_eq!(svc.deployment_controller.as_str(), "ECS");
    let dc = svc.config.deployment_configuration.clone().unwrap();
    assert_eq!(dc.strategy.as_deref(), Some("BLUE_GREEN"));
    assert!(dc.lifecycle_hooks.iter().any(|h| h.target_type == "PAUSE"));
    assert!(
        svc.config.load_balancers[0]
            .advanced_configuration
            .is_some()
    );

    release(&sb, "event", "repo/event:2").await;
    let verifying = wait_state(&sb, "event", ReleaseState::Verifying).await;
    assert!(verifying.status.unwrap().service_deployment_arn.is_some());
    let done = wait_healthy_on(&sb, "event", ":2").await;
    assert_eq!(done.status.unwrap().traffic_weights.unwrap().stable, 100);
    assert_eq!(service_deployments(&sb, "event").await[0], "SUCCESSFUL");
    assert_eq!(sb.sim.call_count("ecs:ContinueServiceDeployment"), 1);
    assert!(sb.sim.call_count("probe:HttpGet") >= 2);
    assert!(live_revision(&sb, "event").ends_with(":2"));
    sb.shutdown().await;
}

#[tokio::test]
async fn canary_shows_the_traffic_split_while_shifting() {
    let sb = Sandbox::start().await;
    start(&sb, "event", "CANARY", "").await;
    release(&sb, "event", "repo/event:2").await;
    let shifting = wait_rollout(&sb, "event", "20% on the canary", |r| {
        r.status
            .as_ref()
            .and_then(|s| s.traffic_weights.as_ref())
            .is_some_and(|w| w.canary == 20)
    })
    .await;
    assert_eq!(phase(&shifting), Some(RolloutPhase::Progressing));
    wait_healthy_on(&sb, "event", ":2").await;
    sb.shutdown().await;
}

#[tokio::test]
async fn manual_promotion_then_abort_and_retry() {
    let sb = Sandbox::start().await;
    start(&sb, "event", "LINEAR", MANUAL).await;
    release(&sb, "event", "repo/event:2").await;
    let paused = wait_rollout(&sb, "event", "Paused", |r| {
        phase(r) == Some(RolloutPhase::Paused)
    })
    .await;
    assert!(is(&paused, "Paused"));
    request(&sb, "event", "abort").await;
    let degraded = wait_degraded(&sb, "event").await;
    assert_eq!(
        degraded.status.unwrap().failure_reason.as_deref(),
        Some("aborted by request")
    );
    assert_eq!(
        service_deployments(&sb, "event").await[0],
        "ROLLBACK_SUCCESSFUL"
    );
    assert!(live_revision(&sb, "event").ends_with(":1"));
    request(&sb, "event", "retry").await;
    wait_rollout(&sb, "event", "Paused again", |r| {
        phase(r) == Some(RolloutPhase::Paused)
    })
    .await;
    request(&sb, "event", "promote").await;
    wait_healthy_on(&sb, "event", ":2").await;
    sb.shutdown().await;
}

#[tokio::test]
async fn an_alarm_during_bake_time_rolls_back() {
    let sb = Sandbox::start().await;
    let extra = "  analysis:\n    alarmNames: [event-latency-high]\n";
    start(&sb, "event", "BLUE_GREEN", extra).await;
    release(&sb, "event", "repo/event:2").await;
    wait_state(&sb, "event", ReleaseState::Baking).await;
    sb.sim.set_alarm_state("event-latency-high", "ALARM");
    let degraded = wait_degraded(&sb, "event").await;
    assert!(
        degraded
            .status
            .unwrap()
            .failure_reason
            .unwrap()
            .contains("event-latency-high")
    );
    assert!(live_revision(&sb, "event").ends_with(":1"));
    assert_eq!(sb.sim.call_count("ecs:StopServiceDeployment"), 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn an_alarm_that_does_not_exist_stops_the_release_before_it_starts_naming_it() {
    let sb = Sandbox::start().await;
    start(&sb, "event", "BLUE_GREEN", "").await;
    let updates = sb.sim.call_count("ecs:UpdateService");
    // The alarm is misspelt in the rollout: found before the release's first call.
    let extra = "  analysis:\n    alarmNames: [event-latency-hihg]\n";
    sb.apply(&ecs_native_rollout(&sb.sim, "event", "BLUE_GREEN", extra))
        .await
        .unwrap();
    release(&sb, "event", "repo/event:2").await;
    let stalled = wait_rollout(&sb, "event", "InvalidReference", |r| {
        r.status.as_ref().is_some_and(|s| {
            s.conditions.iter().any(|c| {
                c.type_ == "Stalled" && c.status == "True" && c.reason == "InvalidReference"
            })
        })
    })
    .await;
    let message = stalled.status.unwrap().message.unwrap_or_default();
    assert!(
        message.contains(
            "spec.analysis.alarmNames[0]: CloudWatch alarm event-latency-hihg does not exist"
        ),
        "{message}"
    );
    assert!(live_revision(&sb, "event").ends_with(":1"));
    assert_eq!(
        sb.sim.call_count("ecs:UpdateService"),
        updates,
        "no release started"
    );
    assert_eq!(sb.sim.call_count("ecs:StopServiceDeployment"), 0);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_failing_http_check_rolls_back_and_is_not_retried_by_itself() {
    let sb = Sandbox::start().await;
    start(&sb, "event", "BLUE_GREEN", &checks("event")).await;
    release(&sb, "event", "repo/event:2-smokefail").await;
    let degraded = wait_degraded(&sb, "event").await;
    assert!(
        degraded
            .status
            .unwrap()
            .failure_reason
            .unwrap()
            .contains("500")
    );
    let updates = sb.sim.call_count("ecs:UpdateService");
    sb.sim.clock().advance(std::time::Duration::from_secs(600));
    let again = rollouts(&sb).get("event").await.unwrap();
    assert_eq!(phase(&again), Some(RolloutPhase::Degraded));
    assert_eq!(sb.sim.call_count("ecs:UpdateService"), updates);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_release_that_never_gets_healthy_is_aborted_at_the_deadline() {
    let sb = Sandbox::start().await;
    start(
        &sb,
        "event",
        "BLUE_GREEN",
        "  progressDeadlineSeconds: 120\n",
    )
    .await;
    release(&sb, "event", "repo/event:2-unhealthy").await;
    let degraded = wait_degraded(&sb, "event").await;
    assert!(
        degraded
            .status
            .unwrap()
            .failure_reason
            .unwrap()
            .contains("no progress")
    );
    assert!(live_revision(&sb, "event").ends_with(":1"));
    sb.shutdown().await;
}

#[tokio::test]
async fn killed_in_every_phase_the_operator_resumes_one_service_deployment() {
    let mut sb = Sandbox::start().await;
    start(&sb, "event", "CANARY", MANUAL).await;
    release(&sb, "event", "repo/event:2").await;
    for state in [ReleaseState::Deploying, ReleaseState::Paused] {
        wait_state(&sb, "event", state).await;
        sb.kill_operator().await;
        sb.start_operator();
    }
    request(&sb, "event", "promote").await;
    for state in [ReleaseState::Promoting, ReleaseState::Baking] {
        wait_state(&sb, "event", state).await;
        sb.kill_operator().await;
        sb.start_operator();
    }
    wait_healthy_on(&sb, "event", ":2").await;
    // One service deployment for the creation, one for the release.
    assert_eq!(service_deployments(&sb, "event").await.len(), 2);

    release(&sb, "event", "repo/event:3").await;
    wait_rollout(&sb, "event", "Paused", |r| {
        phase(r) == Some(RolloutPhase::Paused)
    })
    .await;
    request(&sb, "event", "abort").await;
    wait_state(&sb, "event", ReleaseState::Aborting).await;
    sb.kill_operator().await;
    sb.start_operator();
    wait_degraded(&sb, "event").await;
    assert!(live_revision(&sb, "event").ends_with(":2"));
    assert_eq!(service_deployments(&sb, "event").await.len(), 3);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_service_change_during_a_release_is_queued() {
    let sb = Sandbox::start().await;
    start(&sb, "event", "BLUE_GREEN", MANUAL).await;
    release(&sb, "event", "repo/event:2").await;
    wait_rollout(&sb, "event", "Paused", |r| {
        phase(r) == Some(RolloutPhase::Paused)
    })
    .await;
    release(&sb, "event", "repo/event:3").await;
    request(&sb, "event", "promote").await;
    let next = wait_rollout(&sb, "event", "Paused on 3", |r| {
        phase(r) == Some(RolloutPhase::Paused)
            && r.status
                .as_ref()
                .and_then(|s| s.canary_task_definition_arn.as_deref())
                .is_some_and(|a| a.ends_with(":3"))
    })
    .await;
    assert!(stable(&next).unwrap().ends_with(":2"));
    request(&sb, "event", "promote").await;
    wait_healthy_on(&sb, "event", ":3").await;
    assert_eq!(service_deployments(&sb, "event").await.len(), 3);
    sb.shutdown().await;
}

#[tokio::test]
async fn bad_input_stalls_or_is_refused_and_writes_nothing() {
    let sb = Sandbox::start().await;
    let own_tg = sb.sim.target_group_arn("event-blue").unwrap();
    let green = sb.sim.target_group_arn("event-green").unwrap();
    let wrong = ecs_native_rollout(&sb.sim, "event", "BLUE_GREEN", "").replace(&green, &own_tg);
    sb.apply(&wrong).await.unwrap();
    sb.apply(&service_manifest(&sb.sim, "event", "repo/event:1"))
        .await
        .unwrap();
    let r = wait_rollout(&sb, "event", "Stalled on the target group", |r| {
        is(r, "Stalled")
            && r.status
                .as_ref()
                .and_then(|s| s.message.as_deref())
                .is_some_and(|m| m.contains("alternateTargetGroupArn"))
    })
    .await;
    assert!(r.status.unwrap().release.is_none());
    let no_linear = ecs_native_rollout(&sb.sim, "auth", "LINEAR", "").replace(
        "      linearConfiguration: {stepPercent: 50, stepBakeTimeInMinutes: 1}\n",
        "",
    );
    let err = sb.apply(&no_linear).await.unwrap_err().to_string();
    assert!(err.contains("linearConfiguration"), "{err}");
    let too_small = ecs_native_rollout(&sb.sim, "auth", "LINEAR", "")
        .replace("stepPercent: 50", "stepPercent: 1");
    assert!(sb.apply(&too_small).await.is_err());
    assert_eq!(sb.sim.call_count("ecs:StopServiceDeployment"), 0);
    assert_eq!(sb.sim.call_count("ecs:ContinueServiceDeployment"), 0);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_rollout_added_to_a_running_service_takes_it_over_without_a_release() {
    let sb = Sandbox::start().await;
    sb.apply(&service_manifest(&sb.sim, "event", "repo/event:1"))
        .await
        .unwrap();
    let api = services(&sb);
    let ready = |svc: &crds::EcsService| {
        svc.status.as_ref().is_some_and(|s| {
            s.observed_generation == svc.metadata.generation
                && s.conditions
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.status.as_str() == "True")
        })
    };
    sb.wait_for("EcsService Ready", WAIT, || {
        let api = api.clone();
        async move { api.get("event").await.ok().filter(|s| ready(s)) }
    })
    .await;
    // The rollout arrives later: the EcsService applies the blue/green settings (ECS redeploys
    // the same revision for that), the rollout lets that redeployment through its gate.
    sb.apply(&ecs_native_rollout(&sb.sim, "event", "BLUE_GREEN", MANUAL))
        .await
        .unwrap();
    wait_healthy_on(&sb, "event", ":1").await;
    let sim = sb.sim.clone();
    sb.wait_for("EcsService Ready again, one deployment", WAIT, || {
        let api = api.clone();
        let settled = sim
            .service("event-booking", "event")
            .is_some_and(|s| s.deployments.len() == 1);
        async move {
            let svc = api.get("event").await.ok()?;
            (ready(&svc) && settled).then_some(())
        }
    })
    .await;
    let svc = sb.sim.service("event-booking", "event").unwrap();
    let dc = svc.config.deployment_configuration.unwrap();
    assert_eq!(dc.strategy.as_deref(), Some("BLUE_GREEN"));
    assert!(live_revision(&sb, "event").ends_with(":1"));
    let r = rollouts(&sb).get("event").await.unwrap();
    assert_eq!(phase(&r), Some(RolloutPhase::Healthy));
    assert!(
        r.status.unwrap().release.is_none(),
        "no release for a configuration change"
    );
    assert_eq!(
        sb.sim.call_count("ecs:ContinueServiceDeployment"),
        1,
        "the redeployment let through"
    );
    sb.shutdown().await;
}

/// A configuration-only edit (subnets) while a canary waits at its manual gate must not let ECS
/// replace the release with a deployment of its own that the operator then promotes: the
/// change waits for the release, and only the stable revision's redeployment passes the gate.
#[tokio::test]
async fn a_subnet_edit_during_a_gated_release_waits_and_never_promotes_it() {
    let sb = Sandbox::start().await;
    start(&sb, "event", "CANARY", MANUAL).await;
    release(&sb, "event", "repo/event:2").await;
    wait_rollout(&sb, "event", "Paused", |r| {
        phase(r) == Some(RolloutPhase::Paused)
    })
    .await;
    let updates = sb.sim.call_count("ecs:UpdateService");
    let continues = sb.sim.call_count("ecs:ContinueServiceDeployment");
    let edited = service_manifest(&sb.sim, "event", "repo/event:2")
        .replace("subnet-0a1f2e3d4c5b60002]", "subnet-0a1f2e3d4c5b60003]");
    assert_ne!(edited, service_manifest(&sb.sim, "event", "repo/event:2"));
    sb.apply(&edited).await.unwrap();
    let held = sb
        .wait_for(
            "the edit held",
            std::time::Duration::from_secs(60),
            || async {
                let svc = services(&sb).get("event").await.ok()?;
                let status = svc.status.as_ref()?;
                (status.observed_generation == svc.metadata.generation
                    && status
                        .conditions
                        .iter()
                        .any(|c| c.reason == "WaitingForRelease"))
                .then_some(svc)
            },
        )
        .await;
    let message = &held.status.unwrap().conditions[0].message;
    assert!(message.contains("networkConfiguration"), "{message}");
    // Still paused, nothing sent to ECS meanwhile, nothing promoted by the operator itself.
    let still = rollouts(&sb).get("event").await.unwrap();
    assert_eq!(phase(&still), Some(RolloutPhase::Paused));
    assert_eq!(sb.sim.call_count("ecs:UpdateService"), updates);
    assert_eq!(
        sb.sim.call_count("ecs:ContinueServiceDeployment"),
        continues
    );
    assert!(live_revision(&sb, "event").ends_with(":2"));
    // Promoted by a person: the release completes, then the subnets change.
    request(&sb, "event", "promote").await;
    wait_healthy_on(&sb, "event", ":2").await;
    sb.wait_for(
        "the subnets applied",
        std::time::Duration::from_secs(120),
        || async {
            let svc = sb.sim.service("event-booking", "event")?;
            let vpc = svc.config.network_configuration?.awsvpc_configuration;
            vpc.subnets
                .iter()
                .any(|s| s == "subnet-0a1f2e3d4c5b60003")
                .then_some(())
        },
    )
    .await;
    let done = wait_healthy_on(&sb, "event", ":2").await;
    assert!(stable(&done).unwrap().ends_with(":2"));
    sb.shutdown().await;
}
