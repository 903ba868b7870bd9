//! The ReleaseGroup kind: the EcsServices of one namespace that are released together. Each
//! member names its group with the label `ecs-operator.dev/release-group` and its release with
//! the annotation `ecs-operator.dev/release`; the group follows the release through its
//! members and, when one fails, has the others roll back to the revision they ran before it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A set of EcsServices released together: members carry the label
/// `ecs-operator.dev/release-group: <this name>` and, on each change, the annotation
/// `ecs-operator.dev/release: <id>`. Members whose spec changed with the same id are one
/// release: they deploy in `dependsOn` order, each through its own engine and gates, and when
/// one fails the group decides what happens to the others (`onFailure`). The group never
/// rewrites a member's spec.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "ecs-operator.dev",
    version = "v1alpha1",
    kind = "ReleaseGroup",
    namespaced,
    shortname = "relgroup",
    status = "ReleaseGroupStatus",
    doc = "EcsServices of one namespace released together: in dependsOn order, and rolled back together when one member fails.",
    printcolumn = r#"{"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name": "Release", "type": "string", "jsonPath": ".status.release"}"#,
    printcolumn = r#"{"name": "Phase", "type": "string", "jsonPath": ".status.phase"}"#,
    printcolumn = r#"{"name": "Failed", "type": "string", "jsonPath": ".status.failure.member"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseGroupSpec {
    /// What happens when a member of a release fails (Degraded: its deployment failed, a gate,
    /// an alarm or its progress deadline rolled it back). RollbackAll (the default): members
    /// already released roll back to the revision they ran before the release, and members not
    /// started yet do not start. RollbackFailed: only the failed member rolls back (its own
    /// engine does that); the others keep the new release, and members that depend on the
    /// failed one keep waiting for it.
    #[serde(default)]
    pub on_failure: OnFailure,
}

/// What a failed member means for the rest of its release.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum OnFailure {
    /// Every member of the release goes back to the revision it ran before it.
    #[default]
    RollbackAll,
    /// Only the failed member goes back.
    RollbackFailed,
}

/// Where a release stands.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum ReleasePhase {
    /// No member carries a release id yet.
    NoRelease,
    /// Members are deploying (or waiting for the members they depend on).
    Progressing,
    /// Every member of the release runs its new revision.
    Succeeded,
    /// A member failed; the others are going back to their previous revisions.
    RollingBack,
    /// A member failed and every member runs the revision it ran before the release.
    RolledBack,
    /// A member failed; with RollbackFailed the others keep what they run.
    Failed,
}

/// Where one member stands in the group's release.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum MemberPhase {
    /// Its release annotation names another release (or none).
    NotInRelease,
    /// The operator has not looked at its current spec yet.
    Pending,
    /// Waiting for the members it depends on.
    Waiting,
    /// Deploying its new revision.
    Progressing,
    /// Runs its new revision.
    Released,
    /// Its spec did not change in this release.
    Unchanged,
    /// Its release failed.
    Failed,
    /// Going back to the revision it ran before the release.
    RollingBack,
    /// Runs the revision it ran before the release (or never left it).
    RolledBack,
    /// Stalled for a reason a person must fix (its conditions say which).
    Stalled,
}

/// Observed state of a ReleaseGroup.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseGroupStatus {
    /// The metadata.generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, Reconciling, Stalled and Degraded conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The release the group follows: the newest `ecs-operator.dev/release` id of its members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// Where that release stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<ReleasePhase>,
    /// When the group first saw the release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Time>,
    /// The member whose failure ended the release, once one failed. Kept for the release id: a
    /// new id starts over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<ReleaseFailure>,
    /// Every member, in release order (`dependsOn` first, then by name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberStatus>,
}

/// The failure that ended a release.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseFailure {
    /// The release id.
    pub release: String,
    /// The EcsService that failed.
    pub member: String,
    /// Why, as its Degraded condition says.
    pub reason: String,
}

/// One member as the group sees it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberStatus {
    /// The EcsService's name.
    pub name: String,
    /// Its `ecs-operator.dev/release` annotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// Where it stands in the group's release.
    pub phase: MemberPhase,
    /// The task definition revision it runs (`family:revision`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The revision it ran before the release (`family:revision`), its rollback target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_revision: Option<String>,
    /// Its Ready condition's message when it is not Ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
