//! What an object's status says has happened, as notification moments: for each of its stories
//! (`release`, `stalled`, `scaling`) the key the moments belong to and the triggers the status
//! implies for it, in the order they happen, plus the facts a notification shows. Pure: the
//! status in, moments out. A trigger implied by a later one is included (a release that
//! succeeded was started and promoted), so a moment missed between two looks still notifies.

use crds::common::condition;
use crds::notification::{NotifiedObject, Trigger};
use crds::release_group::ReleasePhase;
use crds::rollout::{ReleaseState, RolloutPhase};
use crds::rollout_status::MetricVerdict;
use crds::{BlueGreenRollout, EcsService, ReleaseGroup, ScalingPolicy};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::ResourceExt;

/// A rollout's release story.
pub const RELEASE: &str = "release";
/// A Stalled condition.
pub const STALLED: &str = "stalled";
/// A ScalingPolicy at its maximum.
pub const SCALING: &str = "scaling";

/// Stalled reasons the release story already tells (as ReleaseRolledBack).
const TOLD_BY_RELEASE: [&str; 3] = ["RolledBack", "ReleaseRolledBack", "RolloutFailed"];

/// What one story of an object says now.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    /// Its moments now: the key and the triggers it implies.
    Moment {
        /// What the moments belong to.
        key: String,
        /// Implied triggers, in the order they happen.
        triggers: Vec<Trigger>,
        /// It ended before the policy followed it: remember, send nothing.
        baseline: bool,
    },
    /// Over (no longer stalled, below maximum): forget it.
    Clear,
    /// Nothing to say (not reconciled yet, waiting for its service): leave what is remembered.
    Unknown,
}

/// The facts a notification about the object shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// The ECS service (the EcsService's name, or the one a rollout or policy names).
    pub service: String,
    /// The revision of the story (`family:revision`).
    pub revision: Option<String>,
    /// The revision it replaces or went back to.
    pub previous_revision: Option<String>,
    /// Engine: `CodeDeploy`, `ECS` (ECS-native blue/green) or `rolling`.
    pub engine: Option<String>,
    /// The object's phase.
    pub phase: Option<String>,
    /// The Ready (or Stalled) condition's reason and message.
    pub reason: Option<String>,
    /// Its message.
    pub message: Option<String>,
    /// Percent of production traffic on the new revision.
    pub traffic_canary: Option<i32>,
    /// When the release started (RFC 3339).
    pub started_at: Option<String>,
    /// How it was promoted: `automatically`, `by request` (`kubectl ecs promote`) or without
    /// gates (a rollback).
    pub promoted: Option<String>,
    /// The engine step last seen.
    pub step: Option<String>,
    /// The image of the service's first container (from its EcsService).
    pub image: Option<String>,
    /// The ECS cluster (from its EcsService).
    pub cluster: Option<String>,
    /// The release goes back to the previous stable revision (`kubectl ecs rollback`, or its
    /// ReleaseGroup rolling it back): no gates.
    pub rollback: bool,
}

