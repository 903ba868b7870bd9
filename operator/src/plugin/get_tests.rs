//! The `kubectl ecs get` table: a ReleaseGroup member's RELEASE cell, the group rows and the
//! NotificationPolicy rows.

use super::*;
use crds::release_group::{
    MemberPhase, MemberStatus, ReleaseFailure, ReleaseGroupStatus, ReleasePhase,
};

fn service(name: &str, group: Option<&str>) -> EcsService {
    let mut svc = EcsService::new(name, Default::default());
    svc.metadata.namespace = Some("shop".into());
    if let Some(group) = group {
        svc.metadata.labels = Some([(RELEASE_GROUP_LABEL.to_owned(), group.to_owned())].into());
    }
    svc
}

fn group() -> ReleaseGroup {
    let mut g = ReleaseGroup::new("platform", Default::default());
    g.metadata.namespace = Some("shop".into());
    g.status = Some(ReleaseGroupStatus {
        release: Some("2.0".into()),
        phase: Some(ReleasePhase::RolledBack),
        failure: Some(ReleaseFailure {
            release: "2.0".into(),
            member: "payment".into(),
            reason: "circuit breaker".into(),
        }),
        members: vec![MemberStatus {
            name: "auth".into(),
            release: Some("2.0".into()),
            phase: MemberPhase::RolledBack,
            revision: Some("auth:1".into()),
            previous_revision: Some("auth:1".into()),
            message: None,
        }],
        ..ReleaseGroupStatus::default()
    });
    g
}

#[test]
fn members_show_their_group_release_and_phase() {
    let services = [
        service("auth", Some("platform")),
        service("ticket", Some("platform")),
        service("solo", None),
    ];
    let rows = rows(&services, &[], &[], &[group()]);
    let cells: Vec<&str> = rows.iter().map(|r| r.release.as_str()).collect();
    assert_eq!(cells, ["platform@2.0 RolledBack", "platform Pending", "-"]);
    assert!(
        render(&rows, true)
            .lines()
            .next()
            .unwrap()
            .ends_with("RELEASE")
    );
}

#[test]
fn groups_show_their_release_phase_and_failure() {
    let rows = group_rows(&[group()]);
    assert_eq!(
        rows[0],
        [
            "shop",
            "platform",
            "-",
            "2.0",
            "RolledBack",
            "payment: circuit breaker"
        ]
        .map(String::from)
    );
    let table = render_groups(&rows);
    assert!(table.starts_with("NAMESPACE   RELEASEGROUP"), "{table}");
    assert!(table.contains("payment: circuit breaker"), "{table}");
}

#[test]
fn notification_policies_show_their_receivers_and_which_fail() {
    use crds::notification::{NotificationPolicyStatus, ReceiverStatus};
    let mut p: NotificationPolicy = serde_json::from_value(serde_json::json!({
        "apiVersion": "ecs-operator.dev/v1alpha1",
        "kind": "NotificationPolicy",
        "metadata": {"name": "releases", "namespace": "shop"},
        "spec": {"receivers": [
            {"name": "hook", "webhook": {"urlSecretRef": {"name": "hooks", "key": "url"}}},
            {"name": "topic", "sns": {"topicArn": "arn:aws:sns:eu-west-1:123456789012:releases"}},
        ]},
    }))
    .expect("fixture parses");
    p.status = Some(NotificationPolicyStatus {
        delivered: 7,
        receivers: vec![
            ReceiverStatus {
                name: "hook".into(),
                delivered: 7,
                ..ReceiverStatus::default()
            },
            ReceiverStatus {
                name: "topic".into(),
                consecutive_failures: 2,
                last_error: Some("NotFound (HTTP 404): Topic does not exist".into()),
                ..ReceiverStatus::default()
            },
        ],
        ..NotificationPolicyStatus::default()
    });
    let rows = policy_rows(&[p]);
    assert_eq!(
        rows[0],
        [
            "shop",
            "releases",
            "-",
            "hook,topic",
            "7",
            "topic: NotFound (HTTP 404): Topic does not exist"
        ]
        .map(String::from)
    );
    let table = render_policies(&rows);
    assert!(
        table.starts_with("NAMESPACE   NOTIFICATIONPOLICY"),
        "{table}"
    );
}
