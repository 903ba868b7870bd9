//! The BlueGreenRollout controller with the CodeDeploy engine, for real: kube-rs controllers on
//! the local API server, the simulated AWS account. Asserts states, counts and orderings —
//! never times.

use aws::codedeploy::CodeDeployApi;
use aws::{AwsError, ErrorKind};
use aws_sim::SimFault;
use crds::rollout::{ReleaseState, RolloutPhase};
use e2e_tests::rollouts::*;
use e2e_tests::sandbox::Sandbox;
use local_apiserver::Fault;

const MANUAL: &str = "  autoPromotionEnabled: false\n";
const CANARY: &str = "      trafficRouting:\n        type: TimeBasedCanary\n        timeBasedCanary: {canaryPercentage: 20, canaryInterval: 1}\n";

async fn start(sb: &Sandbox, name: &str, extra: &str) {
    sb.apply(&code_deploy_rollout(&sb.sim, name, extra))
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

/// Every deployment of the group (rollback deployments included), newest first.
async fn group_deployments(sb: &Sandbox, name: &str) -> Vec<String> {
    sb.sim
        .list_deployments(&format!("default-{name}"), name, &[], None)
        .await
        .unwrap()
}

#[tokio::test]
async fn happy_path_checks_test_traffic_then_promotes_and_completes() {
    let sb = Sandbox::start().await;
    start(&sb, "auth", &checks("auth")).await;
    let svc = sb.sim.service("event-booking", "auth").unwrap();
    assert_eq!(svc.deployment_controller.as_str(), "CODE_DEPLOY");
    assert_eq!(sb.sim.call_count("codedeploy:CreateApplication"), 1);
    assert_eq!(sb.sim.call_count("codedeploy:CreateDeploymentGroup"), 1);
    assert!(
        group_deployments(&sb, "auth").await.is_empty(),
        "the first revision comes with CreateService"
    );

    release(&sb, "auth", "repo/auth:2").await;
    let verifying = wait_state(&sb, "auth", ReleaseState::Verifying).await;
    assert_eq!(phase(&verifying), Some(RolloutPhase::Progressing));
    assert!(verifying.status.unwrap().deployment_id.is_some());
    let done = wait_healthy_on(&sb, "auth", ":2").await;
    let status = done.status.unwrap();
    assert!(
        status
            .previous_stable_task_definition_arn
            .unwrap()
            .ends_with(":1")
    );
    assert_eq!(status.traffic_weights.unwrap().canary, 0);
    assert_eq!(group_deployments(&sb, "auth").await.len(), 1);
    assert!(sb.sim.call_count("probe:HttpGet") >= 2);
    assert_eq!(sb.sim.call_count("codedeploy:ContinueDeployment"), 1);
    assert!(live_revision(&sb, "auth").ends_with(":2"));
    // The EcsService turns Ready on the released revision once its task set is steady.
    e2e_tests::scaling::wait_service_ready(&sb, "auth").await;
    let svc = services(&sb).get("auth").await.unwrap();
    let status = svc.status.unwrap();
    assert!(status.task_definition_arn.unwrap().ends_with(":2"));
    sb.shutdown().await;
}

#[tokio::test]
async fn manual_promotion_pauses_until_promote() {
    let sb = Sandbox::start().await;
    start(&sb, "auth", MANUAL).await;
    release(&sb, "auth", "repo/auth:2").await;
    let paused = wait_rollout(&sb, "auth", "Paused", |r| {
        phase(r) == Some(RolloutPhase::Paused)
    })
    .await;
    assert!(is(&paused, "Paused"));
    assert_eq!(
        paused.status.unwrap().pause_conditions[0].reason,
        "BlueGreenPause"
    );
    assert_eq!(sb.sim.call_count("codedeploy:ContinueDeployment"), 0);
    request(&sb, "auth", "promote").await;
    let done = wait_healthy_on(&sb, "auth", ":2").await;
    assert!(
        done.status
            .unwrap()
            .handled_verbs
            .unwrap()
            .promote
            .is_some()
    );
    assert_eq!(group_deployments(&sb, "auth").await.len(), 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn an_alarm_rolls_back_and_the_bad_revision_waits_for_retry() {
    let sb = Sandbox::start().await;
    let extra = format!("{MANUAL}  analysis:\n    alarmNames: [auth-5xx-high]\n");
    start(&sb, "auth", &extra).await;
    release(&sb, "auth", "repo/auth:2").await;
    wait_rollout(&sb, "auth", "Paused", |r| {
        phase(r) == Some(RolloutPhase::Paused)
    })
    .await;
    assert!(sb.sim.set_alarm_state("auth-5xx-high", "ALARM"));
    let degraded = wait_degraded(&sb, "auth").await;
    let status = degraded.status.clone().unwrap();
    assert!(
        status
            .failure_reason
            .as_deref()
            .unwrap()
            .contains("auth-5xx-high"),
        "{status:?}"
    );
    assert!(stable(&degraded).unwrap().ends_with(":1"));
    assert!(is(&degraded, "Stalled") && is(&degraded, "Degraded"));
    assert!(status.bad_content_hash.is_some());
    assert!(live_revision(&sb, "auth").ends_with(":1"));
    // The EcsService reports it too, and nothing is rolled out again on its own.
    let svc = wait_until_service(&sb, "auth", "RolloutFailed").await;
    assert!(svc.contains("auth-5xx-high"), "{svc}");
    let creates = sb.sim.call_count("codedeploy:CreateDeployment");
    sb.sim.clock().advance(std::time::Duration::from_secs(600));
    let again = rollouts(&sb).get("auth").await.unwrap();
    assert_eq!(phase(&again), Some(RolloutPhase::Degraded));
    assert_eq!(sb.sim.call_count("codedeploy:CreateDeployment"), creates);

    sb.sim.set_alarm_state("auth-5xx-high", "OK");
    request(&sb, "auth", "retry").await;
    wait_rollout(&sb, "auth", "Paused again", |r| {
        phase(r) == Some(RolloutPhase::Paused)
    })
    .await;
    request(&sb, "auth", "promote").await;
    wait_healthy_on(&sb, "auth", ":2").await;
    sb.shutdown().await;
}

async fn wait_until_service(sb: &Sandbox, name: &str, reason: &str) -> String {
    let api = services(sb);
    sb.wait_for(reason, WAIT, || {
        let api = api.clone();
        async move {
            let svc = api.get(name).await.ok()?;
            let c = svc
                .status?
                .conditions
                .into_iter()
                .find(|c| c.type_ == "Ready" && c.reason == reason)?;
            Some(c.message)
        }
    })
    .await
}

#[tokio::test]
async fn a_failing_http_check_rolls_back() {
    let sb = Sandbox::start().await;
    start(&sb, "auth", &checks("auth")).await;
    release(&sb, "auth", "repo/auth:2-smokefail").await;
    let degraded = wait_degraded(&sb, "auth").await;
    let reason = degraded.status.unwrap().failure_reason.unwrap();
    assert!(
        reason.contains("/api/auth/actuator/health") && reason.contains("500"),
        "{reason}"
    );
    assert!(live_revision(&sb, "auth").ends_with(":1"));
    let deployments = group_deployments(&sb, "auth").await;
    assert_eq!(
        deployments.len(),
        2,
        "the release and its rollback deployment"
    );
    assert_eq!(sb.sim.call_count("codedeploy:StopDeployment"), 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn abort_stops_the_release_and_keeps_the_stable_revision() {
    let sb = Sandbox::start().await;
    start(&sb, "auth", MANUAL).await;
    release(&sb, "auth", "repo/auth:2").await;
    wait_rollout(&sb, "auth", "Paused", |r| {
        phase(r) == Some(RolloutPhase::Paused)
    })
    .await;
    request(&sb, "auth", "abort").await;
    let degraded = wait_degraded(&sb, "auth").await;
    let status = degraded.status.unwrap();
    assert_eq!(status.failure_reason.as_deref(), Some("aborted by request"));
    assert!(status.aborted_at.is_some());
    assert!(status.handled_verbs.unwrap().abort.is_some());
    assert!(live_revision(&sb, "auth").ends_with(":1"));
    sb.shutdown().await;
}

#[tokio::test]
async fn a_release_without_progress_is_aborted_at_the_deadline() {
    let sb = Sandbox::start().await;
    start(&sb, "auth", "  progressDeadlineSeconds: 120\n").await;
    release(&sb, "auth", "repo/auth:2-unhealthy").await;
    let degraded = wait_degraded(&sb, "auth").await;
    let reason = degraded.status.unwrap().failure_reason.unwrap();
    assert!(reason.contains("no progress"), "{reason}");
    assert!(live_revision(&sb, "auth").ends_with(":1"));
    sb.shutdown().await;
}

#[tokio::test]
async fn killed_in_every_phase_the_operator_resumes_with_one_deployment() {
    let mut sb = Sandbox::start().await;
    start(&sb, "auth", &format!("{CANARY}{MANUAL}")).await;
    release(&sb, "auth", "repo/auth:2").await;
    for state in [ReleaseState::Deploying, ReleaseState::Paused] {
        wait_state(&sb, "auth", state).await;
        sb.kill_operator().await;
        sb.start_operator();
    }
    request(&sb, "auth", "promote").await;
    for state in [ReleaseState::Promoting, ReleaseState::Baking] {
        wait_state(&sb, "auth", state).await;
        sb.kill_operator().await;
        sb.start_operator();
    }
    wait_healthy_on(&sb, "auth", ":2").await;
    assert_eq!(group_deployments(&sb, "auth").await.len(), 1);
    assert_eq!(sb.sim.call_count("codedeploy:CreateDeployment"), 1);

    // Killed while aborting: the rollback completes and the rollout ends Degraded.
    release(&sb, "auth", "repo/auth:3").await;
    wait_rollout(&sb, "auth", "Paused", |r| {
        phase(r) == Some(RolloutPhase::Paused)
    })
    .await;
    request(&sb, "auth", "abort").await;
    wait_state(&sb, "auth", ReleaseState::Aborting).await;
    sb.kill_operator().await;
    sb.start_operator();
    wait_degraded(&sb, "auth").await;
    assert!(live_revision(&sb, "auth").ends_with(":2"));
    assert_eq!(sb.sim.call_count("codedeploy:StopDeployment"), 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_crash_between_create_deployment_and_the_status_write_adopts_the_deployment() {
    let sb = Sandbox::start().await;
    start(&sb, "auth", "").await;
    // CreateDeployment is throttled for a while, so the release waits in Starting ...
    sb.sim.inject_fault(SimFault::new(
        "codedeploy:CreateDeployment",
        6,
        AwsError::new(ErrorKind::Throttled, "ThrottlingException", "Rate exceeded"),
    ));
    release(&sb, "auth", "repo/auth:2").await;
    wait_state(&sb, "auth", ReleaseState::Starting).await;
    // ... and the status writes that would record the created deployment fail.
    sb.server.inject_fault(
        Fault::internal_error()
            .path_contains("bluegreenrollouts/auth/status")
            .times(3),
    );
    wait_healthy_on(&sb, "auth", ":2").await;
    assert_eq!(
        group_deployments(&sb, "auth").await.len(),
        1,
        "no second deployment"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_new_revision_at_the_gate_replaces_the_release_in_flight() {
    let sb = Sandbox::start().await;
    start(&sb, "auth", MANUAL).await;
    release(&sb, "auth", "repo/auth:2").await;
    wait_rollout(&sb, "auth", "Paused on 2", |r| {
        phase(r) == Some(RolloutPhase::Paused)
    })
    .await;
    // Revision 3 is published while 2 waits at its gate: 2 is rolled back (never promoted),
    // not counted as a failure, and 3 is released in its place.
    release(&sb, "auth", "repo/auth:3").await;
    let next = wait_rollout(&sb, "auth", "Paused on 3", |r| {
        phase(r) == Some(RolloutPhase::Paused)
            && r.status
                .as_ref()
                .and_then(|s| s.canary_task_definition_arn.as_deref())
                .is_some_and(|a| a.ends_with(":3"))
    })
    .await;
    let status = next.status.unwrap();
    assert!(
        stable(&rollouts(&sb).get("auth").await.unwrap())
            .unwrap()
            .ends_with(":1")
    );
    assert_eq!(
        status.bad_content_hash, None,
        "the replaced revision did not fail"
    );
    assert_eq!(sb.sim.call_count("codedeploy:ContinueDeployment"), 0);
    assert_eq!(sb.sim.call_count("codedeploy:StopDeployment"), 1);
    request(&sb, "auth", "promote").await;
    wait_healthy_on(&sb, "auth", ":3").await;
    let by_user = sb.sim.inventory().code_deploy_deployments["default-auth/auth by user"];
    assert_eq!(by_user, 2, "one deployment per release: 2, then 3");
    sb.shutdown().await;
}

#[tokio::test]
async fn bad_input_stalls_with_a_message_and_writes_nothing_to_aws() {
    let sb = Sandbox::start().await;
    // A rollout of a service that does not exist yet waits for it (GitOps tools apply a
    // whole directory at once): Reconciling, never Stalled.
    sb.apply(&code_deploy_rollout(&sb.sim, "event", ""))
        .await
        .unwrap();
    let r = wait_rollout(&sb, "event", "waiting for its service", |r| {
        is(r, "Reconciling")
    })
    .await;
    assert!(!is(&r, "Stalled"));
    assert!(
        r.status
            .unwrap()
            .message
            .unwrap()
            .contains("waiting for EcsService event to exist")
    );
    // Target groups that are not the service's.
    let wrong = code_deploy_rollout(&sb.sim, "ticket", "").replace(
        "{name: ticket-blue}, {name: ticket-green}",
        "{name: ticket-green}, {name: ticket-blue}",
    );
    sb.apply(&wrong).await.unwrap();
    sb.apply(&service_manifest(&sb.sim, "ticket", "repo/ticket:1"))
        .await
        .unwrap();
    let r = wait_rollout(&sb, "ticket", "Stalled on the target groups", |r| {
        is(r, "Stalled")
            && r.status
                .as_ref()
                .and_then(|s| s.message.as_deref())
                .is_some_and(|m| m.contains("swap the two entries"))
    })
    .await;
    assert!(
        r.status
            .unwrap()
            .message
            .unwrap()
            .contains("registers its tasks with target group ticket-blue")
    );
    // Two rollouts for one service: the younger one stalls.
    let twin = code_deploy_rollout(&sb.sim, "ticket", "")
        .replace("metadata: {name: ticket,", "metadata: {name: ticket-twin,");
    sb.apply(&twin).await.unwrap();
    let r = wait_rollout(&sb, "ticket-twin", "Stalled", |r| is(r, "Stalled")).await;
    assert!(
        r.status
            .unwrap()
            .message
            .unwrap()
            .contains("already released by BlueGreenRollout ticket")
    );
    // Both engines, or a percentage out of range: refused at apply time.
    let both = code_deploy_rollout(&sb.sim, "auth", "").replace("    codeDeploy:", "    ecsNative: {strategy: BLUE_GREEN, advancedConfiguration: {alternateTargetGroupArn: x, productionListenerRule: y, roleArn: z}}\n    codeDeploy:");
    let err = sb.apply(&both).await.unwrap_err().to_string();
    assert!(err.contains("exactly one"), "{err}");
    let pct = code_deploy_rollout(&sb.sim, "auth", CANARY)
        .replace("canaryPercentage: 20", "canaryPercentage: 150");
    assert!(sb.apply(&pct).await.is_err());
    assert_eq!(sb.sim.write_calls_of("codedeploy:"), 0, "no AWS writes");
    sb.shutdown().await;
}

#[tokio::test]
async fn another_active_deployment_in_the_group_is_waited_for_not_doubled() {
    use aws::codedeploy::CreateDeploymentInput;
    use aws::ecs::EcsApi;
    let sb = Sandbox::start().await;
    start(&sb, "auth", "").await;
    // Someone starts a deployment of their own in the group (the old scripts, say).
    let theirs = sb
        .sim
        .describe_task_definition(&live_revision(&sb, "auth"))
        .await
        .unwrap();
    let mut input = theirs.definition.clone();
    input.container_definitions[0].image = "repo/auth:hotfix".into();
    let hotfix = sb.sim.register_task_definition(input).await.unwrap();
    let foreign = sb
        .sim
        .create_deployment(CreateDeploymentInput {
            application_name: "default-auth".into(),
            deployment_group_name: "auth".into(),
            app_spec_content: ecs_operator::controllers::blue_green_rollout::engine::app_spec(
                &hotfix.task_definition_arn,
                "app",
                8080,
            ),
            description: None,
        })
        .await
        .unwrap();
    release(&sb, "auth", "repo/auth:2").await;
    let waiting = wait_rollout(&sb, "auth", "Starting behind the other deployment", |r| {
        r.status
            .as_ref()
            .and_then(|s| s.release.as_ref())
            .and_then(|rel| rel.step.as_deref())
            .is_some_and(|step| step.contains(&foreign))
    })
    .await;
    assert_eq!(release_state(&waiting), Some(ReleaseState::Starting));
    // Once it finished, the release goes out: two deployments in all, one of them ours.
    let done = wait_healthy_on(&sb, "auth", "auth:3").await;
    assert!(stable(&done).is_some());
    assert_eq!(group_deployments(&sb, "auth").await.len(), 2);
    assert_eq!(
        sb.sim.call_count("codedeploy:CreateDeployment"),
        2,
        "one for them, one for the release; none refused"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn deleting_a_rollout_deletes_what_it_created_unless_retained() {
    let sb = Sandbox::start().await;
    start(&sb, "auth", "").await;
    start(&sb, "event", "  deletionPolicy: Retain\n").await;
    let api = rollouts(&sb);
    let cd = api.get("auth").await.unwrap().status.unwrap().code_deploy;
    let cd = cd.expect("CodeDeploy status");
    assert!(cd.created_application && cd.created_deployment_group);
    for name in ["auth", "event"] {
        api.delete(name, &Default::default()).await.unwrap();
    }
    sb.wait_for("both rollouts gone", WAIT, || {
        let api = api.clone();
        async move {
            let left = api.list(&Default::default()).await.ok()?.items.len();
            (left == 0).then_some(())
        }
    })
    .await;
    let gone = sb.sim.get_application("default-auth").await.unwrap_err();
    assert_eq!(gone.kind, ErrorKind::NotFound);
    assert_eq!(sb.sim.call_count("codedeploy:DeleteDeploymentGroup"), 1);
    assert_eq!(sb.sim.call_count("codedeploy:DeleteApplication"), 1);
    let kept = sb.sim.get_deployment_group("default-event", "event").await;
    assert!(kept.is_ok(), "Retain keeps the group: {kept:?}");

    // Without its rollout a CODE_DEPLOY service cannot take a new revision: the EcsService says
    // so instead of sending an UpdateService that ECS would refuse.
    let updates = sb.sim.call_count("ecs:UpdateService");
    release(&sb, "auth", "repo/auth:2").await;
    let svcs = services(&sb);
    sb.wait_for("the EcsService stalled", WAIT, || {
        let svcs = svcs.clone();
        async move {
            let svc = svcs.get("auth").await.ok()?;
            let status = svc.status?;
            status
                .conditions
                .iter()
                .any(|c| {
                    c.type_ == "Stalled"
                        && c.status.as_str() == "True"
                        && c.reason == "NoCodeDeployRollout"
                })
                .then_some(())
        }
    })
    .await;
    assert_eq!(sb.sim.call_count("ecs:UpdateService"), updates);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_rollout_deleted_mid_deployment_keeps_its_group_until_the_deployment_ends() {
    let sb = Sandbox::start().await;
    start(&sb, "auth", MANUAL).await;
    release(&sb, "auth", "repo/auth:2").await;
    wait_rollout(&sb, "auth", "Paused", |r| {
        phase(r) == Some(RolloutPhase::Paused)
    })
    .await;
    let api = rollouts(&sb);
    let lists = sb.sim.call_count("codedeploy:ListDeployments");
    api.delete("auth", &Default::default()).await.unwrap();
    // The deletion is seen and waits: the object stays, the group is not touched.
    sb.wait_for("the deletion to look for running deployments", WAIT, || {
        let sim = sb.sim.clone();
        async move { (sim.call_count("codedeploy:ListDeployments") > lists).then_some(()) }
    })
    .await;
    assert!(api.get_opt("auth").await.unwrap().is_some());
    assert_eq!(sb.sim.call_count("codedeploy:DeleteDeploymentGroup"), 0);
    let running = group_deployments(&sb, "auth").await;
    sb.sim.stop_deployment(&running[0], true).await.unwrap();
    sb.wait_for("the rollout gone", WAIT, || {
        let api = api.clone();
        async move { api.get_opt("auth").await.ok()?.is_none().then_some(()) }
    })
    .await;
    assert_eq!(sb.sim.call_count("codedeploy:DeleteDeploymentGroup"), 1);
    sb.shutdown().await;
}
