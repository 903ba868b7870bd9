//! Reads what the plan needs: the ECS service (through the batched reader), the task
//! definition revision that carries the spec's content hash, the family's revisions when a
//! clean-up may be due, and the referenced objects from the stores. Never writes.

use crate::controllers::runtime::ManagedKind;
use std::sync::Arc;

use crds::common::{CONTENT_HASH_TAG, OWNER_TAG, condition};
use crds::{EcsService, EcsServiceStatus};

use super::deployment::{self, DeploymentEnd};
use super::render;
use super::validate::ValidatedSpec;
use crate::controllers::blue_green_rollout::engine::{self as rollout_engine, EngineSettings};
use crate::controllers::conditions::is_true_for;
use crate::controllers::context::Context;
use aws::accounts::AwsClients;
use aws::ecs::{RolloutState, Service, ServiceLookup, ServiceStatus, TaskDefinition};
use aws::{AwsError, ErrorKind};

/// Newest revisions of a family looked at when searching for a content hash or cleaning up.
const REVISION_SCAN_LIMIT: usize = 50;

/// Newest service deployments looked at for how a vanished deployment ended (one
/// DescribeServiceDeployments call holds 20).
const SERVICE_DEPLOYMENT_SCAN: usize = 10;

/// What the operator knows about AWS and the referenced objects for one reconcile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// The service, when it exists and is not INACTIVE.
    pub service: Option<Service>,
    /// The ACTIVE revision carrying the spec's content hash, if one exists.
    pub desired_revision: Option<String>,
    /// Content hash of the revision the service runs (tag, or computed from its content).
    pub live_content_hash: Option<String>,
    /// ACTIVE revisions of the family, newest first, when a clean-up may be due.
    pub family_revisions: Option<Vec<RevisionInfo>>,
    /// The state of every `dependsOn` service.
    pub dependencies: Vec<Dependency>,
    /// The BlueGreenRollout that owns this service's releases, if any.
    pub rollout: Option<String>,
    /// What that rollout's engine owns of the service (controller, strategy, hooks, …).
    pub engine: Option<EngineSettings>,
    /// Why that rollout rolled back this spec's revision, when it did.
    pub rollout_failure: Option<String>,
    /// The revision that rollout's release in flight deploys, while one is in flight.
    pub release_in_flight: Option<String>,
    /// Whether a ScalingPolicy owns desiredCount.
    pub autoscaled: bool,
    /// The ReleaseGroup the service is a member of, its release, and the group's verdict.
    pub membership: Option<super::release::Membership>,
    /// How the deployment the status tracks ended, when ECS dropped it (with the service on
    /// another revision) before the status saw it end.
    pub deployment_end: Option<DeploymentEnd>,
    /// With no ScalingPolicy: the scalable target Application Auto Scaling still has for the
    /// service (left by a policy deleted with Retain, or registered outside the operator). It
    /// owns desiredCount while it exists.
    pub scalable_target_left: Option<String>,
}

/// One revision of the family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionInfo {
    /// Revision ARN.
    pub arn: String,
    /// Revision number.
    pub revision: i32,
    /// Its owner tag.
    pub owner: Option<String>,
}

/// A `dependsOn` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// EcsService name.
    pub name: String,
    /// Whether it exists and is Ready for its current generation.
    pub ready: bool,
}

