//! `LimitedEcs`: wraps any `EcsApi` so every call waits for its category's token and is
//! counted in the metrics. The controllers only ever see this wrapper.

use std::sync::Arc;

use async_trait::async_trait;

use super::ecs::*;
use super::error::AwsResult;
use super::limiter::{Category, Limiter};
use crate::metrics::Metrics;

/// An `EcsApi` that stays under the client-side token buckets and records metrics.
pub struct LimitedEcs {
    inner: Arc<dyn EcsApi>,
    limiter: Arc<Limiter>,
    metrics: Arc<Metrics>,
}

impl LimitedEcs {
    /// Wraps `inner`; `limiter` is the one of the same account × region.
    pub fn new(inner: Arc<dyn EcsApi>, limiter: Arc<Limiter>, metrics: Arc<Metrics>) -> Self {
        Self {
            inner,
            limiter,
            metrics,
        }
    }

    async fn call<T>(
        &self,
        operation: &'static str,
        category: Category,
        fut: impl std::future::Future<Output = AwsResult<T>>,
    ) -> AwsResult<T> {
        self.limiter.acquire(category).await;
        let result = fut.await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.kind.as_str(),
        };
        self.metrics.aws_request("ecs", operation, outcome);
        result
    }
}

#[async_trait]
impl EcsApi for LimitedEcs {
    async fn describe_services(
        &self,
        cluster: &str,
        names: &[String],
    ) -> AwsResult<Vec<ServiceLookup>> {
        self.call(
            "DescribeServices",
            Category::ServiceRead,
            self.inner.describe_services(cluster, names),
        )
        .await
    }

    async fn create_service(&self, input: CreateServiceInput) -> AwsResult<Service> {
        self.call(
            "CreateService",
            Category::ServiceModify,
            self.inner.create_service(input),
        )
        .await
    }

    async fn update_service(&self, input: UpdateServiceInput) -> AwsResult<Service> {
        self.call(
            "UpdateService",
            Category::ServiceModify,
            self.inner.update_service(input),
        )
        .await
    }

    async fn delete_service(
        &self,
        cluster: &str,
        service: &str,
        force: bool,
    ) -> AwsResult<Service> {
        self.call(
            "DeleteService",
            Category::ServiceModify,
            self.inner.delete_service(cluster, service, force),
        )
        .await
    }

    async fn register_task_definition(
        &self,
        input: TaskDefinitionInput,
    ) -> AwsResult<TaskDefinition> {
        self.call(
            "RegisterTaskDefinition",
            Category::TaskDefinitionModify,
            self.inner.register_task_definition(input),
        )
        .await
    }

    async fn describe_task_definition(&self, arn: &str) -> AwsResult<TaskDefinition> {
        self.call(
            "DescribeTaskDefinition",
            Category::TaskDefinitionRead,
            self.inner.describe_task_definition(arn),
        )
        .await
    }

    async fn list_task_definitions(&self, family: &str) -> AwsResult<Vec<String>> {
        self.call(
            "ListTaskDefinitions",
            Category::TaskDefinitionRead,
            self.inner.list_task_definitions(family),
        )
        .await
    }

    async fn deregister_task_definition(&self, arn: &str) -> AwsResult<()> {
        self.call(
            "DeregisterTaskDefinition",
            Category::TaskDefinitionModify,
            self.inner.deregister_task_definition(arn),
        )
        .await
    }

    async fn tag_resource(&self, arn: &str, tags: Vec<Tag>) -> AwsResult<()> {
        self.call(
            "TagResource",
            Category::TagModify,
            self.inner.tag_resource(arn, tags),
        )
        .await
    }

    async fn list_service_deployments(
        &self,
        cluster: &str,
        service: &str,
    ) -> AwsResult<Vec<String>> {
        self.call(
            "ListServiceDeployments",
            Category::ServiceDeployment,
            self.inner.list_service_deployments(cluster, service),
        )
        .await
    }

    async fn describe_service_deployments(
        &self,
        arns: &[String],
    ) -> AwsResult<Vec<ServiceDeployment>> {
        self.call(
            "DescribeServiceDeployments",
            Category::ServiceDeployment,
            self.inner.describe_service_deployments(arns),
        )
        .await
    }

    async fn describe_service_revisions(&self, arns: &[String]) -> AwsResult<Vec<ServiceRevision>> {
        self.call(
            "DescribeServiceRevisions",
            Category::ServiceRevision,
            self.inner.describe_service_revisions(arns),
        )
        .await
    }

    async fn stop_service_deployment(&self, arn: &str, stop_type: &str) -> AwsResult<()> {
        self.call(
            "StopServiceDeployment",
            Category::ServiceDeployment,
            self.inner.stop_service_deployment(arn, stop_type),
        )
        .await
    }

    async fn continue_service_deployment(
        &self,
        arn: &str,
        hook_id: &str,
        action: &str,
    ) -> AwsResult<()> {
        self.call(
            "ContinueServiceDeployment",
            Category::ServiceDeployment,
            self.inner.continue_service_deployment(arn, hook_id, action),
        )
        .await
    }
}