/// One object the policy follows, as the notifications need it.
#[derive(Debug, Clone)]
pub struct Followed {
    /// Kind.
    pub kind: &'static str,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Its stories: (story, what it says).
    pub stories: Vec<(&'static str, Seen)>,
    /// The facts now.
    pub facts: Facts,
}

/// `family:revision` of a task definition ARN.
fn short(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_owned()
}

fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// The Stalled story of any kind.
fn stalled(conditions: &[Condition]) -> Seen {
    stalled_except(conditions, &[])
}

/// The Stalled story, leaving out the reasons a release story tells (and `also`).
fn stalled_except(conditions: &[Condition], also: &[&str]) -> Seen {
    match find(conditions, condition::STALLED) {
        Some(c)
            if c.status == "True"
                && !TOLD_BY_RELEASE.contains(&c.reason.as_str())
                && !also.contains(&c.reason.as_str()) =>
        {
            Seen::Moment {
                key: format!("{}@{}", c.reason, c.observed_generation.unwrap_or_default()),
                triggers: vec![Trigger::Stalled],
                baseline: false,
            }
        }
        Some(_) => Seen::Clear,
        None => Seen::Unknown,
    }
}

/// The reason and message of the Ready condition (Stalled's when stalled).
fn reason_of(conditions: &[Condition]) -> (Option<String>, Option<String>) {
    let stalled = find(conditions, condition::STALLED).filter(|c| c.status == "True");
    match stalled.or_else(|| find(conditions, condition::READY)) {
        Some(c) => (Some(c.reason.clone()), Some(c.message.clone())),
        None => (None, None),
    }
}

/// Whether `entry` follows a release that has not ended yet.
fn open(entry: Option<&NotifiedObject>) -> Option<&NotifiedObject> {
    entry.filter(|e| {
        !e.baseline
            && !e.notified.iter().any(|n| {
                matches!(
                    n.trigger,
                    Trigger::ReleaseSucceeded | Trigger::ReleaseRolledBack
                )
            })
    })
}

/// The revision part of a `<revision>@<started>` key.
fn key_revision(key: &str) -> &str {
    key.rsplit_once('@').map_or(key, |(revision, _)| revision)
}

/// A BlueGreenRollout's stories; `entry` is what the policy remembers of its release.
pub fn rollout(r: &BlueGreenRollout, entry: Option<&NotifiedObject>) -> Followed {
    let status = r.status.clone().unwrap_or_default();
    let (reason, message) = reason_of(&status.conditions);
    let engine = if r.spec.strategy.code_deploy.is_some() {
        "CodeDeploy"
    } else {
        "ECS"
    };
    let mut facts = Facts {
        service: r.spec.service_ref.name.clone(),
        engine: Some(engine.to_owned()),
        phase: status.phase.map(|p| format!("{p:?}")),
        reason,
        message: status.message.clone().or(message),
        traffic_canary: status.traffic_weights.as_ref().map(|w| w.canary),
        ..Facts::default()
    };
    let failed_metric = status
        .analysis
        .iter()
        .any(|m| !m.dry_run && m.verdict == MetricVerdict::Failed);
    let release = match (&status.release, status.phase) {
        (Some(release), _) => {
            let revision = status
                .canary_task_definition_arn
                .as_deref()
                .map(short)
                .or_else(|| status.canary_content_hash.clone())
                .unwrap_or_default();
            facts.revision = Some(revision.clone());
            facts.previous_revision = status.stable_task_definition_arn.as_deref().map(short);
            facts.started_at = Some(release.started_at.0.to_string());
            facts.step = release.step.clone();
            facts.rollback = release.rollback;
            let mut triggers = vec![Trigger::ReleaseStarted];
            match release.state {
                ReleaseState::Paused => triggers.push(Trigger::ReleasePaused),
                ReleaseState::Promoting | ReleaseState::Baking => {
                    triggers.push(Trigger::ReleasePromoted)
                }
                ReleaseState::Aborting if failed_metric => triggers.push(Trigger::AnalysisFailed),
                _ => {}
            }
            if matches!(
                release.state,
                ReleaseState::Promoting | ReleaseState::Baking
            ) {
                facts.promoted = Some(promoted_how(Some(release), r));
            }
            Seen::Moment {
                key: format!("{revision}@{}", release.started_at.0),
                triggers,
                baseline: false,
            }
        }
        (None, Some(RolloutPhase::Healthy)) => {
            let stable = status
                .stable_task_definition_arn
                .as_deref()
                .map(short)
                .unwrap_or_default();
            facts.revision = Some(stable.clone());
            facts.previous_revision = status
                .previous_stable_task_definition_arn
                .as_deref()
                .map(short);
            match open(entry) {
                Some(e) if key_revision(&e.release) == stable => {
                    facts.promoted = Some(promoted_how(None, r));
                    Seen::Moment {
                        key: e.release.clone(),
                        triggers: vec![
                            Trigger::ReleaseStarted,
                            Trigger::ReleasePromoted,
                            Trigger::ReleaseSucceeded,
                        ],
                        baseline: false,
                    }
                }
                // A release that ended with another revision serving: it was rolled back.
                Some(e) => {
                    facts.revision = Some(key_revision(&e.release).to_owned());
                    facts.previous_revision = Some(stable);
                    Seen::Moment {
                        key: e.release.clone(),
                        triggers: vec![Trigger::ReleaseStarted, Trigger::ReleaseRolledBack],
                        baseline: false,
                    }
                }
                None => steady(entry, format!("{stable}@steady")),
            }
        }
        (None, Some(RolloutPhase::Degraded)) => {
            let stable = status.stable_task_definition_arn.as_deref().map(short);
            facts.previous_revision = stable;
            match open(entry) {
                Some(e) => {
                    facts.revision = Some(key_revision(&e.release).to_owned());
                    let mut triggers = vec![Trigger::ReleaseStarted];
                    if failed_metric {
                        triggers.push(Trigger::AnalysisFailed);
                    }
                    triggers.push(Trigger::ReleaseRolledBack);
                    Seen::Moment {
                        key: e.release.clone(),
                        triggers,
                        baseline: false,
                    }
                }
                None => {
                    let at = status.aborted_at.as_ref().map(|t| t.0.to_string());
                    steady(entry, format!("failed@{}", at.unwrap_or_default()))
                }
            }
        }
        _ => Seen::Unknown,
    };
    Followed {
        kind: "BlueGreenRollout",
        name: r.name_any(),
        namespace: r.namespace().unwrap_or_default(),
        stories: vec![(RELEASE, release), (STALLED, stalled(&status.conditions))],
        facts,
    }
}

/// A state that is not a release in flight: remembered as it is (a baseline), unless the
/// remembered entry already is this one (ended and notified).
fn steady(entry: Option<&NotifiedObject>, key: String) -> Seen {
    match entry {
        Some(_) => Seen::Unknown,
        None => Seen::Moment {
            key,
            triggers: Vec::new(),
            baseline: true,
        },
    }
}

/// How the release in flight (or, once it ended, the last one) was promoted.
fn promoted_how(release: Option<&crds::rollout::ReleaseStatus>, r: &BlueGreenRollout) -> String {
    match release {
        Some(release) if release.rollback => "without gates (a rollback)",
        Some(release) if release.promoted => "by request (kubectl ecs promote)",
        _ if !r.spec.auto_promotion_enabled => "by request (kubectl ecs promote)",
        _ => "automatically",
    }
    .to_owned()
}

/// A ReleaseGroup's stories.
pub fn group(g: &ReleaseGroup, entry: Option<&NotifiedObject>) -> Followed {
    let status = g.status.clone().unwrap_or_default();
    let (reason, message) = reason_of(&status.conditions);
    let facts = Facts {
        service: status
            .members
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        revision: status.release.clone(),
        phase: status.phase.map(|p| format!("{p:?}")),
        reason,
        message,
        started_at: status.started_at.as_ref().map(|t| t.0.to_string()),
        ..Facts::default()
    };
    let key = format!(
        "{}@{}",
        status.release.clone().unwrap_or_default(),
        facts.started_at.clone().unwrap_or_default()
    );
    let ended = |triggers: Vec<Trigger>| match entry {
        Some(e) if e.release == key => Seen::Moment {
            key: key.clone(),
            triggers,
            baseline: e.baseline,
        },
        // First seen ended: the policy is newer than the release.
        _ => Seen::Moment {
            key: key.clone(),
            triggers: Vec::new(),
            baseline: true,
        },
    };
    let release = match status.phase {
        Some(ReleasePhase::Progressing | ReleasePhase::RollingBack) => Seen::Moment {
            key: key.clone(),
            triggers: vec![Trigger::ReleaseStarted],
            baseline: false,
        },
        Some(ReleasePhase::Succeeded) => {
            ended(vec![Trigger::ReleaseStarted, Trigger::ReleaseSucceeded])
        }
        Some(ReleasePhase::RolledBack | ReleasePhase::Failed) => {
            ended(vec![Trigger::ReleaseStarted, Trigger::ReleaseRolledBack])
        }
        Some(ReleasePhase::NoRelease) | None => Seen::Unknown,
    };
    Followed {
        kind: "ReleaseGroup",
        name: g.name_any(),
        namespace: g.namespace().unwrap_or_default(),
        stories: vec![(RELEASE, release), (STALLED, stalled(&status.conditions))],
        facts,
    }
}

/// Stalled reasons a rolling EcsService's release story already tells (as ReleaseRolledBack).
const TOLD_BY_ROLLING_RELEASE: [&str; 1] = ["DeploymentFailed"];

/// An EcsService's stories: its stalls and, when neither a BlueGreenRollout nor a ReleaseGroup
/// tells its releases (`told_elsewhere`), its rolling deployments, keyed
/// `<revision>@<deployment id>`. `entry` is what the policy remembers of that release.
pub fn service(s: &EcsService, entry: Option<&NotifiedObject>, told_elsewhere: bool) -> Followed {
    let status = s.status.clone().unwrap_or_default();
    let (reason, message) = reason_of(&status.conditions);
    let mut facts = Facts {
        service: s.name_any(),
        revision: status.task_definition_arn.as_deref().map(short),
        engine: Some("rolling".to_owned()),
        reason,
        message,
        ..Facts::default()
    };
    let failed = find(&status.conditions, condition::STALLED).is_some_and(|c| {
        c.status == "True" && TOLD_BY_ROLLING_RELEASE.contains(&c.reason.as_str())
    });
    let release = match &status.deployment {
        Some(d) if !told_elsewhere => {
            let revision = d
                .task_definition_arn
                .as_deref()
                .map(short)
                .unwrap_or_default();
            let key = format!("{revision}@{}", d.id);
            facts.previous_revision = (status.last_good_task_definition_arn.as_deref())
                .map(short)
                .filter(|p| *p != revision);
            facts.revision = Some(revision);
            facts.phase = d.rollout_state.clone();
            rolling_release(&key, d.rollout_state.as_deref(), failed, entry, &mut facts)
        }
        _ => Seen::Unknown,
    };
    // A failure the release story tells (or told) as ReleaseRolledBack is not told again as
    // Stalled.
    let told_failure = matches!(&release, Seen::Moment { triggers, .. } if triggers.contains(&Trigger::ReleaseRolledBack))
        || (failed
            && !told_elsewhere
            && entry.is_some_and(|e| {
                (e.notified.iter()).any(|n| n.trigger == Trigger::ReleaseRolledBack)
            }));
    let stalls = if told_failure {
        stalled_except(&status.conditions, &TOLD_BY_ROLLING_RELEASE)
    } else {
        stalled(&status.conditions)
    };
    Followed {
        kind: "EcsService",
        name: s.name_any(),
        namespace: s.namespace().unwrap_or_default(),
        stories: vec![(RELEASE, release), (STALLED, stalls)],
        facts,
    }
}

/// The story of a rolling deployment keyed `key` in `state` (`failed`: the EcsService reports
/// its revision failed and the service went back).
fn rolling_release(
    key: &str,
    state: Option<&str>,
    failed: bool,
    entry: Option<&NotifiedObject>,
    facts: &mut Facts,
) -> Seen {
    let moment = |key: &str, triggers: Vec<Trigger>, baseline: bool| Seen::Moment {
        key: key.to_owned(),
        triggers,
        baseline,
    };
    if failed {
        // The failed release is the one in flight, even when the service's deployment is by now
        // the one that went back.
        return match open(entry) {
            Some(e) => {
                facts.revision = Some(key_revision(&e.release).to_owned());
                moment(
                    &e.release,
                    vec![Trigger::ReleaseStarted, Trigger::ReleaseRolledBack],
                    false,
                )
            }
            // Told already, or the policy is newer than the release: leave what is remembered.
            None if entry.is_some() => Seen::Unknown,
            None => moment(key, Vec::new(), true),
        };
    }
    match state {
        Some("IN_PROGRESS") => moment(key, vec![Trigger::ReleaseStarted], false),
        Some("COMPLETED") => match entry {
            Some(e) if e.release == key => moment(
                key,
                vec![Trigger::ReleaseStarted, Trigger::ReleaseSucceeded],
                e.baseline,
            ),
            // A deployment that started and completed between two looks of a policy that
            // was already following the service.
            Some(_) => moment(
                key,
                vec![Trigger::ReleaseStarted, Trigger::ReleaseSucceeded],
                false,
            ),
            // First seen completed: the policy is newer than the deployment.
            None => moment(key, Vec::new(), true),
        },
        _ => Seen::Unknown,
    }
}

/// A ScalingPolicy's stories: at its maximum capacity, and its stalls.
pub fn scaling(p: &ScalingPolicy) -> Followed {
    let status = p.status.clone().unwrap_or_default();
    let (reason, message) = reason_of(&status.conditions);
    let at_max = match (status.current_desired_count, status.max_capacity) {
        (Some(desired), Some(max)) if desired >= max => Seen::Moment {
            key: format!("max@{max}"),
            triggers: vec![Trigger::ScalingAtMaxCapacity],
            baseline: false,
        },
        (Some(_), Some(_)) => Seen::Clear,
        _ => Seen::Unknown,
    };
    Followed {
        kind: "ScalingPolicy",
        name: p.name_any(),
        namespace: p.namespace().unwrap_or_default(),
        stories: vec![(SCALING, at_max), (STALLED, stalled(&status.conditions))],
        facts: Facts {
            service: p.spec.service_ref.name.clone(),
            reason,
            message: message.map(|m| {
                format!(
                    "{m} (desired {}, maximum {})",
                    status.current_desired_count.unwrap_or_default(),
                    status.max_capacity.unwrap_or_default()
                )
            }),
            ..Facts::default()
        },
    }
}
