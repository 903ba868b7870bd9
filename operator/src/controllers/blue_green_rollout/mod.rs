//! The BlueGreenRollout controller: how new revisions of one EcsService reach production,
//! through CodeDeploy or ECS-native blue/green deployments, with operator-side gates (alarms,
//! HTTP checks on the test listener, progress deadline) and verbs (promote, abort, retry,
//! rollback as annotations). Pipeline per reconcile: validate → observe → plan (engine setup,
//! then one step of the pure state machine) → apply (at most one AWS mutation) → status.
//! Deletion (`cleanup`) removes the CodeDeploy resources the rollout created.

pub mod analysis;
pub mod apply;
pub mod cleanup;
pub mod engine;
pub mod machine;
pub mod observe;
pub mod plan;
pub mod record;
pub mod status;
pub mod validate;
pub mod verbs;
pub mod view;

use std::sync::Arc;

use crds::common::DeletionPolicy;
use crds::rollout::RolloutPhase;
use crds::{AwsAccountBinding, BlueGreenRollout, EcsService};
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;

use self::apply::Applied;
use self::machine::Revision;
use self::plan::Step;
use self::validate::Engine;
use crate::controllers::accounts::{self, Reach};
use crate::controllers::references::{self, INVALID_REFERENCE};
use crate::controllers::runtime::dry_run;
use crate::controllers::runtime::events::publish;
use crate::controllers::runtime::refuse::{Recheck, park, refuse};
use crate::controllers::runtime::run::{Runner, triggers};
use crate::controllers::runtime::{self, ReconcileError, finalizer, object_key};
use crate::controllers::sources::Feed;
use crate::controllers::{Context, Stores};

/// Reconciles one BlueGreenRollout.
pub async fn reconcile(
    obj: Arc<BlueGreenRollout>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    runtime::reconcile::run(obj, ctx, |obj, ctx| async move {
        reconcile_steps(&obj, &ctx).await
    })
    .await
}

/// The revision the EcsService publishes for its current generation: the spec's, or, while its
/// ReleaseGroup has rolled its release back, the revision it ran before the release. A member's
/// hash carries its release id, so a failed release is remembered per release: a new id of the
/// same spec is released again.
pub fn desired(service: Option<&EcsService>) -> Option<Revision> {
    let service = service?;
    let status = service.status.as_ref()?;
    if status.observed_generation != service.metadata.generation {
        return None;
    }
    let release = status.release.as_ref();
    if let Some(target) = release.and_then(|r| r.rollback_to.clone()) {
        return Some(Revision {
            task_definition_arn: target,
            content_hash: None,
        });
    }
    Some(Revision {
        task_definition_arn: status.desired_task_definition_arn.clone()?,
        content_hash: status.content_hash.as_ref().map(|hash| match release {
            Some(r) => format!("{hash}@{}", r.id),
            None => hash.clone(),
        }),
    })
}

