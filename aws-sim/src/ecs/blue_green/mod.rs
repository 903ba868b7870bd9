//! Blue/green runs of a service: the ECS-native BLUE_GREEN, LINEAR and CANARY strategies and
//! the task sets of CodeDeploy deployments, as one engine. A run moves through the ECS lifecycle
//! stages (PRE_SCALE_UP → SCALE_UP → POST_SCALE_UP → TEST_TRAFFIC_SHIFT → POST_TEST_TRAFFIC_SHIFT
//! → PRODUCTION_TRAFFIC_SHIFT → POST_PRODUCTION_TRAFFIC_SHIFT → BAKE_TIME → CLEAN_UP): green
//! tasks start next to the blue ones, test traffic moves, lifecycle hooks run (PAUSE hooks wait
//! for an answer or time out), production traffic shifts all at once or in canary/linear steps,
//! both revisions bake, then blue stops. A rollback at any stage before CLEAN_UP moves traffic
//! back to blue at once and stops green. Traffic lives in the run (`prod_percent`,
//! `test_percent`); the ELBv2 view reads it. How runs start is `ecs_bluegreen_start`.

pub(crate) mod model;
pub(crate) mod start;

pub(crate) use crate::ecs::blue_green::model::*;
use crate::ecs::deployments::complete_primary;
use crate::ecs::env::EcsEnv;
use crate::ecs::model::{Rollout, SimService, sd_status};
use crate::ecs::tasks::{LaunchSpec, stop};
use crate::time::Secs;

/// Runs the service's active blue/green run at `now`: hook timeouts, alarms, traffic steps,
/// stage transitions, green launches, blue clean-up, rollback completion.
pub(crate) fn step(svc: &mut SimService, now: Secs, env: &EcsEnv<'_>) {
    if !svc.bluegreen.as_ref().is_some_and(BlueGreenRun::is_active) {
        return;
    }
    check_hooks_and_alarms(svc, now, env);
    advance_stages(svc, now);
    maintain_tasks(svc, now, env);
    advance_stages(svc, now);
}

fn check_hooks_and_alarms(svc: &mut SimService, now: Secs, env: &EcsEnv<'_>) {
    let Some(run) = svc.bluegreen.as_mut() else {
        return;
    };
    let mut failed: Option<Failure> = None;
    for hook in &mut run.hooks {
        let waiting = matches!(
            hook.status,
            HookStatus::InProgress | HookStatus::AwaitingAction
        );
        if !waiting || now < hook.expires_at {
            continue;
        }
        if !hook.pause {
            hook.status = HookStatus::Succeeded;
        } else if hook.rollback_on_timeout {
            hook.status = HookStatus::TimedOut;
            failed.get_or_insert(Failure {
                stopped: false,
                reason: format!("The lifecycle hook at {} timed out.", hook.stage.as_str()),
            });
        } else {
            hook.status = HookStatus::Succeeded;
        }
    }
    if failed.is_none() && run.can_roll_back() {
        let firing: Vec<&str> = run
            .plan
            .alarms
            .iter()
            .map(String::as_str)
            .filter(|a| env.alarms.is_alarming(a))
            .collect();
        if !firing.is_empty() {
            failed = Some(Failure {
                stopped: true,
                reason: format!("Alarm(s) {} in ALARM state.", firing.join(", ")),
            });
        }
    }
    if let Some(failure) = failed {
        roll_back(svc, now, failure);
    }
}

fn advance_stages(svc: &mut SimService, now: Secs) {
    for _ in 0..32 {
        if !advance_once(svc, now) {
            return;
        }
    }
}

/// One transition if one is due; whether something changed.
fn advance_once(svc: &mut SimService, now: Secs) -> bool {
    let desired = i64::from(svc.desired_count.max(0));
    let Some(run) = svc.bluegreen.as_ref() else {
        return false;
    };
    let (green, blue) = (run.green_seq, run.blue_seq);
    let count = |seq: u64, healthy_only: bool| {
        svc.tasks
            .iter()
            .filter(|t| t.deployment == seq)
            .filter(|t| !healthy_only || t.is_healthy(now))
            .count() as i64
    };
    match run.stage {
        Stage::Done | Stage::RolledBack => false,
        Stage::RollingBack => {
            if count(green, false) > 0 {
                return false;
            }
            finish_rollback(svc, now);
            true
        }
        Stage::ProductionTrafficShift
            if run.prod_percent < 100.0 && run.next_shift_at.is_some_and(|t| t <= now) =>
        {
            let Some(run) = svc.bluegreen.as_mut() else {
                return false;
            };
            run.prod_percent = run.plan.shift.after(run.prod_percent);
            run.next_shift_at =
                (run.prod_percent < 100.0).then(|| now + run.plan.shift.interval().max(1));
            true
        }
        stage => {
            let ready = run.hooks_done()
                && match stage {
                    Stage::ScaleUp => count(green, true) >= desired,
                    Stage::ProductionTrafficShift => run.prod_percent >= 100.0,
                    Stage::BakeTime => run.skip_bake || now >= run.stage_since + run.plan.bake_secs,
                    Stage::CleanUp => count(blue, false) == 0,
                    _ => true,
                };
            if !ready {
                return false;
            }
            let next = stage.next();
            if let Some(run) = svc.bluegreen.as_mut() {
                run.enter(next, now);
            }
            match next {
                Stage::CleanUp => {
                    for task in svc.tasks.iter_mut().filter(|t| t.deployment == blue) {
                        stop(task, now);
                    }
                }
                Stage::Done => complete_primary(svc, now),
                _ => {}
            }
            true
        }
    }
}

