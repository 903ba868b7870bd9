//! The rollout state machine: pure, time injected. Its memory is the status (`Memory`); one
//! `step` per reconcile turns (memory, gates, what AWS and the verbs say) into the next memory,
//! at most one engine action and the events to publish. No IO, no clock, no client.
//!
//! A release moves Starting → Deploying → Verifying → (Paused →) Promoting → Baking → done
//! (`on_success`); any state can go to Aborting (abort, rollback, alarm, failed HTTP check,
//! progress deadline, the engine rolling back by itself), which ends Degraded once the engine
//! rolled back. The same transitions drive CodeDeploy and ECS-native: the engine-specific
//! observations are normalised into an [`EngineView`] first.

use crds::rollout::{ReleaseState, RolloutPhase};
use jiff::{SignedDuration, Timestamp};

/// Default seconds a release may go without progress.
pub const DEFAULT_PROGRESS_DEADLINE_SECS: i64 = 1800;

/// A task definition revision and its content hash (unknown for revisions found in AWS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// Revision ARN.
    pub task_definition_arn: String,
    /// Content hash, when known.
    pub content_hash: Option<String>,
}

/// What the engine shows of the release's deployment, whatever the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineView {
    /// No deployment for the release exists.
    None,
    /// The deployment was requested but is not visible yet.
    Pending,
    /// Another deployment (not the release's) is active where the release must deploy: the
    /// engine allows one at a time.
    Busy {
        /// Its id.
        deployment: String,
    },
    /// Deploying the new revision, before the gate (`step` names the engine step).
    Progressing {
        /// Engine step.
        step: String,
    },
    /// At the gate on test traffic, waiting for the operator.
    AtGate {
        /// The PAUSE hook to answer (ECS-native); CodeDeploy's READY_WAIT has none.
        hook_id: Option<String>,
    },
    /// Production traffic moving.
    Shifting {
        /// Engine step.
        step: String,
    },
    /// Traffic moved; bake time / termination wait.
    Baking {
        /// Whether the wait can be ended early (CodeDeploy TERMINATION_WAIT).
        can_skip: bool,
    },
    /// Finished: the new revision serves.
    Succeeded,
    /// Rolling back.
    RollingBack {
        /// Why.
        reason: String,
    },
    /// Finished: the stable revision serves again.
    RolledBack {
        /// Why.
        reason: String,
    },
    /// Finished badly: the rollback failed too.
    Failed {
        /// Why.
        reason: String,
    },
}

impl EngineView {
    /// A deployment that is still moving forward (something to stop or continue).
    pub fn is_active(&self) -> bool {
        matches!(
            self,
            EngineView::Progressing { .. }
                | EngineView::AtGate { .. }
                | EngineView::Shifting { .. }
                | EngineView::Baking { .. }
        )
    }

    /// The engine step to show, if any.
    pub fn step(&self) -> Option<String> {
        match self {
            EngineView::Progressing { step } | EngineView::Shifting { step } => Some(step.clone()),
            EngineView::AtGate { .. } => Some("AwaitingPromotion".to_owned()),
            EngineView::Baking { .. } => Some("Baking".to_owned()),
            _ => None,
        }
    }
}

/// One HTTP check as the gates need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSpec {
    /// Request path.
    pub path: String,
    /// Expected status.
    pub expected_status: u16,
    /// Seconds between attempts.
    pub interval_secs: i64,
    /// Consecutive successes needed.
    pub count: i32,
}

/// The operator-side gates of a rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gates {
    /// Promote once the checks pass (else pause for `promote`).
    pub auto_promotion_enabled: bool,
    /// Seconds on test traffic before promoting automatically.
    pub auto_promotion_seconds: i64,
    /// HTTP checks against the test listener.
    pub checks: Vec<CheckSpec>,
    /// Seconds without progress before aborting.
    pub progress_deadline_secs: i64,
}

/// A verb request not handled yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verb {
    /// Abort the release in flight.
    Abort,
    /// Abort the release in flight, or go back to the previous stable revision.
    Rollback,
    /// Forget the failed content hash.
    Retry,
    /// Pass the gate and skip what remains.
    PromoteFull,
    /// Pass the gate.
    Promote,
}

/// Progress of one HTTP check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckProgress {
    /// Consecutive successes.
    pub passed: i32,
    /// When it last ran.
    pub last_checked_at: Option<Timestamp>,
    /// What it last got.
    pub last_result: Option<String>,
}

/// The release in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// Where it stands.
    pub state: ReleaseState,
    /// The revision it releases.
    pub target: Revision,
    /// Started.
    pub started_at: Timestamp,
    /// Entered `state`.
    pub state_since: Timestamp,
    /// Last progress.
    pub progressed_at: Timestamp,
    /// Engine step last seen.
    pub step: Option<String>,
    /// Started by `rollback`.
    pub rollback: bool,
    /// `promote` came before the gate.
    pub promoted: bool,
    /// `promote --full`.
    pub full: bool,
    /// The termination wait was ended early.
    pub bake_skipped: bool,
    /// Why it is aborted.
    pub abort_reason: Option<String>,
    /// The stop request was accepted.
    pub stop_sent: bool,
    /// HTTP check progress, one per check.
    pub checks: Vec<CheckProgress>,
}

/// The machine's memory (kept in the status).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Memory {
    /// Serves production.
    pub stable: Option<Revision>,
    /// Served before `stable`.
    pub previous_stable: Option<String>,
    /// A content hash not to release again.
    pub bad_hash: Option<String>,
    /// Why the last release failed.
    pub failure: Option<String>,
    /// When the last release was aborted.
    pub aborted_at: Option<Timestamp>,
    /// In flight.
    pub release: Option<Release>,
}