/// Reads AWS and the stores for one EcsService.
pub async fn observe(
    obj: &EcsService,
    spec: &ValidatedSpec,
    aws: &Arc<AwsClients>,
    ctx: &Context,
) -> Result<Observed, AwsError> {
    let status = obj.status.clone().unwrap_or_default();
    let namespace = obj.metadata.namespace.as_deref().unwrap_or_default();
    let name = obj.metadata.name.as_deref().unwrap_or_default();

    let service = match aws
        .services
        .describe(
            &spec.cluster,
            &spec.service_name,
            ctx.stores
                .service_names_in(&aws.account, &spec.cluster, spec.region.as_deref()),
            <EcsService as ManagedKind>::CONTROLLER,
        )
        .await
    {
        Ok(ServiceLookup::Found(s)) if s.status != ServiceStatus::Inactive => Some(*s),
        Ok(_) => None,
        // A missing cluster means no service; CreateService will report the cluster error.
        Err(e) if e.kind == ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };

    let dependencies = spec
        .depends_on
        .iter()
        .map(|dep| Dependency {
            name: dep.clone(),
            ready: ctx.stores.service(namespace, dep).is_some_and(|d| {
                let conditions = d
                    .status
                    .as_ref()
                    .map(|s| s.conditions.as_slice())
                    .unwrap_or(&[]);
                is_true_for(conditions, condition::READY, d.metadata.generation)
            }),
        })
        .collect();
    let mut managing = ctx.stores.rollouts_for(namespace, name).into_iter().next();
    if managing.is_none() && service.is_none() {
        // Before creating the service, ask the API server too: a rollout applied just before
        // its service may not have reached the store yet, and the deployment controller
        // (CODE_DEPLOY) can only be chosen at creation.
        managing = rollout_from_api(ctx, namespace, name).await;
    }
    let rollout = managing.as_ref().and_then(|r| r.metadata.name.clone());
    let engine = managing
        .as_deref()
        .and_then(rollout_engine::service_settings);
    let membership = super::release::membership(obj, &ctx.stores);
    let failure_key = super::release::failure_key(&spec.content_hash, membership.as_ref());
    let rollout_failure = managing.as_deref().and_then(|r| {
        let status = r.status.as_ref()?;
        (status.release.is_none()
            && status.bad_content_hash.as_deref() == Some(failure_key.as_str()))
        .then(|| {
            status
                .failure_reason
                .clone()
                .unwrap_or_else(|| "the release failed".to_owned())
        })
    });
    let release_in_flight = managing.as_deref().and_then(|r| {
        let status = r.status.as_ref()?;
        status.release.as_ref()?;
        Some(
            status
                .canary_task_definition_arn
                .clone()
                .unwrap_or_else(|| "a revision".to_owned()),
        )
    });
    let autoscaled = !ctx.stores.scaling_for(namespace, name).is_empty();

    let known = status.content_hash.as_deref() == Some(spec.content_hash.as_str())
        && status.desired_task_definition_arn.is_some();
    let needs_cleanup = cleanup_may_be_due(&status, service.as_ref());
    let mut observed = Observed {
        service,
        dependencies,
        rollout,
        engine,
        rollout_failure,
        release_in_flight,
        autoscaled,
        membership,
        ..Observed::default()
    };
    if known {
        observed.desired_revision = status.desired_task_definition_arn.clone();
    }
    let observe_only = spec.management_policy == crds::ManagementPolicy::ObserveOnly;
    if (!known && !observe_only) || needs_cleanup {
        let revisions = family_revisions(&spec.task_definition.family, aws, ctx).await?;
        if !known {
            // Only a revision this EcsService registered: identical content registered by an
            // EcsService of another namespace is that one's, never reused or deregistered here.
            observed.desired_revision = revisions
                .iter()
                .find(|td| {
                    tag(td, CONTENT_HASH_TAG) == Some(spec.content_hash.as_str())
                        && tag(td, OWNER_TAG) == Some(spec.owner.as_str())
                })
                .map(|td| td.task_definition_arn.clone());
        }
        if needs_cleanup {
            observed.family_revisions = Some(
                revisions
                    .iter()
                    .map(|td| RevisionInfo {
                        arn: td.task_definition_arn.clone(),
                        revision: td.revision,
                        owner: tag(td, OWNER_TAG).map(str::to_string),
                    })
                    .collect(),
            );
        }
    }
    if let Some(live) = observed
        .service
        .as_ref()
        .and_then(|s| s.task_definition.clone())
    {
        if Some(&live) == observed.desired_revision.as_ref() {
            observed.live_content_hash = Some(spec.content_hash.clone());
        } else if observe_only {
            let td = describe_cached(&live, aws, ctx).await?;
            observed.live_content_hash = Some(match tag(&td, CONTENT_HASH_TAG) {
                Some(h) => h.to_string(),
                None => {
                    let mut def = td.definition.clone();
                    def.family = spec.task_definition.family.clone();
                    render::content_hash(&render::normalise(def))
                }
            });
        }
    }
    if let (Some(service), Some(desired)) = (&observed.service, &observed.desired_revision)
        && observed.rollout.is_none()
        && !observe_only
        && deployment::vanished(service, &status, desired)
    {
        observed.deployment_end =
            deployment_end(&spec.cluster, &spec.service_name, desired, aws).await?;
    }
    // desiredCount is decided from AWS, not only from the cache: before the spec's count is
    // written over the service's, make sure no scalable target owns it.
    let count_differs = observed
        .service
        .as_ref()
        .is_some_and(|s| s.desired_count != spec.desired_count);
    if !observed.autoscaled && count_differs && !observe_only {
        let resource_id = aws::autoscaling::ecs_resource_id(&spec.cluster, &spec.service_name);
        observed.scalable_target_left = aws
            .scalable_targets
            .describe(&resource_id)
            .await?
            .map(|t| t.scalable_target_arn.unwrap_or(resource_id));
    }
    Ok(observed)
}

