//! The BlueGreenRollout controller: how new revisions of one EcsService reach production,
//! through CodeDeploy or ECS-native blue/green deployments, with operator-side gates (alarms,
//! HTTP checks on the test listener, progress deadline) and verbs (promote, abort, retry,
//! rollback as annotations). Pipeline per reconcile: validate → observe → plan (engine setup,
//! then one step of the pure state machine) → apply (at most one AWS mutation) → status.
//! Deletion (`cleanup`) removes the CodeDeploy resources the rollout created.

pub mod apply;
pub mod cleanup;
pub mod engine;
pub mod machine;
mod machine_memory;
mod machine_release;
pub mod observe;
pub mod plan;
pub mod status;
pub mod validate;
pub mod verbs;
pub mod view;

use std::sync::Arc;
use std::time::Duration;

use crds::common::DeletionPolicy;
use crds::rollout::{BlueGreenRolloutStatus, CodeDeployStatus, RolloutPhase, TrafficWeights};
use crds::{BlueGreenRollout, EcsService};
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;

use self::apply::Applied;
use self::machine::Revision;
use self::plan::Step;
use self::validate::Engine;
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

/// The revision the EcsService publishes for its current generation.
fn desired(service: Option<&EcsService>) -> Option<Revision> {
    let service = service?;
    let status = service.status.as_ref()?;
    if status.observed_generation != service.metadata.generation {
        return None;
    }
    Some(Revision {
        task_definition_arn: status.desired_task_definition_arn.clone()?,
        content_hash: status.content_hash.clone(),
    })
}

