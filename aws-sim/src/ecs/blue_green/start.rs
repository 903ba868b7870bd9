//! How blue/green runs start and how the rest of the account sees them: the scheduling entry
//! point (`schedule`: an ECS-native BLUE_GREEN/LINEAR/CANARY service starts a run when a new
//! deployment replaces a serving one), CodeDeploy's task sets (`start_code_deploy_run`), which
//! target group serves which tasks, the listener weights a run holds, and the lifecycle stage
//! and hooks DescribeServiceDeployments shows.

use crate::ecs::blue_green::model::{BlueGreenRun, Controller, HookSpec, RunPlan, Shift, Stage};
use crate::ecs::blue_green::step;
use crate::ecs::deployments::{Cause, start_deployment};
use crate::ecs::env::EcsEnv;
use crate::ecs::model::{SimService, SimTask, Strategy};
use crate::time::{Secs, to_timestamp};
use aws::ecs::{DeploymentController, LifecycleHookDetail, ServiceDeployment};

/// Default PAUSE hook timeout when the hook names none (minutes).
const DEFAULT_PAUSE_TIMEOUT_MINUTES: i64 = 60;

/// Lets blue/green handle the service at `now`. True when it did (an active run, or a new
/// ECS-native run started); false leaves the service to the rolling scheduler.
pub(crate) fn schedule(svc: &mut SimService, now: Secs, env: &EcsEnv<'_>) -> bool {
    supersede_or_start(svc, now);
    if svc.bluegreen.as_ref().is_some_and(BlueGreenRun::is_active) {
        step(svc, now, env);
        return true;
    }
    false
}

/// An ECS-native service whose PRIMARY deployment replaced a serving one gets a run (a run that
/// was still moving for an older deployment is given up: its green tasks stop).
fn supersede_or_start(svc: &mut SimService, now: Secs) {
    if svc.deployment_controller != DeploymentController::Ecs
        || Strategy::of(svc) == Strategy::Rolling
    {
        return;
    }
    let Some(primary) = svc.primary() else {
        return;
    };
    if primary.is_rollback {
        return;
    }
    let p_seq = primary.seq;
    let blue_seq = match svc.bluegreen.as_ref() {
        Some(run) if run.green_seq == p_seq || run.blue_seq == p_seq => return,
        Some(run) if run.is_active() => run.blue_seq,
        Some(run) if run.stage == Stage::Done => run.green_seq,
        Some(run) => run.blue_seq,
        None => match svc.deployments.iter().rev().nth(1) {
            Some(previous) => previous.seq,
            None => return,
        },
    };
    if let Some(old) = svc.bluegreen.as_ref().filter(|r| r.is_active()) {
        let old_green = old.green_seq;
        for task in svc.tasks.iter_mut().filter(|t| t.deployment == old_green) {
            crate::ecs::tasks::stop(task, now);
        }
    }
    let Some(plan) = ecs_native_plan(svc) else {
        return;
    };
    let sd_index = svc.primary().map_or(0, |p| p.sd_index);
    svc.bluegreen = Some(BlueGreenRun::new(plan, blue_seq, p_seq, sd_index, now));
}

