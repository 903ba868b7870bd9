//! What a reconcile records in the BlueGreenRollout status, decided without IO: the state
//! machine's memory read from the status and written back (typed, so nothing is lost on the
//! way), the deployment ids and CodeDeploy resources of the release, the verbs acted on, and
//! what the next observation can skip. The driver (`mod.rs`) only reads, calls and writes.

use std::collections::BTreeMap;

use crds::rollout::{
    BlueGreenRolloutStatus, CodeDeployStatus, HttpCheckStatus, PauseCondition, ReleaseState,
    ReleaseStatus, TrafficWeights,
};
use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::analysis;
use super::machine::{CheckProgress, Memory, Release, Revision, Verb};
use super::observe::{Known, Observed};
use super::plan::{self, Plan, Step};
use super::status;
use super::validate::{Engine, ValidatedSpec};
use super::verbs;

/// Everything one reconcile found and decided, for the status it leaves behind.
pub struct Outcome<'a> {
    /// The status before.
    pub prev: &'a BlueGreenRolloutStatus,
    /// The rollout's object annotations (the verb requests).
    pub annotations: &'a BTreeMap<String, String>,
    /// The validated spec.
    pub spec: &'a ValidatedSpec,
    /// The memory the plan started from.
    pub memory: &'a Memory,
    /// What AWS showed.
    pub observed: &'a Observed,
    /// The plan.
    pub plan: &'a Plan,
    /// The deployment id the step created, if it created one.
    pub created_deployment: Option<&'a str>,
    /// The revision the EcsService publishes.
    pub desired: Option<&'a Revision>,
    /// The generation reconciled.
    pub generation: Option<i64>,
    /// Now (whole seconds: the status keeps seconds).
    pub now: Timestamp,
}

/// The status after a reconcile.
pub fn after(o: &Outcome<'_>) -> BlueGreenRolloutStatus {
    let mut new = o.prev.clone();
    let memory = o.plan.transition.as_ref().map_or(o.memory, |t| &t.memory);
    let check_paths: Vec<String> = o.spec.gates.checks.iter().map(|c| c.path.clone()).collect();
    store(&mut new, memory, &check_paths);
    record_ids(
        &mut new,
        o.spec,
        o.plan,
        o.observed,
        o.created_deployment,
        memory,
    );
    if let Some(t) = &o.plan.transition {
        let pending = verbs::pending(o.annotations, o.prev.handled_verbs.as_ref());
        let mut handled = new.handled_verbs.clone().unwrap_or_default();
        for (verb, value) in pending.iter().filter(|(v, _)| t.handled.contains(v)) {
            verbs::mark_handled(&mut handled, *verb, value);
        }
        new.handled_verbs = (handled != Default::default()).then_some(handled);
    }
    status::summarize(
        &mut new,
        memory,
        o.desired,
        o.plan.waiting.clone(),
        o.generation,
        o.now,
    );
    new
}

/// The verbs requested and not handled yet.
pub fn pending_verbs(
    annotations: &BTreeMap<String, String>,
    status: &BlueGreenRolloutStatus,
) -> Vec<Verb> {
    verbs::pending(annotations, status.handled_verbs.as_ref())
        .into_iter()
        .map(|(v, _)| v)
        .collect()
}

/// What the status says the next observation can rely on: the CodeDeploy resources were in
/// sync for this generation, the release's deployment, the stable tasks' target group.
pub fn known<'a>(
    spec: &ValidatedSpec,
    status: &'a BlueGreenRolloutStatus,
    generation: Option<i64>,
) -> Known<'a> {
    let hash = plan::code_deploy_hash(spec);
    let synced = hash.is_some()
        && status
            .code_deploy
            .as_ref()
            .and_then(|c| c.synced_hash.clone())
            == hash
        && status.observed_generation == generation;
    let release = status.release.as_ref();
    let deployment = match (&spec.engine, release) {
        (_, None) => None,
        (Engine::CodeDeploy(_), Some(_)) => status.deployment_id.as_deref(),
        (Engine::EcsNative, Some(_)) => status.service_deployment_arn.as_deref(),
    };
    Known {
        synced,
        deployment,
        stable_target_group: release.and_then(|r| r.stable_target_group_arn.as_deref()),
    }
}

