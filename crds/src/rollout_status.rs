//! The BlueGreenRollout status: the phase, the release in flight, the revisions and the verb
//! requests acted upon — the rollout state machine's memory (re-exported by `rollout`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Rollout phase (Argo Rollouts vocabulary; Argo CD maps Paused to Suspended).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum RolloutPhase {
    /// The stable revision serves all traffic; nothing to do.
    #[default]
    Healthy,
    /// A revision is being released.
    Progressing,
    /// Waiting for promotion or a gate.
    Paused,
    /// The last release failed or was aborted; the stable revision serves traffic.
    Degraded,
}

/// Observed state of a BlueGreenRollout: the rollout state machine's memory. The phase, the
/// release in flight and every AWS identifier are written before (or with) the call that acts
/// on them, so an operator restarted at any point resumes the same release.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlueGreenRolloutStatus {
    /// The metadata.generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The AWS account this object's resources are in: the 12-digit id its namespace's
    /// AwsAccountBinding named, or `operator` for ecs-operator's own identity. Recorded before
    /// the object's first AWS call; when the namespace's binding later points elsewhere, the
    /// object is Stalled (`AccountChanged`) until a person confirms the new account with the
    /// annotation `ecs-operator.dev/confirm-account`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_account: Option<String>,
    /// Healthy, Progressing, Paused or Degraded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<RolloutPhase>,
    /// Human-readable summary of the phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Ready, Reconciling, Stalled, Progressing, Paused, Degraded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// CodeDeploy deployment id of the current or last release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    /// ECS service deployment ARN of the current or last release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_deployment_arn: Option<String>,
    /// The revision serving production traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable_task_definition_arn: Option<String>,
    /// Content hash of the stable revision, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable_content_hash: Option<String>,
    /// The revision that served before the stable one: where `rollback` goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_stable_task_definition_arn: Option<String>,
    /// The revision being released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_task_definition_arn: Option<String>,
    /// Content hash of the revision being released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_content_hash: Option<String>,
    /// Production traffic split, read from the production listener.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_weights: Option<TrafficWeights>,
    /// Why the rollout is paused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pause_conditions: Vec<PauseCondition>,
    /// When the last release was aborted or rolled back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted_at: Option<Time>,
    /// Why the last release was aborted or rolled back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// Content hash of a release that failed or was aborted: not rolled out again until the
    /// EcsService's spec changes (new hash), this rollout's spec changes, or `retry` is requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bad_content_hash: Option<String>,
    /// The release in flight (absent when Healthy or Degraded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseStatus>,
    /// Metric analysis of the current or last release, one entry per spec.analysis.metrics
    /// entry: counts in the phase measured last and the newest measurements. Kept after the
    /// release ends; replaced when the next one starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub analysis: Vec<MetricStatus>,
    /// The CodeDeploy application, deployment group and config the rollout keeps in sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_deploy: Option<CodeDeployStatus>,
    /// Verb timestamps already acted upon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handled_verbs: Option<HandledVerbs>,
}

/// Where a release in flight stands.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum ReleaseState {
    /// Decided and recorded; the engine deployment is created next.
    #[default]
    Starting,
    /// The engine deploys the new revision next to the stable one (before the gate).
    Deploying,
    /// At the gate, on test traffic: HTTP checks and the auto-promotion wait run.
    Verifying,
    /// At the gate, waiting for `promote`.
    Paused,
    /// Promoted: production traffic moves to the new revision.
    Promoting,
    /// Production traffic moved; both revisions run for the bake / termination wait, alarms
    /// still watched.
    Baking,
    /// Aborted (by request, alarm, failed check or deadline): the engine rolls back.
    Aborting,
}

/// The release in flight.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseStatus {
    /// Where it stands.
    pub state: ReleaseState,
    /// When it started.
    pub started_at: Time,
    /// When it entered its state.
    pub state_since: Time,
    /// When it last made progress: the progress deadline counts from here.
    pub progressed_at: Time,
    /// Engine step: the CodeDeploy status or ECS lifecycle stage last seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// A release started by `rollback` (back to the previous stable revision).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rollback: bool,
    /// `promote` arrived before the gate: pass it without checks or waiting.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub promoted: bool,
    /// `promote --full`: also skip what remains (CodeDeploy's termination wait).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full_promotion: bool,
    /// The request to end the termination wait early was sent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bake_skipped: bool,
    /// Why it is being aborted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort_reason: Option<String>,
    /// Aborted because a newer revision was published before it passed its gate: rolled back
    /// without counting as a failure, then the newer revision is released.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub superseded: bool,
    /// The stop request (StopDeployment / StopServiceDeployment) was accepted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stop_sent: bool,
    /// The target group serving production when the release started (the stable tasks').
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable_target_group_arn: Option<String>,
    /// Why the release is paused at the gate when it is not (only) waiting for `promote`: an
    /// inconclusive metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_reason: Option<String>,
    /// Progress of each HTTP check (same order as spec.analysis.httpChecks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub http_checks: Vec<HttpCheckStatus>,
}

