//! The ScalingPolicy controller: Application Auto Scaling of one EcsService — the scalable
//! target, its policies and scheduled actions kept equal to the spec, dynamic scale-in
//! suspended while the service deploys. Pipeline per reconcile: validate → observe → plan →
//! apply (only what differs) → status (written only when it changed). Deletion runs `cleanup`
//! behind a finalizer.

pub mod alarms;
pub mod apply;
pub mod cleanup;
pub mod diff;
pub mod observe;
pub mod plan;
pub mod status;
pub mod step;
pub mod validate;

use std::sync::Arc;

use crds::common::condition;
use crds::{AwsAccountBinding, BlueGreenRollout, EcsService, ScalingPolicy};
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;

use crate::controllers::Context;
use crate::controllers::accounts::{self, Reach};
use crate::controllers::runtime::dry_run;
use crate::controllers::runtime::events::{publish, turned_true};
use crate::controllers::runtime::finalizer::{self, Cleanup};
use crate::controllers::runtime::refuse::{Recheck, refuse};
use crate::controllers::runtime::run::{Runner, triggers};
use crate::controllers::runtime::{self, ReconcileError, object_key};
use crate::controllers::sources::Feed;

/// Reconciles one ScalingPolicy.
pub async fn reconcile(
    obj: Arc<ScalingPolicy>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    runtime::reconcile::run(obj, ctx, |obj, ctx| async move {
        reconcile_steps(&obj, &ctx).await
    })
    .await
}

/// The pipeline: validate → observe → plan → apply (only what differs) → status.
async fn reconcile_steps(obj: &ScalingPolicy, ctx: &Context) -> Result<Action, ReconcileError> {
    let api: Api<ScalingPolicy> =
        Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
    if obj.metadata.deletion_timestamp.is_some() {
        if !finalizer::has(obj) {
            return Ok(Action::await_change());
        }
        let Some((region, resource_id)) = cleanup::target_of(obj, ctx) else {
            return finalizer::delete(ctx, &api, obj, || async { Ok(Cleanup::Done(Vec::new())) })
                .await;
        };
        let aws = match accounts::reach(ctx, &api, obj, region.as_deref()).await? {
            Reach::Clients(aws) => aws,
            Reach::Refused(action) => return Ok(action),
        };
        return finalizer::delete(ctx, &api, obj, || cleanup::cleanup(obj, &aws, &resource_id))
            .await;
    }
    let spec = match validate::validate(obj) {
        Ok(spec) => spec,
        Err(invalid) => {
            let message = format!("invalid spec: {invalid}");
            return refuse(ctx, &api, obj, "InvalidSpec", &message, Recheck::OnChange).await;
        }
    };
    let prev = obj.status.clone().unwrap_or_default();
    let namespace = obj.namespace().unwrap_or_default();
    let region = observe::service_target(ctx, &namespace, &spec.service_ref).and_then(|t| t.region);
    let aws = match accounts::reach(ctx, &api, obj, region.as_deref()).await? {
        Reach::Clients(aws) => aws,
        Reach::Refused(action) => return Ok(action),
    };
    let alarm_names = alarms::candidates(&spec, &prev);
    let observed = observe::observe(obj, &alarm_names, &aws, ctx)
        .await
        .map_err(ReconcileError::Observe)?;
    let plan = plan::plan(&spec, &prev, &observed);
    tracing::debug!(object = %object_key(obj), steps = ?plan.steps.iter().map(step::Step::name).collect::<Vec<_>>(), requeue = ?plan.report.requeue, "planned");
    let mut applied = apply::Applied::default();
    if !plan.steps.is_empty() && dry_run::is_on(ctx, obj) {
        let calls: Vec<String> = plan.steps.iter().map(step::Step::summary).collect();
        return dry_run::hold(ctx, &api, obj, &calls).await;
    }
    if !plan.steps.is_empty() {
        finalizer::ensure(ctx, &api, obj).await?;
        if prev.resource_id != plan.report.resource_id {
            // The target's id goes to the status before the target exists, so deletion finds
            // it whatever happens next.
            let early = crds::ScalingPolicyStatus {
                resource_id: plan.report.resource_id.clone(),
                ..prev.clone()
            };
            runtime::status::write(ctx, &api, obj, &early)
                .await
                .map_err(ReconcileError::Kube)?;
        }
        applied = apply::apply(&plan.steps, &aws).await;
    }
    for (reason, note) in &applied.events {
        publish(ctx, obj, false, reason, note.clone()).await;
    }
    match applied.failed.take() {
        Some(e) if e.is_retryable() => return Err(ReconcileError::Step(e)),
        Some(e) => {
            let reason = e.source.kind.as_str();
            return refuse(ctx, &api, obj, reason, &e.refusal(), Recheck::AtResync).await;
        }
        None => {}
    }
    let new = status::compute(
        &prev,
        &plan.report,
        &plan.steps,
        &applied,
        &observed,
        obj.metadata.generation,
        ctx.clock.now(),
    );
    let new = dry_run::settle(ctx, obj, new, ctx.clock.now());
    publish_transitions(ctx, obj, &prev, &new).await;
    runtime::status::write(ctx, &api, obj, &new)
        .await
        .map_err(ReconcileError::Kube)?;
    Ok(plan.report.requeue.action(ctx))
}

