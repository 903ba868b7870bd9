//! Every phase and transition of the rollout state machine, with time injected: idle (adopt,
//! start, degraded, retry, rollback), each release state against each engine view, the gates
//! (checks, auto-promotion, alarms, deadline) and the verbs.

use super::*;
use crds::rollout::{ReleaseState as S, RolloutPhase as P};

pub(super) fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_770_000_000 + secs).unwrap()
}

pub(super) fn rev(n: u32) -> Revision {
    Revision {
        task_definition_arn: format!("arn:aws:ecs:eu-west-1:1:task-definition/app:{n}"),
        content_hash: Some(format!("h{n}")),
    }
}

pub(super) fn gates() -> Gates {
    Gates {
        auto_promotion_enabled: true,
        auto_promotion_seconds: 0,
        checks: vec![CheckSpec {
            path: "/health".into(),
            expected_status: 200,
            interval_secs: 10,
            count: 2,
        }],
        metrics: Vec::new(),
        progress_deadline_secs: 600,
    }
}

pub(super) fn inputs(now: i64, engine: EngineView) -> Inputs {
    Inputs {
        now: at(now),
        desired: Some(rev(2)),
        live: Some(rev(1).task_definition_arn),
        engine,
        alarms_firing: Vec::new(),
        alarms_missing: Vec::new(),
        probes: Vec::new(),
        measurements: Vec::new(),
        verbs: Vec::new(),
    }
}

pub(super) fn stable() -> Memory {
    Memory {
        stable: Some(rev(1)),
        ..Memory::default()
    }
}

/// Stable on 1, releasing 2 in `state` since t=0.
pub(super) fn in_state(state: S) -> Memory {
    let mut m = stable();
    m.release = Some(Release {
        state,
        target: rev(2),
        started_at: at(0),
        state_since: at(0),
        progressed_at: at(0),
        step: None,
        rollback: false,
        promoted: false,
        full: false,
        bake_skipped: false,
        superseded: false,
        abort_reason: None,
        stop_sent: false,
        checks: Vec::new(),
        pause_reason: None,
    });
    m
}

pub(super) fn state(t: &Transition) -> Option<S> {
    t.memory.release.as_ref().map(|r| r.state)
}

pub(super) fn reasons(t: &Transition) -> Vec<&'static str> {
    t.events.iter().map(|e| e.reason.as_str()).collect()
}

pub(super) fn progressing(step: &str) -> EngineView {
    EngineView::Progressing { step: step.into() }
}

pub(super) fn gate() -> EngineView {
    EngineView::AtGate {
        hook_id: Some("hook-1".into()),
    }
}

pub(super) fn cont() -> Option<Action> {
    Some(Action::Continue {
        hook_id: Some("hook-1".into()),
    })
}

#[test]
fn idle_adopts_the_live_revision_then_starts_a_release_of_the_desired_one() {
    let mut i = inputs(0, EngineView::None);
    i.desired = Some(rev(1));
    let t = step(&Memory::default(), &gates(), &i);
    assert_eq!(t.memory.stable, Some(rev(1)));
    assert_eq!(phase(&t.memory, i.desired.as_ref()), P::Healthy);
    assert_eq!(t.action, None);

    let t = step(&stable(), &gates(), &inputs(0, EngineView::None));
    assert_eq!(state(&t), Some(S::Starting));
    assert_eq!(
        t.action, None,
        "the release is recorded before anything is created"
    );
    assert_eq!(reasons(&t), ["ReleaseStarted"]);
    assert_eq!(phase(&t.memory, Some(&rev(2))), P::Progressing);
}

