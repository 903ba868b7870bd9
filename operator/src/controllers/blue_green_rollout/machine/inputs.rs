//! What one step of the rollout state machine reads: the engine's view of the deployment
//! (normalised across CodeDeploy and ECS-native), the gates, the pending verbs and what was
//! observed this reconcile. Plain data.

use crds::rollout::{AnalysisPhase, MeasurementOutcome};
use jiff::Timestamp;

use super::memory::Revision;

/// Default seconds a release may go without progress.
pub const DEFAULT_PROGRESS_DEADLINE_SECS: i64 = 1800;

/// What the engine shows of the release's deployment, whatever the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineView {
    /// No deployment for the release exists.
    None,
    /// The deployment was requested but is not visible yet.
    Pending,
    /// Another deployment (not the release's) is active where the release must deploy: the
    /// engine allows one at a time.
    Busy {
        /// Its id.
        deployment: String,
    },
    /// Deploying the new revision, before the gate (`step` names the engine step).
    Progressing {
        /// Engine step.
        step: String,
    },
    /// At the gate on test traffic, waiting for the operator.
    AtGate {
        /// The PAUSE hook to answer (ECS-native); CodeDeploy's READY_WAIT has none.
        hook_id: Option<String>,
    },
    /// Production traffic moving.
    Shifting {
        /// Engine step.
        step: String,
    },
    /// Traffic moved; bake time / termination wait.
    Baking {
        /// Whether the wait can be ended early (CodeDeploy TERMINATION_WAIT).
        can_skip: bool,
    },
    /// Finished: the new revision serves.
    Succeeded,
    /// Rolling back.
    RollingBack {
        /// Why.
        reason: String,
    },
    /// Finished: the stable revision serves again.
    RolledBack {
        /// Why.
        reason: String,
    },
    /// Finished badly: the rollback failed too.
    Failed {
        /// Why.
        reason: String,
    },
}

impl EngineView {
    /// A deployment that is still moving forward (something to stop or continue).
    pub fn is_active(&self) -> bool {
        matches!(
            self,
            EngineView::Progressing { .. }
                | EngineView::AtGate { .. }
                | EngineView::Shifting { .. }
                | EngineView::Baking { .. }
        )
    }

    /// The engine step to show, if any.
    pub fn step(&self) -> Option<String> {
        match self {
            EngineView::Progressing { step } | EngineView::Shifting { step } => Some(step.clone()),
            EngineView::AtGate { .. } => Some("AwaitingPromotion".to_owned()),
            EngineView::Baking { .. } => Some("Baking".to_owned()),
            _ => None,
        }
    }
}

/// One HTTP check as the gates need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSpec {
    /// Request path.
    pub path: String,
    /// Expected status.
    pub expected_status: u16,
    /// Seconds between attempts.
    pub interval_secs: i64,
    /// Consecutive successes needed.
    pub count: i32,
}

/// One metric of the analysis as the gates need it (what to query is the observer's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricSpec {
    /// Name.
    pub name: String,
    /// Phases it is measured in.
    pub phases: Vec<AnalysisPhase>,
    /// Seconds between measurements.
    pub interval_secs: i64,
    /// Measurements that must pass on test traffic.
    pub count: i32,
    /// Failed measurements tolerated per phase.
    pub failure_limit: i32,
    /// Inconclusive measurements tolerated per phase.
    pub inconclusive_limit: i32,
    /// Failed queries in a row tolerated.
    pub consecutive_error_limit: i32,
    /// Seconds after the phase starts before the first measurement.
    pub initial_delay_secs: i64,
    /// Reports only, never gates.
    pub dry_run: bool,
}

/// What one measurement showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measurement {
    /// Passed, failed, inconclusive, or the query failed.
    pub outcome: MeasurementOutcome,
    /// The result, as text.
    pub value: Option<String>,
    /// What the conditions said, or the provider's error.
    pub message: Option<String>,
}

/// The operator-side gates of a rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gates {
    /// Promote once the checks pass (else pause for `promote`).
    pub auto_promotion_enabled: bool,
    /// Seconds on test traffic before promoting automatically.
    pub auto_promotion_seconds: i64,
    /// HTTP checks against the test listener.
    pub checks: Vec<CheckSpec>,
    /// Metric analysis.
    pub metrics: Vec<MetricSpec>,
    /// Seconds without progress before aborting.
    pub progress_deadline_secs: i64,
}

/// A verb request not handled yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verb {
    /// Abort the release in flight.
    Abort,
    /// Abort the release in flight, or go back to the previous stable revision.
    Rollback,
    /// Forget the failed content hash.
    Retry,
    /// Pass the gate and skip what remains.
    PromoteFull,
    /// Pass the gate.
    Promote,
}

/// Everything observed for one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    /// Now.
    pub now: Timestamp,
    /// The revision the EcsService publishes.
    pub desired: Option<Revision>,
    /// The revision the ECS service runs (the stable one before the first release).
    pub live: Option<String>,
    /// The release's deployment.
    pub engine: EngineView,
    /// Watched alarms in ALARM.
    pub alarms_firing: Vec<String>,
    /// Watched alarms CloudWatch does not know (a release they cannot guard is not let through).
    pub alarms_missing: Vec<String>,
    /// HTTP checks sent this reconcile: (index, passed, what it got).
    pub probes: Vec<(usize, bool, String)>,
    /// Metrics measured this reconcile: (index, in which phase, what it showed).
    pub measurements: Vec<(usize, AnalysisPhase, Measurement)>,
    /// Pending verbs.
    pub verbs: Vec<Verb>,
}
