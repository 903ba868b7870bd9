//! The NotificationPolicy kind: who hears about what. A policy picks the objects of its namespace
//! (by label), the moments that notify (a release started, paused for promotion, promoted,
//! succeeded or rolled back; analysis failed; an object stalled; scaling hit its maximum) and the
//! receivers: a webhook, Slack or Microsoft Teams. URLs come from Secrets;
//! what was delivered is remembered in the status, so a restart does not send it again.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::analysis::SecretKeyRef;

/// Notifications about the EcsServices, BlueGreenRollouts, ReleaseGroups and ScalingPolicies of
/// this namespace: which moments, for which objects, sent where. Each notification is delivered
/// at least once to every receiver and is identified by (object, release, trigger), which the
/// payload carries as `id` so a receiver can drop a repeat.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "ecs-operator.dev",
    version = "v1alpha1",
    kind = "NotificationPolicy",
    namespaced,
    shortname = "notifypolicy",
    status = "NotificationPolicyStatus",
    doc = "Who is told when a release starts, pauses, is promoted, succeeds or rolls back, when an object stalls and when scaling hits its maximum.",
    printcolumn = r#"{"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name": "Receivers", "type": "string", "jsonPath": ".spec.receivers[*].name"}"#,
    printcolumn = r#"{"name": "Delivered", "type": "integer", "jsonPath": ".status.delivered"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct NotificationPolicySpec {
    /// The moments that notify; every one of them when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub triggers: Vec<Trigger>,
    /// The objects of this namespace whose moments notify, by their labels (a BlueGreenRollout
    /// or ScalingPolicy is matched by its own labels). Every object when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// Where notifications go (1 to 10 receivers, names unique).
    #[schemars(length(min = 1, max = 10))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub receivers: Vec<Receiver>,
    /// Links added to every notification, e.g. the Argo CD application or the ECS console. The
    /// template's `{namespace}`, `{name}`, `{kind}`, `{service}`, `{cluster}` and `{revision}` are
    /// replaced by the object's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    pub links: Vec<Link>,
}

/// A moment that notifies.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema,
)]
pub enum Trigger {
    /// A BlueGreenRollout started releasing a new revision, or a ReleaseGroup a new release.
    ReleaseStarted,
    /// A release waits at its gate for `kubectl ecs promote`.
    ReleasePaused,
    /// A metric of the release's analysis failed.
    AnalysisFailed,
    /// The release was promoted: production traffic moves to the new revision.
    ReleasePromoted,
    /// The new revision serves production (a ReleaseGroup: every member runs its new revision).
    ReleaseSucceeded,
    /// The release failed and was rolled back; the previous revision serves production.
    ReleaseRolledBack,
    /// The object is Stalled: a person must act (its Stalled condition says how).
    Stalled,
    /// A ScalingPolicy's service runs its maximum capacity.
    ScalingAtMaxCapacity,
}

/// One receiver: exactly one of webhook, slack, teams or sns.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("(has(self.webhook) ? 1 : 0) + (has(self.slack) ? 1 : 0) + (has(self.teams) ? 1 : 0) + (has(self.sns) ? 1 : 0) == 1").message("set exactly one of webhook, slack, teams or sns"))]
pub struct Receiver {
    /// The receiver's name, as the status and metrics show it.
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    )]
    pub name: String,
    /// POST the notification as JSON to a URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookReceiver>,
    /// Post to a Slack incoming webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack: Option<UrlReceiver>,
    /// Post to a Microsoft Teams incoming webhook (or Workflows URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams: Option<UrlReceiver>,
    /// Publish to an Amazon SNS topic, in the AWS account bound to the policy's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sns: Option<SnsReceiver>,
}

