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

/// auth with a CodeDeploy rollout (`extra` added to its spec), healthy on its first revision.
async fn start_rollout(sb: &Sandbox, extra: &str) {
    sb.apply(&code_deploy_rollout(&sb.sim, "auth", extra))
        .await
        .unwrap();
    sb.apply(&service_manifest(&sb.sim, "auth", "repo/auth:1"))
        .await
        .unwrap();
    wait_healthy_on(sb, "auth", ":1").await;
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
    start_rollout(&sb, MANUAL).await;

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

/// An SNS policy: a standard topic, a FIFO topic, and a topic of an account the namespace is
/// not bound to.
fn sns_policy(sb: &Sandbox) -> String {
    let topic = sb.sim.topic_arn("event-booking-releases");
    let fifo = sb.sim.topic_arn("event-booking-releases.fifo");
    format!(
        r#"apiVersion: ecs-operator.dev/v1alpha1
kind: NotificationPolicy
metadata: {{name: topics, namespace: default}}
spec:
  triggers: [ReleaseStarted, ReleaseSucceeded]
  receivers:
    - name: topic
      sns: {{topicArn: "{topic}"}}
    - name: ordered
      sns: {{topicArn: "{fifo}"}}
    - name: elsewhere
      sns: {{topicArn: "arn:aws:sns:eu-west-1:210987654321:event-booking-releases"}}
"#
    )
}

/// `(trigger, kind)` attributes of each message a topic delivered about the rollout.
fn published(sb: &Sandbox, topic: &str) -> Vec<(String, String)> {
    sb.sim
        .sns_messages()
        .into_iter()
        .filter(|m| m.topic == topic && m.attributes["kind"] == "BlueGreenRollout")
        .map(|m| (m.attributes["trigger"].clone(), m.attributes["id"].clone()))
        .collect()
}

#[tokio::test]
async fn an_sns_receiver_publishes_each_moment_once_in_the_namespace_account() {
    let sb = Sandbox::start().await;
    sb.apply(&sns_policy(&sb)).await.unwrap();
    start_rollout(&sb, "").await;
    sb.apply(&service_manifest(&sb.sim, "auth", "repo/auth:2"))
        .await
        .unwrap();
    wait_healthy_on(&sb, "auth", ":2").await;
    for topic in ["event-booking-releases", "event-booking-releases.fifo"] {
        let told = sb
            .wait_for(&format!("two messages on {topic}"), WAIT, || async {
                let told = published(&sb, topic);
                (told.len() >= 2).then_some(told)
            })
            .await;
        let triggers: Vec<&str> = told.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(triggers, ["ReleaseStarted", "ReleaseSucceeded"], "{topic}");
        assert!(
            told[1].1.starts_with("default/BlueGreenRollout/auth/")
                && told[1].1.ends_with("/ReleaseSucceeded"),
            "{told:?}"
        );
    }
    let message = sb
        .sim
        .sns_messages()
        .into_iter()
        .find(|m| {
            m.topic == "event-booking-releases" && m.attributes["trigger"] == "ReleaseSucceeded"
        })
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&message.message).unwrap();
    assert_eq!(body["trigger"], "ReleaseSucceeded");
    assert_eq!(body["image"], "repo/auth:2");
    let subject = message.subject.unwrap();
    assert!(
        subject.starts_with("BlueGreenRollout default/auth"),
        "{subject}"
    );
    assert!(subject.is_ascii() && subject.len() < 100, "{subject}");

    // The topic of another account is never reached: SNS's answer is in the receiver's row,
    // and the policy is Degraded naming it; the other receivers are not held back.
    let policies: Api<NotificationPolicy> = Api::namespaced(sb.client.clone(), "default");
    let status = sb
        .wait_for("the failing receiver in status", WAIT, || async {
            let status = policies.get("topics").await.ok()?.status?;
            let row = status.receivers.iter().find(|r| r.name == "elsewhere")?;
            (row.failed_attempts > 0).then_some(status)
        })
        .await;
    let row = status
        .receivers
        .iter()
        .find(|r| r.name == "elsewhere")
        .unwrap();
    let error = row.last_error.as_deref().unwrap();
    assert!(error.starts_with("NotFound"), "{error}");
    assert_eq!(row.delivered, 0);
    let degraded = status
        .conditions
        .iter()
        .find(|c| c.type_ == "Degraded")
        .unwrap();
    assert_eq!(degraded.status, "True");
    assert!(
        degraded.message.contains("elsewhere"),
        "{}",
        degraded.message
    );
    for topic in ["event-booking-releases", "event-booking-releases.fifo"] {
        let row = status
            .receivers
            .iter()
            .find(|r| {
                r.name
                    == if topic.ends_with("fifo") {
                        "ordered"
                    } else {
                        "topic"
                    }
            })
            .unwrap();
        assert_eq!(row.delivered, 2, "{row:?}");
        assert_eq!(
            published(&sb, topic).len(),
            2,
            "exactly once each on {topic}"
        );
    }
    sb.shutdown().await;
}

