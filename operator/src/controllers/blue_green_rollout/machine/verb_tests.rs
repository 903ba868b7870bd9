//! The verbs and what a newer revision does to a release in flight: rollback, retry and
//! promote requests with and without a release, a new revision queued past the gate and
//! replacing the release before it.

use super::tests::*;
use super::*;
use crds::rollout::{ReleaseState as S, RolloutPhase as P};

#[test]
fn verbs_without_a_release_and_in_priority_order() {
    let mut i = inputs(0, EngineView::None);
    i.desired = Some(rev(1));
    i.verbs = vec![Verb::Promote, Verb::Abort];
    let t = step(&stable(), &gates(), &i);
    assert_eq!(reasons(&t), ["NothingToAbort", "NothingToPromote"]);
    assert_eq!(t.handled, [Verb::Abort, Verb::Promote]);
    // Abort wins over a promote requested at the same time.
    let mut i = inputs(1, gate());
    i.verbs = vec![Verb::Promote, Verb::Abort];
    let t = step(&in_state(S::Paused), &gates(), &i);
    assert_eq!(state(&t), Some(S::Aborting));
    // rollback in flight is an abort.
    let mut i = inputs(1, gate());
    i.verbs = vec![Verb::Rollback];
    let t = step(&in_state(S::Baking), &gates(), &i);
    assert_eq!(
        t.memory.release.unwrap().abort_reason.as_deref(),
        Some("rollback requested")
    );
}

#[test]
fn rollback_when_healthy_releases_the_previous_stable_revision() {
    let mut m = stable();
    m.stable = Some(rev(2));
    m.previous_stable = Some(rev(1).task_definition_arn);
    let mut i = inputs(0, EngineView::None);
    i.verbs = vec![Verb::Rollback];
    let t = step(&m, &gates(), &i);
    let r = t.memory.release.clone().unwrap();
    assert!(r.rollback);
    assert!(r.promoted, "a rollback passes the gate without checks");
    assert_eq!(r.target.task_definition_arn, rev(1).task_definition_arn);
    assert_eq!(t.memory.bad_hash.as_deref(), Some("h2"));
    assert_eq!(reasons(&t), ["RollbackStarted"]);
    assert_eq!(r.state, S::Starting);
    assert_eq!(
        t.action, None,
        "the rollback is recorded before its deployment is created"
    );
    let next = step(&t.memory, &gates(), &inputs(1, EngineView::None));
    assert_eq!(
        next.action,
        Some(Action::StartDeployment {
            task_definition_arn: rev(1).task_definition_arn
        })
    );
    let mut done = t.memory.clone();
    done.release.as_mut().unwrap().state = S::Baking;
    let t = step(&done, &gates(), &inputs(9, EngineView::Succeeded));
    assert_eq!(
        t.memory.stable.as_ref().unwrap().task_definition_arn,
        rev(1).task_definition_arn
    );
    assert_eq!(
        t.memory.bad_hash.as_deref(),
        Some("h2"),
        "GitOps stays in sync"
    );
    assert_eq!(reasons(&t), ["RollbackCompleted"]);
    let mut none = stable();
    none.previous_stable = None;
    let mut i = inputs(0, EngineView::None);
    i.desired = Some(rev(1));
    i.verbs = vec![Verb::Rollback];
    assert_eq!(reasons(&step(&none, &gates(), &i)), ["NothingToRollBackTo"]);
}

#[test]
fn a_new_desired_revision_waits_for_the_release_in_flight() {
    let mut i = inputs(
        1,
        EngineView::Shifting {
            step: "AllowTraffic".into(),
        },
    );
    i.desired = Some(rev(3));
    let t = step(&in_state(S::Promoting), &gates(), &i);
    assert_eq!(t.memory.release.as_ref().unwrap().target, rev(2));
    let mut i = inputs(2, EngineView::Succeeded);
    i.desired = Some(rev(3));
    let t = step(&t.memory, &gates(), &i);
    assert_eq!(t.memory.stable, Some(rev(2)));
    let t = step(&t.memory, &gates(), &{
        let mut i = inputs(3, EngineView::None);
        i.desired = Some(rev(3));
        i
    });
    assert_eq!(
        t.memory.release.unwrap().target,
        rev(3),
        "then the queued one"
    );
}

#[test]
fn a_new_revision_before_the_gate_replaces_the_release_without_failing_it() {
    let mut i = inputs(1, EngineView::AtGate { hook_id: None });
    i.desired = Some(rev(3));
    let t = step(&in_state(S::Paused), &gates(), &i);
    let r = t.memory.release.clone().unwrap();
    assert_eq!(r.state, S::Aborting);
    assert!(r.superseded);
    assert_eq!(
        t.action,
        Some(Action::Stop {
            reason: r.abort_reason.clone().unwrap()
        })
    );
    // Rolled back: not a failure, so the rollout is not Degraded and 2 may come back later.
    let mut i = inputs(
        2,
        EngineView::RolledBack {
            reason: "stopped".into(),
        },
    );
    i.desired = Some(rev(3));
    let t = step(&t.memory, &gates(), &i);
    assert_eq!(t.memory.release, None);
    assert_eq!(
        (t.memory.bad_hash.clone(), t.memory.failure.clone()),
        (None, None)
    );
    assert_eq!(reasons(&t), ["ReleaseSuperseded"]);
    assert_eq!(phase(&t.memory, Some(&rev(3))), P::Healthy);
    // Then the newer revision is released.
    let mut i = inputs(3, EngineView::None);
    i.desired = Some(rev(3));
    let t = step(&t.memory, &gates(), &i);
    assert_eq!(t.memory.release.unwrap().target, rev(3));
    // A release that was not started yet is replaced at once.
    let mut i = inputs(1, EngineView::None);
    i.desired = Some(rev(3));
    let t = step(&in_state(S::Starting), &gates(), &i);
    assert_eq!(t.memory.release, None);
    assert_eq!(t.action, None, "nothing deployed, nothing to stop");
}