/// Everything observed for one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    /// Now.
    pub now: Timestamp,
    /// The revision the EcsService publishes.
    pub desired: Option<Revision>,
    /// The revision the ECS service runs (the stable one before the first release).
    pub live: Option<String>,
    /// The release's deployment.
    pub engine: EngineView,
    /// Watched alarms in ALARM.
    pub alarms_firing: Vec<String>,
    /// Watched alarms CloudWatch does not know (a release they cannot guard is not let through).
    pub alarms_missing: Vec<String>,
    /// HTTP checks sent this reconcile: (index, passed, what it got).
    pub probes: Vec<(usize, bool, String)>,
    /// Pending verbs.
    pub verbs: Vec<Verb>,
}

/// An engine action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// CreateDeployment / UpdateService to the target revision.
    StartDeployment {
        /// Revision.
        task_definition_arn: String,
    },
    /// ContinueDeployment(READY_WAIT) / ContinueServiceDeployment(CONTINUE).
    Continue {
        /// PAUSE hook (ECS-native).
        hook_id: Option<String>,
    },
    /// ContinueDeployment(TERMINATION_WAIT).
    SkipBake,
    /// StopDeployment(rollback) / StopServiceDeployment(ROLLBACK).
    Stop {
        /// Why.
        reason: String,
    },
}

/// An event to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// PascalCase reason.
    pub reason: &'static str,
    /// Note.
    pub message: String,
    /// Warning rather than Normal.
    pub warning: bool,
}

/// The outcome of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The next memory.
    pub memory: Memory,
    /// At most one engine action.
    pub action: Option<Action>,
    /// Events.
    pub events: Vec<Event>,
    /// Verbs acted upon (all pending ones).
    pub handled: Vec<Verb>,
    /// When something is due without AWS changing (a check, the auto-promotion, a deadline).
    pub next_check: Option<Timestamp>,
}

/// Per-state behaviour (bottlerocket style): the next state on success, whether the progress
/// deadline applies, and the phase it shows.
pub trait StateExt {
    /// The state after this one succeeds.
    fn on_success(self) -> Option<ReleaseState>;
    /// Whether the progress deadline runs in this state.
    fn has_deadline(self) -> bool;
    /// The Argo-style phase.
    fn phase(self) -> RolloutPhase;
}

impl StateExt for ReleaseState {
    fn on_success(self) -> Option<ReleaseState> {
        match self {
            ReleaseState::Starting => Some(ReleaseState::Deploying),
            ReleaseState::Deploying => Some(ReleaseState::Verifying),
            ReleaseState::Verifying | ReleaseState::Paused => Some(ReleaseState::Promoting),
            ReleaseState::Promoting => Some(ReleaseState::Baking),
            ReleaseState::Baking | ReleaseState::Aborting => None,
        }
    }

    fn has_deadline(self) -> bool {
        matches!(
            self,
            ReleaseState::Starting
                | ReleaseState::Deploying
                | ReleaseState::Verifying
                | ReleaseState::Promoting
        )
    }

    fn phase(self) -> RolloutPhase {
        match self {
            ReleaseState::Paused => RolloutPhase::Paused,
            ReleaseState::Aborting => RolloutPhase::Degraded,
            _ => RolloutPhase::Progressing,
        }
    }
}

/// The phase a memory shows for the desired revision.
pub fn phase(memory: &Memory, desired: Option<&Revision>) -> RolloutPhase {
    match &memory.release {
        Some(r) => r.state.phase(),
        None if is_degraded(memory, desired) => RolloutPhase::Degraded,
        None => RolloutPhase::Healthy,
    }
}

/// Whether the desired revision is one that failed and the stable one serves instead.
pub fn is_degraded(memory: &Memory, desired: Option<&Revision>) -> bool {
    let Some(desired) = desired else {
        return memory.failure.is_some() && memory.bad_hash.is_some();
    };
    memory.bad_hash.is_some() && memory.bad_hash == desired.content_hash
}

/// The HTTP checks due now (indexes), in the Verifying state at the gate.
pub fn due_checks(memory: &Memory, gates: &Gates, now: Timestamp) -> Vec<usize> {
    let Some(r) = memory
        .release
        .as_ref()
        .filter(|r| r.state == ReleaseState::Verifying && !r.promoted)
    else {
        return Vec::new();
    };
    gates
        .checks
        .iter()
        .enumerate()
        .filter(|(i, spec)| {
            let p = r.checks.get(*i).cloned().unwrap_or_default();
            p.passed < spec.count
                && p.last_checked_at
                    .is_none_or(|t| now >= t + SignedDuration::from_secs(spec.interval_secs))
        })
        .map(|(i, _)| i)
        .collect()
}

/// Whether the watched alarms need reading (a release is deploying, gated, shifting or baking).
pub fn watches_alarms(memory: &Memory) -> bool {
    memory
        .release
        .as_ref()
        .is_some_and(|r| !matches!(r.state, ReleaseState::Starting | ReleaseState::Aborting))
}

/// One step of the machine.
pub fn step(memory: &Memory, gates: &Gates, inputs: &Inputs) -> Transition {
    let mut t = Transition {
        memory: memory.clone(),
        action: None,
        events: Vec::new(),
        handled: Vec::new(),
        next_check: None,
    };
    let mut verbs = inputs.verbs.clone();
    verbs.sort();
    verbs.dedup();
    for verb in verbs {
        t.verb(verb, inputs);
        t.handled.push(verb);
    }
    if t.memory.release.is_some() {
        super::machine_release::advance(&mut t, gates, inputs);
    } else {
        t.idle(inputs);
    }
    t
}

/// `family:revision` of a task definition ARN.
pub fn short(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
