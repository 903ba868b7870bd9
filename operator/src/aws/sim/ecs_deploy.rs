//! The ECS deployment engine: advances a service through time event by event (task healthy,
//! failed, stopped; DRAINING deadline) and at each event lets the service's strategy start and
//! stop tasks. Implements ECS rolling deployments (maximumPercent / minimumHealthyPercent), the
//! deployment circuit breaker, deployment alarms and rollbacks. Does no validation and no API
//! shaping.

use super::alarms::AlarmState;
use super::arn;
use super::ecs_model::{
    CompletedRef, Rollout, SERVICE_DRAINING, SERVICE_INACTIVE, ServiceDeploymentRec, SimDeployment,
    SimService, sd_status,
};
use super::ecs_taskdefs::TaskDefinitions;
use super::ecs_tasks::{LaunchSpec, stop};
use super::elb::ElbState;
use super::network::IamState;
use super::world::Secs;

/// A deleted service stays DRAINING at least this long, even without tasks.
pub const DRAIN_MIN_SECS: Secs = 5;

/// What the engine reads from the rest of the account.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EcsEnv<'a> {
    /// Region.
    pub region: &'a str,
    /// Account id.
    pub account: &'a str,
    /// Task definitions (what a launch runs).
    pub task_definitions: &'a TaskDefinitions,
    /// IAM roles (task and execution roles must exist).
    pub iam: &'a IamState,
    /// Target groups (deregistration delay).
    pub elb: &'a ElbState,
    /// Alarms (deployment alarms).
    pub alarms: &'a AlarmState,
}

/// deploymentConfiguration.strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    /// ROLLING (default).
    Rolling,
    /// BLUE_GREEN.
    BlueGreen,
    /// LINEAR.
    Linear,
    /// CANARY.
    Canary,
}

impl Strategy {
    /// The strategy a service is configured with.
    pub fn of(svc: &SimService) -> Self {
        let strategy = svc
            .config
            .deployment_configuration
            .as_ref()
            .and_then(|d| d.strategy.as_deref());
        match strategy {
            Some("BLUE_GREEN") => Strategy::BlueGreen,
            Some("LINEAR") => Strategy::Linear,
            Some("CANARY") => Strategy::Canary,
            _ => Strategy::Rolling,
        }
    }
}

/// What starts a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cause {
    /// CreateService, or an UpdateService that needs new tasks: a new service deployment.
    Update,
    /// A rollback to `revision_arn`, part of the failed deployment's service deployment.
    Rollback {
        /// rolloutStateReason of the rollback deployment.
        reason: String,
        /// The service revision it goes back to.
        revision_arn: String,
    },
}

/// Starts a new PRIMARY deployment of `task_definition`; the previous deployments become ACTIVE
/// and are drained by the following scheduling steps.
pub(crate) fn start_deployment(
    svc: &mut SimService,
    now: Secs,
    env: &EcsEnv<'_>,
    task_definition: &str,
    cause: Cause,
) {
    let seq = svc.next_deployment_seq;
    svc.next_deployment_seq += 1;
    let id = arn::ecs_deployment_id(&svc.arn, seq);
    let (sd_index, revision_arn, reason, is_rollback) = match cause {
        Cause::Update => {
            if let Some(prev) = svc.primary().map(|d| d.sd_index) {
                let sd = &mut svc.service_deployments[prev];
                if sd.is_active() {
                    sd.status = sd_status::STOPPED;
                    sd.status_reason = Some("A newer service deployment started.".to_owned());
                    sd.finished_at = Some(now);
                }
            }
            let seq_s = seq.to_string();
            let revision_id = arn::numeric_id(&[&svc.arn, &seq_s, "revision"]);
            let revision_arn = arn::service_revision_arn(
                env.region,
                env.account,
                &svc.cluster,
                &svc.name,
                &revision_id,
            );
            svc.revisions
                .insert(revision_arn.clone(), task_definition.to_owned());
            let mut sources: Vec<String> = svc
                .deployments
                .iter()
                .map(|d| d.revision_arn.clone())
                .collect();
            sources.dedup();
            let sd_id = arn::alnum_id(&[&svc.arn, &seq_s, "service-deployment"]);
            svc.service_deployments.push(ServiceDeploymentRec {
                arn: arn::service_deployment_arn(
                    env.region,
                    env.account,
                    &svc.cluster,
                    &svc.name,
                    &sd_id,
                ),
                status: sd_status::IN_PROGRESS,
                status_reason: None,
                target_revision_arn: revision_arn.clone(),
                source_revision_arns: sources,
                created_at: now,
                finished_at: None,
                rollback_reason: None,
            });
            let reason = format!("ECS deployment {id} in progress.");
            (svc.service_deployments.len() - 1, revision_arn, reason, false)
        }
        Cause::Rollback {
            reason,
            revision_arn,
        } => {
            let sd_index = svc.primary().map_or(0, |d| d.sd_index);
            (sd_index, revision_arn, reason, true)
        }
    };
    svc.deployments.push(SimDeployment {
        seq,
        id,
        task_definition: task_definition.to_owned(),
        revision_arn,
        rollout: Rollout::InProgress,
        reason: Some(reason),
        failed_tasks: 0,
        created_at: now,
        updated_at: now,
        sd_index,
        is_rollback,
        launch_stopped: false,
    });
}

