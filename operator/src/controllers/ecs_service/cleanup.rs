//! Deletion of an EcsService: with deletionPolicy Delete, scale the service to 0, delete it,
//! wait until ECS reports it INACTIVE and deregister the revisions the operator registered;
//! with Retain or ObserveOnly, or for a service the operator does not own, touch nothing.

use crate::controllers::runtime::ManagedKind;
use std::sync::Arc;

use crds::EcsService;
use crds::common::{CONTENT_HASH_TAG, DeletionPolicy, ManagementPolicy, OWNER_TAG};

use crate::controllers::Context;
use crate::controllers::runtime::finalizer::Cleanup;
use aws::accounts::AwsClients;
use aws::ecs::{ServiceLookup, ServiceStatus, UpdateServiceInput};
use aws::{AwsError, ErrorKind};

/// One step of deletion.
pub async fn cleanup(
    obj: &EcsService,
    aws: &Arc<AwsClients>,
    ctx: &Context,
) -> Result<Cleanup, AwsError> {
    let spec = &obj.spec;
    if spec.deletion_policy == DeletionPolicy::Retain
        || spec.management_policy == ManagementPolicy::ObserveOnly
    {
        return Ok(Cleanup::Done(Vec::new()));
    }
    let owner = format!(
        "{}/{}",
        obj.metadata.namespace.as_deref().unwrap_or_default(),
        obj.metadata.name.as_deref().unwrap_or_default()
    );
    let cluster = spec.cluster.as_str();
    let name = obj.service_name();
    let service = match aws
        .services
        .describe(
            cluster,
            name,
            Default::default(),
            <EcsService as ManagedKind>::CONTROLLER,
        )
        .await
    {
        Ok(ServiceLookup::Found(s)) => Some(*s),
        Ok(ServiceLookup::Missing) => None,
        Err(e) if e.kind == ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if let Some(service) = service.filter(|s| s.status != ServiceStatus::Inactive) {
        if service.tag(OWNER_TAG) != Some(owner.as_str()) {
            // Not ours (refused or never adopted): leave it alone.
            return Ok(Cleanup::Done(Vec::new()));
        }
        if service.status == ServiceStatus::Draining {
            return Ok(Cleanup::Waiting(format!("ECS service {name} is draining")));
        }
        // Each write makes what was read of the service out of date, even with its reply lost.
        if service.desired_count > 0 {
            let scaled = aws
                .ecs
                .update_service(UpdateServiceInput {
                    cluster: cluster.to_string(),
                    service: name.to_string(),
                    desired_count: Some(0),
                    ..UpdateServiceInput::default()
                })
                .await;
            aws.services.forget(cluster, name);
            scaled?;
            tracing::info!(service_arn = %service.service_arn, "scaled ECS service to 0 for deletion");
            crate::controllers::runtime::events::publish(
                ctx,
                obj,
                false,
                "ScaledToZero",
                format!("scaled {name} to 0 before deleting it"),
            )
            .await;
            return Ok(Cleanup::Waiting(format!("scaling ECS service {name} to 0")));
        }
        let deleted = aws.ecs.delete_service(cluster, name, false).await;
        aws.services.forget(cluster, name);
        deleted?;
        tracing::info!(service_arn = %service.service_arn, "deleted ECS service");
        crate::controllers::runtime::events::publish(
            ctx,
            obj,
            false,
            "DeletedService",
            format!("deleted ECS service {name}"),
        )
        .await;
        return Ok(Cleanup::Waiting(format!("deleting ECS service {name}")));
    }
    deregister_owned_revisions(obj, &owner, aws, ctx).await?;
    Ok(Cleanup::Done(Vec::new()))
}

async fn deregister_owned_revisions(
    obj: &EcsService,
    owner: &str,
    aws: &Arc<AwsClients>,
    ctx: &Context,
) -> Result<(), AwsError> {
    let family = obj
        .spec
        .task_definition
        .family
        .clone()
        .unwrap_or_else(|| obj.service_name().to_string());
    let arns = match aws.ecs.list_task_definitions(&family).await {
        Ok(arns) => arns,
        Err(e) if e.kind == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut deregistered = 0;
    for arn in arns {
        let td = match ctx.task_definitions.get(&arn) {
            Some(td) => td,
            None => aws.ecs.describe_task_definition(&arn).await?,
        };
        let ours = td
            .tags
            .iter()
            .any(|t| t.key == OWNER_TAG && t.value == owner)
            && td.tags.iter().any(|t| t.key == CONTENT_HASH_TAG);
        if ours {
            match aws.ecs.deregister_task_definition(&arn).await {
                Ok(()) => deregistered += 1,
                Err(e) if !e.kind.is_retryable() => {}
                Err(e) => return Err(e),
            }
            ctx.task_definitions.forget(&arn);
        }
    }
    if deregistered > 0 {
        tracing::info!(family = %family, count = deregistered, "deregistered task definition revisions on deletion");
        crate::controllers::runtime::events::publish(
            ctx,
            obj,
            false,
            "DeregisteredTaskDefinitions",
            format!("deregistered {deregistered} revisions of {family}"),
        )
        .await;
    }
    Ok(())
}
