//! The notification ledger over a rollout's release, a group's release, a policy newer than
//! what it sees, filters and receivers; the bodies each receiver type gets.

use crds::BlueGreenRollout;
use crds::notification::{NotifiedObject, Trigger};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::json;

use super::ledger::{self, Audience};
use super::message::Notification;
use super::moments::{self, Facts};

fn rollout(status: serde_json::Value) -> BlueGreenRollout {
    serde_json::from_value(json!({
        "apiVersion": "ecs-operator.dev/v1alpha1",
        "kind": "BlueGreenRollout",
        "metadata": {"name": "auth", "namespace": "shop"},
        "spec": {
            "serviceRef": {"name": "auth"},
            "autoPromotionEnabled": false,
            "strategy": {"codeDeploy": {
                "serviceRoleArn": "arn:aws:iam::123456789012:role/cd",
                "targetGroupPairInfo": {
                    "targetGroups": [{"name": "auth-blue"}, {"name": "auth-green"}],
                    "prodTrafficRoute": {"listenerArns": ["arn:l"]},
                },
            }},
        },
        "status": status,
    }))
    .expect("fixture parses")
}

const TD: &str = "arn:aws:ecs:eu-west-1:123456789012:task-definition/auth";

fn healthy(revision: u32) -> serde_json::Value {
    json!({"phase": "Healthy", "stableTaskDefinitionArn": format!("{TD}:{revision}"),
           "previousStableTaskDefinitionArn": format!("{TD}:{}", revision - 1)})
}

fn releasing(state: &str) -> serde_json::Value {
    let phase = if state == "Paused" {
        "Paused"
    } else {
        "Progressing"
    };
    json!({
        "phase": phase,
        "stableTaskDefinitionArn": format!("{TD}:1"),
        "canaryTaskDefinitionArn": format!("{TD}:2"),
        "release": {"state": state, "startedAt": "2026-12-04T07:00:00Z",
                    "stateSince": "2026-12-04T07:00:00Z", "progressedAt": "2026-12-04T07:00:00Z"},
    })
}

fn at(second: i64) -> Time {
    Time(jiff::Timestamp::from_second(1_796_000_000 + second).unwrap())
}

const RECEIVERS: [&str; 2] = ["hook", "slack"];

/// One look: merges the rollout's status into `ledger`, returns the triggers newly owed, and
/// delivers them all.
fn look(ledger: &mut Vec<NotifiedObject>, status: serde_json::Value, second: i64) -> Vec<Trigger> {
    look_with(ledger, status, second, &[])
}

fn look_with(
    ledger: &mut Vec<NotifiedObject>,
    status: serde_json::Value,
    second: i64,
    wanted: &[Trigger],
) -> Vec<Trigger> {
    let r = rollout(status);
    let entry = ledger.iter().find(|e| e.stream == moments::RELEASE);
    let followed = vec![moments::rollout(&r, entry)];
    let receivers: Vec<String> = RECEIVERS.iter().map(|s| s.to_string()).collect();
    let audience = Audience {
        wanted,
        receivers: &receivers,
    };
    *ledger = ledger::merge(ledger, &followed, audience, &at(second));
    let owed = ledger::owed(ledger);
    let mut triggers: Vec<Trigger> = Vec::new();
    for o in &owed {
        if !triggers.contains(&o.trigger) {
            triggers.push(o.trigger);
        }
        ledger::delivered(ledger, o);
    }
    assert!(ledger::owed(ledger).is_empty());
    triggers
}

#[test]
fn a_release_notifies_each_moment_once_in_order() {
    let mut l = Vec::new();
    assert_eq!(
        look(&mut l, healthy(1), 0),
        [],
        "the first revision is a baseline"
    );
    assert_eq!(
        look(&mut l, releasing("Verifying"), 1),
        [Trigger::ReleaseStarted]
    );
    assert_eq!(look(&mut l, releasing("Verifying"), 2), []);
    assert_eq!(
        look(&mut l, releasing("Paused"), 3),
        [Trigger::ReleasePaused]
    );
    assert_eq!(look(&mut l, releasing("Paused"), 4), []);
    assert_eq!(
        look(&mut l, releasing("Baking"), 5),
        [Trigger::ReleasePromoted]
    );
    assert_eq!(look(&mut l, healthy(2), 6), [Trigger::ReleaseSucceeded]);
    assert_eq!(look(&mut l, healthy(2), 7), [], "a resync sends nothing");
    let release = &l.iter().find(|e| e.stream == moments::RELEASE).unwrap();
    assert_eq!(release.release, "auth:2@2026-12-04T07:00:00Z");
}