/// Keeps desiredCount green tasks while green runs (failed ones are replaced); stops green
/// during a rollback.
fn maintain_tasks(svc: &mut SimService, now: Secs, env: &EcsEnv<'_>) {
    let Some(run) = svc.bluegreen.as_ref() else {
        return;
    };
    let green = run.green_seq;
    if run.stage == Stage::RollingBack {
        for task in svc.tasks.iter_mut().filter(|t| t.deployment == green) {
            stop(task, now);
        }
        return;
    }
    if run.stage < Stage::ScaleUp || !run.is_active() {
        return;
    }
    let desired = i64::from(svc.desired_count.max(0));
    let mut live = svc
        .tasks
        .iter()
        .filter(|t| t.deployment == green && !t.is_stopping())
        .count() as i64;
    if live >= desired {
        return;
    }
    let Some(td) = svc
        .deployments
        .iter()
        .find(|d| d.seq == green)
        .and_then(|d| env.task_definitions.resolve(&d.task_definition))
    else {
        return;
    };
    let spec = LaunchSpec::new(td, &svc.config, env.iam, env.elb);
    while live < desired {
        let seq = svc.next_task_seq;
        svc.next_task_seq += 1;
        svc.tasks.push(spec.launch(&svc.arn, seq, green, now));
        live += 1;
    }
}

/// Rolls the run back: traffic to blue at once, blue PRIMARY again, green stopping. False
/// when the run cannot roll back any more (finished, or blue already stopping).
pub(crate) fn roll_back(svc: &mut SimService, now: Secs, failure: Failure) -> bool {
    let Some(run) = svc.bluegreen.as_mut() else {
        return false;
    };
    if !run.is_active() || !run.can_roll_back() {
        return false;
    }
    run.rollback_from = Some(run.stage);
    run.stage = Stage::RollingBack;
    run.stage_since = now;
    run.prod_percent = 0.0;
    run.test_percent = 0.0;
    run.next_shift_at = None;
    let reason = failure.reason.clone();
    run.failure = Some(failure);
    let (green, blue, sd_index) = (run.green_seq, run.blue_seq, run.sd_index);
    if let Some(d) = svc.deployment_mut(green) {
        d.rollout = Rollout::Failed;
        d.reason = Some(reason.clone());
        d.updated_at = now;
        d.launch_stopped = true;
    }
    if let Some(i) = svc.deployments.iter().position(|d| d.seq == blue) {
        let blue_deployment = svc.deployments.remove(i);
        svc.deployments.push(blue_deployment);
    }
    if let Some(sd) = svc.service_deployments.get_mut(sd_index) {
        sd.status = sd_status::ROLLBACK_IN_PROGRESS;
        sd.status_reason = Some(reason.clone());
        sd.rollback_reason = Some(reason);
    }
    for task in svc.tasks.iter_mut().filter(|t| t.deployment == green) {
        stop(task, now);
    }
    true
}

fn finish_rollback(svc: &mut SimService, now: Secs) {
    let Some(run) = svc.bluegreen.as_mut() else {
        return;
    };
    run.stage = Stage::RolledBack;
    run.stage_since = now;
    run.finished_at = Some(now);
    let (green, sd_index) = (run.green_seq, run.sd_index);
    svc.deployments.retain(|d| d.seq != green);
    if let Some(sd) = svc.service_deployments.get_mut(sd_index) {
        sd.status = sd_status::ROLLBACK_SUCCESSFUL;
        sd.finished_at = Some(now);
    }
}

/// Answers the PAUSE hook `hook_id`: CONTINUE lets the run go on, ROLLBACK rolls it back.
/// Err with a message when no such hook awaits an answer.
pub(crate) fn answer_hook(
    svc: &mut SimService,
    now: Secs,
    hook_id: Option<&str>,
    proceed: bool,
) -> Result<(), String> {
    let Some(run) = svc.bluegreen.as_mut() else {
        return Err("no lifecycle hook is awaiting action".to_owned());
    };
    let stage = run.stage;
    let Some(hook) = run.hooks.iter_mut().find(|h| {
        h.stage == stage
            && h.status == HookStatus::AwaitingAction
            && hook_id.is_none_or(|id| id == h.id)
    }) else {
        return Err(format!(
            "The lifecycle hook {} is not awaiting action.",
            hook_id.unwrap_or("(any)")
        ));
    };
    if proceed {
        hook.status = HookStatus::Succeeded;
    } else {
        hook.status = HookStatus::Failed;
        let failure = Failure {
            stopped: true,
            reason: "Rolled back by ContinueServiceDeployment (ROLLBACK).".to_owned(),
        };
        roll_back(svc, now, failure);
    }
    Ok(())
}
