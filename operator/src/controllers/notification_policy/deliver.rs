//! Sending what the ledger owes: each receiver's URL read from its Secret, the body shaped for
//! its type, one POST per notification in the order they happened. A receiver that fails stops
//! for this round (its later notifications keep their order) and is tried again after a
//! backoff; the others go on. What a receiver answered goes into its status, never its URL.

use std::collections::BTreeMap;
use std::time::Duration;

use aws::webhook::WebhookApi;
use bytes::Bytes;
use crds::notification::{Receiver, ReceiverStatus, SecretKeyRef};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::Api;

use super::message::Notification;

/// First retry delay after a failure; doubled per failure in a row, up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(5);
/// The longest wait between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// A receiver ready to send to.
#[derive(Clone)]
pub struct Target {
    /// `webhook`, `slack` or `teams` (the metrics label).
    pub kind: &'static str,
    url: String,
    template: Option<String>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("kind", &self.kind)
            .field("url", &"<from its Secret>")
            .finish()
    }
}

impl Target {
    /// The body this receiver gets for `n`.
    pub fn body(&self, n: &Notification) -> Bytes {
        let text = match (self.kind, &self.template) {
            ("slack", _) => n.slack().to_string(),
            ("teams", _) => n.teams().to_string(),
            (_, Some(template)) => n.render(template),
            _ => n.json().to_string(),
        };
        Bytes::from(text)
    }

    /// Sends `n`; the error is `code: message` as the receiver's status shows it.
    pub async fn send(&self, client: &dyn WebhookApi, n: &Notification) -> Result<(), String> {
        client
            .post(&self.url, self.body(n))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// The receiver's type and the Secret key holding its URL.
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

/// Reads the receiver's URL from its Secret in `namespace`.
pub async fn target(
    secrets: &Api<Secret>,
    namespace: &str,
    receiver: &Receiver,
) -> Result<Target, String> {
    let (kind, secret_ref, template) = url_ref(receiver).ok_or_else(|| {
        "SecretUnreadable: the receiver sets none of webhook, slack, teams".to_owned()
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
        url,
        template,
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
