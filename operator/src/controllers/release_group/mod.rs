//! The ReleaseGroup controller: follows a release through the EcsServices of one namespace that
//! name the group in their `ecs-operator.dev/release-group` label. It reads its members from the
//! store, decides (`plan`) and writes only its own status; it makes no AWS call. When a member
//! fails, the verdict it records (`status.failure`) is what the other members' EcsService
//! controller acts on (`ecs_service::release`), each through its own engine.

pub mod members;
pub mod plan;

use std::sync::Arc;

use crds::common::RELEASE_GROUP_LABEL;
use crds::{EcsService, ReleaseGroup};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;

use self::members::Member;
use crate::controllers::Context;
use crate::controllers::conditions::merge;
use crate::controllers::runtime::events::publish;
use crate::controllers::runtime::run::{Runner, triggers};
use crate::controllers::runtime::{self, ReconcileError};
use crate::controllers::sources::Feed;

/// Reconciles one ReleaseGroup.
pub async fn reconcile(
    obj: Arc<ReleaseGroup>,
    ctx: Arc<Context>,
) -> Result<Action, ReconcileError> {
    runtime::reconcile::run(obj, ctx, |obj, ctx| async move {
        reconcile_steps(&obj, &ctx).await
    })
    .await
}

/// Members from the store → plan → status (written only when it changed) → events.
async fn reconcile_steps(obj: &ReleaseGroup, ctx: &Context) -> Result<Action, ReconcileError> {
    if obj.metadata.deletion_timestamp.is_some() {
        // Nothing of its own in AWS, so no finalizer: deleting a group leaves its members as
        // they are.
        return Ok(Action::await_change());
    }
    let namespace = obj.namespace().unwrap_or_default();
    let api: Api<ReleaseGroup> = Api::namespaced(ctx.client.clone(), &namespace);
    let members: Vec<Member> = ctx
        .stores
        .members_of(&namespace, &obj.name_any())
        .iter()
        .filter(|s| s.metadata.deletion_timestamp.is_none())
        .map(|s| Member::of(s))
        .collect();
    let prev = obj.status.clone().unwrap_or_default();
    let now = ctx.clock.now();
    let second = jiff::Timestamp::from_second(now.as_second()).unwrap_or(now);
    let plan = plan::plan(&obj.spec, &prev, members, Time(second));
    let mut status = plan.status;
    status.observed_generation = obj.metadata.generation;
    status.conditions = merge(
        &prev.conditions,
        &plan.conditions,
        obj.metadata.generation,
        now,
    );
    let written = runtime::status::write(ctx, &api, obj, &status)
        .await
        .map_err(ReconcileError::Kube)?;
    if written {
        for event in plan.events {
            tracing::info!(group = %obj.name_any(), reason = event.reason, message = %event.message, "release group");
            publish(ctx, obj, event.warning, event.reason, event.message).await;
        }
    }
    Ok(Action::await_change())
}

/// The ReleaseGroup an EcsService's label names.
pub fn group_of(service: &EcsService) -> Option<ObjectRef<ReleaseGroup>> {
    let group = service.metadata.labels.as_ref()?.get(RELEASE_GROUP_LABEL)?;
    Some(ObjectRef::new(group).within(service.metadata.namespace.as_deref()?))
}

/// Runs the ReleaseGroup controller until `shutdown` resolves: a change of a member (its spec,
/// annotations or status) reconciles its group.
pub async fn run(
    ctx: Arc<Context>,
    groups: Feed<ReleaseGroup>,
    services: Feed<EcsService>,
    concurrency: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    use futures::StreamExt;
    let runner = Runner {
        own: groups.boxed(),
        store: ctx.stores.release_groups.clone(),
        triggers: vec![triggers(services, |s: EcsService| group_of(&s))],
        concurrency,
    };
    runtime::run::run(ctx, runner, reconcile, shutdown).await;
}