/// The pipeline: validate → observe → plan (engine setup, then one step of the pure state
/// machine) → apply (at most one AWS mutation) → status.
async fn reconcile_steps(obj: &BlueGreenRollout, ctx: &Context) -> Result<Action, ReconcileError> {
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<BlueGreenRollout> = Api::namespaced(ctx.client.clone(), &namespace);
    if obj.metadata.deletion_timestamp.is_some() {
        // The Region the CodeDeploy resources were created in, as recorded: the EcsService
        // may be gone already.
        let recorded = obj.status.as_ref().and_then(|s| s.code_deploy.as_ref());
        let region = match recorded {
            Some(cd) => cd.region.clone(),
            None => ctx
                .stores
                .service(&namespace, &obj.spec.service_ref.name)
                .and_then(|s| s.spec.region.clone()),
        };
        if !finalizer::has(obj) {
            return Ok(Action::await_change());
        }
        let aws = match accounts::reach(ctx, &api, obj, region.as_deref()).await? {
            Reach::Clients(aws) => aws,
            Reach::Refused(action) => return Ok(action),
        };
        return finalizer::delete(ctx, &api, obj, || {
            cleanup::cleanup(obj, aws.codedeploy.as_ref())
        })
        .await;
    }
    let prev = obj.status.clone().unwrap_or_default();
    let generation = obj.metadata.generation;
    let now = record::to_status_time(ctx.clock.now());
    let service = ctx.stores.service(&namespace, &obj.spec.service_ref.name);
    let others = ctx
        .stores
        .rollouts_for(&namespace, &obj.spec.service_ref.name);
    let spec = match validate::validate(obj, service.as_deref(), &others) {
        Ok(spec) => spec,
        Err(invalid) if invalid.waits => {
            return park(ctx, &api, obj, invalid.reason, &invalid.message).await;
        }
        Err(invalid) => {
            return refuse(
                ctx,
                &api,
                obj,
                invalid.reason,
                &invalid.message,
                Recheck::OnChange,
            )
            .await;
        }
    };
    let aws = match accounts::reach(ctx, &api, obj, spec.service.region.as_deref()).await? {
        Reach::Clients(aws) => aws,
        Reach::Refused(action) => return Ok(action),
    };
    let memory = record::memory(&prev, generation);
    let known = record::known(&spec, &prev, generation);
    let mut observed = observe::observe(&spec, &memory, known, &aws, now)
        .await
        .map_err(ReconcileError::Observe)?;
    let due = machine::due_metrics(&memory, &spec.gates, &observed.engine, now);
    if !due.is_empty() {
        let mut regions = std::collections::BTreeMap::new();
        for region in analysis::regions_needed(&spec.metrics, &due, &aws.region) {
            match accounts::reach(ctx, &api, obj, Some(&region)).await? {
                Reach::Clients(clients) => regions.insert(region, clients),
                Reach::Refused(action) => return Ok(action),
            };
        }
        observed.measurements = measure(ctx, obj, &spec, &aws, &regions, &due, now).await;
    }
    let desired = desired(service.as_deref());
    let verbs = record::pending_verbs(obj.annotations(), &prev);
    let plan = plan::plan(&spec, &memory, &observed, desired.clone(), verbs, now);
    tracing::debug!(object = %obj.name_any(), step = ?plan.step.as_ref().map(Step::name), "planned");
    if let Some((reason, message)) = &plan.stalled {
        return refuse(ctx, &api, obj, reason, message, Recheck::AtResync).await;
    }
    if plan.step.as_ref().is_some_and(Step::is_setup) {
        let refs = references::collect::of_rollout(obj, &spec.service.target_group_arn);
        let key = references::key(obj);
        let verified = references::gate(ctx, &key, generation, &refs, &aws)
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
    }
    if let Some(step) = plan.step.as_ref().filter(|_| dry_run::is_on(ctx, obj)) {
        return dry_run::hold(ctx, &api, obj, &[step.summary()]).await;
    }
    let applied = match &plan.step {
        None => Applied::default(),
        Some(step) => {
            if needs_finalizer(&spec, obj) {
                finalizer::ensure(ctx, &api, obj).await?;
            }
            if let Some(intent) = record::intent(&prev, &spec, step) {
                runtime::status::write(ctx, &api, obj, &intent)
                    .await
                    .map_err(ReconcileError::Kube)?;
            }
            let result = apply::apply(step, &aws).await;
            // Most steps change the service or its deployments, so what was read of it is out
            // of date, even with the reply lost (for the others it costs one read).
            aws.services
                .forget(&spec.service.cluster, &spec.service.service_name);
            match result {
                Ok(applied) => applied,
                // Created by someone else between our read and our call: not this rollout's.
                // The refusal's status (from before the intent) takes the intent back.
                Err(e) if step.creates() && e.source.is_already_exists() => {
                    let message = format!(
                        "{}; it was not created by this rollout: name another one in strategy.codeDeploy",
                        e.refusal()
                    );
                    return refuse(ctx, &api, obj, "AlreadyExists", &message, Recheck::AtResync)
                        .await;
                }
                Err(e) if !e.is_retryable() && step.is_setup() => {
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
    let new = record::after(&record::Outcome {
        prev: &prev,
        annotations: obj.annotations(),
        spec: &spec,
        memory: &memory,
        observed: &observed,
        plan: &plan,
        created_deployment: applied.deployment_id.as_deref(),
        desired: desired.as_ref(),
        generation,
        now,
    });
    let new = dry_run::settle(ctx, obj, new, ctx.clock.now());
    runtime::status::write(ctx, &api, obj, &new)
        .await
        .map_err(ReconcileError::Kube)?;
    record_phases(ctx, obj, new.phase);
    if let Some(t) = &plan.transition {
        for e in &t.events {
            publish(ctx, obj, e.warning, e.reason.as_str(), e.message.clone()).await;
        }
    }
    let memory_after = plan.transition.as_ref().map_or(&memory, |t| &t.memory);
    let wake = plan::wake(&plan, memory_after);
    Ok(runtime::requeue::after(ctx, wake.delay(&ctx.settings, now)))
}

/// Measures the metrics due, with the clients of the regions they read (reached like the
/// EcsService's: the binding must allow them) and bearer tokens read from their Secrets.
async fn measure(
    ctx: &Context,
    obj: &BlueGreenRollout,
    spec: &validate::ValidatedSpec,
    aws: &Arc<aws::accounts::AwsClients>,
    regions: &std::collections::BTreeMap<String, Arc<aws::accounts::AwsClients>>,
    due: &[(usize, crds::rollout::AnalysisPhase)],
    now: jiff::Timestamp,
) -> Vec<(usize, crds::rollout::AnalysisPhase, machine::Measurement)> {
    let namespace = obj.namespace().unwrap_or_default();
    let secrets: Api<k8s_openapi::api::core::v1::Secret> =
        Api::namespaced(ctx.client.clone(), &namespace);
    let mut tokens = std::collections::BTreeMap::new();
    for r in analysis::secrets_needed(&spec.metrics, due) {
        let token = match secrets.get(&r.name).await {
            Ok(secret) => secret
                .data
                .as_ref()
                .and_then(|d| d.get(&r.key))
                .map(|v| String::from_utf8_lossy(&v.0).trim().to_owned())
                .ok_or_else(|| format!("Secret {} has no key {}", r.name, r.key)),
            Err(e) => Err(format!(
                "Secret {}/{} could not be read: {e}; the chart grants get on the Secrets listed in analysis.bearerTokenSecrets",
                namespace, r.name
            )),
        };
        tokens.insert((r.name.clone(), r.key.clone()), token);
    }
    let sources = analysis::Sources {
        aws,
        regions,
        tokens: &tokens,
    };
    analysis::measure(&spec.metrics, due, &sources, now).await
}

/// Whether deletion has something to clean up: the CodeDeploy resources a rollout with
/// deletionPolicy Delete creates.
fn needs_finalizer(spec: &validate::ValidatedSpec, obj: &BlueGreenRollout) -> bool {
    matches!(spec.engine, Engine::CodeDeploy(_))
        && obj.spec.deletion_policy == DeletionPolicy::Delete
}

/// The `rollout_phase` gauge: rollouts per phase, this one counted with its new phase.
fn record_phases(ctx: &Context, obj: &BlueGreenRollout, phase: Option<RolloutPhase>) {
    let key = object_key(obj);
    let mut counts = std::collections::BTreeMap::new();
    for r in ctx.stores.rollouts.state() {
        let p = if object_key(r.as_ref()) == key {
            phase
        } else {
            r.status.as_ref().and_then(|s| s.phase)
        };
        if let Some(p) = p {
            *counts.entry(format!("{p:?}")).or_insert(0) += 1;
        }
    }
    for p in ["Healthy", "Progressing", "Paused", "Degraded"] {
        ctx.metrics
            .set_rollout_phase(p, counts.get(p).copied().unwrap_or(0));
    }
}

/// The rollouts that reference an EcsService (its changes wake them).
fn rollouts_of(stores: &Stores, svc: &EcsService) -> Vec<ObjectRef<BlueGreenRollout>> {
    let Some(namespace) = svc.namespace() else {
        return Vec::new();
    };
    stores
        .rollouts_for(&namespace, &svc.name_any())
        .iter()
        .map(|r| ObjectRef::from_obj(r.as_ref()))
        .collect()
}

/// Runs the BlueGreenRollout controller until `shutdown` resolves: an EcsService change
/// reconciles the rollouts that reference it.
pub async fn run(
    ctx: Arc<Context>,
    rollouts: Feed<BlueGreenRollout>,
    services: Feed<EcsService>,
    bindings: Feed<AwsAccountBinding>,
    concurrency: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    use futures::StreamExt;
    let stores = ctx.stores.clone();
    let rollouts_store = ctx.stores.rollouts.clone();
    let runner = Runner {
        own: rollouts.boxed(),
        store: ctx.stores.rollouts.clone(),
        triggers: vec![
            triggers(services, move |svc: EcsService| rollouts_of(&stores, &svc)),
            triggers(bindings, move |b: AwsAccountBinding| {
                accounts::affected(&rollouts_store, &b)
            }),
        ],
        concurrency,
    };
    runtime::run::run(ctx, runner, reconcile, shutdown).await;
}
