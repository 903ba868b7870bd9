//! The rollout state machine's memory, kept in the status: the stable and previous revisions,
//! what failed, and the release in flight with its state and gate progress. Plain data, and
//! what each release state means (`StateExt`).

use crds::rollout::{AnalysisPhase, MeasurementOutcome, MetricVerdict, ReleaseState, RolloutPhase};
use jiff::Timestamp;

/// A task definition revision and its content hash (unknown for revisions found in AWS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// Revision ARN.
    pub task_definition_arn: String,
    /// Content hash, when known.
    pub content_hash: Option<String>,
}

/// Progress of one HTTP check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckProgress {
    /// Consecutive successes.
    pub passed: i32,
    /// When it last ran.
    pub last_checked_at: Option<Timestamp>,
    /// What it last got.
    pub last_result: Option<String>,
}

/// One measurement kept in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasurementRecord {
    /// When.
    pub at: Timestamp,
    /// In which phase.
    pub phase: AnalysisPhase,
    /// What it showed.
    pub outcome: MeasurementOutcome,
    /// The result, as text.
    pub value: Option<String>,
    /// What the conditions said, or the provider's error.
    pub message: Option<String>,
}

/// Where one metric of the analysis stands (counts are of `phase`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricProgress {
    /// The metric's name (progress is matched to the spec by name).
    pub name: String,
    /// The phase measured.
    pub phase: AnalysisPhase,
    /// Standing in that phase.
    pub verdict: MetricVerdict,
    /// Reports only.
    pub dry_run: bool,
    /// When the phase started being measured.
    pub phase_started_at: Option<Timestamp>,
    /// Measurements taken in the phase.
    pub measured: i32,
    /// Passed.
    pub successful: i32,
    /// Failed.
    pub failed: i32,
    /// Inconclusive.
    pub inconclusive: i32,
    /// Queries failed in a row.
    pub consecutive_errors: i32,
    /// Last measurement (or failed query).
    pub last_measured_at: Option<Timestamp>,
    /// Newest first, bounded.
    pub measurements: Vec<MeasurementRecord>,
}

/// The release in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// Where it stands.
    pub state: ReleaseState,
    /// The revision it releases.
    pub target: Revision,
    /// Started.
    pub started_at: Timestamp,
    /// Entered `state`.
    pub state_since: Timestamp,
    /// Last progress.
    pub progressed_at: Timestamp,
    /// Engine step last seen.
    pub step: Option<String>,
    /// Started by `rollback`.
    pub rollback: bool,
    /// `promote` came before the gate.
    pub promoted: bool,
    /// `promote --full`.
    pub full: bool,
    /// The termination wait was ended early.
    pub bake_skipped: bool,
    /// Why it is aborted.
    pub abort_reason: Option<String>,
    /// Aborted for a newer revision (not a failure).
    pub superseded: bool,
    /// The stop request was accepted.
    pub stop_sent: bool,
    /// HTTP check progress, one per check.
    pub checks: Vec<CheckProgress>,
    /// Why the release waits at the gate beyond the promotion (an inconclusive metric).
    pub pause_reason: Option<String>,
}

/// The machine's memory (kept in the status).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Memory {
    /// Serves production.
    pub stable: Option<Revision>,
    /// Served before `stable`.
    pub previous_stable: Option<String>,
    /// A content hash not to release again.
    pub bad_hash: Option<String>,
    /// Why the last release failed.
    pub failure: Option<String>,
    /// When the last release was aborted.
    pub aborted_at: Option<Timestamp>,
    /// In flight.
    pub release: Option<Release>,
    /// Metric analysis of the current or last release.
    pub analysis: Vec<MetricProgress>,
}

/// Per-state behaviour (bottlerocket style): the next state on success, whether the progress
/// deadline applies, and the phase it shows.
pub trait StateExt {
    /// The state after this one succeeds.
    fn on_success(self) -> Option<ReleaseState>;
    /// Whether the progress deadline runs in this state.
    fn has_deadline(self) -> bool;
    /// The Argo-style phase.
    fn phase(self) -> RolloutPhase;
}

impl StateExt for ReleaseState {
    fn on_success(self) -> Option<ReleaseState> {
        match self {
            ReleaseState::Starting => Some(ReleaseState::Deploying),
            ReleaseState::Deploying => Some(ReleaseState::Verifying),
            ReleaseState::Verifying | ReleaseState::Paused => Some(ReleaseState::Promoting),
            ReleaseState::Promoting => Some(ReleaseState::Baking),
            ReleaseState::Baking | ReleaseState::Aborting => None,
        }
    }

    fn has_deadline(self) -> bool {
        matches!(
            self,
            ReleaseState::Starting
                | ReleaseState::Deploying
                | ReleaseState::Verifying
                | ReleaseState::Promoting
        )
    }

    fn phase(self) -> RolloutPhase {
        match self {
            ReleaseState::Paused => RolloutPhase::Paused,
            ReleaseState::Aborting => RolloutPhase::Degraded,
            _ => RolloutPhase::Progressing,
        }
    }
}

/// `family:revision` of a task definition ARN.
pub fn short(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}
