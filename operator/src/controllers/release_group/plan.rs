//! The ReleaseGroup plan: from its members' objects and its previous status, the release it
//! follows, the failure that ends it, each member's phase, the conditions and the events. Pure:
//! no IO, no clock. The group's only write is its status; its verdict (`status.failure`) is what
//! the members act on.

use crds::common::condition;
use crds::release_group::{
    MemberPhase, MemberStatus, OnFailure, ReleaseFailure, ReleaseGroupSpec, ReleaseGroupStatus,
    ReleasePhase,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::members::{Member, current_release, in_release_order};
use crate::controllers::conditions::Desired;

/// An event to publish once the status that caused it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Warning or Normal.
    pub warning: bool,
    /// PascalCase reason.
    pub reason: &'static str,
    /// What happened.
    pub message: String,
}

/// The decision of one reconcile.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The status (conditions still to be merged).
    pub status: ReleaseGroupStatus,
    /// The conditions.
    pub conditions: Vec<Desired>,
    /// Events for what changed.
    pub events: Vec<Event>,
}

/// Plans one reconcile of a ReleaseGroup.
pub fn plan(
    spec: &ReleaseGroupSpec,
    prev: &ReleaseGroupStatus,
    members: Vec<Member>,
    now: Time,
) -> Plan {
    let members = in_release_order(members);
    let release = current_release(prev.release.as_deref(), &prev.members, &members);
    let started = release.is_some() && release != prev.release;
    let mut events = Vec::new();
    let mut failure = prev
        .failure
        .clone()
        .filter(|f| !started && Some(&f.release) == release.as_ref());
    let phases: Vec<MemberPhase> = members
        .iter()
        .map(|m| m.phase(release.as_deref()))
        .collect();
    if let (None, Some(id)) = (&failure, &release) {
        failure = members.iter().find_map(|m| {
            let reason = m.failure().filter(|_| m.release.as_ref() == Some(id))?;
            Some(ReleaseFailure {
                release: id.clone(),
                member: m.name.clone(),
                reason,
            })
        });
        if let Some(f) = &failure {
            events.push(Event {
                warning: true,
                reason: "MemberFailed",
                message: format!(
                    "release {id}: member {} failed: {}",
                    f.member,
                    f.reason.trim_end_matches('.')
                ),
            });
        }
    }
    if started && let Some(id) = &release {
        let count = phases
            .iter()
            .filter(|p| **p != MemberPhase::NotInRelease)
            .count();
        events.insert(
            0,
            Event {
                warning: false,
                reason: "ReleaseStarted",
                message: format!("release {id} of {count} members"),
            },
        );
    }
    let in_release: Vec<(&Member, MemberPhase)> = (members.iter().zip(phases.iter().copied()))
        .filter(|(_, p)| *p != MemberPhase::NotInRelease)
        .collect();
    let phase = release_phase(spec, release.as_deref(), failure.as_ref(), &in_release);
    let conditions = conditions(
        phase,
        release.as_deref(),
        failure.as_ref(),
        &in_release,
        members.len(),
    );
    if (started || prev.phase != Some(phase))
        && let Some(event) = phase_event(phase, release.as_deref(), failure.as_ref())
    {
        events.push(event);
    }
    let statuses = members
        .iter()
        .zip(phases)
        .map(|(m, phase)| {
            let (revision, previous_revision) = m.revisions();
            MemberStatus {
                name: m.name.clone(),
                release: m.release.clone(),
                phase,
                revision,
                previous_revision: previous_revision.filter(|_| phase != MemberPhase::NotInRelease),
                message: m.message(),
            }
        })
        .collect();
    let status = ReleaseGroupStatus {
        observed_generation: prev.observed_generation,
        conditions: prev.conditions.clone(),
        release: release.clone(),
        phase: Some(phase),
        started_at: if started {
            Some(now)
        } else {
            prev.started_at.clone().filter(|_| release.is_some())
        },
        failure,
        members: statuses,
    };
    Plan {
        status,
        conditions,
        events,
    }
}

fn release_phase(
    spec: &ReleaseGroupSpec,
    release: Option<&str>,
    failure: Option<&ReleaseFailure>,
    in_release: &[(&Member, MemberPhase)],
) -> ReleasePhase {
    if release.is_none() {
        return ReleasePhase::NoRelease;
    }
    let Some(failure) = failure else {
        let done = in_release
            .iter()
            .all(|(_, p)| matches!(p, MemberPhase::Released | MemberPhase::Unchanged));
        return if done {
            ReleasePhase::Succeeded
        } else {
            ReleasePhase::Progressing
        };
    };
    if spec.on_failure == OnFailure::RollbackFailed {
        return ReleasePhase::Failed;
    }
    let back = in_release.iter().all(|(m, p)| {
        m.name == failure.member || matches!(p, MemberPhase::RolledBack | MemberPhase::Stalled)
    });
    if back {
        ReleasePhase::RolledBack
    } else {
        ReleasePhase::RollingBack
    }
}

fn names(in_release: &[(&Member, MemberPhase)], which: &[MemberPhase]) -> Vec<String> {
    in_release
        .iter()
        .filter(|(_, p)| which.contains(p))
        .map(|(m, _)| m.name.clone())
        .collect()
}

