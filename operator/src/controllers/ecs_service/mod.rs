//! The EcsService controller: one ECS service and its task definition, kept equal to the spec.
//! Pipeline per reconcile: validate → observe → plan → apply (at most one AWS mutation) →
//! status (written only when it changed). Deletion runs `cleanup` behind a finalizer.

pub mod apply;
pub mod calls;
pub mod cleanup;
pub mod deployment;
pub mod observe;
pub mod outcome;
pub mod plan;
pub mod release;
pub mod render;
pub mod rollback_plan;
pub mod status;
pub mod validate;

use std::sync::Arc;

use crds::common::{ManagementPolicy, condition};
use crds::{AwsAccountBinding, BlueGreenRollout, EcsService, ReleaseGroup, ScalingPolicy};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;

use self::apply::Applied;
use crate::controllers::Context;
use crate::controllers::accounts::{self, Reach};
use crate::controllers::references::{self, INVALID_REFERENCE};
use crate::controllers::runtime::dry_run;
use crate::controllers::runtime::events::{publish, turned_true};
use crate::controllers::runtime::refuse::{Recheck, refuse};
use crate::controllers::runtime::run::{Runner, triggers};
use crate::controllers::runtime::{self, ReconcileError, finalizer};
use crate::controllers::sources::Feed;

/// Reconciles one EcsService.
pub async fn reconcile(obj: Arc<EcsService>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    runtime::reconcile::run(obj, ctx, |obj, ctx| async move {
        reconcile_steps(&obj, &ctx).await
    })
    .await
}

/// The pipeline: validate → observe → plan → apply (at most one AWS mutation) → status.
async fn reconcile_steps(obj: &EcsService, ctx: &Context) -> Result<Action, ReconcileError> {
    let api: Api<EcsService> =
        Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
    if obj.metadata.deletion_timestamp.is_some() {
        if !finalizer::has(obj) {
            return Ok(Action::await_change());
        }
        let aws = match accounts::reach(ctx, &api, obj, obj.spec.region.as_deref()).await? {
            Reach::Clients(aws) => aws,
            Reach::Refused(action) => return Ok(action),
        };
        return finalizer::delete(ctx, &api, obj, || cleanup::cleanup(obj, &aws, ctx)).await;
    }
    let spec = match validate::validate(obj) {
        Ok(spec) => spec,
        Err(invalid) => {
            let message = format!("invalid spec: {invalid}");
            return refuse(ctx, &api, obj, "InvalidSpec", &message, Recheck::OnChange).await;
        }
    };
    let prev = obj.status.clone().unwrap_or_default();
    let aws = match accounts::reach(ctx, &api, obj, spec.region.as_deref()).await? {
        Reach::Clients(aws) => aws,
        Reach::Refused(action) => return Ok(action),
    };
    let observed = observe::observe(obj, &spec, &aws, ctx)
        .await
        .map_err(ReconcileError::Observe)?;
    let plan = plan::plan(&spec, &prev, &observed);
    tracing::debug!(object = %obj.name_any(), step = ?plan.step.as_ref().map(plan::Step::name), requeue = ?plan.report.requeue, "planned");
    if let Some(step) = plan.step.as_ref().filter(|s| s.uses_references()) {
        let mut refs = references::collect::of_service(obj, &aws.region);
        let namespace = obj.namespace().unwrap_or_default();
        let releasing = (ctx
            .stores
            .rollouts_for(&namespace, &obj.name_any())
            .into_iter())
        .find(|r| r.metadata.name == observed.rollout);
        let service_target_group = (obj.spec.load_balancers.iter().flatten())
            .find_map(|lb| lb.target_group_arn.clone())
            .unwrap_or_default();
        if let Some(rollout) = releasing {
            refs.extend(references::collect::of_engine(
                &rollout,
                &service_target_group,
            ));
        }
        let key = references::key(obj);
        let verified = references::gate(ctx, &key, obj.metadata.generation, &refs, &aws)
            .await
            .map_err(ReconcileError::Observe)?;
        if let Some(failed) = verified {
            let message = failed.message();
            return refuse(
                ctx,
                &api,
                obj,
                INVALID_REFERENCE,
                &message,
                Recheck::AtResync,
            )
            .await;
        }
        tracing::debug!(object = %obj.name_any(), step = step.name(), "references verified");
    }
    if plan.step.is_some() && dry_run::is_on(ctx, obj) {
        let calls = calls::calls(&spec, &prev, &observed, &plan);
        return dry_run::hold(ctx, &api, obj, &calls).await;
    }
    let applied = match &plan.step {
        None => Applied::default(),
        Some(step) => {
            debug_assert_eq!(spec.management_policy, ManagementPolicy::Manage);
            finalizer::ensure(ctx, &api, obj).await?;
            match apply::apply(step, &aws, ctx).await {
                Ok(applied) => applied,
                Err(e) if !e.is_retryable() => {
                    let reason = e.source.kind.as_str();
                    return refuse(ctx, &api, obj, reason, &e.refusal(), Recheck::AtResync).await;
                }
                Err(e) => return Err(ReconcileError::Step(e)),
            }
        }
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
        obj.metadata.generation,
        ctx.clock.now(),
    );
    let new = dry_run::settle(ctx, obj, new, ctx.clock.now());
    publish_transitions(ctx, obj, &prev.conditions, &new.conditions).await;
    runtime::status::write(ctx, &api, obj, &new)
        .await
        .map_err(ReconcileError::Kube)?;
    Ok(plan.report.requeue.action(ctx))
}