#[test]
fn a_bad_hash_is_not_released_again_until_retry() {
    let mut m = stable();
    m.bad_hash = Some("h2".into());
    m.failure = Some("HTTP check failed".into());
    let t = step(&m, &gates(), &inputs(0, EngineView::None));
    assert_eq!(state(&t), None);
    assert_eq!(phase(&t.memory, Some(&rev(2))), P::Degraded);
    // A new revision (new hash) goes out.
    let mut i = inputs(0, EngineView::None);
    i.desired = Some(rev(3));
    assert_eq!(state(&step(&m, &gates(), &i)), Some(S::Starting));
    // retry forgets the bad hash and releases 2 again.
    let mut i = inputs(0, EngineView::None);
    i.verbs = vec![Verb::Retry];
    let t = step(&m, &gates(), &i);
    assert_eq!(t.memory.bad_hash, None);
    assert_eq!(state(&t), Some(S::Starting));
    assert_eq!(t.handled, [Verb::Retry]);
}

#[test]
fn starting_creates_the_deployment_or_adopts_an_existing_one() {
    let t = step(
        &in_state(S::Starting),
        &gates(),
        &inputs(1, EngineView::None),
    );
    assert_eq!(
        t.action,
        Some(Action::StartDeployment {
            task_definition_arn: rev(2).task_definition_arn
        })
    );
    assert_eq!(state(&t), Some(S::Deploying));
    // After a restart the deployment may already exist: no second one.
    let t = step(
        &in_state(S::Starting),
        &gates(),
        &inputs(1, progressing("Install")),
    );
    assert_eq!(t.action, None);
    assert_eq!(state(&t), Some(S::Deploying));
    let t = step(
        &in_state(S::Starting),
        &gates(),
        &inputs(1, EngineView::Pending),
    );
    assert_eq!((t.action.clone(), state(&t)), (None, Some(S::Deploying)));
}

#[test]
fn deploying_follows_the_engine_to_the_gate() {
    let t = step(
        &in_state(S::Deploying),
        &gates(),
        &inputs(5, progressing("SCALE_UP")),
    );
    let r = t.memory.release.as_ref().unwrap();
    assert_eq!((r.state, r.progressed_at), (S::Deploying, at(5)));
    assert_eq!(r.step.as_deref(), Some("SCALE_UP"));

    let t = step(&in_state(S::Deploying), &gates(), &inputs(5, gate()));
    assert_eq!(state(&t), Some(S::Verifying));
    assert_eq!(reasons(&t), ["GateReached"]);
    assert_eq!(t.action, None);

    let t = step(
        &in_state(S::Deploying),
        &gates(),
        &inputs(5, EngineView::None),
    );
    assert_eq!(
        state(&t),
        Some(S::Starting),
        "a vanished deployment starts again"
    );
    assert_eq!(reasons(&t), ["DeploymentMissing"]);

    let shifting = EngineView::Shifting {
        step: "AllowTraffic".into(),
    };
    let t = step(&in_state(S::Deploying), &gates(), &inputs(5, shifting));
    assert_eq!(state(&t), Some(S::Promoting), "continued by someone else");
    let t = step(
        &in_state(S::Deploying),
        &gates(),
        &inputs(5, EngineView::Baking { can_skip: true }),
    );
    assert_eq!(state(&t), Some(S::Baking));
}

#[test]
fn an_early_promote_passes_the_gate_without_checks() {
    let mut i = inputs(2, progressing("SCALE_UP"));
    i.verbs = vec![Verb::Promote];
    let t = step(&in_state(S::Deploying), &gates(), &i);
    assert!(t.memory.release.as_ref().unwrap().promoted);
    let t = step(&t.memory, &gates(), &inputs(3, gate()));
    assert_eq!(state(&t), Some(S::Promoting));
    assert_eq!(t.action, cont());
    assert!(due_checks(&t.memory, &gates(), at(3)).is_empty());
}

