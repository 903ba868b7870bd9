//! The NotificationPolicy controller: tells the policy's receivers what happened to the objects
//! it follows. It reads those objects from the stores (`moments`), merges what they say into the
//! ledger in its own status (`ledger`), writes the ledger before it sends anything, delivers
//! what is owed (`deliver`, `message`) and writes the ledger again. A crash between a delivery
//! and the write that records it sends that notification again (at least once, with the same
//! `id`); a moment recorded is never lost. Its one AWS call is SNS Publish, for `sns` receivers,
//! in the account bound to the policy's namespace; it writes only its own status.

pub mod deliver;
pub mod ledger;
pub mod message;
pub mod moments;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use crds::common::condition;
use crds::notification::NotifiedObject;
use crds::{
    BlueGreenRollout, EcsService, NotificationPolicy, NotificationPolicyStatus, ReleaseGroup,
    ScalingPolicy,
};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::Api;
use kube::core::{Selector, SelectorExt};
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};

use self::ledger::Audience;
use self::message::Notification;
use self::moments::Followed;
use crate::controllers::Context;
use crate::controllers::conditions::{Desired, merge};
use crate::controllers::runtime::run::{Runner, triggers};
use crate::controllers::runtime::{self, ReconcileError};
use crate::controllers::sources::Feed;

/// Reconciles one NotificationPolicy.
pub async fn reconcile(
    obj: Arc<NotificationPolicy>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    runtime::reconcile::run(obj, ctx, |obj, ctx| async move {
        reconcile_steps(&obj, &ctx).await
    })
    .await
}

/// Follow → merge → write → deliver → write.
async fn reconcile_steps(
    obj: &NotificationPolicy,
    ctx: &Context,
) -> Result<Action, ReconcileError> {
    if obj.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<NotificationPolicy> = Api::namespaced(ctx.client.clone(), &namespace);
    let prev = obj.status.clone().unwrap_or_default();
    let now = ctx.clock.now();
    let second = Time(jiff::Timestamp::from_second(now.as_second()).unwrap_or(now));
    let selector = match selector(obj) {
        Ok(selector) => selector,
        Err(message) => {
            let mut status = prev.clone();
            status.observed_generation = obj.metadata.generation;
            status.conditions = merge(
                &prev.conditions,
                &stalled("InvalidSelector", &message),
                obj.metadata.generation,
                now,
            );
            runtime::status::write(ctx, &api, obj, &status)
                .await
                .map_err(ReconcileError::Kube)?;
            return Ok(Action::await_change());
        }
    };
    let scope = Scope {
        namespace: (!ctx.is_cluster_notification_policy(obj)).then(|| namespace.clone()),
        selector,
    };
    let followed = follow(ctx, &scope, &prev.objects);
    let receivers: Vec<String> = obj.spec.receivers.iter().map(|r| r.name.clone()).collect();
    let audience = Audience {
        wanted: &obj.spec.triggers,
        receivers: &receivers,
    };
    let mut status = NotificationPolicyStatus {
        objects: ledger::merge(&prev.objects, &followed, audience, &second),
        receivers: deliver::rows(&prev.receivers, &obj.spec.receivers)
            .into_values()
            .collect(),
        ..prev.clone()
    };
    status.observed_generation = obj.metadata.generation;
    // The moments are recorded before anything is sent: a crash from here on sends them late,
    // never not at all.
    record(ctx, &api, obj, &mut status, followed.len(), now).await?;
    let owed = ledger::owed(&status.objects);
    if owed.is_empty() {
        return Ok(wake(ctx, &status, now));
    }
    send(ctx, obj, &followed, &owed, &mut status, now).await;
    record(ctx, &api, obj, &mut status, followed.len(), now).await?;
    Ok(wake(ctx, &status, now))
}

/// Brings the conditions in line with `status` (following `following` objects) and writes it.
async fn record(
    ctx: &Context,
    api: &Api<NotificationPolicy>,
    obj: &NotificationPolicy,
    status: &mut NotificationPolicyStatus,
    following: usize,
    now: jiff::Timestamp,
) -> Result<(), ReconcileError> {
    status.conditions = merge(
        &status.conditions,
        &conditions(status, following),
        obj.metadata.generation,
        now,
    );
    runtime::status::write(ctx, api, obj, status)
        .await
        .map(|_| ())
        .map_err(ReconcileError::Kube)
}

