//! Dry-run, per object (the `ecs-operator.dev/dry-run: "true"` annotation) or for the whole
//! operator (`--dry-run`): a reconcile observes and plans as usual, and instead of its first
//! AWS mutation writes the calls it would make to the `DryRun` condition. Nothing is
//! mutated in AWS, and the finalizer is not added. Without dry-run the condition is removed.

use crds::common::{DRY_RUN_ANNOTATION, condition};
use jiff::Timestamp;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;

use super::events::publish;
use super::{ManagedKind, ObjectStatus, ReconcileError, status};
use crate::controllers::Context;
use crate::controllers::conditions::{Desired, merge};

/// Most calls listed in the condition.
pub const LISTED_CALLS: usize = 10;
/// Longest description of one call.
const CALL_CHARS: usize = 300;
/// Reason of the condition when calls would be made.
pub const WOULD_CALL: &str = "WouldCall";
/// Reason of the condition when AWS matches the spec.
pub const NO_CHANGE: &str = "NoChange";

/// Whether `obj` is in dry-run.
pub fn is_on<K: ManagedKind>(ctx: &Context, obj: &K) -> bool {
    ctx.settings.dry_run
        || obj
            .annotations()
            .get(DRY_RUN_ANNOTATION)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The `DryRun` message: the calls, in order, bounded.
pub fn message(calls: &[String]) -> String {
    let mut listed: Vec<String> = calls
        .iter()
        .take(LISTED_CALLS)
        .map(|c| match c.char_indices().nth(CALL_CHARS) {
            Some((at, _)) => format!("{}…", &c[..at]),
            None => c.clone(),
        })
        .collect();
    if calls.len() > LISTED_CALLS {
        listed.push(format!("and {} more", calls.len() - LISTED_CALLS));
    }
    format!("dry run, would call: {}", listed.join("; then "))
}

/// Holds `obj` at its plan: writes `DryRun=True` with the calls (Ready and Reconciling False)
/// and looks again at the next resync. Announced once per change with an event.
pub async fn hold<K: ManagedKind>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
    calls: &[String],
) -> Result<Action, ReconcileError> {
    let prev = obj.current_status().cloned().unwrap_or_default();
    let text = message(calls);
    let desired = [
        Desired::no(condition::READY, "DryRun", &text),
        Desired::no(condition::RECONCILING, "DryRun", ""),
        Desired::no(condition::STALLED, "DryRun", ""),
        Desired::yes(condition::DRY_RUN, WOULD_CALL, &text),
    ];
    let new = status::with_conditions(
        &prev,
        &desired,
        &text,
        obj.meta().generation,
        ctx.clock.now(),
    );
    if status::write(ctx, api, obj, &new)
        .await
        .map_err(ReconcileError::Kube)?
    {
        tracing::info!(object = %super::object_key(obj), calls = ?calls, "dry run: held");
        publish(ctx, obj, false, "DryRun", text).await;
    }
    Ok(super::requeue::after(ctx, ctx.settings.resync))
}

/// The status a reconcile with nothing to mutate writes: with `DryRun=True NoChange` while
/// in dry-run, without the `DryRun` condition otherwise.
pub fn settle<K: ManagedKind>(
    ctx: &Context,
    obj: &K,
    status: K::Status,
    now: Timestamp,
) -> K::Status {
    let on = is_on(ctx, obj);
    let has = status
        .conditions()
        .iter()
        .any(|c| c.type_ == condition::DRY_RUN);
    if !on && !has {
        return status;
    }
    let generation = obj.meta().generation;
    let mut conditions: Vec<_> = status
        .conditions()
        .iter()
        .filter(|c| c.type_ != condition::DRY_RUN)
        .cloned()
        .collect();
    if on {
        let note = Desired::yes(
            condition::DRY_RUN,
            NO_CHANGE,
            "dry run: AWS matches the spec, no call would be made",
        );
        conditions.extend(merge(status.conditions(), &[note], generation, now));
    }
    let mut settled = status;
    let observed = settled.observed_generation();
    settled.set_conditions(conditions, observed);
    settled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_lists_calls_in_order_and_stays_bounded() {
        let calls: Vec<String> = (1..=12).map(|i| format!("Call{i}")).collect();
        let text = message(&calls);
        assert!(text.starts_with("dry run, would call: Call1; then Call2"));
        assert!(text.contains("Call10; then and 2 more"), "{text}");
        assert!(!text.contains("Call11"));
        let long = message(&["x".repeat(400)]);
        assert_eq!(long.chars().filter(|c| *c == 'x').count(), CALL_CHARS);
    }
}
