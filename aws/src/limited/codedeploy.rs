//! `Limited<dyn CodeDeployApi>`.

use async_trait::async_trait;

use super::Limited;
use crate::codedeploy::{
    ApplicationInfo, CodeDeployApi, CreateDeploymentInput, DeploymentConfigSpec,
    DeploymentGroupInfo, DeploymentGroupSpec, DeploymentInfo, DeploymentStatus, Tag,
};
use crate::error::AwsResult;

#[async_trait]
impl CodeDeployApi for Limited<dyn CodeDeployApi> {
    async fn get_application(&self, name: &str) -> AwsResult<ApplicationInfo> {
        self.guard
            .call(
                "codedeploy",
                "GetApplication",
                self.inner.get_application(name),
            )
            .await
    }
    async fn create_application(&self, name: &str, tags: Vec<Tag>) -> AwsResult<String> {
        self.guard
            .call(
                "codedeploy",
                "CreateApplication",
                self.inner.create_application(name, tags),
            )
            .await
    }
    async fn get_deployment_group(
        &self,
        application: &str,
        group: &str,
    ) -> AwsResult<DeploymentGroupInfo> {
        self.guard
            .call(
                "codedeploy",
                "GetDeploymentGroup",
                self.inner.get_deployment_group(application, group),
            )
            .await
    }
    async fn create_deployment_group(
        &self,
        spec: DeploymentGroupSpec,
        tags: Vec<Tag>,
    ) -> AwsResult<String> {
        self.guard
            .call(
                "codedeploy",
                "CreateDeploymentGroup",
                self.inner.create_deployment_group(spec, tags),
            )
            .await
    }
    async fn update_deployment_group(&self, spec: DeploymentGroupSpec) -> AwsResult<()> {
        self.guard
            .call(
                "codedeploy",
                "UpdateDeploymentGroup",
                self.inner.update_deployment_group(spec),
            )
            .await
    }
    async fn delete_deployment_group(&self, application: &str, group: &str) -> AwsResult<()> {
        self.guard
            .call(
                "codedeploy",
                "DeleteDeploymentGroup",
                self.inner.delete_deployment_group(application, group),
            )
            .await
    }
    async fn delete_application(&self, name: &str) -> AwsResult<()> {
        self.guard
            .call(
                "codedeploy",
                "DeleteApplication",
                self.inner.delete_application(name),
            )
            .await
    }
    async fn list_deployment_groups(&self, application: &str) -> AwsResult<Vec<String>> {
        self.guard
            .call(
                "codedeploy",
                "ListDeploymentGroups",
                self.inner.list_deployment_groups(application),
            )
            .await
    }
    async fn get_deployment_config(&self, name: &str) -> AwsResult<DeploymentConfigSpec> {
        self.guard
            .call(
                "codedeploy",
                "GetDeploymentConfig",
                self.inner.get_deployment_config(name),
            )
            .await
    }
    async fn create_deployment_config(&self, spec: DeploymentConfigSpec) -> AwsResult<String> {
        self.guard
            .call(
                "codedeploy",
                "CreateDeploymentConfig",
                self.inner.create_deployment_config(spec),
            )
            .await
    }
    async fn create_deployment(&self, input: CreateDeploymentInput) -> AwsResult<String> {
        self.guard
            .call(
                "codedeploy",
                "CreateDeployment",
                self.inner.create_deployment(input),
            )
            .await
    }
    async fn get_deployment(&self, id: &str) -> AwsResult<DeploymentInfo> {
        self.guard
            .call("codedeploy", "GetDeployment", self.inner.get_deployment(id))
            .await
    }
    async fn list_deployments(
        &self,
        application: &str,
        group: &str,
        statuses: &[DeploymentStatus],
        created_after: Option<jiff::Timestamp>,
    ) -> AwsResult<Vec<String>> {
        self.guard
            .call(
                "codedeploy",
                "ListDeployments",
                self.inner
                    .list_deployments(application, group, statuses, created_after),
            )
            .await
    }
    async fn stop_deployment(&self, id: &str, auto_rollback_enabled: bool) -> AwsResult<()> {
        self.guard
            .call(
                "codedeploy",
                "StopDeployment",
                self.inner.stop_deployment(id, auto_rollback_enabled),
            )
            .await
    }
    async fn continue_deployment(&self, id: &str, wait_type: &str) -> AwsResult<()> {
        self.guard
            .call(
                "codedeploy",
                "ContinueDeployment",
                self.inner.continue_deployment(id, wait_type),
            )
            .await
    }
}
