//! `MeteredAutoScaling`: wraps any `AutoScalingApi` so every call is counted in
//! `aws_requests_total{service="application-autoscaling"}`. Application Auto Scaling publishes
//! no rate limits, so there is no client-side token bucket; the SDK's standard retries absorb
//! throttling. The controllers only ever see this wrapper.

use std::sync::Arc;

use async_trait::async_trait;

use crate::autoscaling::*;
use crate::error::AwsResult;
use crate::metrics::CallMetrics;

/// Metric label of the service.
const SERVICE: &str = "application-autoscaling";

/// An `AutoScalingApi` that records metrics.
pub struct MeteredAutoScaling {
    inner: Arc<dyn AutoScalingApi>,
    metrics: Arc<dyn CallMetrics>,
}

impl MeteredAutoScaling {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn AutoScalingApi>, metrics: Arc<dyn CallMetrics>) -> Self {
        Self { inner, metrics }
    }

    async fn call<T>(
        &self,
        operation: &'static str,
        fut: impl std::future::Future<Output = AwsResult<T>>,
    ) -> AwsResult<T> {
        let result = fut.await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.kind.as_str(),
        };
        self.metrics.aws_request(SERVICE, operation, outcome);
        result
    }
}

#[async_trait]
impl AutoScalingApi for MeteredAutoScaling {
    async fn describe_scalable_targets(
        &self,
        resource_ids: &[String],
    ) -> AwsResult<Vec<ScalableTarget>> {
        self.call(
            "DescribeScalableTargets",
            self.inner.describe_scalable_targets(resource_ids),
        )
        .await
    }

    async fn register_scalable_target(
        &self,
        input: RegisterScalableTargetInput,
    ) -> AwsResult<String> {
        self.call(
            "RegisterScalableTarget",
            self.inner.register_scalable_target(input),
        )
        .await
    }

    async fn deregister_scalable_target(&self, resource_id: &str) -> AwsResult<()> {
        self.call(
            "DeregisterScalableTarget",
            self.inner.deregister_scalable_target(resource_id),
        )
        .await
    }

    async fn describe_scaling_policies(&self, resource_id: &str) -> AwsResult<Vec<ScalingPolicy>> {
        self.call(
            "DescribeScalingPolicies",
            self.inner.describe_scaling_policies(resource_id),
        )
        .await
    }

    async fn put_scaling_policy(
        &self,
        input: PutScalingPolicyInput,
    ) -> AwsResult<PutScalingPolicyOutput> {
        self.call("PutScalingPolicy", self.inner.put_scaling_policy(input))
            .await
    }

    async fn delete_scaling_policy(&self, resource_id: &str, policy_name: &str) -> AwsResult<()> {
        self.call(
            "DeleteScalingPolicy",
            self.inner.delete_scaling_policy(resource_id, policy_name),
        )
        .await
    }

    async fn describe_scheduled_actions(
        &self,
        resource_id: &str,
    ) -> AwsResult<Vec<ScheduledAction>> {
        self.call(
            "DescribeScheduledActions",
            self.inner.describe_scheduled_actions(resource_id),
        )
        .await
    }

    async fn put_scheduled_action(&self, input: ScheduledAction) -> AwsResult<()> {
        self.call("PutScheduledAction", self.inner.put_scheduled_action(input))
            .await
    }

    async fn delete_scheduled_action(&self, resource_id: &str, name: &str) -> AwsResult<()> {
        self.call(
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
        self.call(
            "DescribeScalingActivities",
            self.inner
                .describe_scaling_activities(resource_id, max_results),
        )
        .await
    }

    async fn list_tags_for_resource(&self, arn: &str) -> AwsResult<Vec<Tag>> {
        self.call(
            "ListTagsForResource",
            self.inner.list_tags_for_resource(arn),
        )
        .await
    }

    async fn tag_resource(&self, arn: &str, tags: Vec<Tag>) -> AwsResult<()> {
        self.call("TagResource", self.inner.tag_resource(arn, tags))
            .await
    }
}