#[test]
fn moments_missed_between_two_looks_are_implied_by_the_later_one() {
    let mut l = Vec::new();
    look(&mut l, healthy(1), 0);
    assert_eq!(
        look(&mut l, releasing("Verifying"), 1),
        [Trigger::ReleaseStarted]
    );
    // Promoted and done before the next look.
    assert_eq!(
        look(&mut l, healthy(2), 2),
        [Trigger::ReleasePromoted, Trigger::ReleaseSucceeded]
    );
}

#[test]
fn a_failed_metric_and_the_rollback_are_told() {
    let mut l = Vec::new();
    look(&mut l, healthy(1), 0);
    look(&mut l, releasing("Verifying"), 1);
    let degraded = json!({
        "phase": "Degraded",
        "stableTaskDefinitionArn": format!("{TD}:1"),
        "abortedAt": "2026-12-04T07:03:00Z",
        "analysis": [{"name": "error-rate", "phase": "TestTraffic", "verdict": "Failed"}],
        "conditions": [{"type": "Stalled", "status": "True", "reason": "RolledBack", "message": "m",
                        "lastTransitionTime": "2026-12-04T07:03:00Z"}],
    });
    assert_eq!(
        look(&mut l, degraded.clone(), 2),
        [Trigger::AnalysisFailed, Trigger::ReleaseRolledBack],
        "its Stalled condition is the release's story, not a stall of its own"
    );
    assert_eq!(look(&mut l, degraded, 3), []);
}

#[test]
fn a_policy_newer_than_a_rollback_sends_nothing_of_it() {
    let mut l = Vec::new();
    let degraded = json!({"phase": "Degraded", "stableTaskDefinitionArn": format!("{TD}:1"),
                          "abortedAt": "2026-12-04T07:03:00Z"});
    assert_eq!(look(&mut l, degraded, 0), []);
    assert!(l[0].baseline);
    // The next release is followed.
    assert_eq!(
        look(&mut l, releasing("Verifying"), 1),
        [Trigger::ReleaseStarted]
    );
}

#[test]
fn triggers_the_policy_does_not_send_are_owed_to_nobody() {
    let mut l = Vec::new();
    let wanted = [Trigger::ReleaseSucceeded, Trigger::ReleaseRolledBack];
    look_with(&mut l, healthy(1), 0, &wanted);
    assert_eq!(look_with(&mut l, releasing("Paused"), 1, &wanted), []);
    assert_eq!(
        look_with(&mut l, healthy(2), 2, &wanted),
        [Trigger::ReleaseSucceeded]
    );
}

#[test]
fn a_failed_delivery_stays_owed_to_that_receiver_only() {
    let r = rollout(releasing("Verifying"));
    let followed = vec![moments::rollout(&r, None)];
    let receivers: Vec<String> = RECEIVERS.iter().map(|s| s.to_string()).collect();
    let audience = Audience {
        wanted: &[],
        receivers: &receivers,
    };
    let mut l = ledger::merge(&[], &followed, audience, &at(0));
    let owed = ledger::owed(&l);
    assert_eq!(owed.len(), 2);
    ledger::delivered(&mut l, &owed[1]);
    let left = ledger::owed(&l);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].receiver, "hook");
    // Another look owes the same, not more; a receiver removed from the spec is owed nothing.
    let l2 = ledger::merge(&l, &followed, audience, &at(1));
    assert_eq!(ledger::owed(&l2), left);
    let only_slack = ["slack".to_owned()];
    let l3 = ledger::merge(
        &l,
        &followed,
        Audience {
            wanted: &[],
            receivers: &only_slack,
        },
        &at(2),
    );
    assert!(ledger::owed(&l3).is_empty());
}

#[test]
fn a_rollout_deleted_is_forgotten() {
    let r = rollout(releasing("Verifying"));
    let followed = vec![moments::rollout(&r, None)];
    let receivers = vec!["hook".to_owned()];
    let audience = Audience {
        wanted: &[],
        receivers: &receivers,
    };
    let l = ledger::merge(&[], &followed, audience, &at(0));
    assert_eq!(
        l.len(),
        1,
        "the release story; no stall, nothing remembered of it"
    );
    assert!(ledger::merge(&l, &[], audience, &at(1)).is_empty());
}