/// Delivers what is owed, receiver by receiver, recording each outcome in `status`.
async fn send(
    ctx: &Context,
    obj: &NotificationPolicy,
    followed: &[Followed],
    owed: &[ledger::Owed],
    status: &mut NotificationPolicyStatus,
    now: jiff::Timestamp,
) {
    let namespace = obj.namespace().unwrap_or_default();
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    let mut rows = deliver::rows(&status.receivers, &obj.spec.receivers);
    for receiver in &obj.spec.receivers {
        let Some(row) = rows.get_mut(&receiver.name) else {
            continue;
        };
        let mine: Vec<&ledger::Owed> = owed
            .iter()
            .filter(|o| o.receiver == receiver.name)
            .collect();
        if mine.is_empty() || !deliver::due(row, now) {
            continue;
        }
        let target = match deliver::target(ctx, &secrets, &namespace, receiver).await {
            Ok(target) => target,
            Err(error) => {
                tracing::warn!(policy = %obj.name_any(), receiver = %receiver.name, %error, "notification receiver unusable");
                deliver::failed(row, error, now);
                continue;
            }
        };
        for item in mine {
            let entry = &status.objects[item.entry];
            let Some(notification) = notification(obj, entry, item, followed) else {
                ledger::delivered(&mut status.objects, item);
                continue;
            };
            let result = target.send(ctx.webhooks.as_ref(), &notification).await;
            let trigger = format!("{:?}", item.trigger);
            ctx.metrics
                .notification(target.kind, &trigger, result.is_ok());
            match result {
                Ok(()) => {
                    tracing::info!(policy = %obj.name_any(), receiver = %receiver.name, id = %notification.id, "notification delivered");
                    deliver::succeeded(row, now);
                    status.delivered += 1;
                    ledger::delivered(&mut status.objects, item);
                }
                Err(error) => {
                    tracing::warn!(policy = %obj.name_any(), receiver = %receiver.name, id = %notification.id, %error, "notification not delivered; retried after a backoff");
                    deliver::failed(row, error, now);
                    break;
                }
            }
        }
    }
    status.receivers = rows.into_values().collect();
}

/// The notification `item` owes, with the object's facts now (None once it is gone).
fn notification(
    obj: &NotificationPolicy,
    entry: &NotifiedObject,
    item: &ledger::Owed,
    followed: &[Followed],
) -> Option<Notification> {
    let object = followed
        .iter()
        .find(|f| f.kind == entry.kind && f.namespace == entry.namespace && f.name == entry.name)?;
    let seen = entry.notified.iter().find(|n| n.trigger == item.trigger)?;
    let ends = matches!(
        item.trigger,
        crds::notification::Trigger::ReleaseSucceeded
            | crds::notification::Trigger::ReleaseRolledBack
    );
    let started = entry
        .notified
        .iter()
        .find(|n| n.trigger == crds::notification::Trigger::ReleaseStarted)
        .map(|n| n.at.0);
    let duration_seconds = match (ends, started) {
        (true, Some(started)) => Some(seen.at.0.as_second() - started.as_second()),
        _ => None,
    };
    Some(Notification {
        id: format!(
            "{}/{}/{}/{}/{:?}",
            entry.namespace, entry.kind, entry.name, entry.release, item.trigger
        ),
        trigger: item.trigger,
        kind: entry.kind.clone(),
        namespace: entry.namespace.clone(),
        name: entry.name.clone(),
        links: message::links(
            &obj.spec.links,
            &entry.kind,
            &entry.namespace,
            &entry.name,
            &object.facts,
        ),
        facts: object.facts.clone(),
        at: seen.at.0.to_string(),
        duration_seconds,
        steps: if ends {
            (entry.notified.iter())
                .map(|n| (n.trigger, n.at.0.to_string()))
                .collect()
        } else {
            Vec::new()
        },
    })
}

/// Which objects a policy follows.
struct Scope {
    /// Its namespace's, or every namespace's (the cluster-wide policy).
    namespace: Option<String>,
    /// Their labels must match.
    selector: Selector,
}