/// Progress of one HTTP check during the gate.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpCheckStatus {
    /// Request path.
    pub path: String,
    /// Consecutive successes.
    pub passed: i32,
    /// When it was last sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_checked_at: Option<Time>,
    /// What it last got (status code or failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_result: Option<String>,
}

/// Where one metric of the analysis stands.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricStatus {
    /// The metric's name.
    pub name: String,
    /// The phase measured last (counts below are of this phase).
    pub phase: crate::analysis::AnalysisPhase,
    /// Running, Successful, Failed, Inconclusive or Error.
    pub verdict: MetricVerdict,
    /// The metric is dry-run: reported, never gating.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// When the phase started being measured (initialDelaySeconds counts from here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase_started_at: Option<Time>,
    /// Measurements taken in the phase.
    #[serde(default)]
    pub measured: i32,
    /// Of which passed.
    #[serde(default)]
    pub successful: i32,
    /// Of which failed.
    #[serde(default)]
    pub failed: i32,
    /// Of which were inconclusive.
    #[serde(default)]
    pub inconclusive: i32,
    /// Queries that failed in a row (not counted as measurements).
    #[serde(default)]
    pub consecutive_errors: i32,
    /// When it was last measured (or the query last failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_measured_at: Option<Time>,
    /// The newest measurements, newest first (at most 3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub measurements: Vec<MeasurementStatus>,
}

/// A metric's standing.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum MetricVerdict {
    /// Being measured.
    #[default]
    Running,
    /// Passed its count of measurements on test traffic.
    Successful,
    /// More failed measurements than failureLimit.
    Failed,
    /// More inconclusive measurements than inconclusiveLimit.
    Inconclusive,
    /// More failed queries in a row than consecutiveErrorLimit.
    Error,
}

/// One measurement.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeasurementStatus {
    /// When it was taken.
    pub at: Time,
    /// The phase it was taken in.
    pub phase: crate::analysis::AnalysisPhase,
    /// Successful, Failed, Inconclusive or Error.
    pub outcome: MeasurementOutcome,
    /// The result (`result`), as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// What the conditions said, or why the query failed (the provider's own code and message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What one measurement showed.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum MeasurementOutcome {
    /// The conditions passed.
    Successful,
    /// The conditions failed.
    Failed,
    /// Neither condition held, or the query returned no data.
    Inconclusive,
    /// The query could not be run.
    Error,
}

/// The CodeDeploy resources of a rollout.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CodeDeployStatus {
    /// Application name.
    pub application_name: String,
    /// Deployment group name.
    pub deployment_group_name: String,
    /// Deployment config name.
    pub deployment_config_name: String,
    /// The Region they live in (absent: the operator's default Region). Kept so deletion
    /// finds them even after the EcsService, which names the Region, is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Hash of the configuration last found in sync (skips the reads until the spec changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced_hash: Option<String>,
    /// The operator created the application (deletionPolicy Delete may delete it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub created_application: bool,
    /// The operator created the deployment group (deletionPolicy Delete deletes it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub created_deployment_group: bool,
}

/// Production traffic weights.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrafficWeights {
    /// Percent on the stable revision.
    pub stable: i32,
    /// Percent on the revision being released.
    pub canary: i32,
}

/// A reason the rollout waits.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PauseCondition {
    /// BlueGreenPause (waiting for promote).
    pub reason: String,
    /// When the pause started.
    pub start_time: Time,
}

/// The verb request timestamps the controller has acted on (each once).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HandledVerbs {
    /// Last handled promote request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promote: Option<String>,
    /// Last handled promote --full request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promote_full: Option<String>,
    /// Last handled abort request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort: Option<String>,
    /// Last handled retry request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<String>,
    /// Last handled rollback request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<String>,
}
