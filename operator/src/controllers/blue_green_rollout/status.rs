//! The BlueGreenRollout status summary: the phase, the message and the kstatus conditions of
//! a reconciled rollout. Pure; the memory kept in the status is `record`'s.

use crds::common::condition;
use crds::rollout::{BlueGreenRolloutStatus, ReleaseState, RolloutPhase};
use jiff::Timestamp;

use super::machine::{self, Memory, Revision, StateExt};
use crate::controllers::conditions::{Desired, merge};

/// Phase, message and conditions of a reconciled rollout.
pub fn summarize(
    status: &mut BlueGreenRolloutStatus,
    memory: &Memory,
    desired: Option<&Revision>,
    waiting: Option<(&'static str, String)>,
    generation: Option<i64>,
    now: Timestamp,
) {
    let phase = machine::phase(memory, desired);
    let stable = memory
        .stable
        .as_ref()
        .map_or("nothing yet", |s| machine::short(&s.task_definition_arn))
        .to_owned();
    let (reason, message): (String, String) = match (&memory.release, phase) {
        (Some(r), _) => {
            let target = machine::short(&r.target.task_definition_arn);
            let weights = status
                .traffic_weights
                .as_ref()
                .map(|w| format!("; {}% of production on it", w.canary))
                .unwrap_or_default();
            let message = match r.state {
                ReleaseState::Paused => match &r.pause_reason {
                    Some(why) => format!(
                        "{target} is paused on test traffic: {}; `kubectl ecs promote` continues, `kubectl ecs abort` rolls back",
                        why.trim_end_matches('.')
                    ),
                    None => format!(
                        "{target} passed its checks on test traffic; waiting for `kubectl ecs promote`"
                    ),
                },
                ReleaseState::Aborting => format!(
                    "aborting {target}: {}; rolling back to {stable}",
                    r.abort_reason
                        .as_deref()
                        .unwrap_or("aborted")
                        .trim_end_matches('.')
                ),
                state => format!(
                    "{state:?} {target}{}{weights}",
                    r.step
                        .as_ref()
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default()
                ),
            };
            (format!("{:?}", r.state), message)
        }
        (None, RolloutPhase::Degraded) => (
            "RolledBack".to_owned(),
            format!(
                "{} was rolled back: {}; {stable} serves production. Change the spec or run `kubectl ecs retry` to release it again",
                desired.map_or("the release", |d| machine::short(&d.task_definition_arn)),
                memory
                    .failure
                    .as_deref()
                    .unwrap_or("it failed")
                    .trim_end_matches('.'),
            ),
        ),
        (None, _) => match &waiting {
            Some((reason, message)) => ((*reason).to_owned(), message.clone()),
            None => ("Healthy".to_owned(), format!("{stable} serves production")),
        },
    };
    let r = reason.as_str();
    let desired_conditions = match (&memory.release, phase) {
        (None, RolloutPhase::Healthy) if waiting.is_none() => vec![
            Desired::yes(condition::READY, r, message.clone()),
            Desired::no(condition::RECONCILING, r, ""),
            Desired::no(condition::STALLED, r, ""),
            Desired::no(condition::PROGRESSING, r, ""),
            Desired::no(condition::PAUSED, r, ""),
            Desired::no(condition::DEGRADED, r, ""),
        ],
        (None, RolloutPhase::Healthy) => vec![
            Desired::no(condition::READY, r, message.clone()),
            Desired::yes(condition::RECONCILING, r, message.clone()),
            Desired::no(condition::STALLED, r, ""),
            Desired::no(condition::PROGRESSING, r, ""),
            Desired::no(condition::PAUSED, r, ""),
            Desired::no(condition::DEGRADED, r, ""),
        ],
        (None, _) => vec![
            Desired::no(condition::READY, r, message.clone()),
            Desired::no(condition::RECONCILING, r, ""),
            Desired::yes(condition::STALLED, r, message.clone()),
            Desired::no(condition::PROGRESSING, r, ""),
            Desired::no(condition::PAUSED, r, ""),
            Desired::yes(condition::DEGRADED, r, message.clone()),
        ],
        (Some(rel), _) => {
            let aborting = rel.state == ReleaseState::Aborting;
            let paused = rel.state == ReleaseState::Paused;
            vec![
                Desired::no(condition::READY, r, message.clone()),
                Desired::yes(condition::RECONCILING, r, message.clone()),
                Desired::no(condition::STALLED, r, ""),
                if aborting || paused {
                    Desired::no(condition::PROGRESSING, r, "")
                } else {
                    Desired::yes(condition::PROGRESSING, r, message.clone())
                },
                if paused {
                    Desired::yes(condition::PAUSED, r, message.clone())
                } else {
                    Desired::no(condition::PAUSED, r, "")
                },
                if aborting {
                    Desired::yes(condition::DEGRADED, r, message.clone())
                } else {
                    Desired::no(condition::DEGRADED, r, "")
                },
            ]
        }
    };
    status.phase = Some(phase);
    status.message = Some(message);
    status.observed_generation = generation;
    status.conditions = merge(&status.conditions, &desired_conditions, generation, now);
}

/// Whether the release in flight shows a phase that still moves (for requeues).
pub fn in_flight(memory: &Memory) -> bool {
    memory
        .release
        .as_ref()
        .is_some_and(|r| r.state.phase() != RolloutPhase::Healthy)
}