/// The next time after the service's cursor when something happens to it.
pub(crate) fn next_event(svc: &SimService) -> Option<Secs> {
    if svc.status == SERVICE_INACTIVE {
        return None;
    }
    let tasks = svc.tasks.iter().filter_map(|t| t.next_event(svc.cursor)).min();
    let drain = (svc.status == SERVICE_DRAINING)
        .then(|| svc.deleted_at.map(|d| d + DRAIN_MIN_SECS))
        .flatten()
        .filter(|t| *t > svc.cursor);
    tasks.into_iter().chain(drain).min()
}

/// Processes every event of the service up to `now`, in time order.
pub(crate) fn advance_service(svc: &mut SimService, now: Secs, env: &EcsEnv<'_>) {
    while let Some(t) = next_event(svc).filter(|t| *t <= now) {
        retire_tasks(svc, t);
        schedule(svc, t, env);
        svc.cursor = t;
    }
    svc.cursor = svc.cursor.max(now);
}

/// Removes tasks that finished stopping or failed by `now`; failures count on their deployment.
fn retire_tasks(svc: &mut SimService, now: Secs) {
    let mut failed: Vec<u64> = Vec::new();
    svc.tasks.retain(|t| {
        if t.stop_done_at.is_some_and(|s| s <= now) {
            return false;
        }
        if !t.is_stopping() && t.fails_at.is_some_and(|f| f <= now) {
            failed.push(t.deployment);
            return false;
        }
        true
    });
    for seq in failed {
        if let Some(d) = svc.deployment_mut(seq) {
            d.failed_tasks += 1;
            d.updated_at = now;
        }
    }
}

/// Lets the service react at `now`: DRAINING services stop their tasks and turn INACTIVE; ACTIVE
/// ones run their strategy.
///
/// Extension point: BLUE_GREEN, LINEAR and CANARY are scheduled like ROLLING (without the
/// circuit breaker, which is rolling-only) until their own module (`ecs_bluegreen`, stages,
/// lifecycle hooks, bake time, listener weights) is added here. CODE_DEPLOY-controlled services
/// are scheduled like ROLLING too until task sets are simulated.
pub(crate) fn schedule(svc: &mut SimService, now: Secs, env: &EcsEnv<'_>) {
    if svc.status == SERVICE_INACTIVE {
        return;
    }
    if svc.status == SERVICE_DRAINING {
        svc.tasks.iter_mut().for_each(|t| stop(t, now));
        let deadline = svc.deleted_at.unwrap_or(now) + DRAIN_MIN_SECS;
        if svc.tasks.is_empty() && now >= deadline {
            svc.status = SERVICE_INACTIVE;
        }
        return;
    }
    match Strategy::of(svc) {
        Strategy::Rolling | Strategy::BlueGreen | Strategy::Linear | Strategy::Canary => {
            rolling_step(svc, now, env);
        }
    }
}

