//! `Limited<dyn EcsApi>`.

use async_trait::async_trait;

use super::Limited;
use crate::ecs::*;
use crate::error::AwsResult;

#[async_trait]
impl EcsApi for Limited<dyn EcsApi> {
    async fn describe_services(
        &self,
        cluster: &str,
        names: &[String],
    ) -> AwsResult<Vec<ServiceLookup>> {
        self.guard
            .call(
                "ecs",
                "DescribeServices",
                self.inner.describe_services(cluster, names),
            )
            .await
    }

    async fn create_service(&self, input: CreateServiceInput) -> AwsResult<Service> {
        self.guard
            .call("ecs", "CreateService", self.inner.create_service(input))
            .await
    }

    async fn update_service(&self, input: UpdateServiceInput) -> AwsResult<Service> {
        self.guard
            .call("ecs", "UpdateService", self.inner.update_service(input))
            .await
    }

    async fn delete_service(
        &self,
        cluster: &str,
        service: &str,
        force: bool,
    ) -> AwsResult<Service> {
        self.guard
            .call(
                "ecs",
                "DeleteService",
                self.inner.delete_service(cluster, service, force),
            )
            .await
    }

    async fn register_task_definition(
        &self,
        input: TaskDefinitionInput,
    ) -> AwsResult<TaskDefinition> {
        self.guard
            .call(
                "ecs",
                "RegisterTaskDefinition",
                self.inner.register_task_definition(input),
            )
            .await
    }

    async fn describe_task_definition(&self, arn: &str) -> AwsResult<TaskDefinition> {
        self.guard
            .call(
                "ecs",
                "DescribeTaskDefinition",
                self.inner.describe_task_definition(arn),
            )
            .await
    }

    async fn list_task_definitions(&self, family: &str) -> AwsResult<Vec<String>> {
        self.guard
            .call(
                "ecs",
                "ListTaskDefinitions",
                self.inner.list_task_definitions(family),
            )
            .await
    }

    async fn deregister_task_definition(&self, arn: &str) -> AwsResult<()> {
        self.guard
            .call(
                "ecs",
                "DeregisterTaskDefinition",
                self.inner.deregister_task_definition(arn),
            )
            .await
    }

    async fn tag_resource(&self, arn: &str, tags: Vec<Tag>) -> AwsResult<()> {
        self.guard
            .call("ecs", "TagResource", self.inner.tag_resource(arn, tags))
            .await
    }

    async fn list_service_deployments(
        &self,
        cluster: &str,
        service: &str,
    ) -> AwsResult<Vec<String>> {
        self.guard
            .call(
                "ecs",
                "ListServiceDeployments",
                self.inner.list_service_deployments(cluster, service),
            )
            .await
    }

    async fn describe_service_deployments(
        &self,
        arns: &[String],
    ) -> AwsResult<Vec<ServiceDeployment>> {
        self.guard
            .call(
                "ecs",
                "DescribeServiceDeployments",
                self.inner.describe_service_deployments(arns),
            )
            .await
    }

    async fn describe_service_revisions(&self, arns: &[String]) -> AwsResult<Vec<ServiceRevision>> {
        self.guard
            .call(
                "ecs",
                "DescribeServiceRevisions",
                self.inner.describe_service_revisions(arns),
            )
            .await
    }

    async fn stop_service_deployment(&self, arn: &str, stop_type: &str) -> AwsResult<()> {
        self.guard
            .call(
                "ecs",
                "StopServiceDeployment",
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
        self.guard
            .call(
                "ecs",
                "ContinueServiceDeployment",
                self.inner.continue_service_deployment(arn, hook_id, action),
            )
            .await
    }
}
