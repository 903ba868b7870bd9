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
