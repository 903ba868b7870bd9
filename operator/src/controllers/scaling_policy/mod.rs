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
pub mod validate;

use std::sync::Arc;

use crds::common::condition;
use crds::{BlueGreenRollout, EcsService, ScalingPolicy};
use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::Api;
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};

use self::apply::{Applied, ApplyError};
use crate::controllers::shared::{
    ensure_finalizer, publish, remove_finalizer, report_problem, write_status,
};
use crate::controllers::sources::Feed;
use crate::controllers::{Context, FINALIZER, Requeue};

/// Controller name in metrics and logs.
pub const CONTROLLER: &str = "scalingpolicy";

/// Why a reconcile failed (retried with per-object backoff).
pub type Error = crate::controllers::shared::ReconcileError<ApplyError>;

/// Reconciles one ScalingPolicy.
pub async fn reconcile(obj: Arc<ScalingPolicy>, ctx: Arc<Context>) -> Result<Action, Error> {
    crate::controllers::shared::instrumented(CONTROLLER, &*obj, &ctx, reconcile_inner(&obj, &ctx))
        .await
}

/// Backs off per object on errors.
pub fn error_policy(obj: Arc<ScalingPolicy>, error: &Error, ctx: Arc<Context>) -> Action {
    crate::controllers::shared::back_off(CONTROLLER, &*obj, error.category(), error, &ctx)
}

async fn reconcile_inner(obj: &ScalingPolicy, ctx: &Context) -> Result<Action, Error> {
    let api: Api<ScalingPolicy> =
        Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
    let prev = obj.status.clone().unwrap_or_default();
    let generation = obj.metadata.generation;
    let now = ctx.clock.now();
    if obj.metadata.deletion_timestamp.is_some() {
        return delete(obj, ctx, &api).await;
    }
    let spec = match validate::validate(obj) {
        Ok(spec) => spec,
        Err(invalid) => {
            let message = format!("invalid spec: {invalid}");
            let new = status::invalid(&prev, message.clone(), generation, now);
            report_problem(ctx, &api, obj, &new, "InvalidSpec", message)
                .await
                .map_err(Error::Kube)?;
            return Ok(Action::await_change());
        }
    };
    let namespace = obj.namespace().unwrap_or_default();
    let region = observe::service_target(ctx, &namespace, &spec.service_ref).and_then(|t| t.region);
    let aws = ctx.aws.clients(region.as_deref());
    let alarm_names = alarms::candidates(&spec, &prev);
    let observed = observe::observe(obj, &alarm_names, &aws, ctx)
        .await
        .map_err(Error::Observe)?;
    let plan = plan::plan(&spec, &prev, &observed);
    tracing::debug!(object = %crate::controllers::shared::object_key(obj), steps = ?plan.steps.iter().map(apply::step_name).collect::<Vec<_>>(), requeue = ?plan.report.requeue, "planned");
    let applied = if plan.steps.is_empty() {
        Applied::default()
    } else {
        ensure_finalizer(&api, obj).await.map_err(Error::Kube)?;
        if prev.resource_id != plan.report.resource_id {
            // The target's id goes to the status before the target exists, so deletion finds
            // it whatever happens next.
            let early = crds::ScalingPolicyStatus {
                resource_id: plan.report.resource_id.clone(),
                ..prev.clone()
            };
            write_status(&api, obj, &early).await.map_err(Error::Kube)?;
        }
        match apply::apply(&plan.steps, &aws).await {
            Ok(applied) => applied,
            Err(e) => {
                for (reason, note) in &e.applied.events {
                    publish(ctx, obj, false, reason, note.clone()).await;
                }
                if e.source.kind.is_retryable() {
                    return Err(Error::Apply(e));
                }
                let message = format!("{} was refused by AWS: {}", e.step, e.source);
                let new = status::refused(
                    &prev,
                    e.source.kind.as_str(),
                    message.clone(),
                    generation,
                    now,
                );
                report_problem(ctx, &api, obj, &new, e.step, message)
                    .await
                    .map_err(Error::Kube)?;
                return Ok(Action::requeue(ctx.wall(ctx.settings.resync)));
            }
        }
    };
    for (reason, note) in &applied.events {
        publish(ctx, obj, false, reason, note.clone()).await;
    }
    let new = status::compute(
        &prev,
        &plan.report,
        &plan.steps,
        &applied,
        &observed,
        generation,
        now,
    );
    publish_transitions(ctx, obj, &prev, &new).await;
    write_status(&api, obj, &new).await.map_err(Error::Kube)?;
    Ok(action(plan.report.requeue, ctx))
}

async fn delete(
    obj: &ScalingPolicy,
    ctx: &Context,
    api: &Api<ScalingPolicy>,
) -> Result<Action, Error> {
    if !obj.finalizers().iter().any(|f| f == FINALIZER) {
        return Ok(Action::await_change());
    }
    if let Some((region, resource_id)) = cleanup::target_of(obj, ctx) {
        let aws = ctx.aws.clients(region.as_deref());
        let prev = obj.status.clone().unwrap_or_default();
        let note = format!("deleting the autoscaling of {resource_id}");
        let new = status::deleting(&prev, note, obj.metadata.generation, ctx.clock.now());
        write_status(api, obj, &new).await.map_err(Error::Kube)?;
        let events = cleanup::cleanup(obj, &aws, &resource_id)
            .await
            .map_err(Error::Cleanup)?;
        for (reason, note) in events {
            publish(ctx, obj, false, reason, note).await;
        }
    }
    remove_finalizer(api, obj).await.map_err(Error::Kube)?;
    Ok(Action::await_change())
}

/// Events for flips that matter to a person: became Ready, stalled, scale-in suspended/resumed,
/// and every new scaling activity.
async fn publish_transitions(
    ctx: &Context,
    obj: &ScalingPolicy,
    before: &crds::ScalingPolicyStatus,
    after: &crds::ScalingPolicyStatus,
) {
    let flipped_on = |type_: &str| -> Option<&Condition> {
        let was = before
            .conditions
            .iter()
            .any(|c| c.type_ == type_ && c.status == "True");
        after
            .conditions
            .iter()
            .find(|c| c.type_ == type_ && c.status == "True" && !was)
    };
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

fn action(requeue: Requeue, ctx: &Context) -> Action {
    match requeue {
        Requeue::Soon => Action::requeue(ctx.wall(std::time::Duration::from_secs(1))),
        Requeue::Poll => Action::requeue(ctx.wall(ctx.settings.poll)),
        Requeue::Wait => Action::requeue(ctx.wall(ctx.settings.wait_poll)),
        Requeue::Idle => Action::await_change(),
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
    concurrency: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let resync = ctx.wall(ctx.settings.resync);
    let ticks = futures::stream::unfold((), move |()| async move {
        tokio::time::sleep(resync).await;
        Some(((), ()))
    });
    let (for_services, for_rollouts) = (ctx.clone(), ctx.clone());
    Controller::for_stream(policies, ctx.stores.scaling.clone())
        .watches_stream(services, move |s: EcsService| {
            policies_for(&for_services, s.namespace(), &s.name_any())
        })
        .watches_stream(rollouts, move |r: BlueGreenRollout| {
            policies_for(&for_rollouts, r.namespace(), &r.spec.service_ref.name)
        })
        .reconcile_all_on(ticks)
        .with_config(ControllerConfig::default().concurrency(concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "controller event");
            }
        })
        .await;
}

/// The object reference events are about (exposed for tests).
pub fn object_ref(obj: &ScalingPolicy) -> k8s_openapi::api::core::v1::ObjectReference {
    obj.object_ref(&())
}
