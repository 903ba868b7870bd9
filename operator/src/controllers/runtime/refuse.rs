//! The two ways a reconcile stops short of AWS: refusing the object (Stalled: a person must
//! change something) and parking it (Reconciling: waiting for something expected, such as an
//! object a GitOps tool applies in the same sync). Either writes the status, announces a
//! refusal once with a Warning event, and makes no AWS call.

use kube::api::Api;
use kube::runtime::controller::Action;

use super::events::publish;
use super::{ManagedKind, ReconcileError, Requeue, status};
use crate::controllers::Context;

/// When a refused object is looked at again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recheck {
    /// Only when the object changes (its spec is wrong).
    OnChange,
    /// At the periodic resync too (something outside the object may change: AWS, another
    /// object).
    AtResync,
}

/// Refuses `obj`: Stalled with `reason` and `message`; the event is published only when the
/// status changed, so a refusal is announced once, not on every reconcile.
pub async fn refuse<K: ManagedKind>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
    reason: &str,
    message: &str,
    recheck: Recheck,
) -> Result<Action, ReconcileError> {
    let prev = obj.current_status().cloned().unwrap_or_default();
    let new = status::stalled(
        &prev,
        reason,
        message,
        obj.meta().generation,
        ctx.clock.now(),
    );
    if status::write(ctx, api, obj, &new)
        .await
        .map_err(ReconcileError::Kube)?
    {
        tracing::warn!(object = %super::object_key(obj), reason, message, "refused");
        publish(ctx, obj, true, reason, message.to_owned()).await;
    }
    Ok(match recheck {
        Recheck::OnChange => Action::await_change(),
        Recheck::AtResync => super::requeue::after(ctx, ctx.settings.resync),
    })
}

/// Parks `obj`: Reconciling with `reason` and `message` until what it waits for happens;
/// looked at again at the wait interval.
pub async fn park<K: ManagedKind>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
    reason: &str,
    message: &str,
) -> Result<Action, ReconcileError> {
    let prev = obj.current_status().cloned().unwrap_or_default();
    let new = status::reconciling(
        &prev,
        reason,
        message,
        obj.meta().generation,
        ctx.clock.now(),
    );
    status::write(ctx, api, obj, &new)
        .await
        .map_err(ReconcileError::Kube)?;
    Ok(Requeue::Wait.action(ctx))
}
