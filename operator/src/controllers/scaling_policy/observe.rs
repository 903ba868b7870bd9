//! Reads what the plan needs: the referenced EcsService (store), its ECS service (batched
//! DescribeServices), whether a rollout of it is in progress (ECS deployments, BlueGreenRollout
//! phase), the scalable target (batched DescribeScalableTargets), its owner tag when the status
//! does not already prove it is ours, its policies, scheduled actions and newest activity.
//! Never writes.

use crate::controllers::runtime::ManagedKind;
use std::sync::Arc;

use crds::common::OWNER_TAG;
use crds::rollout::RolloutPhase;
use crds::{ScalingPolicy, ScalingPolicyStatus};

use crate::controllers::context::Context;
use crate::controllers::ownership::{ServiceAccess, owner_of, service_access};
use aws::accounts::AwsClients;
use aws::autoscaling::{
    ScalableTarget, ScalingActivity, ScalingPolicy as AwsPolicy, ScheduledAction, ecs_resource_id,
};
use aws::cloudwatch::MetricAlarm;
use aws::ecs::{RolloutState, Service, ServiceLookup, ServiceStatus};
use aws::{AwsError, ErrorKind};

impl Default for Observed {
    fn default() -> Self {
        Self {
            access: ServiceAccess::Wait(String::new()),
            claimed_by: None,
            target: None,
            service: None,
            rollout: None,
            scalable_target: None,
            owner: None,
            policies: Vec::new(),
            scheduled_actions: Vec::new(),
            last_activity: None,
            alarms: Vec::new(),
        }
    }
}

/// The ECS service the policy scales, as the EcsService object names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceTarget {
    /// `service/<cluster>/<service>`.
    pub resource_id: String,
    /// Cluster name or ARN.
    pub cluster: String,
    /// ECS service name.
    pub service_name: String,
    /// Region of the EcsService (default region when absent).
    pub region: Option<String>,
}

/// What the operator knows about AWS and the referenced objects for one reconcile.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// Whether the policy may act on the EcsService's ECS service.
    pub access: ServiceAccess,
    /// An older ScalingPolicy that already targets the same EcsService.
    pub claimed_by: Option<String>,
    /// The referenced EcsService, when it exists.
    pub target: Option<ServiceTarget>,
    /// The ECS service, when it exists and is ACTIVE.
    pub service: Option<Service>,
    /// Why a rollout of the service is in progress, if one is.
    pub rollout: Option<String>,
    /// The scalable target, when registered.
    pub scalable_target: Option<ScalableTarget>,
    /// The target's owner tag: `None` when not read (the status already records its ARN as
    /// ours), `Some(None)` when it has none.
    pub owner: Option<Option<String>>,
    /// The target's policies.
    pub policies: Vec<AwsPolicy>,
    /// The target's scheduled actions.
    pub scheduled_actions: Vec<ScheduledAction>,
    /// The newest scaling activity.
    pub last_activity: Option<ScalingActivity>,
    /// The step policies' alarms that exist (of those the spec or status name).
    pub alarms: Vec<MetricAlarm>,
}

/// The ECS service the EcsService `name` in `namespace` manages, from the store.
pub fn service_target(ctx: &Context, namespace: &str, name: &str) -> Option<ServiceTarget> {
    let svc = ctx.stores.service(namespace, name)?;
    let service_name = svc.service_name().to_owned();
    Some(ServiceTarget {
        resource_id: ecs_resource_id(&svc.spec.cluster, &service_name),
        cluster: svc.spec.cluster.clone(),
        service_name,
        region: svc.spec.region.clone(),
    })
}

/// The oldest ScalingPolicy of the service other than `obj`, if it is older (one policy per
/// service; ties broken by name).
pub fn older_claim(ctx: &Context, obj: &ScalingPolicy) -> Option<String> {
    let namespace = obj.metadata.namespace.as_deref().unwrap_or_default();
    let key = |p: &ScalingPolicy| {
        (
            p.metadata.creation_timestamp.as_ref().map(|t| t.0),
            p.metadata.name.clone().unwrap_or_default(),
        )
    };
    let first = ctx
        .stores
        .scaling_for(namespace, &obj.spec.service_ref.name)
        .into_iter()
        .min_by_key(|p| key(p))?;
    (first.metadata.name != obj.metadata.name && key(&first) < key(obj))
        .then(|| first.metadata.name.clone().unwrap_or_default())
}