/// `(trigger, revision)` of each body the hook got about the EcsService.
fn told_of_service(hook: &WebhookReceiver) -> Vec<(String, String)> {
    hook.received()
        .iter()
        .filter(|r| r.body["kind"] == "EcsService")
        .map(|r| {
            (
                r.body["trigger"].as_str().unwrap_or_default().to_owned(),
                r.body["revision"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_service_without_a_rollout_is_told_its_rolling_deployments_and_their_failure() {
    let sb = Sandbox::start().await;
    let hook = WebhookReceiver::start(0).await.unwrap();
    sb.apply(&policy(&hook.address).replace(
        "triggers: [ReleaseStarted, ReleasePaused, ReleasePromoted, ReleaseSucceeded, ReleaseRolledBack, AnalysisFailed]",
        "triggers: [ReleaseStarted, ReleaseSucceeded, ReleaseRolledBack, Stalled]",
    ))
    .await
    .unwrap();
    sb.apply(&service_manifest(&sb.sim, "auth", "repo/auth:1"))
        .await
        .unwrap();
    let wait_told = |count: usize| {
        let (sb, hook) = (&sb, &hook);
        async move {
            sb.wait_for(&format!("{count} notifications of auth"), WAIT, || async {
                let told = told_of_service(hook);
                (told.len() >= count).then_some(told)
            })
            .await
        }
    };
    wait_told(2).await;
    sb.apply(&service_manifest(&sb.sim, "auth", "repo/auth:2"))
        .await
        .unwrap();
    wait_told(4).await;
    sb.apply(&service_manifest(&sb.sim, "auth", "repo/auth:unhealthy"))
        .await
        .unwrap();
    let told = wait_told(6).await;
    let revisions: Vec<&str> = told.iter().map(|(_, r)| r.as_str()).collect();
    assert!(
        revisions[0].ends_with(":1") && revisions[2].ends_with(":2"),
        "{told:?}"
    );
    assert!(revisions[4].ends_with(":3"), "{told:?}");
    let triggers: Vec<&str> = told.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        triggers,
        [
            "ReleaseStarted",
            "ReleaseSucceeded",
            "ReleaseStarted",
            "ReleaseSucceeded",
            "ReleaseStarted",
            "ReleaseRolledBack",
        ],
        "each deployment once, in order; the failure told as a rollback, not again as a stall"
    );
    let last = hook
        .received()
        .into_iter()
        .rfind(|r| r.body["kind"] == "EcsService")
        .unwrap()
        .body;
    assert_eq!(last["engine"], "rolling");
    assert!(
        last["previousRevision"].as_str().unwrap().ends_with(":2"),
        "{last}"
    );
    // Nothing more comes of it (no Stalled after the rollback).
    let policies: Api<NotificationPolicy> = Api::namespaced(sb.client.clone(), "default");
    sb.wait_for("the policy to deliver everything", WAIT, || async {
        let status = policies.get("releases").await.ok()?.status?;
        let ready = status
            .conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True");
        ready.then_some(())
    })
    .await;
    assert_eq!(told_of_service(&hook).len(), 6);
    sb.shutdown().await;
}