fn conditions(
    phase: ReleasePhase,
    release: Option<&str>,
    failure: Option<&ReleaseFailure>,
    in_release: &[(&Member, MemberPhase)],
    total: usize,
) -> Vec<Desired> {
    let id = release.unwrap_or_default();
    let failed = failure.map(|f| {
        format!(
            "release {id} failed at member {}: {}",
            f.member,
            f.reason.trim_end_matches('.')
        )
    });
    let stalled = names(in_release, &[MemberPhase::Stalled]);
    match phase {
        ReleasePhase::NoRelease => vec![
            Desired::yes(
                condition::READY,
                "NoRelease",
                format!("{total} members; none carries an ecs-operator.dev/release id yet"),
            ),
            Desired::no(condition::RECONCILING, "NoRelease", ""),
            Desired::no(condition::STALLED, "NoRelease", ""),
            Desired::no(condition::DEGRADED, "NoRelease", ""),
        ],
        ReleasePhase::Succeeded => {
            let message = format!(
                "release {id}: all {} members run their new revision",
                in_release.len()
            );
            vec![
                Desired::yes(condition::READY, "Released", message),
                Desired::no(condition::RECONCILING, "Released", ""),
                Desired::no(condition::STALLED, "Released", ""),
                Desired::no(condition::DEGRADED, "Released", ""),
            ]
        }
        ReleasePhase::Progressing => {
            let released = names(in_release, &[MemberPhase::Released, MemberPhase::Unchanged]);
            let waiting = names(in_release, &[MemberPhase::Waiting, MemberPhase::Pending]);
            let deploying = names(in_release, &[MemberPhase::Progressing]);
            let mut message = format!(
                "release {id}: {} of {} members released",
                released.len(),
                in_release.len()
            );
            if !deploying.is_empty() {
                message.push_str(&format!("; deploying: {}", deploying.join(", ")));
            }
            if !waiting.is_empty() {
                message.push_str(&format!("; waiting: {}", waiting.join(", ")));
            }
            if stalled.is_empty() {
                vec![
                    Desired::no(condition::READY, "Releasing", message.clone()),
                    Desired::yes(condition::RECONCILING, "Releasing", message),
                    Desired::no(condition::STALLED, "Releasing", ""),
                    Desired::no(condition::DEGRADED, "Releasing", ""),
                ]
            } else {
                let message = format!(
                    "{message}; stalled: {} (see their conditions)",
                    stalled.join(", ")
                );
                vec![
                    Desired::no(condition::READY, "MemberStalled", message.clone()),
                    Desired::no(condition::RECONCILING, "MemberStalled", ""),
                    Desired::yes(condition::STALLED, "MemberStalled", message),
                    Desired::no(condition::DEGRADED, "MemberStalled", ""),
                ]
            }
        }
        ReleasePhase::RollingBack => {
            let failed = failed.unwrap_or_default();
            let going = names(
                in_release,
                &[
                    MemberPhase::RollingBack,
                    MemberPhase::Released,
                    MemberPhase::Progressing,
                    MemberPhase::Pending,
                    MemberPhase::Waiting,
                    MemberPhase::Unchanged,
                ],
            );
            let message = format!("{failed}; rolling back the release: {}", going.join(", "));
            vec![
                Desired::no(condition::READY, "RollingBack", message.clone()),
                Desired::yes(condition::RECONCILING, "RollingBack", message),
                Desired::no(condition::STALLED, "RollingBack", ""),
                Desired::yes(condition::DEGRADED, "MemberFailed", failed),
            ]
        }
        ReleasePhase::RolledBack => {
            let failed = failed.unwrap_or_default();
            let mut message = format!(
                "{failed}; every member runs the revision it ran before the release. A new release id starts over."
            );
            if !stalled.is_empty() {
                message.push_str(&format!(
                    " Stalled, not rolled back: {} (see their conditions).",
                    stalled.join(", ")
                ));
            }
            vec![
                Desired::no(condition::READY, "RolledBack", message.clone()),
                Desired::no(condition::RECONCILING, "RolledBack", ""),
                Desired::yes(condition::STALLED, "RolledBack", message),
                Desired::yes(condition::DEGRADED, "MemberFailed", failed),
            ]
        }
        ReleasePhase::Failed => {
            let failed = failed.unwrap_or_default();
            let message = format!(
                "{failed}; onFailure RollbackFailed: the other members keep what they run. A new release id starts over."
            );
            vec![
                Desired::no(condition::READY, "MemberFailed", message.clone()),
                Desired::no(condition::RECONCILING, "MemberFailed", ""),
                Desired::yes(condition::STALLED, "MemberFailed", message),
                Desired::yes(condition::DEGRADED, "MemberFailed", failed),
            ]
        }
    }
}

fn phase_event(
    phase: ReleasePhase,
    release: Option<&str>,
    failure: Option<&ReleaseFailure>,
) -> Option<Event> {
    let id = release?;
    match phase {
        ReleasePhase::Succeeded => Some(Event {
            warning: false,
            reason: "ReleaseSucceeded",
            message: format!("release {id}: every member runs its new revision"),
        }),
        ReleasePhase::RollingBack => Some(Event {
            warning: true,
            reason: "ReleaseRollingBack",
            message: format!(
                "release {id}: rolling back every member because {} failed",
                failure.map_or("a member", |f| f.member.as_str())
            ),
        }),
        ReleasePhase::RolledBack => Some(Event {
            warning: true,
            reason: "ReleaseRolledBack",
            message: format!(
                "release {id}: every member runs the revision it ran before the release ({} failed)",
                failure.map_or("a member", |f| f.member.as_str())
            ),
        }),
        _ => None,
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
