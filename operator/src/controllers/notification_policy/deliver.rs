//! Sending what the ledger owes: each receiver's URL read from its Secret (or its SNS topic's
//! account reached), the body shaped for its type, one POST or Publish per notification in the
//! order they happened. A receiver that fails stops
//! for this round (its later notifications keep their order) and is tried again after a
//! backoff; the others go on. What a receiver answered goes into its status, never its URL.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws::accounts::{AwsClients, Identity};
use aws::sns::{PublishInput, TopicArn};
use aws::webhook::WebhookApi;
use bytes::Bytes;
use crds::notification::{Receiver, ReceiverStatus, SecretKeyRef};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::Api;

use super::message::Notification;
use crate::controllers::Context;
use crate::controllers::accounts::{self, resolve::binding_of};

/// First retry delay after a failure; doubled per failure in a row, up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(5);
/// The longest wait between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// A receiver ready to send to.
#[derive(Clone)]
pub struct Target {
    /// `webhook`, `slack`, `teams` or `sns` (the metrics label).
    pub kind: &'static str,
    transport: Transport,
}

/// How a receiver is reached.
#[derive(Clone)]
enum Transport {
    /// A POST to a URL from a Secret, with the body a template shapes (webhooks only).
    Url {
        url: String,
        template: Option<String>,
    },
    /// SNS Publish with the clients of the topic's account and Region.
    Sns {
        topic_arn: String,
        fifo: bool,
        aws: Arc<AwsClients>,
    },
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let to = match &self.transport {
            Transport::Url { .. } => "<URL from its Secret>".to_owned(),
            Transport::Sns { topic_arn, .. } => topic_arn.clone(),
        };
        f.debug_struct("Target")
            .field("kind", &self.kind)
            .field("to", &to)
            .finish()
    }
}

impl Target {
    /// The body this receiver gets for `n`.
    pub fn body(&self, n: &Notification) -> Bytes {
        let template = match &self.transport {
            Transport::Url { template, .. } => template.as_ref(),
            Transport::Sns { .. } => None,
        };
        let text = match (self.kind, template) {
            ("slack", _) => n.slack().to_string(),
            ("teams", _) => n.teams().to_string(),
            (_, Some(template)) => n.render(template),
            _ => n.json().to_string(),
        };
        Bytes::from(text)
    }

    /// Sends `n`; the error is `code: message` as the receiver's status shows it (AWS's own
    /// code and message for SNS).
    pub async fn send(&self, webhooks: &dyn WebhookApi, n: &Notification) -> Result<(), String> {
        match &self.transport {
            Transport::Url { url, .. } => webhooks
                .post(url, self.body(n))
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Transport::Sns {
                topic_arn,
                fifo,
                aws,
            } => aws
                .sns
                .publish(publish_input(topic_arn, *fifo, n))
                .await
                .map(|_| ())
                .map_err(|e| e.answer()),
        }
    }
}

/// The Publish request of `n`: the JSON notification, its summary as the Subject, the
/// attributes a subscription filter policy matches on, and on a FIFO topic the object's
/// message group and the notification's deduplication id.
pub fn publish_input(topic_arn: &str, fifo: bool, n: &Notification) -> PublishInput {
    let attributes = vec![
        ("id".to_owned(), n.id.clone()),
        ("trigger".to_owned(), format!("{:?}", n.trigger)),
        ("kind".to_owned(), n.kind.clone()),
        ("namespace".to_owned(), n.namespace.clone()),
        ("name".to_owned(), n.name.clone()),
    ];
    let (group, dedup) = if fifo {
        let group = format!("{}/{}/{}", n.namespace, n.kind, n.name);
        // Both take at most 128 characters: a long group is replaced by its digest, and the
        // deduplication id always is one (a notification id can be longer).
        let group = if group.len() <= 128 {
            group
        } else {
            digest(&group)
        };
        (Some(group), Some(digest(&n.id)))
    } else {
        (None, None)
    };
    PublishInput {
        topic_arn: topic_arn.to_owned(),
        subject: Some(n.subject()),
        message: n.json().to_string(),
        attributes,
        message_group_id: group,
        message_deduplication_id: dedup,
    }
}

