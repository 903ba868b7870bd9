//! The ECS errors the simulator answers, with AWS's codes and message texts, classified through
//! `AwsError::from_code` exactly as the SDK adapter classifies real ones.

use aws::error::AwsError;

/// Any ECS client error (HTTP 400).
pub(crate) fn ecs_error(code: &str, message: impl Into<String>) -> AwsError {
    AwsError::from_code(code, message, Some(400))
}

/// InvalidParameterException.
pub(crate) fn invalid_parameter(message: impl Into<String>) -> AwsError {
    ecs_error("InvalidParameterException", message)
}

/// ClientException.
pub(crate) fn client_exception(message: impl Into<String>) -> AwsError {
    ecs_error("ClientException", message)
}

/// ClusterNotFoundException "Cluster not found.".
pub(crate) fn cluster_not_found() -> AwsError {
    ecs_error("ClusterNotFoundException", "Cluster not found.")
}

/// ServiceNotFoundException "Service not found.".
pub(crate) fn service_not_found() -> AwsError {
    ecs_error("ServiceNotFoundException", "Service not found.")
}

/// ServiceNotActiveException "Service was not ACTIVE.".
pub(crate) fn service_not_active() -> AwsError {
    ecs_error("ServiceNotActiveException", "Service was not ACTIVE.")
}

/// CreateService for a name that has an ACTIVE service.
pub(crate) fn not_idempotent() -> AwsError {
    invalid_parameter("Creation of service was not idempotent.")
}

/// CreateService for a name whose service is still DRAINING.
pub(crate) fn still_draining() -> AwsError {
    invalid_parameter("Unable to Start a service that is still Draining.")
}

/// DeleteService without force of a service with desiredCount > 0.
pub(crate) fn scaled_above_zero() -> AwsError {
    invalid_parameter("The service cannot be stopped while it is scaled above 0.")
}

/// UpdateService of task definition, network or load balancers with CODE_DEPLOY.
pub(crate) fn code_deploy_controlled() -> AwsError {
    invalid_parameter(
        "Unable to update task definition on services with a CODE_DEPLOY deployment controller. \
         Use AWS CodeDeploy to trigger a new deployment.",
    )
}

/// A subnet that does not exist.
pub(crate) fn subnet_not_found(subnets: &[&str]) -> AwsError {
    invalid_parameter(format!(
        "Error retrieving subnet information for [{}]: The subnet ID '{}' does not exist \
         (Service: AmazonEC2; Status Code: 400; Error Code: InvalidSubnetID.NotFound)",
        subnets.join(", "),
        subnets.first().copied().unwrap_or_default(),
    ))
}

/// A security group that does not exist (or not in the subnets' VPC).
pub(crate) fn security_group_not_found(groups: &[&str], vpc: Option<&str>) -> AwsError {
    let first = groups.first().copied().unwrap_or_default();
    let what = match vpc {
        Some(vpc) => format!("The security group '{first}' does not exist in VPC '{vpc}'"),
        None => format!("The security group '{first}' does not exist"),
    };
    invalid_parameter(format!(
        "Error retrieving security group information for [{}]: {what} \
         (Service: AmazonEC2; Status Code: 400; Error Code: InvalidGroup.NotFound)",
        groups.join(", "),
    ))
}

/// A target group ARN that does not exist.
pub(crate) fn target_group_not_found(arn: &str) -> AwsError {
    invalid_parameter(format!(
        "The target group with targetGroupArn {arn} does not exist."
    ))
}

/// A task definition that does not exist (CreateService/UpdateService).
pub(crate) fn task_definition_not_found() -> AwsError {
    invalid_parameter("TaskDefinition not found.")
}

/// An INACTIVE task definition (CreateService/UpdateService).
pub(crate) fn task_definition_inactive() -> AwsError {
    invalid_parameter("TaskDefinition is inactive")
}

/// ResourceNotFoundException (TagResource of an unknown ARN).
pub(crate) fn resource_not_found() -> AwsError {
    ecs_error(
        "ResourceNotFoundException",
        "The specified resource could not be found.",
    )
}

/// ServiceDeploymentNotFoundException.
pub(crate) fn service_deployment_not_found(arn: &str) -> AwsError {
    ecs_error(
        "ServiceDeploymentNotFoundException",
        format!("The service deployment {arn} does not exist."),
    )
}

/// ConflictException.
pub(crate) fn conflict(message: impl Into<String>) -> AwsError {
    ecs_error("ConflictException", message)
}
