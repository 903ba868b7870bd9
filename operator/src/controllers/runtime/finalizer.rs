//! The finalizer guard: one policy for every kind. The finalizer is added before the object's
//! first AWS mutation (so deletion can always find what was created), and on deletion the
//! kind's clean-up runs until it is done, then the finalizer goes.

use std::future::Future;

use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use serde_json::json;

use super::events::publish;
use super::{FINALIZER, ManagedKind, ReconcileError, Requeue, status};
use crate::controllers::Context;
use aws::AwsError;

/// What a kind's clean-up reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cleanup {
    /// Everything the object owned is gone (or retained); the events to publish.
    Done(Vec<(&'static str, String)>),
    /// AWS is still deleting, or something must finish first: why.
    Waiting(String),
}

/// Whether the object carries the finalizer.
pub fn has<K: ManagedKind>(obj: &K) -> bool {
    obj.finalizers().iter().any(|f| f == FINALIZER)
}

/// Adds the finalizer (before the first AWS write). Returns whether a write was sent.
pub async fn ensure<K: ManagedKind>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
) -> Result<bool, ReconcileError> {
    if has(obj) {
        return Ok(false);
    }
    let patch = if obj.finalizers().is_empty() {
        json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]},
        ])
    } else {
        json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": ctx.written.precondition(obj)},
            {"op": "add", "path": "/metadata/finalizers/-", "value": FINALIZER},
        ])
    };
    let patch: json_patch::Patch = serde_json::from_value(patch).expect("a valid JSON patch");
    let written = api
        .patch(
            &obj.name_any(),
            &PatchParams::default(),
            &Patch::<()>::Json(patch),
        )
        .await
        .map_err(ReconcileError::Kube)?;
    ctx.written
        .wrote(obj, written.meta().resource_version.clone());
    Ok(true)
}

/// Removes the finalizer once clean-up is done.
async fn remove<K: ManagedKind>(api: &Api<K>, obj: &K) -> Result<(), kube::Error> {
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

/// Deletion behind the finalizer: without it there is nothing to do; with it, `cleanup` runs
/// (the status says so meanwhile) until it is done, then the finalizer is removed.
pub async fn delete<K, F, Fut>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
    cleanup: F,
) -> Result<Action, ReconcileError>
where
    K: ManagedKind,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Cleanup, AwsError>>,
{
    if !has(obj) {
        return Ok(Action::await_change());
    }
    let deleting = |message: &str| {
        let prev = obj.current_status().cloned().unwrap_or_default();
        status::reconciling(
            &prev,
            "Deleting",
            message,
            obj.meta().generation,
            ctx.clock.now(),
        )
    };
    match cleanup().await.map_err(ReconcileError::Cleanup)? {
        Cleanup::Done(events) => {
            for (reason, note) in events {
                publish(ctx, obj, false, reason, note).await;
            }
            remove(api, obj).await.map_err(ReconcileError::Kube)?;
            Ok(Action::await_change())
        }
        Cleanup::Waiting(message) => {
            tracing::info!(object = %super::object_key(obj), %message, "deletion waits");
            status::write(ctx, api, obj, &deleting(&message))
                .await
                .map_err(ReconcileError::Kube)?;
            Ok(Requeue::Poll.action(ctx))
        }
    }
}
