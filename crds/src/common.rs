//! Types and names shared by every kind: object references, tags, policies, well-known keys.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// API group of every ecs-operator kind.
pub const GROUP: &str = "ecs-operator.dev";
/// API version served by this release.
pub const VERSION: &str = "v1alpha1";
/// Tag put on every AWS resource the operator creates: `<namespace>/<name>` of the owning object.
pub const OWNER_TAG: &str = "ecs-operator.dev/owner";
/// Tag on task definition revisions: the content hash of the rendered task definition.
pub const CONTENT_HASH_TAG: &str = "ecs-operator.dev/content-hash";
/// Annotation prefix of the rollout verbs: `ecs-operator.dev/<verb>-requested-at: <RFC3339>`.
pub const VERB_ANNOTATION_PREFIX: &str = "ecs-operator.dev/";
/// Annotation a person sets on an object to confirm that it moves to the AWS account its
/// namespace is bound to now (value: that account's id, or `operator`).
pub const CONFIRM_ACCOUNT_ANNOTATION: &str = "ecs-operator.dev/confirm-account";
/// Annotation that puts one object in dry-run (`"true"`): the operator observes and plans as
/// usual, writes the calls it would make to the `DryRun` condition, and makes no AWS mutation.
/// Removing it (or any other value) resumes normally.
pub const DRY_RUN_ANNOTATION: &str = "ecs-operator.dev/dry-run";
/// Annotation suffix of the rollout verbs.
pub const VERB_ANNOTATION_SUFFIX: &str = "-requested-at";

/// Reference to another object of the operator in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalObjectReference {
    /// Name of the EcsService in the same namespace.
    pub name: String,
}

/// An AWS resource tag.
#[derive(
    Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Tag {
    /// Tag key (1–128 characters). Keys starting with `aws:` or `ecs-operator.dev/` are reserved.
    pub key: String,
    /// Tag value (0–256 characters).
    #[serde(default)]
    pub value: String,
}

/// What happens to the AWS resources when the object is deleted.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum DeletionPolicy {
    /// Delete what the operator created (for a service: scale to 0, delete, wait until INACTIVE).
    #[default]
    Delete,
    /// Leave the AWS resources in place; only the Kubernetes object goes away.
    Retain,
}

/// Whether the operator may change AWS or only look at it.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum ManagementPolicy {
    /// Create, update and delete AWS resources to match the spec.
    #[default]
    Manage,
    /// Never write to AWS: observe, report drift in status and conditions.
    ObserveOnly,
}

/// What to do when the AWS resource already exists without the operator's owner tag.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum AdoptionPolicy {
    /// Refuse (Stalled, reason AlreadyExists). A resource tagged for another object is always refused.
    #[default]
    Never,
    /// Take over an untagged existing resource: tag it and manage it from now on.
    Adopt,
}

/// Condition types every kind reports (kstatus): Ready, Reconciling, Stalled.
pub mod condition {
    /// AWS has finished what the observed generation asked for.
    pub const READY: &str = "Ready";
    /// The operator is working toward the spec (kstatus "in progress").
    pub const RECONCILING: &str = "Reconciling";
    /// Progress is impossible until the spec, IAM or AWS state changes; the message says what to fix.
    pub const STALLED: &str = "Stalled";
    /// The last deployment or rollout failed; AWS runs the last good revision.
    pub const DEGRADED: &str = "Degraded";
    /// A deployment or rollout is moving.
    pub const PROGRESSING: &str = "Progressing";
    /// A rollout waits for a promotion or a gate.
    pub const PAUSED: &str = "Paused";
    /// The AWS state differs from the spec (ObserveOnly reports drift here).
    pub const DRIFTED: &str = "Drifted";
    /// The object is in dry-run: the message lists the calls that would be made.
    pub const DRY_RUN: &str = "DryRun";
}

/// The printer column JSONPath of the Ready condition.
pub const READY_COLUMN_PATH: &str = r#".status.conditions[?(@.type=="Ready")].status"#;

/// Annotation on an EcsService naming the release its current spec belongs to (a commit, a
/// version, a CI run id). Members of one ReleaseGroup whose spec changed with the same value
/// form one release, deployed in `dependsOn` order and rolled back together.
pub const RELEASE_ANNOTATION: &str = "ecs-operator.dev/release";
/// Label on an EcsService naming the ReleaseGroup (in its namespace) it is a member of. A label
/// has one value, so a service is a member of one group at most.
pub const RELEASE_GROUP_LABEL: &str = "ecs-operator.dev/release-group";
