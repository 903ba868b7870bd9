//! The outcome of one step — the next memory, at most one engine action, the events — and the
//! transitions that change the memory: the verbs, starting a release, adopting the live
//! revision, finishing a release (success makes it stable; failure remembers the bad hash and
//! the reason). Pure.

use crds::rollout::ReleaseState;
use jiff::Timestamp;

use super::inputs::{Inputs, Verb};
use super::memory::{Memory, Release, Revision, short};

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

/// Why the machine publishes an event: the event's reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A release of the desired revision started.
    ReleaseStarted,
    /// `rollback` started a release of the previous stable revision.
    RollbackStarted,
    /// The engine shows no deployment for the release: it is started again.
    DeploymentMissing,
    /// The new revision serves test traffic.
    GateReached,
    /// The checks passed; the release waits for `promote`.
    WaitingForPromotion,
    /// `promote` (or `promote --full`) was acted on.
    PromotionRequested,
    /// The release is being aborted: the engine rolls back.
    RolloutAborting,
    /// The deployment completed before the abort could roll it back.
    AbortTooLate,
    /// The released revision serves production.
    RolloutCompleted,
    /// The previous stable revision serves production again.
    RollbackCompleted,
    /// The release failed or was aborted; the stable revision serves.
    RolloutRolledBack,
    /// A release was rolled back before its gate because a newer revision was published.
    ReleaseSuperseded,
    /// `abort` with no release in flight.
    NothingToAbort,
    /// `promote` with no release in flight.
    NothingToPromote,
    /// `retry` while a release is in flight.
    NothingToRetry,
    /// `rollback` with no previous stable revision.
    NothingToRollBackTo,
    /// `retry`: the failed revision may be released again.
    RetryRequested,
    /// A metric was inconclusive on test traffic: the release waits for `promote` or `abort`.
    AnalysisInconclusive,
    /// A dry-run metric reached a verdict that would have gated the release.
    DryRunVerdict,
}

impl Reason {
    /// The event reason (PascalCase).
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::ReleaseStarted => "ReleaseStarted",
            Reason::RollbackStarted => "RollbackStarted",
            Reason::DeploymentMissing => "DeploymentMissing",
            Reason::GateReached => "GateReached",
            Reason::WaitingForPromotion => "WaitingForPromotion",
            Reason::PromotionRequested => "PromotionRequested",
            Reason::RolloutAborting => "RolloutAborting",
            Reason::AbortTooLate => "AbortTooLate",
            Reason::RolloutCompleted => "RolloutCompleted",
            Reason::RollbackCompleted => "RollbackCompleted",
            Reason::RolloutRolledBack => "RolloutRolledBack",
            Reason::ReleaseSuperseded => "ReleaseSuperseded",
            Reason::NothingToAbort => "NothingToAbort",
            Reason::NothingToPromote => "NothingToPromote",
            Reason::NothingToRetry => "NothingToRetry",
            Reason::NothingToRollBackTo => "NothingToRollBackTo",
            Reason::RetryRequested => "RetryRequested",
            Reason::AnalysisInconclusive => "AnalysisInconclusive",
            Reason::DryRunVerdict => "DryRunVerdict",
        }
    }

    /// A release (or a rollback) started: its deployment is created next.
    pub fn starts_release(self) -> bool {
        matches!(self, Reason::ReleaseStarted | Reason::RollbackStarted)
    }

    /// A release ended (either way) or started: the next step follows at once.
    pub fn moves_on(self) -> bool {
        matches!(
            self,
            Reason::ReleaseStarted
                | Reason::RollbackStarted
                | Reason::RolloutAborting
                | Reason::RolloutCompleted
                | Reason::RollbackCompleted
                | Reason::RolloutRolledBack
                | Reason::ReleaseSuperseded
        )
    }
}

/// An event to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Why.
    pub reason: Reason,
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

impl Transition {
    pub(super) fn event(&mut self, reason: Reason, message: impl Into<String>, warning: bool) {
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
            r.pause_reason = None;
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
        self.event(Reason::RolloutAborting, reason, true);
    }