/// The pipeline: validate → observe → plan (engine setup, then one step of the pure state
/// machine) → apply (at most one AWS mutation) → status.
async fn reconcile_steps(obj: &BlueGreenRollout, ctx: &Context) -> Result<Action, ReconcileError> {
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<BlueGreenRollout> = Api::namespaced(ctx.client.clone(), &namespace);
    if obj.metadata.deletion_timestamp.is_some() {
        let region = ctx
            .stores
            .service(&namespace, &obj.spec.service_ref.name)
            .and_then(|s| s.spec.region.clone());
        let aws = ctx.aws.clients(region.as_deref());
        return finalizer::delete(ctx, &api, obj, || {
            cleanup::cleanup(obj, aws.codedeploy.as_ref())
        })
        .await;
    }
    let prev = obj.status.clone().unwrap_or_default();
    let generation = obj.metadata.generation;
    let now = ctx.clock.now();
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
    let aws = ctx.aws.clients(spec.service.region.as_deref());
    let mut memory = status::memory(&prev);
    if prev.observed_generation.is_some() && prev.observed_generation != generation {
        // A changed rollout spec may fix what made the last release fail.
        memory.bad_hash = None;
        memory.failure = None;
    }
    let hash = plan::code_deploy_hash(&spec);
    let synced = hash.is_some()
        && prev
            .code_deploy
            .as_ref()
            .and_then(|c| c.synced_hash.clone())
            == hash
        && prev.observed_generation == generation;
    let release_status = prev.release.as_ref();
    let known_deployment = match (&spec.engine, release_status) {
        (_, None) => None,
        (Engine::CodeDeploy(_), Some(_)) => prev.deployment_id.as_deref(),
        (Engine::EcsNative, Some(_)) => prev.service_deployment_arn.as_deref(),
    };
    let known = observe::Known {
        synced,
        deployment: known_deployment,
        stable_target_group: release_status.and_then(|r| r.stable_target_group_arn.as_deref()),
    };
    let observed = observe::observe(&spec, &memory, known, &aws, now)
        .await
        .map_err(ReconcileError::Observe)?;
    let annotations = obj.annotations().clone();
    let pending = verbs::pending(&annotations, prev.handled_verbs.as_ref());
    let desired = desired(service.as_deref());
    let plan = plan::plan(
        &spec,
        &memory,
        &observed,
        desired.clone(),
        pending.iter().map(|(v, _)| *v).collect(),
        now,
    );
    tracing::debug!(object = %obj.name_any(), step = ?plan.step.as_ref().map(Step::name), "planned");
    if let Some((reason, message)) = &plan.stalled {
        return refuse(ctx, &api, obj, reason, message, Recheck::AtResync).await;
    }
    let applied = match &plan.step {
        None => Applied::default(),
        Some(step) => {
            if needs_finalizer(&spec, obj) {
                finalizer::ensure(&api, obj).await?;
            }
            match apply::apply(step, &aws).await {
                Ok(applied) => applied,
                Err(e) if !e.is_retryable() && is_setup(step) => {
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
    let mut new = prev.clone();
    let memory_after = plan
        .transition
        .as_ref()
        .map_or_else(|| memory.clone(), |t| t.memory.clone());
    let check_paths: Vec<String> = spec.gates.checks.iter().map(|c| c.path.clone()).collect();
    status::store(&mut new, &memory_after, &check_paths);
    record_ids(&mut new, &spec, &plan, &observed, &applied, &memory_after);
    if let Some(t) = &plan.transition {
        let mut handled = new.handled_verbs.clone().unwrap_or_default();
        for (verb, value) in pending.iter().filter(|(v, _)| t.handled.contains(v)) {
            verbs::mark_handled(&mut handled, *verb, value);
        }
        new.handled_verbs = (handled != Default::default()).then_some(handled);
    }
    status::summarize(
        &mut new,
        &memory_after,
        desired.as_ref(),
        plan.waiting.clone(),
        generation,
        now,
    );
    runtime::status::write(&api, obj, &new)
        .await
        .map_err(ReconcileError::Kube)?;
    record_phases(ctx, obj, new.phase);
    if let Some(t) = &plan.transition {
        for e in &t.events {
            publish(ctx, obj, e.warning, e.reason, e.message.clone()).await;
        }
    }
    Ok(next_action(ctx, &plan, &memory_after, now))
}

/// Whether deletion has something to clean up: the CodeDeploy resources a rollout with
/// deletionPolicy Delete creates.
fn needs_finalizer(spec: &validate::ValidatedSpec, obj: &BlueGreenRollout) -> bool {
    matches!(spec.engine, Engine::CodeDeploy(_))
        && obj.spec.deletion_policy == DeletionPolicy::Delete
}

/// Setup steps refused by AWS stall the rollout; engine control steps are retried (the
/// deployment may just have moved on).
fn is_setup(step: &Step) -> bool {
    matches!(
        step,
        Step::CreateDeploymentConfig(_)
            | Step::CreateApplication { .. }
            | Step::CreateDeploymentGroup { .. }
            | Step::UpdateDeploymentGroup(_)
            | Step::CreateDeployment(_)
            | Step::UpdateServiceTaskDefinition(_)
    )
}

/// Deployment ids, the CodeDeploy resources, the stable target group and the traffic split.
fn record_ids(
    new: &mut BlueGreenRolloutStatus,
    spec: &validate::ValidatedSpec,
    plan: &plan::Plan,
    observed: &observe::Observed,
    applied: &Applied,
    memory: &machine::Memory,
) {
    let started_now = plan
        .transition
        .as_ref()
        .is_some_and(|t| t.events.iter().any(|e| e.reason.ends_with("Started")));
    let deployment = applied
        .deployment_id
        .clone()
        .or_else(|| observed.deployment.clone());
    match &spec.engine {
        Engine::CodeDeploy(cd) => {
            if started_now {
                new.deployment_id = None;
            }
            if deployment.is_some() && memory.release.is_some() {
                new.deployment_id = deployment;
            }
            let previous = new.code_deploy.as_ref().and_then(|c| c.synced_hash.clone());
            let changed_setup = matches!(
                plan.step,
                Some(
                    Step::CreateDeploymentConfig(_)
                        | Step::CreateApplication { .. }
                        | Step::CreateDeploymentGroup { .. }
                        | Step::UpdateDeploymentGroup(_)
                )
            );
            let synced_hash = match (&plan.synced_hash, changed_setup) {
                (Some(hash), _) => Some(hash.clone()),
                (None, true) => None,
                (None, false) => previous,
            };
            // What the operator created (and may delete): remembered while the names stay.
            let before = new
                .code_deploy
                .as_ref()
                .filter(|c| c.application_name == cd.application_name);
            let created_application = before.is_some_and(|c| c.created_application)
                || matches!(plan.step, Some(Step::CreateApplication { .. }));
            let created_deployment_group =
                before.is_some_and(|c| {
                    c.created_deployment_group
                        && c.deployment_group_name == cd.group.deployment_group_name
                }) || matches!(plan.step, Some(Step::CreateDeploymentGroup { .. }));
            new.code_deploy = Some(CodeDeployStatus {
                application_name: cd.application_name.clone(),
                deployment_group_name: cd.group.deployment_group_name.clone(),
                deployment_config_name: cd.group.deployment_config_name.clone(),
                synced_hash,
                created_application,
                created_deployment_group,
            });
        }
        Engine::EcsNative => {
            if started_now {
                new.service_deployment_arn = None;
            }
            if deployment.is_some() && memory.release.is_some() {
                new.service_deployment_arn = deployment;
            }
        }
    }
    if let Some(release) = new.release.as_mut() {
        if release.stable_target_group_arn.is_none() {
            release.stable_target_group_arn = observed.stable_target_group.clone();
        }
        if let Some(canary) = observed.canary_percent() {
            new.traffic_weights = Some(TrafficWeights {
                stable: 100 - canary,
                canary,
            });
        }
    }
}

fn next_action(
    ctx: &Context,
    plan: &plan::Plan,
    memory: &machine::Memory,
    now: jiff::Timestamp,
) -> Action {
    if plan.step.is_some() {
        return Action::requeue(ctx.wall(Duration::from_secs(1)));
    }
    let started = plan.transition.as_ref().is_some_and(|t| {
        t.events.iter().any(|e| {
            e.reason.ends_with("Started")
                || e.reason.starts_with("Rollout")
                || e.reason.ends_with("Completed")
        })
    });
    if started {
        return Action::requeue(ctx.wall(Duration::from_secs(1)));
    }
    let mut wait = if plan::polls(memory) {
        ctx.settings.poll
    } else if plan.waiting.is_some() || memory.release.is_some() {
        ctx.settings.wait_poll
    } else {
        ctx.settings.resync
    };
    if let Some(at) = plan.transition.as_ref().and_then(|t| t.next_check) {
        let until = at.duration_since(now).as_secs().max(1);
        wait = wait.min(Duration::from_secs(until as u64));
    }
    Action::requeue(ctx.wall(wait))
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
    concurrency: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    use futures::StreamExt;
    let stores = ctx.stores.clone();
    let runner = Runner {
        own: rollouts.boxed(),
        store: ctx.stores.rollouts.clone(),
        triggers: vec![triggers(services, move |svc: EcsService| {
            rollouts_of(&stores, &svc)
        })],
        concurrency,
    };
    runtime::run::run(ctx, runner, reconcile, shutdown).await;
}