/// The status to write before `step` runs when the step creates something deletion must find
/// again: the intent is recorded first, so a crash between the call and the next status write
/// still leaves the resource known as this rollout's (and deleted with it).
pub fn intent(
    prev: &BlueGreenRolloutStatus,
    spec: &ValidatedSpec,
    step: &Step,
) -> Option<BlueGreenRolloutStatus> {
    let Engine::CodeDeploy(cd) = &spec.engine else {
        return None;
    };
    let mut recorded = prev
        .code_deploy
        .clone()
        .filter(|c| {
            c.application_name == cd.application_name
                && c.deployment_group_name == cd.group.deployment_group_name
        })
        .unwrap_or_else(|| CodeDeployStatus {
            application_name: cd.application_name.clone(),
            deployment_group_name: cd.group.deployment_group_name.clone(),
            deployment_config_name: cd.group.deployment_config_name.clone(),
            region: spec.service.region.clone(),
            ..CodeDeployStatus::default()
        });
    match step {
        Step::CreateApplication { .. } if !recorded.created_application => {
            recorded.created_application = true;
        }
        Step::CreateDeploymentGroup { .. } if !recorded.created_deployment_group => {
            recorded.created_deployment_group = true;
        }
        _ => return None,
    }
    Some(BlueGreenRolloutStatus {
        code_deploy: Some(recorded),
        ..prev.clone()
    })
}