/// Fails the PRIMARY deployment when its alarms fire or the circuit breaker trips.
fn check_failures(svc: &mut SimService, now: Secs, env: &EcsEnv<'_>) {
    let Some(primary) = svc.primary() else {
        return;
    };
    if primary.rollout != Rollout::InProgress {
        return;
    }
    let failed_tasks = i64::from(primary.failed_tasks);
    let Some(dc) = svc.config.deployment_configuration.clone() else {
        return;
    };
    if let Some(alarms) = dc.alarms.as_ref().filter(|a| a.enable) {
        let firing: Vec<&str> = alarms
            .alarm_names
            .iter()
            .map(String::as_str)
            .filter(|n| env.alarms.is_alarming(n))
            .collect();
        if !firing.is_empty() {
            let reason = format!(
                "ECS deployment failed: alarm(s) {} in ALARM state.",
                firing.join(", ")
            );
            fail_primary(svc, now, env, reason, alarms.rollback, "alarm");
            return;
        }
    }
    let cb = dc.deployment_circuit_breaker.unwrap_or_default();
    if Strategy::of(svc) == Strategy::Rolling
        && cb.enable
        && failed_tasks >= circuit_breaker_threshold(svc.desired_count)
    {
        let reason = "ECS deployment circuit breaker: tasks failed to start.".to_owned();
        fail_primary(svc, now, env, reason, cb.rollback, "circuit breaker");
    }
}

/// Failed tasks that trip the circuit breaker: ceil(0.5 × desiredCount), between 3 and 200.
pub(crate) fn circuit_breaker_threshold(desired: i32) -> i64 {
    ((i64::from(desired.max(0)) + 1) / 2).clamp(3, 200)
}

/// Marks the PRIMARY deployment FAILED; rolls back to the last COMPLETED deployment when asked
/// and possible, otherwise stops launching for it.
pub(crate) fn fail_primary(
    svc: &mut SimService,
    now: Secs,
    env: &EcsEnv<'_>,
    reason: String,
    rollback: bool,
    source: &str,
) {
    let last = svc.last_completed.clone();
    let Some(primary) = svc.primary_mut() else {
        return;
    };
    primary.rollout = Rollout::Failed;
    primary.reason = Some(reason.clone());
    primary.updated_at = now;
    let (sd_index, is_rollback) = (primary.sd_index, primary.is_rollback);
    match last.filter(|_| rollback && !is_rollback) {
        Some(last) => {
            let sd = &mut svc.service_deployments[sd_index];
            sd.status = sd_status::ROLLBACK_IN_PROGRESS;
            sd.status_reason = Some(reason.clone());
            sd.rollback_reason = Some(reason);
            let cause = Cause::Rollback {
                reason: format!(
                    "ECS deployment {source}: rolling back to deploymentId {}.",
                    last.deployment_id
                ),
                revision_arn: last.revision_arn,
            };
            start_deployment(svc, now, env, &last.task_definition, cause);
        }
        None => {
            if let Some(primary) = svc.primary_mut() {
                primary.launch_stopped = true;
            }
            let sd = &mut svc.service_deployments[sd_index];
            sd.status = if is_rollback {
                sd_status::ROLLBACK_FAILED
            } else {
                sd_status::STOPPED
            };
            sd.status_reason = Some(reason);
            sd.finished_at = Some(now);
        }
    }
}

