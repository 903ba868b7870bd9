//! Blue/green runs of a service: the ECS-native BLUE_GREEN, LINEAR and CANARY strategies and
//! the task sets of CodeDeploy deployments, as one engine. A run moves through the ECS lifecycle
//! stages (PRE_SCALE_UP → SCALE_UP → POST_SCALE_UP → TEST_TRAFFIC_SHIFT → POST_TEST_TRAFFIC_SHIFT
//! → PRODUCTION_TRAFFIC_SHIFT → POST_PRODUCTION_TRAFFIC_SHIFT → BAKE_TIME → CLEAN_UP): green
//! tasks start next to the blue ones, test traffic moves, lifecycle hooks run (PAUSE hooks wait
//! for an answer or time out), production traffic shifts all at once or in canary/linear steps,
//! both revisions bake, then blue stops. A rollback at any stage before CLEAN_UP moves traffic
//! back to blue at once and stops green. Traffic lives in the run (`prod_percent`,
//! `test_percent`); the ELBv2 view reads it. How runs start is `ecs_bluegreen_start`.

use super::arn;
use super::ecs_engine::EcsEnv;
use super::ecs_model::{Rollout, SimService, sd_status};
use super::ecs_rollout::complete_primary;
use super::ecs_tasks::{LaunchSpec, stop};
use super::world::Secs;

/// Seconds an AWS_LAMBDA hook takes to succeed (the simulator runs no Lambda).
pub const LAMBDA_HOOK_SECS: Secs = 5;

/// A lifecycle stage of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Stage {
    /// PRE_SCALE_UP.
    PreScaleUp,
    /// SCALE_UP: green tasks start and become healthy.
    ScaleUp,
    /// POST_SCALE_UP.
    PostScaleUp,
    /// TEST_TRAFFIC_SHIFT: the test listener rule forwards to green.
    TestTrafficShift,
    /// POST_TEST_TRAFFIC_SHIFT (where gates pause).
    PostTestTrafficShift,
    /// PRODUCTION_TRAFFIC_SHIFT: production moves to green.
    ProductionTrafficShift,
    /// POST_PRODUCTION_TRAFFIC_SHIFT.
    PostProductionTrafficShift,
    /// BAKE_TIME: both revisions run; a rollback is still instant.
    BakeTime,
    /// CLEAN_UP: blue stops.
    CleanUp,
    /// Finished: green serves.
    Done,
    /// Traffic back on blue, green stopping.
    RollingBack,
    /// Finished: blue serves.
    RolledBack,
}

impl Stage {
    /// The ECS lifecycle stage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::PreScaleUp => "PRE_SCALE_UP",
            Stage::ScaleUp => "SCALE_UP",
            Stage::PostScaleUp => "POST_SCALE_UP",
            Stage::TestTrafficShift => "TEST_TRAFFIC_SHIFT",
            Stage::PostTestTrafficShift => "POST_TEST_TRAFFIC_SHIFT",
            Stage::ProductionTrafficShift => "PRODUCTION_TRAFFIC_SHIFT",
            Stage::PostProductionTrafficShift => "POST_PRODUCTION_TRAFFIC_SHIFT",
            Stage::BakeTime => "BAKE_TIME",
            Stage::CleanUp | Stage::Done => "CLEAN_UP",
            Stage::RollingBack | Stage::RolledBack => "RECONCILE_SERVICE",
        }
    }

    /// A stage by its ECS name (hooks name their stages).
    pub fn parse(name: &str) -> Option<Stage> {
        Some(match name {
            "PRE_SCALE_UP" => Stage::PreScaleUp,
            "POST_SCALE_UP" => Stage::PostScaleUp,
            "TEST_TRAFFIC_SHIFT" => Stage::TestTrafficShift,
            "POST_TEST_TRAFFIC_SHIFT" => Stage::PostTestTrafficShift,
            "PRODUCTION_TRAFFIC_SHIFT" => Stage::ProductionTrafficShift,
            "POST_PRODUCTION_TRAFFIC_SHIFT" => Stage::PostProductionTrafficShift,
            _ => return None,
        })
    }

    fn next(self) -> Stage {
        match self {
            Stage::PreScaleUp => Stage::ScaleUp,
            Stage::ScaleUp => Stage::PostScaleUp,
            Stage::PostScaleUp => Stage::TestTrafficShift,
            Stage::TestTrafficShift => Stage::PostTestTrafficShift,
            Stage::PostTestTrafficShift => Stage::ProductionTrafficShift,
            Stage::ProductionTrafficShift => Stage::PostProductionTrafficShift,
            Stage::PostProductionTrafficShift => Stage::BakeTime,
            Stage::BakeTime => Stage::CleanUp,
            Stage::CleanUp | Stage::Done => Stage::Done,
            Stage::RollingBack | Stage::RolledBack => Stage::RolledBack,
        }
    }
}

