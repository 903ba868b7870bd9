//! The wrapper every controller's reconcile runs in: its duration and result in the metrics,
//! and a failure retried with per-object backoff — logged with the whole chain of what AWS
//! answered (code, message, HTTP status, request id) and shown in the object's status, so an
//! object never fails silently behind an unchanged status.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crds::common::condition;
use kube::api::Api;
use kube::runtime::controller::Action;

use super::events::publish;
use super::{ManagedKind, ReconcileError, object_key, status};
use crate::controllers::Context;

/// How soon a reconcile that found a stale cache looks again (wall time).
const STALE_RECHECK: Duration = Duration::from_millis(200);

/// The reason of the Reconciling condition while a failed call is retried.
pub const RETRYING: &str = "Retrying";

/// Runs one reconcile of `obj`. Failures are handled here (logged, reported in the status,
/// requeued after the object's next backoff delay), so the controller's error policy only
/// ever sees what this could not write.
pub async fn run<K, Fut>(
    obj: Arc<K>,
    ctx: Arc<Context>,
    reconcile: impl FnOnce(Arc<K>, Arc<Context>) -> Fut,
) -> Result<Action, ReconcileError>
where
    K: ManagedKind,
    Fut: Future<Output = Result<Action, ReconcileError>>,
{
    if ctx.written.is_stale(&*obj) {
        // The cache has not caught up with this process's own last write; the newer object
        // is on its way (and triggers a reconcile of its own).
        return Ok(Action::requeue(STALE_RECHECK));
    }
    let started = Instant::now();
    let result = reconcile(obj.clone(), ctx.clone()).await;
    let outcome = if result.is_ok() { "ok" } else { "error" };
    ctx.metrics
        .reconciled(K::CONTROLLER, outcome, started.elapsed().as_secs_f64());
    let key = object_key(&*obj);
    match result {
        Ok(action) => {
            ctx.backoff.reset(&key);
            Ok(action)
        }
        Err(error) => {
            ctx.metrics.reconcile_error(K::CONTROLLER, error.category());
            let delay = ctx.backoff.next_delay(&key);
            log_failure(&key, &error, delay);
            // A replica that lost its lease writes nothing more: the new leader reports.
            let fenced = error
                .aws_error()
                .is_some_and(|e| e.code == aws::limited::LEASE_LOST);
            if !fenced {
                report_retry(&ctx, &*obj, &error, delay).await;
            }
            Ok(Action::requeue(ctx.wall(delay)))
        }
    }
}

/// The error policy of every controller: reconciles handle their own failures (see [`run`]),
/// so this only backs off what escaped.
pub fn error_policy<K: ManagedKind>(
    obj: Arc<K>,
    error: &ReconcileError,
    ctx: Arc<Context>,
) -> Action {
    let key = object_key(&*obj);
    let delay = ctx.backoff.next_delay(&key);
    log_failure(&key, error, delay);
    Action::requeue(ctx.wall(delay))
}

fn log_failure(key: &str, error: &ReconcileError, delay: Duration) {
    let aws = error.aws_error();
    tracing::warn!(
        object = %key,
        error = %error,
        category = error.category(),
        aws.operation = aws.and_then(|e| e.operation),
        aws.code = aws.map(|e| e.code.as_str()),
        aws.message = aws.map(|e| e.message.as_str()),
        aws.http_status = aws.and_then(|e| e.http_status),
        aws.request_id = aws.and_then(|e| e.request_id.as_deref()),
        kube = ?match error { ReconcileError::Kube(e) => Some(e.to_string()), _ => None },
        retry_in = ?delay,
        "reconcile failed; retrying"
    );
}

/// Shows the failure in the status: Reconciling (it is retried by itself), not Ready, with
/// what AWS answered; a Warning event when the object starts failing. Best effort: when the
/// status cannot be written either, the log has it.
async fn report_retry<K: ManagedKind>(
    ctx: &Context,
    obj: &K,
    error: &ReconcileError,
    delay: Duration,
) {
    let message = format!(
        "{}; retrying in {} s",
        error.message(),
        delay.as_secs_f64().round().max(1.0)
    );
    let api: Api<K> = Api::namespaced(
        ctx.client.clone(),
        obj.meta().namespace.as_deref().unwrap_or_default(),
    );
    // On top of the latest status: this reconcile may have written some of it already (an
    // intent recorded before an AWS call), which the failure must not take back.
    let latest = match api.get(&kube::ResourceExt::name_any(obj)).await {
        Ok(latest) => latest,
        Err(read_error) => {
            tracing::warn!(object = %object_key(obj), error = %read_error, "could not read the object to report the failure");
            return;
        }
    };
    let was_failing =
        status::reason_of(latest.current_status(), condition::RECONCILING) == Some(RETRYING);
    let prev = latest.current_status().cloned().unwrap_or_default();
    let new = status::reconciling(
        &prev,
        RETRYING,
        &message,
        latest.meta().generation,
        ctx.clock.now(),
    );
    if let Err(write_error) = status::write(ctx, &api, &latest, &new).await {
        tracing::warn!(object = %object_key(obj), error = %write_error, "could not report the failure in the status");
        return;
    }
    if !was_failing {
        publish(ctx, obj, true, error.category(), message).await;
    }
}