/// Events for condition flips that matter to a person: completed, failed, stalled.
async fn publish_transitions(
    ctx: &Context,
    obj: &EcsService,
    before: &[Condition],
    after: &[Condition],
) {
    if let Some(c) = turned_true(before, after, condition::READY) {
        publish(ctx, obj, false, "DeploymentCompleted", c.message.clone()).await;
    }
    if let Some(c) = turned_true(before, after, condition::DEGRADED) {
        publish(ctx, obj, true, "DeploymentFailed", c.message.clone()).await;
    } else if let Some(c) = turned_true(before, after, condition::STALLED) {
        publish(ctx, obj, true, &c.reason, c.message.clone()).await;
    }
}

/// The EcsService a ScalingPolicy or BlueGreenRollout names.
fn referenced(namespace: Option<String>, name: &str) -> Option<ObjectRef<EcsService>> {
    Some(ObjectRef::new(name).within(&namespace?))
}

/// What the EcsService controller watches: its own kind, and the kinds whose changes reconcile a
/// service (the ScalingPolicy or BlueGreenRollout naming it, a binding of its namespace, its
/// ReleaseGroup).
pub struct Feeds {
    /// EcsServices, applied to the controller's store.
    pub services: Feed<EcsService>,
    /// BlueGreenRollouts: each change reconciles the service it names.
    pub rollouts: Feed<BlueGreenRollout>,
    /// ScalingPolicies: each change reconciles the service it names.
    pub scaling: Feed<ScalingPolicy>,
    /// AwsAccountBindings: each change reconciles the services of its namespaces.
    pub bindings: Feed<AwsAccountBinding>,
    /// ReleaseGroups: each change reconciles the group's members.
    pub groups: Feed<ReleaseGroup>,
}

/// Runs the EcsService controller until `shutdown` resolves: a ScalingPolicy or
/// BlueGreenRollout change reconciles the service it names, a ReleaseGroup change its members.
pub async fn run(
    ctx: Arc<Context>,
    feeds: Feeds,
    concurrency: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    use futures::StreamExt;
    let services_store = ctx.stores.services.clone();
    let stores = ctx.stores.clone();
    let runner = Runner {
        own: feeds.services.boxed(),
        store: ctx.stores.services.clone(),
        triggers: vec![
            triggers(feeds.scaling, |p: ScalingPolicy| {
                referenced(p.namespace(), &p.spec.service_ref.name)
            }),
            triggers(feeds.rollouts, |r: BlueGreenRollout| {
                referenced(r.namespace(), &r.spec.service_ref.name)
            }),
            triggers(feeds.bindings, move |b: AwsAccountBinding| {
                accounts::affected(&services_store, &b)
            }),
            triggers(feeds.groups, move |g: ReleaseGroup| {
                let namespace = g.namespace().unwrap_or_default();
                (stores.members_of(&namespace, &g.name_any()).iter())
                    .map(|s| ObjectRef::from_obj(s.as_ref()))
                    .collect::<Vec<_>>()
            }),
        ],
        concurrency,
    };
    runtime::run::run(ctx, runner, reconcile, shutdown).await;
}