/// An Amazon SNS topic. The message is the standard JSON notification; its Subject is the
/// summary; its string attributes `id`, `trigger`, `kind`, `namespace` and `name` let a
/// subscription's filter policy choose what it gets. A FIFO topic (`.fifo`) gets each
/// object's notifications in order (message group `namespace/kind/name`) and deduplicated by
/// notification id, so a retry after a lost reply is not delivered twice.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SnsReceiver {
    /// The topic's ARN. Its account must be the one bound to the policy's namespace (an
    /// AwsAccountBinding, or the operator's own where no binding applies) and its Region one
    /// the binding allows; the operator's identity there needs `sns:Publish` on it.
    #[schemars(regex(
        pattern = r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$"
    ))]
    pub topic_arn: String,
}

/// A generic webhook.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookReceiver {
    /// The Secret key holding the URL (it often carries a token, so it never sits in a spec).
    pub url_secret_ref: SecretKeyRef,
    /// The body to send instead of the standard JSON notification: `{{field}}` is replaced by
    /// the notification's field of that name (`id`, `trigger`, `kind`, `namespace`, `name`,
    /// `service`, `revision`, `image`, `engine`, `phase`, `reason`, `message`, `summary`,
    /// `trafficCanary`), escaped for a JSON string. Sent as `application/json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 8192))]
    pub body_template: Option<String>,
}

/// A receiver reached at a URL kept in a Secret.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UrlReceiver {
    /// The Secret key holding the incoming-webhook URL.
    pub url_secret_ref: SecretKeyRef,
}

/// A link added to every notification.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    /// What the link shows, e.g. `Argo CD`.
    #[schemars(length(min = 1, max = 63))]
    pub name: String,
    /// The URL, with `{namespace}`, `{name}`, `{kind}`, `{service}`, `{cluster}` and
    /// `{revision}` replaced.
    #[schemars(length(min = 1, max = 2048))]
    pub url_template: String,
}

/// Observed state of a NotificationPolicy.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationPolicyStatus {
    /// The metadata.generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, Reconciling, Stalled and Degraded (a receiver is failing) conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Notifications delivered to every receiver since the policy was created.
    #[serde(default)]
    pub delivered: i64,
    /// Each receiver's delivery record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub receivers: Vec<ReceiverStatus>,
    /// Each followed object's current release and what was delivered of it: the memory that
    /// keeps a restart from sending a notification twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<NotifiedObject>,
}

/// How one receiver is doing.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiverStatus {
    /// The receiver's name.
    pub name: String,
    /// Notifications it accepted.
    #[serde(default)]
    pub delivered: i64,
    /// Failed attempts, retried or not.
    #[serde(default)]
    pub failed_attempts: i64,
    /// Attempts that failed in a row (0 once one succeeds).
    #[serde(default)]
    pub consecutive_failures: i32,
    /// What the last failed attempt got (HTTP status and body start, or the AWS error code and
    /// message). Never contains the URL's path or query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When it last accepted a notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_delivered_at: Option<Time>,
    /// Not tried again before this time (backoff after a failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<Time>,
}

/// One followed object and what was delivered of its current release.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotifiedObject {
    /// BlueGreenRollout, ReleaseGroup, ScalingPolicy or EcsService.
    pub kind: String,
    /// Its namespace (a cluster-wide policy follows every namespace).
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Which of its stories: `release`, `stalled` or `scaling`.
    pub stream: String,
    /// What the moments belong to: `<revision>@<started>` of a rollout's release,
    /// `<id>@<started>` of a group's, `<reason>@<generation>` of a stall, `max@<capacity>`.
    pub release: String,
    /// Seen only after it ended (the policy is newer than it): nothing of it is sent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub baseline: bool,
    /// The triggers of this release and the receivers each was delivered to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notified: Vec<NotifiedTrigger>,
}

/// One trigger of a release and the receivers still to get it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotifiedTrigger {
    /// The trigger.
    pub trigger: Trigger,
    /// When the operator saw it happen.
    pub at: Time,
    /// The receivers that have not accepted it yet (empty once every receiver has).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<String>,
}