fn notification(trigger: Trigger) -> Notification {
    Notification {
        id: "shop/BlueGreenRollout/auth/auth:2@t/ReleaseSucceeded".into(),
        trigger,
        kind: "BlueGreenRollout".into(),
        namespace: "shop".into(),
        name: "auth".into(),
        facts: Facts {
            service: "auth".into(),
            revision: Some("auth:2".into()),
            previous_revision: Some("auth:1".into()),
            engine: Some("CodeDeploy".into()),
            message: Some("said \"no\"".into()),
            ..Facts::default()
        },
        at: "2026-12-04T07:05:00Z".into(),
        duration_seconds: Some(192),
        links: vec![("Argo CD".into(), "https://argo/shop-auth".into())],
        steps: vec![
            (Trigger::ReleaseStarted, "2026-12-04T07:01:48Z".into()),
            (Trigger::ReleaseSucceeded, "2026-12-04T07:05:00Z".into()),
        ],
    }
}

#[test]
fn each_receiver_type_gets_its_own_shape() {
    let n = notification(Trigger::ReleaseSucceeded);
    assert_eq!(
        n.summary(),
        "BlueGreenRollout shop/auth: auth:2 serves production after 3m12s"
    );
    let body = n.json();
    assert_eq!(body["trigger"], "ReleaseSucceeded");
    assert_eq!(body["revision"], "auth:2");
    assert_eq!(body["durationSeconds"], 192);
    assert_eq!(body["steps"][0]["trigger"], "ReleaseStarted");
    assert_eq!(body["steps"][1]["at"], "2026-12-04T07:05:00Z");
    assert_eq!(body["links"][0]["url"], "https://argo/shop-auth");
    let slack = n.slack();
    assert_eq!(slack["text"], n.summary());
    assert!(
        slack["blocks"][2]["elements"][0]["text"]
            .as_str()
            .unwrap()
            .contains("<https://argo/shop-auth|Argo CD>")
    );
    let teams = n.teams();
    assert_eq!(teams["@type"], "MessageCard");
    assert_eq!(
        teams["potentialAction"][0]["targets"][0]["uri"],
        "https://argo/shop-auth"
    );
    let rolled = notification(Trigger::ReleaseRolledBack);
    assert_eq!(
        rolled.summary(),
        "BlueGreenRollout shop/auth: auth:2 was rolled back after 3m12s; auth:1 serves production"
    );
}

