//! The BlueGreenRollout status: the machine's memory read from it and written back, the
//! phase, the message and the kstatus conditions. Pure; the write is `shared::write_status`.

use crds::common::condition;
use crds::rollout::{
    BlueGreenRolloutStatus, HttpCheckStatus, PauseCondition, ReleaseState, ReleaseStatus,
    RolloutPhase, TrafficWeights,
};
use jiff::Timestamp;

use super::machine::{self, CheckProgress, Memory, Release, Revision, StateExt};
use crate::controllers::conditions::{Desired, merge};

fn ts(s: &str) -> Option<Timestamp> {
    s.parse().ok()
}

fn rfc(t: Timestamp) -> String {
    t.to_string()
}

/// The machine's memory kept in `status`.
pub fn memory(status: &BlueGreenRolloutStatus) -> Memory {
    let release = status.release.as_ref().and_then(|r| {
        let target = Revision {
            task_definition_arn: status.canary_task_definition_arn.clone()?,
            content_hash: status.canary_content_hash.clone(),
        };
        let started_at = ts(&r.started_at)?;
        Some(Release {
            state: r.state,
            target,
            started_at,
            state_since: ts(&r.state_since).unwrap_or(started_at),
            progressed_at: ts(&r.progressed_at).unwrap_or(started_at),
            step: r.step.clone(),
            rollback: r.rollback,
            promoted: r.promoted,
            full: r.full_promotion,
            bake_skipped: r.bake_skipped,
            abort_reason: r.abort_reason.clone(),
            stop_sent: r.stop_sent,
            checks: r
                .http_checks
                .iter()
                .map(|c| CheckProgress {
                    passed: c.passed,
                    last_checked_at: c.last_checked_at.as_deref().and_then(ts),
                    last_result: c.last_result.clone(),
                })
                .collect(),
        })
    });
    Memory {
        stable: status
            .stable_task_definition_arn
            .clone()
            .map(|arn| Revision {
                task_definition_arn: arn,
                content_hash: status.stable_content_hash.clone(),
            }),
        previous_stable: status.previous_stable_task_definition_arn.clone(),
        bad_hash: status.bad_content_hash.clone(),
        failure: status.failure_reason.clone(),
        aborted_at: status.aborted_at.as_deref().and_then(ts),
        release,
    }
}

/// Puts `memory` into `status` (ids, weights and conditions are set by the caller).
pub fn store(status: &mut BlueGreenRolloutStatus, memory: &Memory, check_paths: &[String]) {
    let prev_release = status.release.take();
    status.stable_task_definition_arn = memory
        .stable
        .as_ref()
        .map(|s| s.task_definition_arn.clone());
    status.stable_content_hash = memory.stable.as_ref().and_then(|s| s.content_hash.clone());
    status.previous_stable_task_definition_arn = memory.previous_stable.clone();
    status.bad_content_hash = memory.bad_hash.clone();
    status.aborted_at = memory.aborted_at.map(rfc);
    status.failure_reason = memory.failure.clone();
    match &memory.release {
        Some(r) => {
            status.canary_task_definition_arn = Some(r.target.task_definition_arn.clone());
            status.canary_content_hash = r.target.content_hash.clone();
            let same_release = prev_release
                .as_ref()
                .is_some_and(|p| ts(&p.started_at) == Some(r.started_at));
            status.release = Some(ReleaseStatus {
                state: r.state,
                started_at: rfc(r.started_at),
                state_since: rfc(r.state_since),
                progressed_at: rfc(r.progressed_at),
                step: r.step.clone(),
                rollback: r.rollback,
                promoted: r.promoted,
                full_promotion: r.full,
                bake_skipped: r.bake_skipped,
                abort_reason: r.abort_reason.clone(),
                stop_sent: r.stop_sent,
                stable_target_group_arn: prev_release
                    .filter(|_| same_release)
                    .and_then(|p| p.stable_target_group_arn),
                http_checks: r
                    .checks
                    .iter()
                    .enumerate()
                    .map(|(i, c)| HttpCheckStatus {
                        path: check_paths.get(i).cloned().unwrap_or_default(),
                        passed: c.passed,
                        last_checked_at: c.last_checked_at.map(rfc),
                        last_result: c.last_result.clone(),
                    })
                    .collect(),
            });
            status.pause_conditions = match r.state {
                ReleaseState::Paused => {
                    let start = status
                        .pause_conditions
                        .first()
                        .map(|p| p.start_time.clone())
                        .unwrap_or_else(|| rfc(r.state_since));
                    vec![PauseCondition {
                        reason: "BlueGreenPause".to_owned(),
                        start_time: start,
                    }]
                }
                _ => Vec::new(),
            };
        }
        None => {
            status.canary_task_definition_arn = None;
            status.canary_content_hash = None;
            status.pause_conditions = Vec::new();
            status.traffic_weights = Some(TrafficWeights {
                stable: 100,
                canary: 0,
            });
        }
    }
}

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
                ReleaseState::Paused => format!(
                    "{target} passed its checks on test traffic; waiting for `kubectl ecs promote`"
                ),
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
