//! `SdkAutoScaling`: the [`AutoScalingApi`] adapter over `aws_sdk_applicationautoscaling`. It
//! batches DescribeScalableTargets (50 resource ids per call), follows every page, fixes the
//! namespace and dimension to ECS services, and reads "No … found" validation errors (how some
//! endpoints answer a missing target, policy or action) as NotFound, like AWS's
//! ObjectNotFoundException. The conversions live in `convert`; nothing outside `aws/` sees an
//! `aws_sdk_*` type.

mod convert;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_applicationautoscaling::Client;
use aws_sdk_applicationautoscaling::types as sdk;

use crate::autoscaling::{
    AutoScalingApi, DESCRIBE_SCALABLE_TARGETS_BATCH, PolicyConfiguration, PutScalingPolicyInput,
    PutScalingPolicyOutput, RegisterScalableTargetInput, ScalableTarget, ScalingActivity,
    ScalingPolicy, ScheduledAction, Tag,
};
use crate::error::{AwsError, AwsResult, ErrorKind};
use crate::sdk::build_error;

/// Application Auto Scaling through the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkAutoScaling {
    client: Client,
}

impl SdkAutoScaling {
    /// An adapter for the account, region and endpoint of `config`.
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            client: Client::new(config),
        }
    }
}

/// Translates an SDK error; a validation error that says an object was not found is NotFound.
fn aws_error<E>(
    err: aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> AwsError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
{
    let mut error = crate::sdk::aws_error(err);
    if error.code == "ValidationException"
        && error.message.starts_with("No ")
        && error.message.contains(" found")
    {
        error.kind = ErrorKind::NotFound;
    }
    error
}

const NAMESPACE: sdk::ServiceNamespace = sdk::ServiceNamespace::Ecs;
const DIMENSION: sdk::ScalableDimension = sdk::ScalableDimension::EcsServiceDesiredCount;

#[async_trait]
impl AutoScalingApi for SdkAutoScaling {
    async fn describe_scalable_targets(
        &self,
        resource_ids: &[String],
    ) -> AwsResult<Vec<ScalableTarget>> {
        let mut out = Vec::new();
        for chunk in resource_ids.chunks(DESCRIBE_SCALABLE_TARGETS_BATCH) {
            let mut token = None;
            loop {
                let page = self
                    .client
                    .describe_scalable_targets()
                    .service_namespace(NAMESPACE)
                    .scalable_dimension(DIMENSION)
                    .set_resource_ids(Some(chunk.to_vec()))
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(aws_error)?;
                out.extend(
                    page.scalable_targets
                        .unwrap_or_default()
                        .into_iter()
                        .map(convert::target_from_sdk),
                );
                token = page.next_token.filter(|t| !t.is_empty());
                if token.is_none() {
                    break;
                }
            }
        }
        Ok(out)
    }

    async fn register_scalable_target(
        &self,
        input: RegisterScalableTargetInput,
    ) -> AwsResult<String> {
        let RegisterScalableTargetInput {
            resource_id,
            min_capacity,
            max_capacity,
            suspended_state,
            tags,
        } = input;
        let out = self
            .client
            .register_scalable_target()
            .service_namespace(NAMESPACE)
            .scalable_dimension(DIMENSION)
            .resource_id(&resource_id)
            .set_min_capacity(min_capacity)
            .set_max_capacity(max_capacity)
            .set_suspended_state(suspended_state.map(convert::suspended_to_sdk))
            .set_tags((!tags.is_empty()).then(|| convert::tags_to_sdk(tags)))
            .send()
            .await
            .map_err(aws_error)?;
        match out.scalable_target_arn {
            Some(arn) => Ok(arn),
            // Older endpoints do not answer the ARN: read it back.
            None => self
                .describe_scalable_targets(std::slice::from_ref(&resource_id))
                .await?
                .into_iter()
                .find_map(|t| t.scalable_target_arn)
                .ok_or_else(|| {
                    AwsError::new(
                        ErrorKind::Transient,
                        "IncompleteResponse",
                        format!("RegisterScalableTarget answered no ARN for {resource_id}"),
                    )
                }),
        }
    }

    async fn deregister_scalable_target(&self, resource_id: &str) -> AwsResult<()> {
        self.client
            .deregister_scalable_target()
            .service_namespace(NAMESPACE)
            .scalable_dimension(DIMENSION)
            .resource_id(resource_id)
            .send()
            .await
            .map_err(aws_error)?;
        Ok(())
    }

    async fn describe_scaling_policies(&self, resource_id: &str) -> AwsResult<Vec<ScalingPolicy>> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .describe_scaling_policies()
                .service_namespace(NAMESPACE)
                .scalable_dimension(DIMENSION)
                .resource_id(resource_id)
                .set_next_token(token)
                .send()
                .await
                .map_err(aws_error)?;
            out.extend(
                page.scaling_policies
                    .unwrap_or_default()
                    .into_iter()
                    .map(convert::policy_from_sdk),
            );
            token = page.next_token.filter(|t| !t.is_empty());
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    async fn put_scaling_policy(
        &self,
        input: PutScalingPolicyInput,
    ) -> AwsResult<PutScalingPolicyOutput> {
        let PutScalingPolicyInput {
            policy_name,
            resource_id,
            configuration,
        } = input;
        let req = self
            .client
            .put_scaling_policy()
            .service_namespace(NAMESPACE)
            .scalable_dimension(DIMENSION)
            .resource_id(resource_id)
            .policy_name(policy_name);
        let req = match configuration {
            PolicyConfiguration::TargetTracking(c) => req
                .policy_type(sdk::PolicyType::TargetTrackingScaling)
                .target_tracking_scaling_policy_configuration(
                    convert::target_tracking_to_sdk(c).map_err(build_error)?,
                ),
            PolicyConfiguration::StepScaling(c) => req
                .policy_type(sdk::PolicyType::StepScaling)
                .step_scaling_policy_configuration(
                    convert::step_scaling_to_sdk(c).map_err(build_error)?,
                ),
            PolicyConfiguration::Other(kind) => {
                return Err(AwsError::new(
                    ErrorKind::InvalidRequest,
                    "UnsupportedPolicyType",
                    format!("ecs-operator does not write {kind} policies"),
                ));
            }
        };
        let out = req.send().await.map_err(aws_error)?;
        Ok(PutScalingPolicyOutput {
            policy_arn: out.policy_arn,
            alarms: convert::alarms_from_sdk(out.alarms),
        })
    }

    async fn delete_scaling_policy(&self, resource_id: &str, policy_name: &str) -> AwsResult<()> {
        self.client
            .delete_scaling_policy()
            .service_namespace(NAMESPACE)
            .scalable_dimension(DIMENSION)
            .resource_id(resource_id)
            .policy_name(policy_name)
            .send()
            .await
            .map_err(aws_error)?;
        Ok(())
    }

    async fn describe_scheduled_actions(
        &self,
        resource_id: &str,
    ) -> AwsResult<Vec<ScheduledAction>> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .describe_scheduled_actions()
                .service_namespace(NAMESPACE)
                .scalable_dimension(DIMENSION)
                .resource_id(resource_id)
                .set_next_token(token)
                .send()
                .await
                .map_err(aws_error)?;
            out.extend(
                page.scheduled_actions
                    .unwrap_or_default()
                    .into_iter()
                    .map(convert::scheduled_action_from_sdk),
            );
            token = page.next_token.filter(|t| !t.is_empty());
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    async fn put_scheduled_action(&self, input: ScheduledAction) -> AwsResult<()> {
        let ScheduledAction {
            scheduled_action_name,
            scheduled_action_arn: _,
            resource_id,
            schedule,
            timezone,
            start_time,
            end_time,
            min_capacity,
            max_capacity,
        } = input;
        self.client
            .put_scheduled_action()
            .service_namespace(NAMESPACE)
            .scalable_dimension(DIMENSION)
            .resource_id(resource_id)
            .scheduled_action_name(scheduled_action_name)
            .schedule(schedule)
            .set_timezone(timezone)
            .set_start_time(start_time.map(convert::date_time))
            .set_end_time(end_time.map(convert::date_time))
            .scalable_target_action(
                sdk::ScalableTargetAction::builder()
                    .set_min_capacity(min_capacity)
                    .set_max_capacity(max_capacity)
                    .build(),
            )
            .send()
            .await
            .map_err(aws_error)?;
        Ok(())
    }

    async fn delete_scheduled_action(&self, resource_id: &str, name: &str) -> AwsResult<()> {
        self.client
            .delete_scheduled_action()
            .service_namespace(NAMESPACE)
            .scalable_dimension(DIMENSION)
            .resource_id(resource_id)
            .scheduled_action_name(name)
            .send()
            .await
            .map_err(aws_error)?;
        Ok(())
    }

    async fn describe_scaling_activities(
        &self,
        resource_id: &str,
        max_results: i32,
    ) -> AwsResult<Vec<ScalingActivity>> {
        let out = self
            .client
            .describe_scaling_activities()
            .service_namespace(NAMESPACE)
            .scalable_dimension(DIMENSION)
            .resource_id(resource_id)
            .max_results(max_results.clamp(1, 50))
            .send()
            .await
            .map_err(aws_error)?;
        Ok(out
            .scaling_activities
            .unwrap_or_default()
            .into_iter()
            .map(convert::activity_from_sdk)
            .collect())
    }

    async fn list_tags_for_resource(&self, arn: &str) -> AwsResult<Vec<Tag>> {
        let out = self
            .client
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(aws_error)?;
        Ok(convert::tags_from_sdk(out.tags.unwrap_or_default()))
    }

    async fn tag_resource(&self, arn: &str, tags: Vec<Tag>) -> AwsResult<()> {
        self.client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(convert::tags_to_sdk(tags)))
            .send()
            .await
            .map_err(aws_error)?;
        Ok(())
    }
}