#[test]
fn http_checks_run_at_their_interval_until_enough_passed_then_promote() {
    let m = step(&in_state(S::Deploying), &gates(), &inputs(0, gate())).memory;
    assert_eq!(due_checks(&m, &gates(), at(0)), [0]);
    let mut i = inputs(0, gate());
    i.probes = vec![(0, true, "200".into())];
    let t = step(&m, &gates(), &i);
    assert_eq!((state(&t), t.action.clone()), (Some(S::Verifying), None));
    assert_eq!(t.next_check, Some(at(10)));
    assert!(due_checks(&t.memory, &gates(), at(9)).is_empty());
    assert_eq!(due_checks(&t.memory, &gates(), at(10)), [0]);
    let mut i = inputs(10, gate());
    i.probes = vec![(0, true, "200".into())];
    let t = step(&t.memory, &gates(), &i);
    assert_eq!(state(&t), Some(S::Promoting));
    assert_eq!(t.action, cont());
    assert_eq!(t.memory.release.unwrap().checks[0].passed, 2);
}

#[test]
fn auto_promotion_waits_its_seconds_after_the_checks() {
    let g = Gates {
        auto_promotion_seconds: 60,
        checks: Vec::new(),
        metrics: Vec::new(),
        ..gates()
    };
    let m = step(&in_state(S::Deploying), &g, &inputs(0, gate())).memory;
    let t = step(&m, &g, &inputs(30, gate()));
    assert_eq!((state(&t), t.action.clone()), (Some(S::Verifying), None));
    assert_eq!(t.next_check, Some(at(60)));
    let t = step(&t.memory, &g, &inputs(60, gate()));
    assert_eq!((state(&t), t.action), (Some(S::Promoting), cont()));
}

#[test]
fn a_failed_check_aborts_and_stops_the_deployment() {
    let m = step(&in_state(S::Deploying), &gates(), &inputs(0, gate())).memory;
    let mut i = inputs(1, gate());
    i.probes = vec![(0, false, "GET /health answered 500".into())];
    let t = step(&m, &gates(), &i);
    assert_eq!(state(&t), Some(S::Aborting));
    let Some(Action::Stop { reason }) = &t.action else {
        panic!("{:?}", t.action)
    };
    assert!(
        reason.contains("/health") && reason.contains("500"),
        "{reason}"
    );
    assert_eq!(phase(&t.memory, Some(&rev(2))), P::Degraded);
    assert!(t.memory.release.unwrap().stop_sent);
}

#[test]
fn manual_promotion_pauses_until_promote_and_has_no_deadline() {
    let g = Gates {
        auto_promotion_enabled: false,
        checks: Vec::new(),
        metrics: Vec::new(),
        ..gates()
    };
    let m = step(&in_state(S::Deploying), &g, &inputs(0, gate())).memory;
    let t = step(&m, &g, &inputs(1, gate()));
    assert_eq!(state(&t), Some(S::Paused));
    assert_eq!(phase(&t.memory, None), P::Paused);
    assert_eq!(reasons(&t), ["WaitingForPromotion"]);
    let t = step(&t.memory, &g, &inputs(100_000, gate()));
    assert_eq!((state(&t), t.action.clone()), (Some(S::Paused), None));
    let mut i = inputs(100_001, gate());
    i.verbs = vec![Verb::Promote];
    let t = step(&t.memory, &g, &i);
    assert_eq!((state(&t), t.action), (Some(S::Promoting), cont()));
}

#[test]
fn promoting_resends_continue_at_the_gate_and_follows_traffic_to_baking() {
    let t = step(&in_state(S::Promoting), &gates(), &inputs(1, gate()));
    assert_eq!(t.action, cont());
    let shifting = EngineView::Shifting {
        step: "PRODUCTION_TRAFFIC_SHIFT".into(),
    };
    let t = step(&in_state(S::Promoting), &gates(), &inputs(1, shifting));
    assert_eq!((state(&t), t.action), (Some(S::Promoting), None));
    let t = step(
        &in_state(S::Promoting),
        &gates(),
        &inputs(1, EngineView::Baking { can_skip: false }),
    );
    assert_eq!(state(&t), Some(S::Baking));
}