/// How production traffic moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Shift {
    /// 100 % at once.
    AllAtOnce,
    /// `percent`, then the rest after `interval`.
    Canary {
        /// First increment.
        percent: f64,
        /// Seconds on the canary.
        interval: Secs,
    },
    /// `percent` every `interval`.
    Linear {
        /// Increment.
        percent: f64,
        /// Seconds between increments.
        interval: Secs,
    },
}

impl Shift {
    fn first(self) -> f64 {
        match self {
            Shift::AllAtOnce => 100.0,
            Shift::Canary { percent, .. } | Shift::Linear { percent, .. } => percent.min(100.0),
        }
    }

    fn after(self, current: f64) -> f64 {
        match self {
            Shift::AllAtOnce | Shift::Canary { .. } => 100.0,
            Shift::Linear { percent, .. } => (current + percent).min(100.0),
        }
    }

    fn interval(self) -> Secs {
        match self {
            Shift::AllAtOnce => 0,
            Shift::Canary { interval, .. } | Shift::Linear { interval, .. } => interval.max(0),
        }
    }
}

/// A lifecycle hook of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HookSpec {
    /// Its stage.
    pub stage: Stage,
    /// PAUSE (waits for an answer) rather than AWS_LAMBDA.
    pub pause: bool,
    /// Seconds a PAUSE hook waits.
    pub timeout_secs: Secs,
    /// On timeout: roll back (else continue).
    pub rollback_on_timeout: bool,
}

/// Status of a hook invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HookStatus {
    /// A Lambda hook running.
    InProgress,
    /// A PAUSE hook waiting for ContinueServiceDeployment / ContinueDeployment.
    AwaitingAction,
    /// Done, the run goes on.
    Succeeded,
    /// Answered ROLLBACK.
    Failed,
    /// Timed out.
    TimedOut,
}

impl HookStatus {
    /// The ECS name.
    pub fn as_str(self) -> &'static str {
        match self {
            HookStatus::InProgress => "IN_PROGRESS",
            HookStatus::AwaitingAction => "AWAITING_ACTION",
            HookStatus::Succeeded => "SUCCEEDED",
            HookStatus::Failed => "FAILED",
            HookStatus::TimedOut => "TIMED_OUT",
        }
    }
}

/// A hook invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HookRun {
    /// Id for ContinueServiceDeployment.
    pub id: String,
    /// Its stage.
    pub stage: Stage,
    /// PAUSE or AWS_LAMBDA.
    pub pause: bool,
    /// Status.
    pub status: HookStatus,
    /// When it stops waiting (PAUSE) or succeeds (Lambda).
    pub expires_at: Secs,
    /// On timeout: roll back.
    pub rollback_on_timeout: bool,
}

/// Who drives the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Controller {
    /// An ECS-native service deployment.
    EcsNative,
    /// A CodeDeploy deployment.
    CodeDeploy {
        /// Its id.
        deployment_id: String,
    },
}

/// What a run was started with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunPlan {
    /// ECS-native or CodeDeploy.
    pub controller: Controller,
    /// Target group of the serving (blue) tasks.
    pub blue_tg: String,
    /// Target group of the new (green) tasks.
    pub green_tg: String,
    /// Rules (a default rule's ARN for a listener's default action) whose weights production
    /// traffic moves on.
    pub prod_rules: Vec<String>,
    /// Test traffic rules.
    pub test_rules: Vec<String>,
    /// Production traffic shifting.
    pub shift: Shift,
    /// Bake time (ECS) or termination wait (CodeDeploy), seconds.
    pub bake_secs: Secs,
    /// Lifecycle hooks (CodeDeploy's ready wait is a PAUSE hook at POST_TEST_TRAFFIC_SHIFT).
    pub hooks: Vec<HookSpec>,
    /// Alarms that fail the run.
    pub alarms: Vec<String>,
}

/// How a run ended badly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// Stopped on request or by an alarm (CodeDeploy "Stopped"), else failed.
    pub stopped: bool,
    /// Why.
    pub reason: String,
}