impl Scope {
    fn follows<K: Resource>(&self, o: &K) -> bool {
        self.namespace
            .as_ref()
            .is_none_or(|ns| o.meta().namespace.as_ref() == Some(ns))
            && o.meta().deletion_timestamp.is_none()
            && self
                .selector
                .matches(o.meta().labels.as_ref().unwrap_or(&Default::default()))
    }
}

/// The policy's selector (everything when absent).
fn selector(obj: &NotificationPolicy) -> Result<Selector, String> {
    match &obj.spec.selector {
        None => Ok(Selector::default()),
        Some(s) => Selector::try_from(s.clone())
            .map_err(|e| format!("spec.selector: {e}; fix the selector")),
    }
}

/// Every object the policy follows, with its stories, sorted (kind, namespace, name).
fn follow(ctx: &Context, scope: &Scope, ledger: &[NotifiedObject]) -> Vec<Followed> {
    let remembered = |kind: &str, o: &dyn Fn() -> (String, String)| {
        let (namespace, name) = o();
        ledger
            .iter()
            .find(|e| {
                e.kind == kind
                    && e.namespace == namespace
                    && e.name == name
                    && e.stream == moments::RELEASE
            })
            .cloned()
    };
    let mut followed = Vec::new();
    for r in ctx.stores.rollouts.state() {
        if scope.follows(r.as_ref()) {
            let entry = remembered("BlueGreenRollout", &|| {
                (r.namespace().unwrap_or_default(), r.name_any())
            });
            followed.push(moments::rollout(&r, entry.as_ref()));
        }
    }
    for g in ctx.stores.release_groups.state() {
        if scope.follows(g.as_ref()) {
            let entry = remembered("ReleaseGroup", &|| {
                (g.namespace().unwrap_or_default(), g.name_any())
            });
            followed.push(moments::group(&g, entry.as_ref()));
        }
    }
    for s in ctx.stores.services.state() {
        if scope.follows(s.as_ref()) {
            let (namespace, name) = (s.namespace().unwrap_or_default(), s.name_any());
            let entry = remembered("EcsService", &|| (namespace.clone(), name.clone()));
            // A rollout or a group tells this service's releases; otherwise its own rolling
            // deployments are its releases.
            let told_elsewhere = !ctx.stores.rollouts_for(&namespace, &name).is_empty()
                || crate::controllers::context::service_group_key(&s).is_some()
                || s.status.as_ref().is_some_and(|st| st.release.is_some());
            followed.push(moments::service(&s, entry.as_ref(), told_elsewhere));
        }
    }
    for p in ctx.stores.scaling.state() {
        if scope.follows(p.as_ref()) {
            followed.push(moments::scaling(&p));
        }
    }
    for f in &mut followed {
        if let Some(service) = ctx.stores.service(&f.namespace, &f.facts.service) {
            f.facts.image = service
                .spec
                .task_definition
                .container_definitions
                .first()
                .map(|c| c.image.clone());
            f.facts.cluster = Some(service.spec.cluster.clone());
        }
    }
    followed.sort_by(|a, b| (a.kind, &a.namespace, &a.name).cmp(&(b.kind, &b.namespace, &b.name)));
    followed
}

/// Ready once everything owed is delivered; Reconciling while deliveries are pending; Degraded
/// while a receiver fails (naming it and what it got).
fn conditions(status: &NotificationPolicyStatus, following: usize) -> Vec<Desired> {
    let failing: Vec<String> = status
        .receivers
        .iter()
        .filter(|r| r.consecutive_failures > 0)
        .map(|r| {
            format!(
                "{} ({} failures in a row; last: {})",
                r.name,
                r.consecutive_failures,
                r.last_error.as_deref().unwrap_or_default()
            )
        })
        .collect();
    let pending: usize = status
        .objects
        .iter()
        .flat_map(|o| &o.notified)
        .map(|n| n.pending.len())
        .sum();
    if failing.is_empty() && pending == 0 {
        let message = format!("following {following} objects; every notification delivered");
        vec![
            Desired::yes(condition::READY, "Delivered", message),
            Desired::no(condition::RECONCILING, "Delivered", ""),
            Desired::no(condition::STALLED, "Delivered", ""),
            Desired::no(condition::DEGRADED, "Delivered", ""),
        ]
    } else if failing.is_empty() {
        let message = format!("following {following} objects; {pending} deliveries pending");
        vec![
            Desired::no(condition::READY, "Delivering", message.clone()),
            Desired::yes(condition::RECONCILING, "Delivering", message),
            Desired::no(condition::STALLED, "Delivering", ""),
            Desired::no(condition::DEGRADED, "Delivering", ""),
        ]
    } else {
        let message = format!(
            "receiver failing, retried with backoff: {}; {pending} notifications pending",
            failing.join("; ")
        );
        vec![
            Desired::no(condition::READY, "ReceiverFailing", message.clone()),
            Desired::yes(condition::RECONCILING, "ReceiverFailing", message.clone()),
            Desired::no(condition::STALLED, "ReceiverFailing", ""),
            Desired::yes(condition::DEGRADED, "ReceiverFailing", message),
        ]
    }
}