/// One rolling step: scale the PRIMARY in to desiredCount, stop old tasks while at least
/// minimumHealthyPercent stay healthy, launch PRIMARY tasks while at most maximumPercent run,
/// and complete the deployment when the PRIMARY alone has desiredCount healthy tasks.
fn rolling_step(svc: &mut SimService, now: Secs, env: &EcsEnv<'_>) {
    check_failures(svc, now, env);
    let Some(primary) = svc.primary() else {
        return;
    };
    let (p_seq, launch_stopped) = (primary.seq, primary.launch_stopped);
    let task_definition = primary.task_definition.clone();
    let desired = i64::from(svc.desired_count.max(0));
    let (max_pct, min_pct) = percents(svc);
    let max_total = desired * max_pct / 100;
    let min_healthy = (desired * min_pct + 99) / 100;

    // Scale-in of the PRIMARY: not-yet-healthy and newest tasks go first.
    let mut live: Vec<(bool, u64)> = svc
        .tasks
        .iter()
        .filter(|t| t.deployment == p_seq && !t.is_stopping())
        .map(|t| (t.is_healthy(now), t.seq))
        .collect();
    if live.len() as i64 > desired {
        live.sort_by_key(|(healthy, seq)| (*healthy, std::cmp::Reverse(*seq)));
        let excess = live.len() - desired as usize;
        let victims: Vec<u64> = live.iter().take(excess).map(|(_, seq)| *seq).collect();
        stop_where(svc, now, |t| victims.contains(&t.seq));
    }
    if launch_stopped {
        return;
    }

    // Old deployments: tasks that are not healthy go at once; healthy ones while enough stay.
    stop_where(svc, now, |t| t.deployment != p_seq && !t.is_healthy(now));
    let mut healthy = svc.tasks.iter().filter(|t| t.is_healthy(now)).count() as i64;
    let mut old_healthy: Vec<(u64, u64)> = svc
        .tasks
        .iter()
        .filter(|t| t.deployment != p_seq && t.is_healthy(now))
        .map(|t| (t.deployment, t.seq))
        .collect();
    old_healthy.sort_unstable();
    let mut victims = Vec::new();
    for (_, seq) in old_healthy {
        if healthy - 1 < min_healthy {
            break;
        }
        victims.push(seq);
        healthy -= 1;
    }
    stop_where(svc, now, |t| victims.contains(&t.seq));

    // Launch PRIMARY tasks within maximumPercent (stopping tasks still count).
    let mut p_live = svc
        .tasks
        .iter()
        .filter(|t| t.deployment == p_seq && !t.is_stopping())
        .count() as i64;
    let mut total = svc.tasks.len() as i64;
    if p_live < desired && total < max_total {
        let Some(td) = env.task_definitions.resolve(&task_definition) else {
            return;
        };
        let spec = LaunchSpec::new(td, &svc.config, env.iam, env.elb);
        while p_live < desired && total < max_total {
            let seq = svc.next_task_seq;
            svc.next_task_seq += 1;
            svc.tasks.push(spec.launch(&svc.arn, seq, p_seq, now));
            p_live += 1;
            total += 1;
        }
    }
    complete_if_steady(svc, now, desired);
}

/// COMPLETED when the PRIMARY has exactly desiredCount healthy tasks and no other deployment
/// has a task left; older deployments then become INACTIVE (dropped).
fn complete_if_steady(svc: &mut SimService, now: Secs, desired: i64) {
    let Some(primary) = svc.primary() else {
        return;
    };
    if primary.rollout != Rollout::InProgress {
        return;
    }
    let p_seq = primary.seq;
    let others = svc.tasks.iter().any(|t| t.deployment != p_seq);
    let p_live = svc
        .tasks
        .iter()
        .filter(|t| t.deployment == p_seq && !t.is_stopping())
        .count() as i64;
    let p_healthy = svc
        .tasks
        .iter()
        .filter(|t| t.deployment == p_seq && t.is_healthy(now))
        .count() as i64;
    if others || p_live != desired || p_healthy != desired {
        return;
    }
    svc.deployments.retain(|d| d.seq == p_seq);
    let Some(primary) = svc.primary_mut() else {
        return;
    };
    primary.rollout = Rollout::Completed;
    primary.reason = Some(format!("ECS deployment {} completed.", primary.id));
    primary.updated_at = now;
    let completed = CompletedRef {
        deployment_id: primary.id.clone(),
        task_definition: primary.task_definition.clone(),
        revision_arn: primary.revision_arn.clone(),
    };
    let (sd_index, is_rollback) = (primary.sd_index, primary.is_rollback);
    let sd = &mut svc.service_deployments[sd_index];
    if sd.is_active() {
        sd.status = if is_rollback {
            sd_status::ROLLBACK_SUCCESSFUL
        } else {
            sd_status::SUCCESSFUL
        };
        sd.finished_at = Some(now);
    }
    svc.last_completed = Some(completed);
}

/// (maximumPercent, minimumHealthyPercent) with AWS's defaults (200, 100).
pub(crate) fn percents(svc: &SimService) -> (i64, i64) {
    let dc = svc.config.deployment_configuration.as_ref();
    let max = dc.and_then(|d| d.maximum_percent).unwrap_or(200).max(100);
    let min = dc
        .and_then(|d| d.minimum_healthy_percent)
        .unwrap_or(100)
        .clamp(0, 100);
    (i64::from(max), i64::from(min))
}

fn stop_where(svc: &mut SimService, now: Secs, pick: impl Fn(&super::ecs_model::SimTask) -> bool) {
    for task in svc.tasks.iter_mut().filter(|t| !t.is_stopping()) {
        if pick(task) {
            stop(task, now);
        }
    }
}