/// A blue/green run of a service.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BlueGreenRun {
    /// What it was started with.
    pub plan: RunPlan,
    /// Deployment (sequence) of the blue tasks.
    pub blue_seq: u64,
    /// Deployment (sequence) of the green tasks.
    pub green_seq: u64,
    /// Index of its service deployment.
    pub sd_index: usize,
    /// Current stage.
    pub stage: Stage,
    /// Since when.
    pub stage_since: Secs,
    /// The stage a rollback started from.
    pub rollback_from: Option<Stage>,
    /// Percent of production traffic on green.
    pub prod_percent: f64,
    /// Percent of test traffic on green.
    pub test_percent: f64,
    /// Next production step (canary/linear).
    pub next_shift_at: Option<Secs>,
    /// Hook invocations.
    pub hooks: Vec<HookRun>,
    /// ContinueDeployment(TERMINATION_WAIT) ended the bake early.
    pub skip_bake: bool,
    /// Why it rolled back.
    pub failure: Option<Failure>,
    /// Started.
    pub started_at: Secs,
    /// Finished (Done or RolledBack).
    pub finished_at: Option<Secs>,
}

impl BlueGreenRun {
    /// A run at its first stage.
    pub fn new(plan: RunPlan, blue_seq: u64, green_seq: u64, sd_index: usize, now: Secs) -> Self {
        let mut run = Self {
            plan,
            blue_seq,
            green_seq,
            sd_index,
            stage: Stage::PreScaleUp,
            stage_since: now,
            rollback_from: None,
            prod_percent: 0.0,
            test_percent: 0.0,
            next_shift_at: None,
            hooks: Vec::new(),
            skip_bake: false,
            failure: None,
            started_at: now,
            finished_at: None,
        };
        run.start_hooks(now);
        run
    }

    /// Whether it is still moving.
    pub fn is_active(&self) -> bool {
        !matches!(self.stage, Stage::Done | Stage::RolledBack)
    }

    /// Whether a rollback can still put blue back at once (blue is not stopping yet).
    pub fn can_roll_back(&self) -> bool {
        self.stage < Stage::CleanUp
    }

    /// The PAUSE hook of the current stage waiting for an answer.
    pub fn awaiting_hook(&self) -> Option<&HookRun> {
        self.hooks
            .iter()
            .find(|h| h.stage == self.stage && h.status == HookStatus::AwaitingAction)
    }

    /// The next time something is due without any task changing.
    pub fn next_event(&self, after: Secs) -> Option<Secs> {
        if !self.is_active() {
            return None;
        }
        let hooks = self
            .hooks
            .iter()
            .filter(|h| {
                matches!(
                    h.status,
                    HookStatus::InProgress | HookStatus::AwaitingAction
                )
            })
            .map(|h| h.expires_at);
        let bake =
            (self.stage == Stage::BakeTime).then_some(self.stage_since + self.plan.bake_secs);
        hooks
            .chain(self.next_shift_at)
            .chain(bake)
            .filter(|t| *t > after)
            .min()
    }

    fn start_hooks(&mut self, now: Secs) {
        let stage = self.stage;
        let specs: Vec<HookSpec> = self
            .plan
            .hooks
            .iter()
            .filter(|h| h.stage == stage)
            .cloned()
            .collect();
        for (i, spec) in specs.into_iter().enumerate() {
            let seq = format!("{}-{}-{i}", self.green_seq, stage.as_str());
            self.hooks.push(HookRun {
                id: arn::alnum_id(&[&self.plan.green_tg, &seq, "hook"]),
                stage,
                pause: spec.pause,
                status: if spec.pause {
                    HookStatus::AwaitingAction
                } else {
                    HookStatus::InProgress
                },
                expires_at: now
                    + if spec.pause {
                        spec.timeout_secs.max(1)
                    } else {
                        LAMBDA_HOOK_SECS
                    },
                rollback_on_timeout: spec.rollback_on_timeout,
            });
        }
    }

    fn enter(&mut self, stage: Stage, now: Secs) {
        self.stage = stage;
        self.stage_since = now;
        match stage {
            Stage::TestTrafficShift => self.test_percent = 100.0,
            Stage::ProductionTrafficShift => {
                self.prod_percent = self.plan.shift.first();
                self.next_shift_at =
                    (self.prod_percent < 100.0).then(|| now + self.plan.shift.interval().max(1));
            }
            Stage::Done => self.finished_at = Some(now),
            _ => {}
        }
        self.start_hooks(now);
    }

    fn hooks_done(&self) -> bool {
        self.hooks
            .iter()
            .filter(|h| h.stage == self.stage)
            .all(|h| h.status == HookStatus::Succeeded)
    }
}

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
