//! NotificationPolicy for real: the controllers on the local API server and the simulated AWS
//! account, a local webhook receiver on the other end. A release that pauses for promotion is
//! told started → paused → promoted → succeeded exactly once each across an operator restart,
//! a failing release is told rolled back, and a receiver that fails is retried without holding
//! the other back. Asserts bodies, counts and orderings — never times.

use crds::NotificationPolicy;
use crds::rollout::RolloutPhase;
use e2e_tests::rollouts::*;
use e2e_tests::sandbox::Sandbox;
use ecs_operator::local::receiver::{Received, WebhookReceiver};
use kube::api::Api;

const MANUAL: &str =
    "  autoPromotionEnabled: false\n  analysis:\n    alarmNames: [auth-5xx-high]\n";

fn policy(receiver: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Secret
metadata: {{name: release-hooks, namespace: default}}
stringData:
  hook: {receiver}/hook
  flaky: {receiver}/flaky
---
apiVersion: ecs-operator.dev/v1alpha1
kind: NotificationPolicy
metadata: {{name: releases, namespace: default}}
spec:
  triggers: [ReleaseStarted, ReleasePaused, ReleasePromoted, ReleaseSucceeded, ReleaseRolledBack, AnalysisFailed]
  receivers:
    - name: hook
      webhook: {{urlSecretRef: {{name: release-hooks, key: hook}}}}
    - name: flaky
      slack: {{urlSecretRef: {{name: release-hooks, key: flaky}}}}
  links:
    - name: Argo CD
      urlTemplate: "https://argocd.example/applications/{{namespace}}-{{name}}"
"#
    )
}

