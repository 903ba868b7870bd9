//! The rollout state machine: pure, time injected. Its memory is the status (`Memory`); one
//! `step` per reconcile turns (memory, gates, what AWS and the verbs say) into the next memory,
//! at most one engine action and the events to publish. No IO, no clock, no client.
//!
//! A release moves Starting → Deploying → Verifying → (Paused →) Promoting → Baking → done
//! (`on_success`); any state can go to Aborting (abort, rollback, alarm, failed HTTP check,
//! progress deadline, a failing metric, the engine rolling back by itself), which ends Degraded
//! once the engine rolled back. Metric analysis (`analysis`) runs on test traffic, during the
//! shift and during the bake. The same transitions drive CodeDeploy and ECS-native: the engine-specific
//! observations are normalised into an [`EngineView`] first.

mod analysis;
mod inputs;
mod memory;
mod release;
mod transition;

pub use analysis::{KEPT_MEASUREMENTS, due_metrics, phase_of, test_traffic_passed};
pub use inputs::{
    CheckSpec, DEFAULT_PROGRESS_DEADLINE_SECS, EngineView, Gates, Inputs, Measurement, MetricSpec,
    Verb,
};
pub use memory::{
    CheckProgress, MeasurementRecord, Memory, MetricProgress, Release, Revision, StateExt, short,
};
pub use transition::{Action, Event, Reason, Transition};

use crds::rollout::{ReleaseState, RolloutPhase};
use jiff::{SignedDuration, Timestamp};

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
    match (&memory.release, &t.memory.release) {
        (Some(_), Some(_)) => release::advance(&mut t, gates, inputs),
        // A verb started a release (`rollback`): it is recorded first, and its deployment is
        // created by the next step, so a crash in between cannot start it twice.
        (None, Some(_)) => {}
        (_, None) => t.idle(inputs),
    }
    t
}

#[cfg(test)]
mod analysis_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod verb_tests;
