//! The ECS engine's clock work: advances a service through time event by event (task healthy,
//! failed, stopped; DRAINING deadline) and at each event lets the service's deployment strategy
//! start and stop tasks. Knows nothing of how a strategy decides.

use crate::ecs::blue_green::start;
use crate::ecs::env::EcsEnv;
use crate::ecs::model::{SERVICE_DRAINING, SERVICE_INACTIVE, SimService, Strategy};
use crate::ecs::rolling::rolling_step;
use crate::ecs::tasks::stop;
use crate::time::Secs;

/// A deleted service stays DRAINING at least this long, even without tasks.
pub const DRAIN_MIN_SECS: Secs = 5;

/// The next time after the service's cursor when something happens to it.
pub(crate) fn next_event(svc: &SimService) -> Option<Secs> {
    if svc.status == SERVICE_INACTIVE {
        return None;
    }
    let tasks = svc
        .tasks
        .iter()
        .filter_map(|t| t.next_event(svc.cursor))
        .min();
    let drain = (svc.status == SERVICE_DRAINING)
        .then(|| svc.deleted_at.map(|d| d + DRAIN_MIN_SECS))
        .flatten()
        .filter(|t| *t > svc.cursor);
    let bluegreen = svc
        .bluegreen
        .as_ref()
        .and_then(|run| run.next_event(svc.cursor));
    tasks.into_iter().chain(drain).chain(bluegreen).min()
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
/// ones run their strategy. A blue/green run (ECS-native BLUE_GREEN, LINEAR, CANARY replacing a
/// serving deployment, or a CodeDeploy task set) is `ecs_bluegreen`'s; everything else — the
/// first deployment of any service, ROLLING, and keeping desiredCount once a run finished — is
/// scheduled like ROLLING (the circuit breaker applies to ROLLING only).
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
    if start::schedule(svc, now, env) {
        return;
    }
    match Strategy::of(svc) {
        Strategy::Rolling | Strategy::BlueGreen | Strategy::Linear | Strategy::Canary => {
            rolling_step(svc, now, env);
        }
    }
}
