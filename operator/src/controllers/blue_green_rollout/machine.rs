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

impl Transition {
    pub(super) fn event(
        &mut self,
        reason: &'static str,
        message: impl Into<String>,
        warning: bool,
    ) {
        self.events.push(Event {
            reason,
            message: message.into(),
            warning,
        });
    }

    pub(super) fn release_mut(&mut self) -> &mut Release {
        self.memory.release.as_mut().expect("a release in flight")
    }

    /// Moves the release to `state` (progress counts from now).
    pub(super) fn enter(&mut self, state: ReleaseState, now: Timestamp) {
        let r = self.release_mut();
        if r.state != state {
            r.state = state;
            r.state_since = now;
            r.progressed_at = now;
        }
    }

    /// Aborts the release in flight (no-op when already aborting).
    pub(super) fn abort(&mut self, reason: String, now: Timestamp) {
        let r = self.release_mut();
        if r.state == ReleaseState::Aborting {
            return;
        }
        r.abort_reason = Some(reason.clone());
        self.enter(ReleaseState::Aborting, now);
        self.event("RolloutAborting", reason, true);
    }

    fn earliest(&mut self, at: Timestamp) {
        self.next_check = Some(self.next_check.map_or(at, |t| t.min(at)));
    }

    pub(super) fn due_at(&mut self, at: Timestamp) {
        self.earliest(at);
    }

    fn verb(&mut self, verb: Verb, inputs: &Inputs) {
        let now = inputs.now;
        let state = self.memory.release.as_ref().map(|r| r.state);
        match (verb, state) {
            (Verb::Abort | Verb::Rollback, Some(ReleaseState::Aborting)) => {}
            (Verb::Abort, Some(_)) => self.abort("aborted by request".to_owned(), now),
            (Verb::Rollback, Some(_)) => self.abort("rollback requested".to_owned(), now),
            (Verb::Abort, None) => self.event("NothingToAbort", "no release is in flight", false),
            (Verb::Rollback, None) => self.rollback_to_previous(inputs),
            (Verb::Retry, None) => {
                if self.memory.bad_hash.take().is_some() {
                    self.memory.failure = None;
                    self.event(
                        "RetryRequested",
                        "the failed revision may be released again",
                        false,
                    );
                }
            }
            (Verb::Retry, Some(_)) => {
                self.event("NothingToRetry", "a release is in flight", false);
            }
            (Verb::Promote | Verb::PromoteFull, Some(state)) => {
                let full = verb == Verb::PromoteFull;
                let r = self.release_mut();
                r.full |= full;
                match state {
                    ReleaseState::Starting | ReleaseState::Deploying => r.promoted = true,
                    ReleaseState::Verifying | ReleaseState::Paused => {
                        r.promoted = true;
                        self.enter(ReleaseState::Promoting, now);
                    }
                    _ => {}
                }
                self.event(
                    "PromotionRequested",
                    format!("{verb:?} at {state:?}"),
                    false,
                );
            }
            (Verb::Promote | Verb::PromoteFull, None) => {
                self.event("NothingToPromote", "no release is in flight", false);
            }
        }
    }

    /// `rollback` with nothing in flight: release the previous stable revision, and keep the
    /// desired (current stable) hash from coming back.
    fn rollback_to_previous(&mut self, inputs: &Inputs) {
        let Some(previous) = self.memory.previous_stable.clone() else {
            self.event(
                "NothingToRollBackTo",
                "no previous stable revision is known",
                false,
            );
            return;
        };
        self.memory.bad_hash = self
            .memory
            .stable
            .as_ref()
            .and_then(|s| s.content_hash.clone())
            .or_else(|| inputs.desired.as_ref().and_then(|d| d.content_hash.clone()));
        self.memory.failure = Some("rolled back by request".to_owned());
        let target = Revision {
            task_definition_arn: previous,
            content_hash: None,
        };
        self.start(target, true, inputs.now);
    }

    pub(super) fn start(&mut self, target: Revision, rollback: bool, now: Timestamp) {
        self.event(
            if rollback {
                "RollbackStarted"
            } else {
                "ReleaseStarted"
            },
            format!("releasing {}", short(&target.task_definition_arn)),
            false,
        );
        self.memory.release = Some(Release {
            state: ReleaseState::Starting,
            target,
            started_at: now,
            state_since: now,
            progressed_at: now,
            step: None,
            rollback,
            // Going back to a revision that served before needs no gate.
            promoted: rollback,
            full: false,
            bake_skipped: false,
            abort_reason: None,
            stop_sent: false,
            checks: Vec::new(),
        });
    }

    /// Nothing in flight: adopt the live revision as stable, start a release when the desired
    /// revision differs and did not fail.
    fn idle(&mut self, inputs: &Inputs) {
        if self.memory.stable.is_none()
            && let Some(live) = &inputs.live
        {
            let hash = inputs
                .desired
                .as_ref()
                .filter(|d| &d.task_definition_arn == live)
                .and_then(|d| d.content_hash.clone());
            self.memory.stable = Some(Revision {
                task_definition_arn: live.clone(),
                content_hash: hash,
            });
        }
        let Some(desired) = inputs.desired.clone() else {
            return;
        };
        let Some(stable) = self.memory.stable.as_mut() else {
            return;
        };
        if stable.task_definition_arn == desired.task_definition_arn {
            stable.content_hash = stable.content_hash.take().or(desired.content_hash);
            return;
        }
        if self.memory.bad_hash.is_some() && self.memory.bad_hash == desired.content_hash {
            return;
        }
        self.start(desired, false, inputs.now);
    }

    /// The release succeeded: its revision is stable now.
    pub(super) fn succeed(&mut self, now: Timestamp) {
        let Some(r) = self.memory.release.take() else {
            return;
        };
        if r.state == ReleaseState::Aborting {
            self.event(
                "AbortTooLate",
                "the deployment completed before the abort could roll it back",
                true,
            );
        }
        self.memory.previous_stable = self
            .memory
            .stable
            .take()
            .map(|s| s.task_definition_arn)
            .filter(|p| *p != r.target.task_definition_arn);
        if !r.rollback {
            self.memory.failure = None;
        }
        if self.memory.bad_hash.is_some() && self.memory.bad_hash == r.target.content_hash {
            self.memory.bad_hash = None;
        }
        let message = format!("{} serves production", short(&r.target.task_definition_arn));
        self.memory.stable = Some(r.target);
        let _ = now;
        self.event(
            if r.rollback {
                "RollbackCompleted"
            } else {
                "RolloutCompleted"
            },
            message,
            false,
        );
    }

    /// The release failed or was aborted and the engine rolled back: the stable revision serves.
    pub(super) fn fail(&mut self, reason: String, now: Timestamp) {
        let Some(r) = self.memory.release.take() else {
            return;
        };
        if !r.rollback {
            self.memory.bad_hash = r.target.content_hash.clone();
        }
        let stable = self
            .memory
            .stable
            .as_ref()
            .map_or("the stable revision", |s| short(&s.task_definition_arn))
            .to_owned();
        let message = format!(
            "{} was rolled back: {reason}; {stable} serves production",
            short(&r.target.task_definition_arn)
        );
        self.memory.failure = Some(reason);
        self.memory.aborted_at = Some(now);
        self.event("RolloutRolledBack", message, true);
    }
}

/// `family:revision` of a task definition ARN.
pub fn short(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
