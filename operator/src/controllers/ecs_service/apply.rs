//! The only EcsService code that changes AWS: runs the plan's step and says what happened.

use std::sync::Arc;

use super::plan::{Step, short_arn};
use crate::controllers::Context;
use crate::controllers::runtime::StepError;
use aws::accounts::AwsClients;
use aws::ecs::{CreateServiceInput, Service, TaskDefinition};

/// The result of a step.
#[derive(Debug, Default)]
pub struct Applied {
    /// The service as the mutating call returned it.
    pub service: Option<Service>,
    /// The revision just registered.
    pub registered: Option<TaskDefinition>,
    /// Event to publish: (reason, note).
    pub event: Option<(&'static str, String)>,
}

/// Runs one step.
pub async fn apply(
    step: &Step,
    aws: &Arc<AwsClients>,
    ctx: &Context,
) -> Result<Applied, StepError> {
    let result = run(step, aws, ctx).await;
    // Whatever was read of this service before (answers in flight too) is out of date once it
    // changed, and the change may have applied even when the reply was lost.
    match step {
        Step::CreateService(CreateServiceInput {
            cluster,
            service_name,
            ..
        }) => aws.services.forget(cluster, service_name),
        Step::UpdateService { input, .. } => aws.services.forget(&input.cluster, &input.service),
        _ => {}
    }
    result
}

async fn run(step: &Step, aws: &Arc<AwsClients>, ctx: &Context) -> Result<Applied, StepError> {
    match step {
        Step::RegisterTaskDefinition(input) => {
            let td = aws
                .ecs
                .register_task_definition(input.clone())
                .await
                .map_err(StepError::of("RegisterTaskDefinition"))?;
            tracing::info!(task_definition_arn = %td.task_definition_arn, "registered task definition");
            ctx.task_definitions.put(td.clone());
            let note = format!("registered {}", short_arn(&td.task_definition_arn));
            Ok(Applied {
                registered: Some(td),
                event: Some(("RegisteredTaskDefinition", note)),
                ..Applied::default()
            })
        }
        Step::CreateService(input) => {
            let service = aws
                .ecs
                .create_service(input.clone())
                .await
                .map_err(StepError::of("CreateService"))?;
            tracing::info!(service_arn = %service.service_arn, task_definition = %input.task_definition, "created ECS service");
            let note = format!(
                "created {} on {}",
                service.service_arn,
                short_arn(&input.task_definition)
            );
            Ok(Applied {
                service: Some(service),
                event: Some(("CreatedService", note)),
                ..Applied::default()
            })
        }
        Step::UpdateService { input, why } => {
            let service = aws
                .ecs
                .update_service(input.clone())
                .await
                .map_err(StepError::of("UpdateService"))?;
            tracing::info!(service_arn = %service.service_arn, changes = %why.join(", "), "updated ECS service");
            let note = format!("updated {}: {}", service.service_name, why.join(", "));
            Ok(Applied {
                service: Some(service),
                event: Some(("UpdatedService", note)),
                ..Applied::default()
            })
        }
        Step::AdoptService { arn, tags } => {
            aws.ecs
                .tag_resource(arn, tags.clone())
                .await
                .map_err(StepError::of("TagResource"))?;
            tracing::info!(service_arn = %arn, "adopted ECS service");
            Ok(Applied {
                event: Some(("AdoptedService", format!("took over {arn}"))),
                ..Applied::default()
            })
        }
        Step::DeregisterTaskDefinitions(arns) => {
            for arn in arns {
                match aws.ecs.deregister_task_definition(arn).await {
                    Ok(()) => {}
                    // Already gone or INACTIVE: nothing left to do for it.
                    Err(e) if !e.kind.is_retryable() => {
                        tracing::debug!(task_definition_arn = %arn, error = %e, "revision already deregistered")
                    }
                    Err(e) => {
                        return Err(StepError {
                            step: "DeregisterTaskDefinition",
                            source: e,
                        });
                    }
                }
                ctx.task_definitions.forget(arn);
            }
            tracing::info!(
                count = arns.len(),
                "deregistered old task definition revisions"
            );
            let names: Vec<&str> = arns.iter().map(|a| short_arn(a)).collect();
            Ok(Applied {
                event: Some((
                    "DeregisteredTaskDefinitions",
                    format!("deregistered {}", names.join(", ")),
                )),
                ..Applied::default()
            })
        }
    }
}