fn stalled(reason: &str, message: &str) -> Vec<Desired> {
    vec![
        Desired::no(condition::READY, reason, message),
        Desired::no(condition::RECONCILING, reason, ""),
        Desired::yes(condition::STALLED, reason, message),
        Desired::no(condition::DEGRADED, reason, ""),
    ]
}

/// When to look again: at the earliest receiver retry while something is owed, else on change.
fn wake(ctx: &Context, status: &NotificationPolicyStatus, now: jiff::Timestamp) -> Action {
    let owed = ledger::owed(&status.objects);
    let retry = status
        .receivers
        .iter()
        .filter(|r| owed.iter().any(|o| o.receiver == r.name))
        .filter_map(|r| r.retry_at.as_ref().map(|t| t.0))
        .min();
    match retry {
        Some(at) => {
            let secs = (at.as_second() - now.as_second()).max(1);
            Action::requeue(ctx.wall(std::time::Duration::from_secs(secs as u64)))
        }
        None if !owed.is_empty() => Action::requeue(ctx.wall(deliver::FIRST_BACKOFF)),
        None => Action::await_change(),
    }
}

/// The policies an object's change concerns: every policy of its namespace, and the
/// cluster-wide one.
fn policies_for<K: Resource>(ctx: &Context, o: &K) -> Vec<ObjectRef<NotificationPolicy>> {
    let namespace = o.meta().namespace.clone().unwrap_or_default();
    ctx.stores
        .notification_policies
        .state()
        .iter()
        .filter(|p| {
            p.metadata.namespace.as_deref() == Some(namespace.as_str())
                || ctx.is_cluster_notification_policy(p)
        })
        .map(|p| ObjectRef::from_obj(p.as_ref()))
        .collect()
}

/// The feeds the NotificationPolicy controller reacts to.
pub struct Feeds {
    /// Its own objects.
    pub policies: Feed<NotificationPolicy>,
    /// What the policies follow.
    pub rollouts: Feed<BlueGreenRollout>,
    /// ReleaseGroups.
    pub groups: Feed<ReleaseGroup>,
    /// EcsServices.
    pub services: Feed<EcsService>,
    /// ScalingPolicies.
    pub scaling: Feed<ScalingPolicy>,
}

/// Runs the NotificationPolicy controller until `shutdown` resolves: a change of any object in
/// a policy's namespace reconciles the policy.
pub async fn run(
    ctx: Arc<Context>,
    feeds: Feeds,
    concurrency: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    use futures::StreamExt;
    let (c1, c2, c3, c4) = (ctx.clone(), ctx.clone(), ctx.clone(), ctx.clone());
    let runner = Runner {
        own: feeds.policies.boxed(),
        store: ctx.stores.notification_policies.clone(),
        triggers: vec![
            triggers(feeds.rollouts, move |o: BlueGreenRollout| {
                policies_for(&c1, &o)
            }),
            triggers(feeds.groups, move |o: ReleaseGroup| policies_for(&c2, &o)),
            triggers(feeds.services, move |o: EcsService| policies_for(&c3, &o)),
            triggers(feeds.scaling, move |o: ScalingPolicy| policies_for(&c4, &o)),
        ],
        concurrency,
    };
    runtime::run::run(ctx, runner, reconcile, shutdown).await;
}