#[test]
fn a_template_gets_fields_escaped_for_json() {
    let n = notification(Trigger::AnalysisFailed);
    let out = n.render(r#"{"text": "{{summary}}", "rev": "{{ revision }}", "none": "{{nope}}"}"#);
    let parsed: serde_json::Value = serde_json::from_str(&out).expect("still JSON");
    assert_eq!(
        parsed["text"],
        "BlueGreenRollout shop/auth: analysis failed for auth:2: said \"no\""
    );
    assert_eq!(parsed["rev"], "auth:2");
    assert_eq!(parsed["none"], "");
}

#[test]
fn an_sns_message_carries_filterable_attributes_and_a_fifo_topic_deduplicates() {
    let n = notification(Trigger::ReleaseSucceeded);
    let topic = "arn:aws:sns:eu-west-1:123456789012:releases";
    let standard = super::deliver::publish_input(topic, false, &n);
    assert_eq!(standard.topic_arn, topic);
    assert_eq!(standard.subject.as_deref(), Some(n.summary().as_str()));
    let body: serde_json::Value = serde_json::from_str(&standard.message).unwrap();
    assert_eq!(body, n.json());
    let attribute = |name: &str| {
        (standard.attributes.iter())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(attribute("trigger"), Some("ReleaseSucceeded"));
    assert_eq!(attribute("id"), Some(n.id.as_str()));
    assert_eq!(attribute("kind"), Some("BlueGreenRollout"));
    assert_eq!(
        (standard.message_group_id, standard.message_deduplication_id),
        (None, None),
        "a standard topic refuses both"
    );

    let fifo = super::deliver::publish_input(&format!("{topic}.fifo"), true, &n);
    assert_eq!(
        fifo.message_group_id.as_deref(),
        Some("shop/BlueGreenRollout/auth")
    );
    let dedup = fifo.message_deduplication_id.unwrap();
    assert_eq!(dedup.len(), 64, "a SHA-256 in hex: SNS takes at most 128");
    let again = super::deliver::publish_input(&format!("{topic}.fifo"), true, &n);
    assert_eq!(
        again.message_deduplication_id.as_deref(),
        Some(dedup.as_str())
    );
    let mut rolled_back = notification(Trigger::ReleaseRolledBack);
    rolled_back.id = "shop/BlueGreenRollout/auth/auth:2@t/ReleaseRolledBack".into();
    let other = super::deliver::publish_input(&format!("{topic}.fifo"), true, &rolled_back);
    assert_ne!(
        other.message_deduplication_id.as_deref(),
        Some(dedup.as_str()),
        "another notification is not dropped as a repeat"
    );
}

/// An EcsService without a rollout, its status with this deployment and conditions.
fn rolling(deployment: serde_json::Value, stalled: Option<&str>) -> crds::EcsService {
    let mut conditions = vec![];
    if let Some(reason) = stalled {
        conditions.push(
            json!({"type": "Stalled", "status": "True", "reason": reason,
            "message": "revision auth:3 failed: tasks failed to start", "observedGeneration": 3,
            "lastTransitionTime": "2026-12-04T07:00:00Z"}),
        );
    }
    serde_json::from_value(json!({
        "apiVersion": "ecs-operator.dev/v1alpha1",
        "kind": "EcsService",
        "metadata": {"name": "auth", "namespace": "shop"},
        "spec": {"cluster": "shop", "taskDefinition": {"family": "auth", "containerDefinitions": []}},
        "status": {"lastGoodTaskDefinitionArn": format!("{TD}:1"), "deployment": deployment,
                   "conditions": conditions},
    }))
    .expect("fixture parses")
}

fn deployment(id: &str, revision: u32, state: &str) -> serde_json::Value {
    json!({"id": id, "rolloutState": state, "taskDefinitionArn": format!("{TD}:{revision}")})
}

/// One look at a rolling EcsService: (release triggers newly owed, whether a stall is owed).
fn look_rolling(
    ledger: &mut Vec<NotifiedObject>,
    s: &crds::EcsService,
    second: i64,
) -> Vec<Trigger> {
    let entry = ledger.iter().find(|e| e.stream == moments::RELEASE);
    let followed = vec![moments::service(s, entry, false)];
    let receivers = vec!["hook".to_owned()];
    let audience = Audience {
        wanted: &[],
        receivers: &receivers,
    };
    *ledger = ledger::merge(ledger, &followed, audience, &at(second));
    let owed = ledger::owed(ledger);
    for o in &owed {
        ledger::delivered(ledger, o);
    }
    owed.iter().map(|o| o.trigger).collect()
}

#[test]
fn a_rolling_service_without_a_rollout_tells_its_deployments() {
    let mut l = Vec::new();
    let steady = rolling(deployment("ecs-svc/1", 1, "COMPLETED"), None);
    assert_eq!(look_rolling(&mut l, &steady, 0), [], "a baseline");
    let started = rolling(deployment("ecs-svc/2", 2, "IN_PROGRESS"), None);
    assert_eq!(look_rolling(&mut l, &started, 1), [Trigger::ReleaseStarted]);
    assert_eq!(look_rolling(&mut l, &started, 2), []);
    let done = rolling(deployment("ecs-svc/2", 2, "COMPLETED"), None);
    assert_eq!(look_rolling(&mut l, &done, 3), [Trigger::ReleaseSucceeded]);
    assert_eq!(look_rolling(&mut l, &done, 4), [], "a resync sends nothing");

    // A deployment that fails: told rolled back once, never again as a stall, even after the
    // service's deployment is the one that went back.
    let failing = rolling(deployment("ecs-svc/3", 3, "IN_PROGRESS"), None);
    assert_eq!(look_rolling(&mut l, &failing, 5), [Trigger::ReleaseStarted]);
    let failed = rolling(
        deployment("ecs-svc/3", 3, "FAILED"),
        Some("DeploymentFailed"),
    );
    assert_eq!(
        look_rolling(&mut l, &failed, 6),
        [Trigger::ReleaseRolledBack]
    );
    let back = rolling(
        deployment("ecs-svc/4", 2, "COMPLETED"),
        Some("DeploymentFailed"),
    );
    assert_eq!(look_rolling(&mut l, &back, 7), []);
    assert_eq!(look_rolling(&mut l, &back, 8), []);
    let release = l.iter().find(|e| e.stream == moments::RELEASE).unwrap();
    assert_eq!(release.release, "auth:3@ecs-svc/3");

    // A service a rollout releases tells only its stalls.
    let told = moments::service(&started, None, true);
    assert_eq!(told.stories[0], (moments::RELEASE, moments::Seen::Unknown));
}