/// Events for flips that matter to a person: became Ready, stalled, scale-in suspended/resumed,
/// and every new scaling activity.
async fn publish_transitions(
    ctx: &Context,
    obj: &ScalingPolicy,
    before: &crds::ScalingPolicyStatus,
    after: &crds::ScalingPolicyStatus,
) {
    let flipped_on = |type_: &str| turned_true(&before.conditions, &after.conditions, type_);
    if let Some(c) = flipped_on(condition::READY) {
        publish(ctx, obj, false, "Active", c.message.clone()).await;
    }
    if let Some(c) = flipped_on(condition::STALLED) {
        publish(ctx, obj, true, &c.reason, c.message.clone()).await;
    }
    match (before.scale_in_suspended, after.scale_in_suspended) {
        (Some(false) | None, Some(true)) => {
            publish(
                ctx,
                obj,
                false,
                "SuspendedScaleIn",
                "a rollout is in progress".into(),
            )
            .await;
        }
        (Some(true), Some(false)) => {
            publish(
                ctx,
                obj,
                false,
                "ResumedScaleIn",
                "no rollout is in progress".into(),
            )
            .await;
        }
        _ => {}
    }
    if let Some(activity) = &after.last_scaling_activity
        && before
            .last_scaling_activity
            .as_ref()
            .map(|a| &a.activity_id)
            != Some(&activity.activity_id)
    {
        publish(
            ctx,
            obj,
            false,
            "ScalingActivity",
            activity.description.clone(),
        )
        .await;
    }
}

/// The ScalingPolicies in `namespace` that scale the EcsService `service`.
fn policies_for(
    ctx: &Context,
    namespace: Option<String>,
    service: &str,
) -> Vec<ObjectRef<ScalingPolicy>> {
    let Some(namespace) = namespace else {
        return Vec::new();
    };
    ctx.stores
        .scaling_for(&namespace, service)
        .iter()
        .map(|p| ObjectRef::from_obj(p.as_ref()))
        .collect()
}

/// Runs the ScalingPolicy controller until `shutdown` resolves. An EcsService or
/// BlueGreenRollout change reconciles the policies of its service (a deployment starts or ends,
/// the service appears).
pub async fn run(
    ctx: Arc<Context>,
    policies: Feed<ScalingPolicy>,
    services: Feed<EcsService>,
    rollouts: Feed<BlueGreenRollout>,
    bindings: Feed<AwsAccountBinding>,
    concurrency: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    use futures::StreamExt;
    let (for_services, for_rollouts) = (ctx.clone(), ctx.clone());
    let policies_store = ctx.stores.scaling.clone();
    let runner = Runner {
        own: policies.boxed(),
        store: ctx.stores.scaling.clone(),
        triggers: vec![
            triggers(services, move |s: EcsService| {
                policies_for(&for_services, s.namespace(), &s.name_any())
            }),
            triggers(rollouts, move |r: BlueGreenRollout| {
                policies_for(&for_rollouts, r.namespace(), &r.spec.service_ref.name)
            }),
            triggers(bindings, move |b: AwsAccountBinding| {
                accounts::affected(&policies_store, &b)
            }),
        ],
        concurrency,
    };
    runtime::run::run(ctx, runner, reconcile, shutdown).await;
}
