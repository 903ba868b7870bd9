//! The group's verdict from its members' statuses: the release followed, the failed member,
//! each member's phase, and the group's phase through a release that fails at its fourth member.

use super::*;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

fn cond(type_: &str, status: bool, reason: &str, message: &str) -> Condition {
    Condition {
        type_: type_.into(),
        status: if status { "True" } else { "False" }.into(),
        reason: reason.into(),
        message: message.into(),
        observed_generation: Some(1),
        last_transition_time: Time(jiff::Timestamp::UNIX_EPOCH),
    }
}

fn member(name: &str, deps: &[&str], release: &str, state: &str) -> Member {
    let (ready, reason, degraded) = match state {
        "released" => (true, "Deployed", false),
        "deploying" => (false, "DeploymentInProgress", false),
        "waiting" => (false, "WaitingForDependencies", false),
        "failed" => (false, "RolloutFailed", true),
        "rolling-back" => (false, "RollingBackRelease", false),
        "rolled-back" => (false, "ReleaseRolledBack", false),
        other => panic!("{other}"),
    };
    let revision = if state == "rolled-back" || state == "waiting" || state == "failed" {
        format!("arn:aws:ecs:eu-west-1:1:task-definition/{name}:1")
    } else {
        format!("arn:aws:ecs:eu-west-1:1:task-definition/{name}:2")
    };
    Member {
        name: name.into(),
        release: Some(release.into()),
        depends_on: deps.iter().map(|d| d.to_string()).collect(),
        current: true,
        conditions: vec![
            cond("Ready", ready, reason, "message"),
            cond("Degraded", degraded, reason, "smoke test answered 500"),
        ],
        revision: Some(revision),
        previous: Some(format!("arn:aws:ecs:eu-west-1:1:task-definition/{name}:1")),
    }
}

fn platform(states: [&str; 5]) -> Vec<Member> {
    vec![
        member("payment", &["ticket"], "r2", states[3]),
        member("auth", &[], "r2", states[0]),
        member("ticket", &["event"], "r2", states[2]),
        member("notification", &[], "r2", states[4]),
        member("event", &["auth"], "r2", states[1]),
    ]
}

fn now() -> Time {
    Time(jiff::Timestamp::from_second(1_800_000_000).unwrap())
}

fn step(prev: &ReleaseGroupStatus, members: Vec<Member>) -> Plan {
    let mut p = plan(&ReleaseGroupSpec::default(), prev, members, now());
    p.status.conditions.clear();
    p
}

#[test]
fn members_are_ordered_by_depends_on_then_name() {
    let p = step(&ReleaseGroupStatus::default(), platform(["released"; 5]));
    let names: Vec<&str> = p.status.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["auth", "event", "notification", "ticket", "payment"]
    );
    assert_eq!(p.status.phase, Some(ReleasePhase::Succeeded));
    assert_eq!(p.status.release.as_deref(), Some("r2"));
}

#[test]
fn a_release_failing_at_its_fourth_member_rolls_every_member_back() {
    let started = step(
        &ReleaseGroupStatus::default(),
        platform(["released", "deploying", "waiting", "waiting", "deploying"]),
    );
    assert_eq!(started.status.phase, Some(ReleasePhase::Progressing));
    assert_eq!(started.events[0].reason, "ReleaseStarted");
    let failed = step(
        &started.status,
        platform(["released", "released", "released", "failed", "released"]),
    );
    let failure = failed.status.failure.clone().expect("a failure");
    assert_eq!(
        (failure.release.as_str(), failure.member.as_str()),
        ("r2", "payment")
    );
    assert_eq!(failure.reason, "smoke test answered 500");
    assert_eq!(failed.status.phase, Some(ReleasePhase::RollingBack));
    let reasons: Vec<&str> = failed.events.iter().map(|e| e.reason).collect();
    assert_eq!(reasons, ["MemberFailed", "ReleaseRollingBack"]);
    let degraded = failed
        .conditions
        .iter()
        .find(|c| c.type_ == "Degraded")
        .unwrap();
    assert!(degraded.status && degraded.message.contains("payment"));
    // The verdict stays while the members go back, whatever their conditions say then.
    let going = step(
        &failed.status,
        platform([
            "rolling-back",
            "rolled-back",
            "rolling-back",
            "failed",
            "rolled-back",
        ]),
    );
    assert_eq!(going.status.failure, failed.status.failure);
    assert_eq!(going.status.phase, Some(ReleasePhase::RollingBack));
    assert!(going.events.is_empty());
    let done = step(
        &going.status,
        platform([
            "rolled-back",
            "rolled-back",
            "rolled-back",
            "failed",
            "rolled-back",
        ]),
    );
    assert_eq!(done.status.phase, Some(ReleasePhase::RolledBack));
    assert_eq!(done.events[0].reason, "ReleaseRolledBack");
    let stalled = done
        .conditions
        .iter()
        .find(|c| c.type_ == "Stalled")
        .unwrap();
    assert!(stalled.status && stalled.message.contains("payment"));
    // Recomputed from the same inputs (a lost status write), nothing changes.
    let again = step(
        &done.status,
        platform([
            "rolled-back",
            "rolled-back",
            "rolled-back",
            "failed",
            "rolled-back",
        ]),
    );
    assert_eq!(again.status, done.status);
    assert!(again.events.is_empty());
}

#[test]
fn a_new_release_id_starts_over_and_an_old_one_does_not_pull_back() {
    let done = step(
        &ReleaseGroupStatus::default(),
        platform([
            "rolled-back",
            "rolled-back",
            "rolled-back",
            "failed",
            "rolled-back",
        ]),
    );
    assert!(done.status.failure.is_some());
    let mut members = platform(["deploying", "waiting", "waiting", "waiting", "deploying"]);
    for m in members.iter_mut().filter(|m| m.name != "notification") {
        m.release = Some("r3".into());
    }
    let next = step(&done.status, members.clone());
    assert_eq!(next.status.release.as_deref(), Some("r3"));
    assert_eq!(next.status.failure, None);
    let notification = next
        .status
        .members
        .iter()
        .find(|m| m.name == "notification")
        .unwrap();
    assert_eq!(notification.phase, MemberPhase::NotInRelease);
    // A member still carrying r2 does not move the group back to r2.
    let later = step(&next.status, members);
    assert_eq!(later.status.release.as_deref(), Some("r3"));
}

#[test]
fn with_rollback_failed_the_others_keep_their_release() {
    let spec = ReleaseGroupSpec {
        on_failure: OnFailure::RollbackFailed,
    };
    let p = plan(
        &spec,
        &ReleaseGroupStatus::default(),
        platform(["released", "released", "released", "failed", "released"]),
        now(),
    );
    assert_eq!(p.status.phase, Some(ReleasePhase::Failed));
    assert_eq!(
        p.status.failure.map(|f| f.member).as_deref(),
        Some("payment")
    );
}
