//! ECS rolling deployments (the ROLLING strategy): launch within maximumPercent, stop old tasks
//! while minimumHealthyPercent stay healthy, complete when the PRIMARY alone is steady; the
//! deployment circuit breaker (rolling only) and deployment alarms (every strategy) fail the
//! PRIMARY. A blue/green strategy module sits next to this one and reuses `ecs_rollout`.

use crate::ecs::deployments::{complete_primary, fail_primary};
use crate::ecs::env::EcsEnv;
use crate::ecs::model::{Rollout, SimService, SimTask, Strategy};
use crate::ecs::tasks::{LaunchSpec, stop};
use crate::time::Secs;

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

/// One rolling step: scale the PRIMARY in to desiredCount, stop old tasks while at least
/// minimumHealthyPercent stay healthy, launch PRIMARY tasks while at most maximumPercent run,
/// and complete the deployment when the PRIMARY alone has desiredCount healthy tasks.
pub(crate) fn rolling_step(svc: &mut SimService, now: Secs, env: &EcsEnv<'_>) {
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
    complete_primary(svc, now);
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

/// Starts stopping the live tasks `pick` chooses.
fn stop_where(svc: &mut SimService, now: Secs, pick: impl Fn(&SimTask) -> bool) {
    for task in svc.tasks.iter_mut().filter(|t| !t.is_stopping()) {
        if pick(task) {
            stop(task, now);
        }
    }
}