#[test]
fn promote_full_ends_the_termination_wait_once() {
    let mut i = inputs(1, EngineView::Baking { can_skip: true });
    i.verbs = vec![Verb::PromoteFull];
    let t = step(&in_state(S::Baking), &gates(), &i);
    assert_eq!(t.action, Some(Action::SkipBake));
    let t = step(
        &t.memory,
        &gates(),
        &inputs(2, EngineView::Baking { can_skip: true }),
    );
    assert_eq!(t.action, None);
    // ECS-native bake time cannot be shortened.
    let mut i = inputs(1, EngineView::Baking { can_skip: false });
    i.verbs = vec![Verb::PromoteFull];
    assert_eq!(step(&in_state(S::Baking), &gates(), &i).action, None);
}

#[test]
fn the_previous_stable_revision_published_again_is_a_rollback_without_gates() {
    // Stable on 2 after 1; the ReleaseGroup rolled the release back: the EcsService publishes
    // revision 1 without a content hash.
    let mut m = stable();
    m.stable = Some(rev(2));
    m.previous_stable = Some(rev(1).task_definition_arn);
    let mut i = inputs(0, EngineView::None);
    i.desired = Some(Revision {
        content_hash: None,
        ..rev(1)
    });
    i.live = Some(rev(2).task_definition_arn);
    let t = step(&m, &gates(), &i);
    let release = t.memory.release.clone().expect("a release starts");
    assert!(release.rollback && release.promoted, "{release:?}");
    assert_eq!(reasons(&t), ["RollbackStarted"]);
    // Any other revision without a hash is an ordinary, gated release.
    i.desired = Some(Revision {
        content_hash: None,
        ..rev(3)
    });
    let release = step(&m, &gates(), &i)
        .memory
        .release
        .expect("a release starts");
    assert!(!release.rollback && !release.promoted, "{release:?}");
}

#[test]
fn success_makes_the_release_stable_and_remembers_the_previous_one() {
    let t = step(
        &in_state(S::Baking),
        &gates(),
        &inputs(9, EngineView::Succeeded),
    );
    assert_eq!(t.memory.release, None);
    assert_eq!(t.memory.stable, Some(rev(2)));
    assert_eq!(t.memory.previous_stable, Some(rev(1).task_definition_arn));
    assert_eq!(reasons(&t), ["RolloutCompleted"]);
    assert_eq!(phase(&t.memory, Some(&rev(2))), P::Healthy);
}

#[test]
fn a_release_whose_alarm_does_not_exist_is_rolled_back_with_the_name() {
    let mut i = inputs(1, gate());
    i.alarms_missing = vec!["app-5xx-typo".into()];
    let t = step(&in_state(S::Deploying), &gates(), &i);
    assert_eq!(state(&t), Some(S::Aborting));
    let Some(Action::Stop { reason }) = &t.action else {
        panic!("a stop: {:?}", t.action)
    };
    assert!(reason.contains("no alarm named app-5xx-typo"), "{reason}");
    let t = step(&in_state(S::Starting), &gates(), &i);
    assert_ne!(
        state(&t),
        Some(S::Aborting),
        "alarms are read once deploying"
    );
}

#[test]
fn alarms_abort_every_watched_state_and_the_deadline_only_active_ones() {
    for s in [
        S::Deploying,
        S::Verifying,
        S::Paused,
        S::Promoting,
        S::Baking,
    ] {
        let mut i = inputs(1, gate());
        i.alarms_firing = vec!["app-5xx".into()];
        let t = step(&in_state(s), &gates(), &i);
        assert_eq!(state(&t), Some(S::Aborting), "{s:?}");
        assert_eq!(
            t.action,
            Some(Action::Stop {
                reason: "alarm app-5xx is in ALARM".into()
            }),
            "{s:?}"
        );
    }
    for (s, aborts) in [
        (S::Deploying, true),
        (S::Verifying, true),
        (S::Promoting, true),
        (S::Paused, false),
        (S::Baking, false),
    ] {
        let mut m = in_state(s);
        m.release.as_mut().unwrap().step = gate().step();
        let t = step(&m, &gates(), &inputs(601, gate()));
        assert_eq!(state(&t) == Some(S::Aborting), aborts, "{s:?}");
    }
    let t = step(
        &in_state(S::Deploying),
        &gates(),
        &inputs(100, progressing("SCALE_UP")),
    );
    assert_eq!(
        t.next_check,
        Some(at(700)),
        "the deadline counts from the last progress"
    );
}

