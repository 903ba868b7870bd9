//! Kubernetes writes every controller makes the same way: status by server-side apply (skipped
//! when nothing changed), the finalizer by JSON patch, and events.

use kube::api::{Api, Patch, PatchParams};
use kube::core::object::HasStatus;
use kube::runtime::events::{Event, EventType};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::{Context, FIELD_MANAGER, FINALIZER};
use aws::AwsError;

/// Writes `status` with server-side apply on `/status` unless it equals the object's.
/// Returns whether a write was sent.
pub async fn write_status<K, S>(api: &Api<K>, obj: &K, status: &S) -> Result<bool, kube::Error>
where
    K: Resource<DynamicType = ()>
        + HasStatus<Status = S>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
    S: Serialize + PartialEq,
{
    if obj.status() == Some(status) {
        return Ok(false);
    }
    let body = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    api.patch_status(
        &obj.name_any(),
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(body),
    )
    .await?;
    Ok(true)
}

/// Writes a status that reports a problem and, when that changed the status, publishes a
/// Warning event with the same reason and message: a problem is announced once, not on every
/// reconcile.
pub async fn report_problem<K, S>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
    status: &S,
    reason: &str,
    message: String,
) -> Result<(), kube::Error>
where
    K: Resource<DynamicType = ()>
        + HasStatus<Status = S>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
    S: Serialize + PartialEq,
{
    if write_status(api, obj, status).await? {
        publish(ctx, obj, true, reason, message).await;
    }
    Ok(())
}

/// Adds the finalizer (before any AWS write). Returns whether a write was sent.
pub async fn ensure_finalizer<K>(api: &Api<K>, obj: &K) -> Result<bool, kube::Error>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    if obj.finalizers().iter().any(|f| f == FINALIZER) {
        return Ok(false);
    }
    let patch = if obj.finalizers().is_empty() {
        json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]},
        ])
    } else {
        json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": obj.resource_version()},
            {"op": "add", "path": "/metadata/finalizers/-", "value": FINALIZER},
        ])
    };
    let patch: json_patch::Patch = serde_json::from_value(patch).expect("a valid JSON patch");
    api.patch(
        &obj.name_any(),
        &PatchParams::default(),
        &Patch::<()>::Json(patch),
    )
    .await?;
    Ok(true)
}

/// Removes the finalizer once clean-up is done.
pub async fn remove_finalizer<K>(api: &Api<K>, obj: &K) -> Result<(), kube::Error>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    let Some(index) = obj.finalizers().iter().position(|f| f == FINALIZER) else {
        return Ok(());
    };
    let patch = json!([
        {"op": "test", "path": format!("/metadata/finalizers/{index}"), "value": FINALIZER},
        {"op": "remove", "path": format!("/metadata/finalizers/{index}")},
    ]);
    let patch: json_patch::Patch = serde_json::from_value(patch).expect("a valid JSON patch");
    match api
        .patch(
            &obj.name_any(),
            &PatchParams::default(),
            &Patch::<()>::Json(patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        // Already gone: the object was deleted once the last finalizer went.
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Publishes an event about `obj`; a failure to publish is logged, never fatal.
pub async fn publish<K>(ctx: &Context, obj: &K, warning: bool, reason: &str, note: String)
where
    K: Resource<DynamicType = ()>,
{
    let event = Event {
        type_: if warning {
            EventType::Warning
        } else {
            EventType::Normal
        },
        reason: reason.to_string(),
        note: Some(truncate(note, 1000)),
        action: reason.to_string(),
        secondary: None,
    };
    if let Err(error) = ctx.recorder.publish(&event, &obj.object_ref(&())).await {
        tracing::warn!(%error, reason, "could not publish event");
    }
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// `<namespace>/<name>`: the key of an object in logs and in the backoff table.
pub fn object_key<K: Resource>(obj: &K) -> String {
    format!(
        "{}/{}",
        obj.meta().namespace.as_deref().unwrap_or_default(),
        obj.meta().name.as_deref().unwrap_or_default()
    )
}

/// A failed AWS step of a controller's `apply`: which AWS answer made it fail.
pub trait FailedStep: std::error::Error + Send + Sync + 'static {
    /// AWS's answer.
    fn aws_error(&self) -> &AwsError;
}

/// Why a reconcile failed (retried with per-object backoff); `A` is the controller's failed
/// step.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError<A: FailedStep> {
    /// Reading AWS failed.
    #[error("reading AWS failed")]
    Observe(#[source] AwsError),
    /// A mutating AWS call failed with a retryable error.
    #[error("AWS step failed")]
    Apply(#[source] A),
    /// Deleting AWS resources failed.
    #[error("deleting AWS resources failed")]
    Cleanup(#[source] AwsError),
    /// Writing to Kubernetes failed.
    #[error("writing to Kubernetes failed")]
    Kube(#[source] kube::Error),
}

impl<A: FailedStep> ReconcileError<A> {
    /// Metric label and event reason.
    pub fn category(&self) -> &'static str {
        match self {
            ReconcileError::Observe(e) | ReconcileError::Cleanup(e) => e.kind.as_str(),
            ReconcileError::Apply(e) => e.aws_error().kind.as_str(),
            ReconcileError::Kube(_) => "Kubernetes",
        }
    }
}

/// Runs one reconcile with the bookkeeping every controller shares: its duration and result in
/// the metrics, and the object's backoff forgotten after a success.
pub async fn instrumented<K, E>(
    controller: &'static str,
    obj: &K,
    ctx: &Context,
    reconcile: impl std::future::Future<Output = Result<kube::runtime::controller::Action, E>>,
) -> Result<kube::runtime::controller::Action, E>
where
    K: Resource,
{
    let started = std::time::Instant::now();
    let result = reconcile.await;
    let outcome = if result.is_ok() { "ok" } else { "error" };
    ctx.metrics
        .reconciled(controller, outcome, started.elapsed().as_secs_f64());
    if result.is_ok() {
        ctx.backoff.reset(&object_key(obj));
    }
    result
}

/// The error policy every controller shares: count the error by category, log it with its
/// cause, and retry the object after its next backoff delay.
pub fn back_off<K, E>(
    controller: &'static str,
    obj: &K,
    category: &str,
    error: &E,
    ctx: &Context,
) -> kube::runtime::controller::Action
where
    K: Resource,
    E: std::error::Error,
{
    let key = object_key(obj);
    ctx.metrics.reconcile_error(controller, category);
    let delay = ctx.backoff.next_delay(&key);
    tracing::warn!(object = %key, %error, source = ?error.source().map(ToString::to_string), retry_in = ?delay, "reconcile failed");
    kube::runtime::controller::Action::requeue(ctx.wall(delay))
}
