//! The EcsService controller: one ECS service and its task definition, kept equal to the spec.
//! Pipeline per reconcile: validate → observe → plan → apply (at most one AWS mutation) →
//! status (written only when it changed). Deletion runs `cleanup` behind a finalizer.

pub mod apply;
pub mod cleanup;
pub mod observe;
pub mod plan;
pub mod render;
pub mod status;
pub mod validate;

use std::sync::Arc;

use crds::common::{ManagementPolicy, condition};
use crds::{BlueGreenRollout, EcsService, ScalingPolicy};
use futures::StreamExt;
use kube::api::Api;
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};

use self::apply::{Applied, ApplyError};
use self::cleanup::Cleanup;
use crate::controllers::conditions::{Desired, merge};
use crate::controllers::shared::{
    ensure_finalizer, publish, remove_finalizer, report_problem, write_status,
};
use crate::controllers::sources::Feed;
use crate::controllers::{Context, FINALIZER, Requeue};

/// Controller name in metrics and logs.
pub const CONTROLLER: &str = "ecsservice";

/// Why a reconcile failed (retried with per-object backoff).
pub type Error = crate::controllers::shared::ReconcileError<ApplyError>;

/// Reconciles one EcsService.
pub async fn reconcile(obj: Arc<EcsService>, ctx: Arc<Context>) -> Result<Action, Error> {
    crate::controllers::shared::instrumented(CONTROLLER, &*obj, &ctx, reconcile_inner(&obj, &ctx))
        .await
}

/// Backs off per object on errors.
pub fn error_policy(obj: Arc<EcsService>, error: &Error, ctx: Arc<Context>) -> Action {
    crate::controllers::shared::back_off(CONTROLLER, &*obj, error.category(), error, &ctx)
}

async fn reconcile_inner(obj: &EcsService, ctx: &Context) -> Result<Action, Error> {
    let api: Api<EcsService> =
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
    if spec.management_policy == ManagementPolicy::Manage {
        ensure_finalizer(&api, obj).await.map_err(Error::Kube)?;
    }
    let aws = ctx.aws.clients(spec.region.as_deref());
    let observed = observe::observe(obj, &spec, &aws, ctx)
        .await
        .map_err(Error::Observe)?;
    let plan = plan::plan(&spec, &prev, &observed);
    tracing::debug!(object = %obj.name_any(), step = ?plan.step.as_ref().map(step_name), requeue = ?plan.report.requeue, "planned");
    let applied = match &plan.step {
        None => Applied::default(),
        Some(step) => match apply::apply(step, &aws, ctx).await {
            Ok(applied) => applied,
            Err(e) if !e.source.kind.is_retryable() => {
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
            Err(e) => return Err(Error::Apply(e)),
        },
    };
    if let Some((reason, note)) = &applied.event {
        publish(ctx, obj, false, reason, note.clone()).await;
    }
    let new = status::compute(
        &prev,
        &spec.content_hash,
        &plan.report,
        &applied,
        &observed,
        generation,
        now,
    );
    publish_transitions(ctx, obj, &prev.conditions, &new.conditions).await;
    write_status(&api, obj, &new).await.map_err(Error::Kube)?;
    Ok(action(plan.report.requeue, ctx))
}

async fn delete(obj: &EcsService, ctx: &Context, api: &Api<EcsService>) -> Result<Action, Error> {
    if !obj.finalizers().iter().any(|f| f == FINALIZER) {
        return Ok(Action::await_change());
    }
    let aws = ctx.aws.clients(obj.spec.region.as_deref());
    match cleanup::cleanup(obj, &aws, ctx)
        .await
        .map_err(Error::Cleanup)?
    {
        Cleanup::Done => {
            remove_finalizer(api, obj).await.map_err(Error::Kube)?;
            Ok(Action::await_change())
        }
        Cleanup::InProgress(message) => {
            let prev = obj.status.clone().unwrap_or_default();
            let desired = [
                Desired::no(condition::READY, "Deleting", message.clone()),
                Desired::yes(condition::RECONCILING, "Deleting", message),
                Desired::no(condition::STALLED, "Deleting", ""),
            ];
            let new = crds::EcsServiceStatus {
                conditions: merge(
                    &prev.conditions,
                    &desired,
                    obj.metadata.generation,
                    ctx.clock.now(),
                ),
                ..prev.clone()
            };
            write_status(api, obj, &new).await.map_err(Error::Kube)?;
            Ok(action(Requeue::Poll, ctx))
        }
    }
}

/// Events for condition flips that matter to a person: completed, failed, stalled.
async fn publish_transitions(
    ctx: &Context,
    obj: &EcsService,
    before: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    after: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
) {
    let flipped_on = |type_: &str| {
        let was = before
            .iter()
            .any(|c| c.type_ == type_ && c.status == "True");
        after
            .iter()
            .find(|c| c.type_ == type_ && c.status == "True" && !was)
    };
    if let Some(c) = flipped_on(condition::READY) {
        publish(ctx, obj, false, "DeploymentCompleted", c.message.clone()).await;
    }
    if let Some(c) = flipped_on(condition::DEGRADED) {
        publish(ctx, obj, true, "DeploymentFailed", c.message.clone()).await;
    } else if let Some(c) = flipped_on(condition::STALLED) {
        publish(ctx, obj, true, &c.reason, c.message.clone()).await;
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

fn step_name(step: &plan::Step) -> &'static str {
    match step {
        plan::Step::RegisterTaskDefinition(_) => "RegisterTaskDefinition",
        plan::Step::CreateService(_) => "CreateService",
        plan::Step::UpdateService { .. } => "UpdateService",
        plan::Step::AdoptService { .. } => "AdoptService",
        plan::Step::DeregisterTaskDefinitions(_) => "DeregisterTaskDefinitions",
    }
}

/// Runs the EcsService controller until `shutdown` resolves.
pub async fn run(
    ctx: Arc<Context>,
    services: Feed<EcsService>,
    rollouts: Feed<BlueGreenRollout>,
    scaling: Feed<ScalingPolicy>,
    concurrency: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let resync = ctx.wall(ctx.settings.resync);
    let ticks = futures::stream::unfold((), move |()| async move {
        tokio::time::sleep(resync).await;
        Some(((), ()))
    });
    Controller::for_stream(services, ctx.stores.services.clone())
        .watches_stream(scaling, |p: ScalingPolicy| {
            Some(ObjectRef::<EcsService>::new(&p.spec.service_ref.name).within(&p.namespace()?))
        })
        .watches_stream(rollouts, |r: BlueGreenRollout| {
            Some(ObjectRef::<EcsService>::new(&r.spec.service_ref.name).within(&r.namespace()?))
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
pub fn object_ref(obj: &EcsService) -> k8s_openapi::api::core::v1::ObjectReference {
    obj.object_ref(&())
}