/// Whether a deployment of the service is in progress, and why.
pub fn rollout_in_progress(
    ctx: &Context,
    namespace: &str,
    ecs_service: &str,
    service: Option<&Service>,
) -> Option<String> {
    if let Some(s) = service {
        if s.deployments.len() > 1 {
            return Some(format!(
                "{} ECS deployments are running",
                s.deployments.len()
            ));
        }
        if s.primary_deployment()
            .is_some_and(|d| d.rollout_state == Some(RolloutState::InProgress))
        {
            return Some("an ECS deployment is in progress".to_owned());
        }
    }
    ctx.stores
        .rollouts_for(namespace, ecs_service)
        .iter()
        .find_map(|r| {
            let phase = r.status.as_ref()?.phase?;
            matches!(phase, RolloutPhase::Progressing | RolloutPhase::Paused).then(|| {
                format!(
                    "BlueGreenRollout {} is {phase:?}",
                    r.metadata.name.as_deref().unwrap_or_default()
                )
            })
        })
}

/// Reads AWS and the stores for one ScalingPolicy; `alarm_names` are the step policies' alarms
/// worth describing.
pub async fn observe(
    obj: &ScalingPolicy,
    alarm_names: &[String],
    aws: &Arc<AwsClients>,
    ctx: &Context,
) -> Result<Observed, AwsError> {
    let status = obj.status.clone().unwrap_or_default();
    let namespace = obj.metadata.namespace.as_deref().unwrap_or_default();
    let service_ref = &obj.spec.service_ref.name;
    let ecs_service = ctx.stores.service(namespace, service_ref);
    let requester = format!("ScalingPolicy {}", owner_of(obj));
    let mut observed = Observed {
        access: service_access(&requester, service_ref, ecs_service.as_deref(), None),
        claimed_by: older_claim(ctx, obj),
        target: service_target(ctx, namespace, service_ref),
        ..Observed::default()
    };
    let Some(target) = observed.target.clone() else {
        return Ok(observed);
    };
    if observed.claimed_by.is_some() || matches!(observed.access, ServiceAccess::Refused(_)) {
        // Decided from the stores: no AWS call.
        return Ok(observed);
    }
    observed.service = match aws
        .services
        .describe(
            &target.cluster,
            &target.service_name,
            Arc::new(Vec::new()),
            <crds::ScalingPolicy as ManagedKind>::CONTROLLER,
        )
        .await
    {
        Ok(ServiceLookup::Found(s)) if s.status == ServiceStatus::Active => Some(*s),
        Ok(_) => None,
        Err(e) if e.kind == ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    observed.access = service_access(
        &requester,
        service_ref,
        ecs_service.as_deref(),
        Some(observed.service.as_ref()),
    );
    if observed.access != ServiceAccess::Granted {
        return Ok(observed);
    }
    observed.rollout = rollout_in_progress(
        ctx,
        namespace,
        &obj.spec.service_ref.name,
        observed.service.as_ref(),
    );
    observed.scalable_target = aws.scalable_targets.describe(&target.resource_id).await?;
    let Some(scalable) = observed.scalable_target.as_ref() else {
        return Ok(observed);
    };
    observed.owner = owner_tag(&status, scalable, aws).await?;
    observed.policies = aws
        .autoscaling
        .describe_scaling_policies(&target.resource_id)
        .await?;
    observed.scheduled_actions = aws
        .autoscaling
        .describe_scheduled_actions(&target.resource_id)
        .await?;
    if !alarm_names.is_empty() {
        observed.alarms = aws.cloudwatch.describe_alarms(alarm_names).await?;
    }
    // Informational only: a failure (IAM without the permission, say) never blocks a reconcile.
    match aws
        .autoscaling
        .describe_scaling_activities(&target.resource_id, 1)
        .await
    {
        Ok(activities) => observed.last_activity = activities.into_iter().next(),
        Err(error) => {
            tracing::debug!(%error, resource_id = %target.resource_id, "could not read scaling activities")
        }
    }
    Ok(observed)
}

/// The target's owner tag, read only when the status does not already record this target.
async fn owner_tag(
    status: &ScalingPolicyStatus,
    target: &ScalableTarget,
    aws: &Arc<AwsClients>,
) -> Result<Option<Option<String>>, AwsError> {
    let Some(arn) = target.scalable_target_arn.as_deref() else {
        return Ok(Some(None));
    };
    if status.scalable_target_arn.as_deref() == Some(arn) {
        return Ok(None);
    }
    let tags = aws.autoscaling.list_tags_for_resource(arn).await?;
    Ok(Some(
        tags.into_iter()
            .find(|t| t.key == OWNER_TAG)
            .map(|t| t.value),
    ))
}