#[test]
fn aborting_waits_for_the_rollback_then_is_degraded() {
    let mut i = inputs(1, gate());
    i.verbs = vec![Verb::Abort];
    let t = step(&in_state(S::Verifying), &gates(), &i);
    assert_eq!(state(&t), Some(S::Aborting));
    assert!(matches!(t.action, Some(Action::Stop { .. })));
    let rolling = EngineView::RollingBack {
        reason: "stopped".into(),
    };
    let t = step(&t.memory, &gates(), &inputs(2, rolling));
    assert_eq!((state(&t), t.action.clone()), (Some(S::Aborting), None));
    let done = EngineView::RolledBack {
        reason: "stopped".into(),
    };
    let t = step(&t.memory, &gates(), &inputs(3, done));
    assert_eq!(t.memory.release, None);
    assert_eq!(t.memory.bad_hash.as_deref(), Some("h2"));
    assert_eq!(t.memory.failure.as_deref(), Some("aborted by request"));
    assert_eq!(t.memory.aborted_at, Some(at(3)));
    assert_eq!(t.memory.stable, Some(rev(1)));
    assert_eq!(phase(&t.memory, Some(&rev(2))), P::Degraded);
    assert_eq!(reasons(&t), ["RolloutRolledBack"]);
}

#[test]
fn the_engine_rolling_back_by_itself_is_an_abort_without_a_stop() {
    let rolling = EngineView::RollingBack {
        reason: "Alarm(s) app-5xx in ALARM state.".into(),
    };
    let t = step(&in_state(S::Promoting), &gates(), &inputs(1, rolling));
    assert_eq!((state(&t), t.action.clone()), (Some(S::Aborting), None));
    let failed = EngineView::Failed {
        reason: "rollback failed".into(),
    };
    let t = step(&t.memory, &gates(), &inputs(2, failed));
    assert_eq!(
        t.memory.failure.as_deref(),
        Some("Alarm(s) app-5xx in ALARM state.")
    );
}

#[test]
fn aborting_before_anything_was_created_ends_at_once() {
    let mut i = inputs(1, EngineView::None);
    i.verbs = vec![Verb::Abort];
    let t = step(&in_state(S::Starting), &gates(), &i);
    assert_eq!(t.memory.release, None);
    assert_eq!(t.action, None);
    assert_eq!(t.memory.bad_hash.as_deref(), Some("h2"));
}

#[test]
fn an_abort_that_comes_too_late_reports_the_success() {
    let mut m = in_state(S::Aborting);
    m.release.as_mut().unwrap().stop_sent = true;
    let t = step(&m, &gates(), &inputs(1, EngineView::Succeeded));
    assert_eq!(t.memory.stable, Some(rev(2)));
    assert_eq!(reasons(&t), ["AbortTooLate", "RolloutCompleted"]);
}

#[test]
fn states_know_their_successor_deadline_and_phase() {
    let chain: Vec<Option<S>> = [
        S::Starting,
        S::Deploying,
        S::Verifying,
        S::Paused,
        S::Promoting,
        S::Baking,
        S::Aborting,
    ]
    .iter()
    .map(|s| s.on_success())
    .collect();
    assert_eq!(
        chain,
        [
            Some(S::Deploying),
            Some(S::Verifying),
            Some(S::Promoting),
            Some(S::Promoting),
            Some(S::Baking),
            None,
            None
        ]
    );
    assert_eq!(S::Paused.phase(), P::Paused);
    assert_eq!(S::Aborting.phase(), P::Degraded);
    assert_eq!(S::Baking.phase(), P::Progressing);
    assert!(!S::Baking.has_deadline() && S::Verifying.has_deadline());
    assert!(watches_alarms(&in_state(S::Baking)));
    assert!(!watches_alarms(&in_state(S::Starting)) && !watches_alarms(&stable()));
}