/// How the newest service deployment that deployed `desired` ended (None when none of the
/// newest ones did): three reads, made only when a deployment vanished unseen.
async fn deployment_end(
    cluster: &str,
    service: &str,
    desired: &str,
    aws: &Arc<AwsClients>,
) -> Result<Option<DeploymentEnd>, AwsError> {
    let arns = aws.ecs.list_service_deployments(cluster, service).await?;
    let newest: Vec<String> = arns.into_iter().take(SERVICE_DEPLOYMENT_SCAN).collect();
    if newest.is_empty() {
        return Ok(None);
    }
    let mut deployments = aws.ecs.describe_service_deployments(&newest).await?;
    deployments.sort_by_key(|d| std::cmp::Reverse(d.created_at));
    let mut targets: Vec<String> = deployments
        .iter()
        .filter_map(|d| d.target_service_revision_arn.clone())
        .collect();
    targets.sort();
    targets.dedup();
    let revisions = aws.ecs.describe_service_revisions(&targets).await?;
    let deploys_desired = |d: &&aws::ecs::ServiceDeployment| {
        revisions.iter().any(|r| {
            Some(&r.service_revision_arn) == d.target_service_revision_arn.as_ref()
                && r.task_definition == desired
        })
    };
    Ok(deployments
        .iter()
        .find(deploys_desired)
        .map(deployment::end_of))
}

/// A clean-up of old revisions is due right after the deployment of the desired revision
/// completed (before status records it as the last good one).
fn cleanup_may_be_due(status: &EcsServiceStatus, service: Option<&Service>) -> bool {
    let (Some(service), Some(desired)) = (service, status.desired_task_definition_arn.as_ref())
    else {
        return false;
    };
    let completed = service.deployments.len() == 1
        && service.primary_deployment().is_some_and(|d| {
            &d.task_definition == desired && d.rollout_state == Some(RolloutState::Completed)
        });
    completed && status.last_good_task_definition_arn.as_ref() != Some(desired)
}

async fn family_revisions(
    family: &str,
    aws: &Arc<AwsClients>,
    ctx: &Context,
) -> Result<Vec<TaskDefinition>, AwsError> {
    let arns = aws.ecs.list_task_definitions(family).await?;
    let mut out = Vec::new();
    for arn in arns.into_iter().take(REVISION_SCAN_LIMIT) {
        out.push(describe_cached(&arn, aws, ctx).await?);
    }
    Ok(out)
}

async fn describe_cached(
    arn: &str,
    aws: &Arc<AwsClients>,
    ctx: &Context,
) -> Result<TaskDefinition, AwsError> {
    if let Some(td) = ctx.task_definitions.get(arn) {
        return Ok(td);
    }
    let td = aws.ecs.describe_task_definition(arn).await?;
    ctx.task_definitions.put(td.clone());
    Ok(td)
}

fn tag<'a>(td: &'a TaskDefinition, key: &str) -> Option<&'a str> {
    td.tags
        .iter()
        .find(|t| t.key == key)
        .map(|t| t.value.as_str())
}

/// The oldest BlueGreenRollout of `namespace` that releases EcsService `name`, read from the
/// API server (None when there is none or the list fails).
async fn rollout_from_api(
    ctx: &Context,
    namespace: &str,
    name: &str,
) -> Option<Arc<crds::BlueGreenRollout>> {
    let api: kube::Api<crds::BlueGreenRollout> =
        kube::Api::namespaced(ctx.client.clone(), namespace);
    let list = api.list(&kube::api::ListParams::default()).await.ok()?;
    list.items
        .into_iter()
        .filter(|r| r.spec.service_ref.name == name && r.metadata.deletion_timestamp.is_none())
        .min_by(|a, b| {
            (&a.metadata.creation_timestamp, &a.metadata.name)
                .cmp(&(&b.metadata.creation_timestamp, &b.metadata.name))
        })
        .map(Arc::new)
}
