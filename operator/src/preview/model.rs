//! The preview endpoint's request and answer, and the exit codes the plugin derives from it.

use serde::{Deserialize, Serialize};

/// What `kubectl ecs diff|verify` sends.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewRequest {
    /// Namespace of the objects that name none (the plugin's `-n` or context namespace).
    pub namespace: String,
    /// The manifests' objects, as JSON; kinds other than the operator's are left out.
    pub objects: Vec<serde_json::Value>,
}

/// What the operator would do with one object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectPreview {
    /// EcsService, BlueGreenRollout or ScalingPolicy.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The AWS account it acts in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The Region it acts in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The AWS calls its next reconciles would make, in order.
    #[serde(default)]
    pub calls: Vec<String>,
    /// The task definition the spec renders against the live revision, as a line diff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition_diff: Option<String>,
    /// References that do not resolve (the object would be refused with InvalidReference).
    #[serde(default)]
    pub findings: Vec<String>,
    /// What could not be checked, and why.
    #[serde(default)]
    pub not_checked: Vec<String>,
    /// How many references were checked.
    #[serde(default)]
    pub references_checked: usize,
    /// Why the object could not be previewed (invalid spec, account refused, AWS error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The answer for every object of a request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewResponse {
    /// One per object of the operator's kinds, in request order.
    pub objects: Vec<ObjectPreview>,
}

/// `diff`'s exit code, as `diff` has it: 0 no change, 1 changes, 2 an error (an object that
/// cannot be previewed, or would be refused for a reference that does not resolve).
pub fn diff_exit_code(response: &PreviewResponse) -> i32 {
    if response
        .objects
        .iter()
        .any(|o| o.error.is_some() || !o.findings.is_empty())
    {
        2
    } else if response.objects.iter().any(|o| !o.calls.is_empty()) {
        1
    } else {
        0
    }
}

/// `verify`'s exit code: 0 every reference resolves, 1 some do not, 2 an error.
pub fn verify_exit_code(response: &PreviewResponse) -> i32 {
    if response.objects.iter().any(|o| o.error.is_some()) {
        2
    } else if response.objects.iter().any(|o| !o.findings.is_empty()) {
        1
    } else {
        0
    }
}
