//! The AwsAccountBinding kind (cluster-scoped, written by cluster administrators only): which AWS
//! account, IAM role and regions the objects of some namespaces reach. No object of the other
//! kinds can name a role or an account by itself.

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use crate::common::Tag;

/// Binds namespaces to one AWS account: the IAM role ecs-operator assumes there (through STS,
/// from its own identity) and the regions objects of those namespaces may use.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "ecs-operator.dev",
    version = "v1alpha1",
    kind = "AwsAccountBinding",
    shortname = "awsbinding",
    doc = "Binds namespaces to one AWS account, the IAM role ecs-operator assumes in it and the regions their objects may use. Cluster administrators write it; nothing in a namespace can name a role.",
    printcolumn = r#"{"name": "Account", "type": "string", "jsonPath": ".spec.accountId"}"#,
    printcolumn = r#"{"name": "Role", "type": "string", "jsonPath": ".spec.roleArn"}"#,
    printcolumn = r#"{"name": "Regions", "type": "string", "jsonPath": ".spec.regions"}"#,
    printcolumn = r#"{"name": "Namespaces", "type": "string", "jsonPath": ".spec.namespaces"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
)]
#[x_kube(validation = Rule::new("self.roleArn.contains(':iam::' + self.accountId + ':role/')").message("roleArn must be a role in accountId (arn:aws:iam::ACCOUNT_ID:role/NAME)"))]
#[x_kube(validation = Rule::new("!has(self.defaultRegion) || self.defaultRegion in self.regions").message("defaultRegion must be one of regions"))]
#[serde(rename_all = "camelCase")]
pub struct AwsAccountBindingSpec {
    /// The namespaces bound to this account, by name. A namespace is bound by at most one
    /// AwsAccountBinding: objects of a namespace two bindings name are refused until one lets
    /// it go. Names rather than a label selector so that only the binding's author, never
    /// whoever may label a namespace, decides which account a namespace reaches.
    #[schemars(length(min = 1, max = 256))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub namespaces: Vec<String>,
    /// The 12-digit AWS account id.
    #[schemars(regex(pattern = r"^[0-9]{12}$"))]
    pub account_id: String,
    /// The IAM role ecs-operator assumes in the account, `arn:aws:iam::ACCOUNT_ID:role/NAME`
    /// (its trust policy must allow ecs-operator's own role to call sts:AssumeRole and, with
    /// sessionTags, sts:TagSession).
    #[schemars(
        length(max = 2048),
        regex(pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$")
    )]
    pub role_arn: String,
    /// The external id the role's trust policy requires (`sts:ExternalId`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 2, max = 1224),
        regex(pattern = r"^[A-Za-z0-9+=,.@:/_-]+$")
    )]
    pub external_id: Option<String>,
    /// Session tags passed to AssumeRole (`aws:PrincipalTag/KEY` in the target account's
    /// policies). ecs-operator adds none of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["key".into()]))]
    pub session_tags: Vec<Tag>,
    /// How long each assumed session lasts, in seconds (900 to the role's maximum session
    /// duration; default 3600). Credentials are renewed five minutes before they expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 900, max = 43200))]
    pub session_duration_seconds: Option<i32>,
    /// The regions objects of the bound namespaces may use (`spec.region`); anything else is
    /// refused before any AWS call.
    #[schemars(length(min = 1, max = 32))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub regions: Vec<String>,
    /// The region of objects that name none (default: the first of `regions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_region: Option<String>,
}

impl AwsAccountBindingSpec {
    /// The region of an object that names none.
    pub fn default_region(&self) -> Option<&str> {
        self.default_region
            .as_deref()
            .or(self.regions.first().map(String::as_str))
    }
}
