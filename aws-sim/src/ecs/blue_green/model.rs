//! The data of a blue/green run: lifecycle stages, traffic shifting, lifecycle hooks, what a
//! run was started with and where it stands. The behaviour that moves a run is `ecs_bluegreen`.

use crate::arn;
use crate::time::Secs;

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

    pub(crate) fn next(self) -> Stage {
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
    pub(crate) fn first(self) -> f64 {
        match self {
            Shift::AllAtOnce => 100.0,
            Shift::Canary { percent, .. } | Shift::Linear { percent, .. } => percent.min(100.0),
        }
    }

    pub(crate) fn after(self, current: f64) -> f64 {
        match self {
            Shift::AllAtOnce | Shift::Canary { .. } => 100.0,
            Shift::Linear { percent, .. } => (current + percent).min(100.0),
        }
    }

    pub(crate) fn interval(self) -> Secs {
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

    pub(crate) fn start_hooks(&mut self, now: Secs) {
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

    pub(crate) fn enter(&mut self, stage: Stage, now: Secs) {
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

    pub(crate) fn hooks_done(&self) -> bool {
        self.hooks
            .iter()
            .filter(|h| h.stage == self.stage)
            .all(|h| h.status == HookStatus::Succeeded)
    }
}
