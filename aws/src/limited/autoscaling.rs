//! `Limited<dyn AutoScalingApi>`: Application Auto Scaling publishes no rate limits, so its
//! calls are only counted; the SDK's standard retries absorb throttling.

use async_trait::async_trait;

use super::Limited;
use crate::autoscaling::*;
use crate::error::AwsResult;

/// Metric label of the service.
const SERVICE: &str = "application-autoscaling";

#[async_trait]
impl AutoScalingApi for Limited<dyn AutoScalingApi> {
    async fn describe_scalable_targets(
        &self,
        resource_ids: &[String],
    ) -> AwsResult<Vec<ScalableTarget>> {
        self.guard
            .call(
                SERVICE,
                "DescribeScalableTargets",
                self.inner.describe_scalable_targets(resource_ids),
            )
            .await
    }

    async fn register_scalable_target(
        &self,
        input: RegisterScalableTargetInput,
    ) -> AwsResult<String> {
        self.guard
            .call(
                SERVICE,
                "RegisterScalableTarget",
                self.inner.register_scalable_target(input),
            )
            .await
    }

    async fn deregister_scalable_target(&self, resource_id: &str) -> AwsResult<()> {
        self.guard
            .call(
                SERVICE,
                "DeregisterScalableTarget",
                self.inner.deregister_scalable_target(resource_id),
            )
            .await
    }

    async fn describe_scaling_policies(&self, resource_id: &str) -> AwsResult<Vec<ScalingPolicy>> {
        self.guard
            .call(
                SERVICE,
                "DescribeScalingPolicies",
                self.inner.describe_scaling_policies(resource_id),
            )
            .await
    }

    async fn put_scaling_policy(
        &self,
        input: PutScalingPolicyInput,
    ) -> AwsResult<PutScalingPolicyOutput> {
        self.guard
            .call(
                SERVICE,
                "PutScalingPolicy",
                self.inner.put_scaling_policy(input),
            )
            .await
    }

    async fn delete_scaling_policy(&self, resource_id: &str, policy_name: &str) -> AwsResult<()> {
        self.guard
            .call(
                SERVICE,
                "DeleteScalingPolicy",
                self.inner.delete_scaling_policy(resource_id, policy_name),
            )
            .await
    }

    async fn describe_scheduled_actions(
        &self,
        resource_id: &str,
    ) -> AwsResult<Vec<ScheduledAction>> {
        self.guard
            .call(
                SERVICE,
                "DescribeScheduledActions",
                self.inner.describe_scheduled_actions(resource_id),
            )
            .await
    }

    async fn put_scheduled_action(&self, input: ScheduledAction) -> AwsResult<()> {
        self.guard
            .call(
                SERVICE,
                "PutScheduledAction",
                self.inner.put_scheduled_action(input),
            )
            .await
    }

    async fn delete_scheduled_action(&self, resource_id: &str, name: &str) -> AwsResult<()> {
        self.guard
            .call(
                SERVICE,
                "DeleteScheduledAction",
                self.inner.delete_scheduled_action(resource_id, name),
            )
            .await
    }

    async fn describe_scaling_activities(
        &self,
        resource_id: &str,
        max_results: i32,
    ) -> AwsResult<Vec<ScalingActivity>> {
        self.guard
            .call(
                SERVICE,
                "DescribeScalingActivities",
                self.inner
                    .describe_scaling_activities(resource_id, max_results),
            )
            .await
    }

    async fn list_tags_for_resource(&self, arn: &str) -> AwsResult<Vec<Tag>> {
        self.guard
            .call(
                SERVICE,
                "ListTagsForResource",
                self.inner.list_tags_for_resource(arn),
            )
            .await
    }

    async fn tag_resource(&self, arn: &str, tags: Vec<Tag>) -> AwsResult<()> {
        self.guard
            .call(SERVICE, "TagResource", self.inner.tag_resource(arn, tags))
            .await
    }
}