/// `t` as the status keeps it: whole seconds.
pub fn to_status_time(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

/// The machine's memory kept in `status`, for a reconcile of `generation`: a changed rollout
/// spec may fix what made the last release fail, so a new generation forgets the failure.
pub fn memory(status: &BlueGreenRolloutStatus, generation: Option<i64>) -> Memory {
    let mut memory = stored(status);
    if status.observed_generation.is_some() && status.observed_generation != generation {
        memory.bad_hash = None;
        memory.failure = None;
    }
    memory
}

/// The memory exactly as stored.
fn stored(status: &BlueGreenRolloutStatus) -> Memory {
    let release = status.release.as_ref().and_then(|r| {
        let target = Revision {
            task_definition_arn: status.canary_task_definition_arn.clone()?,
            content_hash: status.canary_content_hash.clone(),
        };
        Some(Release {
            state: r.state,
            target,
            started_at: r.started_at.0,
            state_since: r.state_since.0,
            progressed_at: r.progressed_at.0,
            step: r.step.clone(),
            rollback: r.rollback,
            promoted: r.promoted,
            full: r.full_promotion,
            bake_skipped: r.bake_skipped,
            abort_reason: r.abort_reason.clone(),
            superseded: r.superseded,
            stop_sent: r.stop_sent,
            checks: r
                .http_checks
                .iter()
                .map(|c| CheckProgress {
                    passed: c.passed,
                    last_checked_at: c.last_checked_at.as_ref().map(|t| t.0),
                    last_result: c.last_result.clone(),
                })
                .collect(),
            pause_reason: r.pause_reason.clone(),
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
        aborted_at: status.aborted_at.as_ref().map(|t| t.0),
        release,
        analysis: analysis::from_status(&status.analysis),
    }
}

/// Puts `memory` into `status` (ids, weights and conditions are set by the caller).
fn store(status: &mut BlueGreenRolloutStatus, memory: &Memory, check_paths: &[String]) {
    let prev_release = status.release.take();
    status.stable_task_definition_arn = memory
        .stable
        .as_ref()
        .map(|s| s.task_definition_arn.clone());
    status.stable_content_hash = memory.stable.as_ref().and_then(|s| s.content_hash.clone());
    status.previous_stable_task_definition_arn = memory.previous_stable.clone();
    status.bad_content_hash = memory.bad_hash.clone();
    status.aborted_at = memory.aborted_at.map(Time);
    status.failure_reason = memory.failure.clone();
    status.analysis = analysis::to_status(&memory.analysis);
    match &memory.release {
        Some(r) => {
            status.canary_task_definition_arn = Some(r.target.task_definition_arn.clone());
            status.canary_content_hash = r.target.content_hash.clone();
            let same_release = prev_release
                .as_ref()
                .is_some_and(|p| p.started_at.0 == r.started_at);
            status.release = Some(ReleaseStatus {
                state: r.state,
                started_at: Time(r.started_at),
                state_since: Time(r.state_since),
                progressed_at: Time(r.progressed_at),
                step: r.step.clone(),
                rollback: r.rollback,
                promoted: r.promoted,
                full_promotion: r.full,
                bake_skipped: r.bake_skipped,
                abort_reason: r.abort_reason.clone(),
                superseded: r.superseded,
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
                        last_checked_at: c.last_checked_at.map(Time),
                        last_result: c.last_result.clone(),
                    })
                    .collect(),
                pause_reason: r.pause_reason.clone(),
            });
            status.pause_conditions = match r.state {
                ReleaseState::Paused => {
                    let start = status
                        .pause_conditions
                        .first()
                        .map(|p| p.start_time.clone())
                        .unwrap_or(Time(r.state_since));
                    vec![PauseCondition {
                        reason: if r.pause_reason.is_some() {
                            "InconclusiveAnalysis"
                        } else {
                            "BlueGreenPause"
                        }
                        .to_owned(),
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

/// Deployment ids, the CodeDeploy resources, the stable target group and the traffic split.
fn record_ids(
    new: &mut BlueGreenRolloutStatus,
    spec: &ValidatedSpec,
    plan: &Plan,
    observed: &Observed,
    created_deployment: Option<&str>,
    memory: &Memory,
) {
    let started_now = plan
        .transition
        .as_ref()
        .is_some_and(|t| t.events.iter().any(|e| e.reason.starts_release()));
    let deployment = created_deployment
        .map(str::to_owned)
        .or_else(|| observed.deployment.clone());
    match &spec.engine {
        Engine::CodeDeploy(cd) => {
            if started_now {
                new.deployment_id = None;
            }
            if deployment.is_some() && memory.release.is_some() {
                new.deployment_id = deployment;
            }
            let previous = new.code_deploy.as_ref().and_then(|c| c.synced_hash.clone());
            let changed_setup = matches!(
                plan.step,
                Some(
                    Step::CreateDeploymentConfig(_)
                        | Step::CreateApplication { .. }
                        | Step::CreateDeploymentGroup { .. }
                        | Step::UpdateDeploymentGroup(_)
                )
            );
            let synced_hash = match (&plan.synced_hash, changed_setup) {
                (Some(hash), _) => Some(hash.clone()),
                (None, true) => None,
                (None, false) => previous,
            };
            // What the operator created (and may delete): remembered while the names stay.
            let before = new
                .code_deploy
                .as_ref()
                .filter(|c| c.application_name == cd.application_name);
            let created_application = before.is_some_and(|c| c.created_application)
                || matches!(plan.step, Some(Step::CreateApplication { .. }));
            let created_deployment_group =
                before.is_some_and(|c| {
                    c.created_deployment_group
                        && c.deployment_group_name == cd.group.deployment_group_name
                }) || matches!(plan.step, Some(Step::CreateDeploymentGroup { .. }));
            new.code_deploy = Some(CodeDeployStatus {
                application_name: cd.application_name.clone(),
                deployment_group_name: cd.group.deployment_group_name.clone(),
                deployment_config_name: cd.group.deployment_config_name.clone(),
                region: spec.service.region.clone(),
                synced_hash,
                created_application,
                created_deployment_group,
            });
        }
        Engine::EcsNative => {
            if started_now {
                new.service_deployment_arn = None;
            }
            if deployment.is_some() && memory.release.is_some() {
                new.service_deployment_arn = deployment;
            }
        }
    }
    if let Some(release) = new.release.as_mut() {
        if release.stable_target_group_arn.is_none() {
            release.stable_target_group_arn = observed.stable_target_group.clone();
        }
        if let Some(canary) = observed.canary_percent() {
            new.traffic_weights = Some(TrafficWeights {
                stable: 100 - canary,
                canary,
            });
        }
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
