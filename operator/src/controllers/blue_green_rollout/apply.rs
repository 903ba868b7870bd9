//! The only BlueGreenRollout code that changes AWS: runs the plan's step and says what
//! happened (the id of a deployment it created, the event to publish).

use std::sync::Arc;

use super::plan::Step;
use crate::controllers::runtime::StepError;
use aws::AwsError;
use aws::ErrorKind;
use aws::accounts::AwsClients;

/// The result of a step.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// The CodeDeploy deployment just created.
    pub deployment_id: Option<String>,
    /// Event to publish: (reason, note).
    pub event: Option<(&'static str, String)>,
}

/// Runs one step.
pub async fn apply(step: &Step, aws: &Arc<AwsClients>) -> Result<Applied, StepError> {
    let name = step.name();
    let fail = |source: AwsError| StepError { step: name, source };
    let event = |reason: &'static str, note: String| Applied {
        event: Some((reason, note)),
        ..Applied::default()
    };
    match step {
        Step::CreateDeploymentConfig(config) => {
            match aws
                .codedeploy
                .create_deployment_config(config.clone())
                .await
            {
                Ok(_) => {}
                // Configs are named after their content: someone created the same one.
                Err(e) if e.kind == ErrorKind::Conflict => {}
                Err(e) => return Err(fail(e)),
            }
            tracing::info!(config = %config.deployment_config_name, "created CodeDeploy deployment config");
            Ok(event(
                "CreatedDeploymentConfig",
                format!(
                    "created deployment config {}",
                    config.deployment_config_name
                ),
            ))
        }
        Step::CreateApplication { name: app, tags } => {
            aws.codedeploy
                .create_application(app, tags.clone())
                .await
                .map_err(fail)?;
            tracing::info!(application = %app, "created CodeDeploy application");
            Ok(event(
                "CreatedApplication",
                format!("created CodeDeploy application {app}"),
            ))
        }
        Step::CreateDeploymentGroup { spec, tags } => {
            aws.codedeploy
                .create_deployment_group((**spec).clone(), tags.clone())
                .await
                .map_err(fail)?;
            tracing::info!(group = %spec.deployment_group_name, "created CodeDeploy deployment group");
            Ok(event(
                "CreatedDeploymentGroup",
                format!(
                    "created deployment group {}/{}",
                    spec.application_name, spec.deployment_group_name
                ),
            ))
        }
        Step::UpdateDeploymentGroup(spec) => {
            aws.codedeploy
                .update_deployment_group((**spec).clone())
                .await
                .map_err(fail)?;
            tracing::info!(group = %spec.deployment_group_name, "updated CodeDeploy deployment group");
            Ok(event(
                "UpdatedDeploymentGroup",
                format!(
                    "brought deployment group {}/{} back in line with the spec",
                    spec.application_name, spec.deployment_group_name
                ),
            ))
        }
        Step::CreateDeployment(input) => {
            let id = aws
                .codedeploy
                .create_deployment(input.clone())
                .await
                .map_err(fail)?;
            tracing::info!(deployment_id = %id, "created CodeDeploy deployment");
            Ok(Applied {
                deployment_id: Some(id.clone()),
                event: Some((
                    "CreatedDeployment",
                    format!("created CodeDeploy deployment {id}"),
                )),
            })
        }
        Step::UpdateServiceTaskDefinition(input) => {
            let service = aws
                .ecs
                .update_service((**input).clone())
                .await
                .map_err(fail)?;
            let td = input.task_definition.clone().unwrap_or_default();
            tracing::info!(service_arn = %service.service_arn, task_definition = %td, "started ECS-native deployment");
            Ok(event(
                "StartedServiceDeployment",
                format!("updated {} to {td}", service.service_name),
            ))
        }
        Step::ContinueDeployment { id, wait_type } => {
            aws.codedeploy
                .continue_deployment(id, wait_type)
                .await
                .map_err(fail)?;
            tracing::info!(deployment_id = %id, wait_type, "continued CodeDeploy deployment");
            Ok(event(
                "ContinuedDeployment",
                format!("{wait_type} of {id} ended"),
            ))
        }
        Step::ContinueServiceDeployment { arn, hook_id } => {
            aws.ecs
                .continue_service_deployment(arn, hook_id, "CONTINUE")
                .await
                .map_err(fail)?;
            tracing::info!(service_deployment_arn = %arn, "continued ECS service deployment");
            Ok(event("ContinuedDeployment", format!("promoted {arn}")))
        }
        Step::StopDeployment { id } => {
            aws.codedeploy
                .stop_deployment(id, true)
                .await
                .map_err(fail)?;
            tracing::info!(deployment_id = %id, "stopped CodeDeploy deployment with rollback");
            Ok(event(
                "StoppedDeployment",
                format!("stopped {id}; rolling back"),
            ))
        }
        Step::StopServiceDeployment { arn } => {
            aws.ecs
                .stop_service_deployment(arn, "ROLLBACK")
                .await
                .map_err(fail)?;
            tracing::info!(service_deployment_arn = %arn, "stopped ECS service deployment with rollback");
            Ok(event(
                "StoppedDeployment",
                format!("stopped {arn}; rolling back"),
            ))
        }
    }
}