/// SHA-256 of `text`, in hex (64 characters).
fn digest(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// Where the receiver's URL is kept: its type, the Secret key and the body template.
fn url_ref(receiver: &Receiver) -> Option<(&'static str, &SecretKeyRef, Option<String>)> {
    if let Some(w) = &receiver.webhook {
        return Some(("webhook", &w.url_secret_ref, w.body_template.clone()));
    }
    if let Some(s) = &receiver.slack {
        return Some(("slack", &s.url_secret_ref, None));
    }
    receiver
        .teams
        .as_ref()
        .map(|t| ("teams", &t.url_secret_ref, None))
}

/// The receiver, ready to send to: its URL read from its Secret in `namespace`, or the clients
/// of its SNS topic's account.
pub async fn target(
    ctx: &Context,
    secrets: &Api<Secret>,
    namespace: &str,
    receiver: &Receiver,
) -> Result<Target, String> {
    if let Some(sns) = &receiver.sns {
        return sns_target(ctx, namespace, &sns.topic_arn).await;
    }
    let (kind, secret_ref, template) = url_ref(receiver).ok_or_else(|| {
        "SecretUnreadable: the receiver sets none of webhook, slack, teams, sns".to_owned()
    })?;
    let secret = secrets.get(&secret_ref.name).await.map_err(|e| {
        format!(
            "SecretUnreadable: Secret {namespace}/{} could not be read: {e}; the chart grants get on the Secrets listed in notifications.urlSecrets",
            secret_ref.name
        )
    })?;
    let url = secret
        .data
        .as_ref()
        .and_then(|d| d.get(&secret_ref.key))
        .map(|v| String::from_utf8_lossy(&v.0).trim().to_owned())
        .filter(|url| !url.is_empty())
        .ok_or_else(|| {
            format!(
                "SecretUnreadable: Secret {namespace}/{} has no key {}",
                secret_ref.name, secret_ref.key
            )
        })?;
    Ok(Target {
        kind,
        transport: Transport::Url { url, template },
    })
}

/// An SNS receiver: the topic must be in the account `namespace` is bound to, in a Region the
/// binding allows; the clients are that account's (its role assumed first).
async fn sns_target(ctx: &Context, namespace: &str, topic_arn: &str) -> Result<Target, String> {
    let topic = TopicArn::parse(topic_arn).ok_or_else(|| {
        format!(
            "InvalidTopicArn: {topic_arn} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"
        )
    })?;
    if ctx.settings.dry_run {
        return Err(format!(
            "DryRun: ecs-operator runs with --dry-run, so nothing is published to {topic_arn}; the notification waits until dry-run is off"
        ));
    }
    let bindings = ctx.stores.bindings.state();
    let refused =
        |r: crate::controllers::ownership::Refusal| format!("{}: {}", r.reason, r.message);
    let binding = binding_of(&bindings, namespace, ctx.unbound).map_err(refused)?;
    let target = accounts::resolve::target(
        &binding,
        namespace,
        Some(topic.region),
        ctx.aws.default_region(),
    )
    .map_err(refused)?;
    if let Identity::Role(session) = &target.identity
        && session.account_id != topic.account
    {
        return Err(format!(
            "TopicInOtherAccount: topic {topic_arn} is in account {}, but namespace {namespace} is bound to account {} (AwsAccountBinding {}); nothing was published. Use a topic of account {}",
            topic.account,
            session.account_id,
            target.binding.as_deref().unwrap_or("-"),
            session.account_id
        ));
    }
    let aws = ctx
        .aws
        .connect(&target.identity, &target.region)
        .await
        .map_err(|e| {
            format!(
                "AssumeRoleFailed: the role of account {} could not be assumed: {}",
                target.account(),
                e.answer()
            )
        })?;
    Ok(Target {
        kind: "sns",
        transport: Transport::Sns {
            topic_arn: topic_arn.to_owned(),
            fifo: topic.is_fifo(),
            aws,
        },
    })
}

/// The receivers' status rows for `receivers`, carrying over what `prev` recorded.
pub fn rows(prev: &[ReceiverStatus], receivers: &[Receiver]) -> BTreeMap<String, ReceiverStatus> {
    receivers
        .iter()
        .map(|r| {
            let row = prev
                .iter()
                .find(|p| p.name == r.name)
                .cloned()
                .unwrap_or_else(|| ReceiverStatus {
                    name: r.name.clone(),
                    ..ReceiverStatus::default()
                });
            (r.name.clone(), row)
        })
        .collect()
}

/// Whether the receiver may be tried at `now` (no backoff pending).
pub fn due(row: &ReceiverStatus, now: jiff::Timestamp) -> bool {
    row.retry_at.as_ref().is_none_or(|t| t.0 <= now)
}

/// Records a delivery.
pub fn succeeded(row: &mut ReceiverStatus, now: jiff::Timestamp) {
    row.delivered += 1;
    row.consecutive_failures = 0;
    row.retry_at = None;
    row.last_delivered_at = Some(Time(now));
}

/// Records a failed attempt and when to try again.
pub fn failed(row: &mut ReceiverStatus, error: String, now: jiff::Timestamp) {
    row.failed_attempts += 1;
    row.consecutive_failures += 1;
    row.last_error = Some(error);
    let delay = backoff(row.consecutive_failures);
    let at = now
        .checked_add(jiff::SignedDuration::try_from(delay).unwrap_or_default())
        .unwrap_or(now);
    row.retry_at = Some(Time(
        jiff::Timestamp::from_second(at.as_second()).unwrap_or(at),
    ));
}

/// The wait after `failures` failures in a row.
pub fn backoff(failures: i32) -> Duration {
    let doublings = u32::try_from(failures.saturating_sub(1))
        .unwrap_or(0)
        .min(16);
    FIRST_BACKOFF
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(MAX_BACKOFF)
}