/// `(trigger, revision)` of each body the hook got about the rollout.
fn told(received: &[Received], path: &str) -> Vec<(String, String)> {
    received
        .iter()
        .filter(|r| r.path == path)
        .filter(|r| r.body["kind"] == "BlueGreenRollout")
        .map(|r| {
            (
                r.body["trigger"].as_str().unwrap_or_default().to_owned(),
                r.body["revision"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn wait_told(
    sb: &Sandbox,
    hook: &WebhookReceiver,
    path: &str,
    count: usize,
) -> Vec<Received> {
    sb.wait_for(
        &format!("{count} notifications on {path}"),
        WAIT,
        || async {
            let received: Vec<Received> = hook
                .received()
                .into_iter()
                .filter(|r| r.path == path && r.body["kind"] == "BlueGreenRollout")
                .collect();
            (received.len() >= count).then_some(received)
        },
    )
    .await
}

fn pair(trigger: &str, revision: &str) -> (String, String) {
    (trigger.to_owned(), revision.to_owned())
}

#[tokio::test]
async fn a_release_is_told_once_per_moment_across_a_restart_and_a_failing_receiver_catches_up() {
    let mut sb = Sandbox::start().await;
    let hook = WebhookReceiver::start(0).await.unwrap();
    // The Slack receiver refuses its first two attempts: retried with backoff, in order.
    hook.fail_next("/flaky", 2);
    sb.apply(&policy(&hook.address)).await.unwrap();
    sb.apply(&code_deploy_rollout(&sb.sim, "auth", MANUAL))
        .await
        .unwrap();
    sb.apply(&service_manifest(&sb.sim, "auth", "repo/auth:1"))
        .await
        .unwrap();
    wait_healthy_on(&sb, "auth", ":1").await;

    sb.apply(&service_manifest(&sb.sim, "auth", "repo/auth:2"))
        .await
        .unwrap();
    wait_rollout(&sb, "auth", "Paused", |r| {
        phase(r) == Some(RolloutPhase::Paused)
    })
    .await;
    wait_told(&sb, &hook, "/hook", 2).await;
    let revision = told(&hook.received(), "/hook")[0].1.clone();
    assert!(revision.ends_with(":2"), "{revision}");

    // A restart while the release waits for promotion: what was told is not told again.
    sb.kill_operator().await;
    sb.start_operator();
    request(&sb, "auth", "promote").await;
    wait_healthy_on(&sb, "auth", ":2").await;
    let received = wait_told(&sb, &hook, "/hook", 4).await;
    let succeeded = received.last().unwrap().body.clone();
    assert_eq!(succeeded["trigger"], "ReleaseSucceeded");
    assert_eq!(succeeded["engine"], "CodeDeploy");
    assert_eq!(succeeded["image"], "repo/auth:2");
    assert_eq!(succeeded["promoted"], "by request (kubectl ecs promote)");
    assert!(succeeded["durationSeconds"].as_i64().is_some());
    let steps: Vec<&str> = (succeeded["steps"].as_array().unwrap().iter())
        .filter_map(|s| s["trigger"].as_str())
        .collect();
    assert_eq!(
        steps,
        [
            "ReleaseStarted",
            "ReleasePaused",
            "ReleasePromoted",
            "ReleaseSucceeded"
        ],
        "the summary at the end lists the release's steps"
    );
    assert_eq!(
        succeeded["links"][0]["url"],
        "https://argocd.example/applications/default-auth"
    );
    let id = succeeded["id"].as_str().unwrap();
    assert!(
        id.starts_with(&format!("default/BlueGreenRollout/auth/{revision}@"))
            && id.ends_with("/ReleaseSucceeded"),
        "{id}"
    );

    // A release the alarm rolls back.
    sb.apply(&service_manifest(&sb.sim, "auth", "repo/auth:3"))
        .await
        .unwrap();
    wait_rollout(&sb, "auth", "Paused", |r| {
        phase(r) == Some(RolloutPhase::Paused)
    })
    .await;
    assert!(sb.sim.set_alarm_state("auth-5xx-high", "ALARM"));
    wait_degraded(&sb, "auth").await;
    wait_told(&sb, &hook, "/hook", 7).await;
    let third = told(&hook.received(), "/hook")[6].1.clone();
    assert_eq!(
        told(&hook.received(), "/hook"),
        [
            pair("ReleaseStarted", &revision),
            pair("ReleasePaused", &revision),
            pair("ReleasePromoted", &revision),
            pair("ReleaseSucceeded", &revision),
            pair("ReleaseStarted", &third),
            pair("ReleasePaused", &third),
            pair("ReleaseRolledBack", &third),
        ],
        "each moment exactly once, in order"
    );
    assert!(third.ends_with(":3"), "{third}");

    // The flaky Slack receiver got the same seven, once each, in Slack's shape.
    let flaky = sb
        .wait_for("the flaky receiver to catch up", WAIT, || async {
            let got: Vec<Received> = hook
                .received()
                .into_iter()
                .filter(|r| r.path == "/flaky")
                .collect();
            (got.len() >= 7).then_some(got)
        })
        .await;
    let texts: Vec<&str> = flaky
        .iter()
        .filter_map(|r| r.body["text"].as_str())
        .collect();
    assert_eq!(texts.len(), 7, "{texts:?}");
    assert!(texts[0].contains("releasing"), "{texts:?}");
    assert!(texts[6].contains("was rolled back"), "{texts:?}");
    let policies: Api<NotificationPolicy> = Api::namespaced(sb.client.clone(), "default");
    let status = policies.get("releases").await.unwrap().status.unwrap();
    let row = status.receivers.iter().find(|r| r.name == "flaky").unwrap();
    assert_eq!(row.failed_attempts, 2, "{row:?}");
    assert_eq!(row.delivered, 7);
    assert_eq!(row.consecutive_failures, 0);
    assert!(
        row.last_error.as_deref().unwrap().contains("http_503"),
        "{row:?}"
    );
    assert!(
        !row.last_error.as_deref().unwrap().contains("/flaky"),
        "the URL stays secret"
    );
    assert_eq!(status.delivered, 14);
    sb.shutdown().await;
}