    pub(super) fn earliest(&mut self, at: Timestamp) {
        self.next_check = Some(self.next_check.map_or(at, |t| t.min(at)));
    }

    pub(super) fn due_at(&mut self, at: Timestamp) {
        self.earliest(at);
    }

    pub(super) fn verb(&mut self, verb: Verb, inputs: &Inputs) {
        let now = inputs.now;
        let state = self.memory.release.as_ref().map(|r| r.state);
        match (verb, state) {
            (Verb::Abort | Verb::Rollback, Some(ReleaseState::Aborting)) => {}
            (Verb::Abort, Some(_)) => self.abort("aborted by request".to_owned(), now),
            (Verb::Rollback, Some(_)) => self.abort("rollback requested".to_owned(), now),
            (Verb::Abort, None) => {
                self.event(Reason::NothingToAbort, "no release is in flight", false)
            }
            (Verb::Rollback, None) => self.rollback_to_previous(inputs),
            (Verb::Retry, None) => {
                if self.memory.bad_hash.take().is_some() {
                    self.memory.failure = None;
                    self.event(
                        Reason::RetryRequested,
                        "the failed revision may be released again",
                        false,
                    );
                }
            }
            (Verb::Retry, Some(_)) => {
                self.event(Reason::NothingToRetry, "a release is in flight", false);
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
                    Reason::PromotionRequested,
                    format!("{verb:?} at {state:?}"),
                    false,
                );
            }
            (Verb::Promote | Verb::PromoteFull, None) => {
                self.event(Reason::NothingToPromote, "no release is in flight", false);
            }
        }
    }

    /// `rollback` with nothing in flight: release the previous stable revision, and keep the
    /// desired (current stable) hash from coming back.
    pub(super) fn rollback_to_previous(&mut self, inputs: &Inputs) {
        let Some(previous) = self.memory.previous_stable.clone() else {
            self.event(
                Reason::NothingToRollBackTo,
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
                Reason::RollbackStarted
            } else {
                Reason::ReleaseStarted
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
            superseded: false,
            stop_sent: false,
            checks: Vec::new(),
            pause_reason: None,
        });
        if !rollback {
            // The analysis shown is the current release's.
            self.memory.analysis.clear();
        }
    }

    /// Nothing in flight: adopt the live revision as stable, start a release when the desired
    /// revision differs and did not fail.
    pub(super) fn idle(&mut self, inputs: &Inputs) {
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
        // The revision that served before the stable one, published again (its ReleaseGroup
        // rolled the release back): a rollback, which needs no gate and is never aborted back
        // to the release it leaves.
        let rollback = desired.content_hash.is_none()
            && self.memory.previous_stable.as_deref() == Some(desired.task_definition_arn.as_str());
        self.start(desired, rollback, inputs.now);
    }

    /// The release succeeded: its revision is stable now.
    pub(super) fn succeed(&mut self, now: Timestamp) {
        let Some(r) = self.memory.release.take() else {
            return;
        };
        if r.state == ReleaseState::Aborting {
            self.event(
                Reason::AbortTooLate,
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
                Reason::RollbackCompleted
            } else {
                Reason::RolloutCompleted
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
        let stable_name = self
            .memory
            .stable
            .as_ref()
            .map_or("the stable revision", |s| short(&s.task_definition_arn))
            .to_owned();
        if r.superseded {
            // Not a failure: the newer revision is released next.
            self.memory.aborted_at = Some(now);
            self.event(
                Reason::ReleaseSuperseded,
                format!(
                    "{} was rolled back before its gate: {}; {stable_name} serves production until the newer revision is released",
                    short(&r.target.task_definition_arn),
                    reason.trim_end_matches('.')
                ),
                false,
            );
            return;
        }
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
            "{} was rolled back: {}; {stable} serves production",
            short(&r.target.task_definition_arn),
            reason.trim_end_matches('.')
        );
        self.memory.failure = Some(reason);
        self.memory.aborted_at = Some(now);
        self.event(Reason::RolloutRolledBack, message, true);
    }
}