/// The run plan of an ECS-native service, from its configuration.
fn ecs_native_plan(svc: &SimService) -> Option<RunPlan> {
    let lb = svc.config.load_balancers.first()?;
    let advanced = lb.advanced_configuration.as_ref()?;
    let primary_tg = lb.target_group_arn.clone()?;
    let serving = serving_target_group(svc).unwrap_or_else(|| primary_tg.clone());
    let green_tg = if serving == primary_tg {
        advanced.alternate_target_group_arn.clone()
    } else {
        primary_tg
    };
    let dc = svc
        .config
        .deployment_configuration
        .clone()
        .unwrap_or_default();
    let shift = match Strategy::of(svc) {
        Strategy::Canary => dc
            .canary_configuration
            .as_ref()
            .map_or(Shift::AllAtOnce, |c| Shift::Canary {
                percent: c.canary_percent,
                interval: i64::from(c.canary_bake_time_in_minutes) * 60,
            }),
        Strategy::Linear => dc
            .linear_configuration
            .as_ref()
            .map_or(Shift::AllAtOnce, |l| Shift::Linear {
                percent: l.step_percent,
                interval: i64::from(l.step_bake_time_in_minutes) * 60,
            }),
        _ => Shift::AllAtOnce,
    };
    let hooks = dc
        .lifecycle_hooks
        .iter()
        .flat_map(|h| {
            let pause = h.target_type == "PAUSE";
            let timeout = h
                .timeout_in_minutes
                .map_or(DEFAULT_PAUSE_TIMEOUT_MINUTES, i64::from)
                * 60;
            let rollback = h.timeout_action.as_deref() != Some("CONTINUE");
            h.lifecycle_stages
                .iter()
                .filter_map(|s| Stage::parse(s))
                .map(move |stage| HookSpec {
                    stage,
                    pause,
                    timeout_secs: timeout,
                    rollback_on_timeout: rollback,
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let alarms = dc
        .alarms
        .as_ref()
        .filter(|a| a.enable && a.rollback)
        .map(|a| a.alarm_names.clone())
        .unwrap_or_default();
    Some(RunPlan {
        controller: Controller::EcsNative,
        blue_tg: serving,
        green_tg,
        prod_rules: vec![advanced.production_listener_rule.clone()],
        test_rules: advanced.test_listener_rule.iter().cloned().collect(),
        shift,
        bake_secs: i64::from(dc.bake_time_in_minutes.unwrap_or(0).max(0)) * 60,
        hooks,
        alarms,
    })
}

/// Starts a CodeDeploy task set: a new PRIMARY deployment of `task_definition` and a run with
/// `plan` (its `blue_tg`/`green_tg` are fixed here from what serves now, among `pair`).
pub(crate) fn start_code_deploy_run(
    svc: &mut SimService,
    now: Secs,
    env: &EcsEnv<'_>,
    task_definition: &str,
    mut plan: RunPlan,
    pair: [&str; 2],
) -> Result<(), String> {
    let Some(blue_seq) = svc.primary().map(|d| d.seq) else {
        return Err("the service has no task set to replace".to_owned());
    };
    let serving = serving_target_group(svc)
        .or_else(|| svc.config.load_balancers.first()?.target_group_arn.clone())
        .unwrap_or_else(|| pair[0].to_owned());
    if !pair.contains(&serving.as_str()) {
        return Err(format!(
            "The service's target group {serving} is not one of the deployment group's target groups."
        ));
    }
    plan.green_tg = if serving == pair[0] { pair[1] } else { pair[0] }.to_owned();
    plan.blue_tg = serving;
    start_deployment(svc, now, env, task_definition, Cause::Update);
    let (green_seq, sd_index) = svc.primary().map_or((0, 0), |d| (d.seq, d.sd_index));
    svc.bluegreen = Some(BlueGreenRun::new(plan, blue_seq, green_seq, sd_index, now));
    step(svc, now, env);
    Ok(())
}

/// The target group that serves production for the service now, according to its runs.
pub(crate) fn serving_target_group(svc: &SimService) -> Option<String> {
    let run = svc.bluegreen.as_ref()?;
    Some(if run.stage == Stage::Done {
        run.plan.green_tg.clone()
    } else {
        run.plan.blue_tg.clone()
    })
}

/// The target group a task is registered with.
pub(crate) fn task_target_group<'a>(svc: &'a SimService, task: &SimTask) -> Option<&'a str> {
    if let Some(run) = &svc.bluegreen {
        if task.deployment == run.green_seq {
            return Some(&run.plan.green_tg);
        }
        if task.deployment == run.blue_seq || run.stage == Stage::RolledBack {
            return Some(&run.plan.blue_tg);
        }
        return Some(if run.stage == Stage::Done {
            &run.plan.green_tg
        } else {
            &run.plan.blue_tg
        });
    }
    svc.config
        .load_balancers
        .first()?
        .target_group_arn
        .as_deref()
}

/// The forward weights a run holds on `rule_arn`: `(blue_tg, green_tg, percent on green)`.
pub(crate) fn rule_weights<'a>(
    svc: &'a SimService,
    rule_arn: &str,
) -> Option<(&'a str, &'a str, f64)> {
    let run = svc.bluegreen.as_ref()?;
    let percent = if run.plan.prod_rules.iter().any(|r| r == rule_arn) {
        run.prod_percent
    } else if run.plan.test_rules.iter().any(|r| r == rule_arn) {
        run.test_percent
    } else {
        return None;
    };
    Some((&run.plan.blue_tg, &run.plan.green_tg, percent))
}

/// Adds the lifecycle stage and hook invocations of the service deployment `sd_index` when a
/// run belongs to it.
pub(crate) fn decorate(svc: &SimService, sd_index: usize, api: &mut ServiceDeployment) {
    let Some(run) = svc.bluegreen.as_ref().filter(|r| r.sd_index == sd_index) else {
        return;
    };
    let stage = run.rollback_from.unwrap_or(run.stage);
    api.lifecycle_stage = Some(stage.as_str().to_owned());
    api.lifecycle_hook_details = run
        .hooks
        .iter()
        .map(|h| LifecycleHookDetail {
            hook_id: h.id.clone(),
            target_type: if h.pause { "PAUSE" } else { "AWS_LAMBDA" }.to_owned(),
            status: h.status.as_str().into(),
            lifecycle_stage: Some(h.stage.as_str().to_owned()),
            expires_at: Some(to_timestamp(h.expires_at)),
        })
        .collect();
}
