//! Status writes: server-side apply on `/status`, skipped when nothing changed (a no-op
//! reconcile writes nothing), and the kstatus condition sets the runtime reports by itself.

use crds::common::condition;
use jiff::Timestamp;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use super::{FIELD_MANAGER, ManagedKind, ObjectStatus};
use crate::controllers::Context;
use crate::controllers::conditions::{Desired, merge};

/// Writes `status` with server-side apply on `/status` unless it equals the object's,
/// requiring the object to still be at the version this reconcile knows (a conflict is
/// retried by the runtime with the newer object). Returns whether a write was sent.
pub async fn write<K: ManagedKind>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
    status: &K::Status,
) -> Result<bool, kube::Error> {
    // The recorded AWS account survives every write, whatever computed the new status.
    let carried;
    let status = match obj.current_status().and_then(ObjectStatus::aws_account) {
        Some(account) if status.aws_account().is_none() => {
            let mut with = status.clone();
            with.set_aws_account(account);
            carried = with;
            &carried
        }
        _ => status,
    };
    if obj.current_status() == Some(status) {
        return Ok(false);
    }
    apply(ctx, api, obj, FIELD_MANAGER, &status).await?;
    Ok(true)
}

/// Applies `status` (the whole status, or some fields of it) to `/status` as `manager`,
/// requiring the version this process last wrote (or saw) of `obj`, and remembers the version
/// the write produced.
pub async fn apply<K: ManagedKind>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
    manager: &str,
    status: &impl serde::Serialize,
) -> Result<(), kube::Error> {
    let body = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "metadata": {"resourceVersion": ctx.written.precondition(obj)},
        "status": status,
    });
    let written = api
        .patch_status(
            &obj.name_any(),
            &PatchParams::apply(manager).force(),
            &Patch::Apply(body),
        )
        .await?;
    ctx.written
        .wrote(obj, written.meta().resource_version.clone());
    Ok(())
}

/// The previous status with exactly the `desired` conditions (transition times kept where a
/// condition did not flip) and the rest of the status kept, describing
/// `generation`.
pub fn with_conditions<S: ObjectStatus>(
    prev: &S,
    desired: &[Desired],
    message: &str,
    generation: Option<i64>,
    now: Timestamp,
) -> S {
    let mut status = prev.clone();
    status.set_conditions(
        merge(prev.conditions(), desired, generation, now),
        generation,
    );
    status.set_message(message);
    status
}

/// Stalled: only a change of the spec (or of AWS by a person) can help.
pub fn stalled<S: ObjectStatus>(
    prev: &S,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    now: Timestamp,
) -> S {
    let desired = [
        Desired::no(condition::READY, reason, message),
        Desired::no(condition::RECONCILING, reason, ""),
        Desired::yes(condition::STALLED, reason, message),
    ];
    with_conditions(prev, &desired, message, generation, now)
}

/// Reconciling, not ready: waiting for something that is expected to happen (another object
/// to appear, a retry after a failed call, a deletion to finish).
pub fn reconciling<S: ObjectStatus>(
    prev: &S,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    now: Timestamp,
) -> S {
    let desired = [
        Desired::no(condition::READY, reason, message),
        Desired::yes(condition::RECONCILING, reason, message),
        Desired::no(condition::STALLED, reason, ""),
    ];
    with_conditions(prev, &desired, message, generation, now)
}

/// The reason of the object's condition `type_`, if it has one.
pub fn reason_of<'a, S: ObjectStatus>(status: Option<&'a S>, type_: &str) -> Option<&'a str> {
    status?
        .conditions()
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| c.reason.as_str())
}
