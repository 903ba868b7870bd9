//! `impl EcsApi for SimAws`: each operation passes the gate (latency, count, faults, token
//! bucket), advances the world to now, then runs the world's operation.

use async_trait::async_trait;

use crate::account::SimAws;
use crate::gate::Operation;
use aws::ecs::{
    CreateServiceInput, EcsApi, Service, ServiceDeployment, ServiceLookup, ServiceRevision, Tag,
    TaskDefinition, TaskDefinitionInput, UpdateServiceInput,
};
use aws::error::AwsResult;

const fn op(key: &'static str, mutating: bool) -> Operation {
    Operation { key, mutating }
}

/// ecs:DescribeServices.
pub(crate) const DESCRIBE_SERVICES: Operation = op("ecs:DescribeServices", false);
/// ecs:CreateService.
pub(crate) const CREATE_SERVICE: Operation = op("ecs:CreateService", true);
/// ecs:UpdateService.
pub(crate) const UPDATE_SERVICE: Operation = op("ecs:UpdateService", true);
/// ecs:DeleteService.
pub(crate) const DELETE_SERVICE: Operation = op("ecs:DeleteService", true);
/// ecs:RegisterTaskDefinition.
pub(crate) const REGISTER_TASK_DEFINITION: Operation = op("ecs:RegisterTaskDefinition", true);
/// ecs:DeregisterTaskDefinition.
pub(crate) const DEREGISTER_TASK_DEFINITION: Operation = op("ecs:DeregisterTaskDefinition", true);
/// ecs:DescribeTaskDefinition.
pub(crate) const DESCRIBE_TASK_DEFINITION: Operation = op("ecs:DescribeTaskDefinition", false);
/// ecs:ListTaskDefinitions.
pub(crate) const LIST_TASK_DEFINITIONS: Operation = op("ecs:ListTaskDefinitions", false);
/// ecs:TagResource.
pub(crate) const TAG_RESOURCE: Operation = op("ecs:TagResource", true);
/// ecs:ListServiceDeployments.
pub(crate) const LIST_SERVICE_DEPLOYMENTS: Operation = op("ecs:ListServiceDeployments", false);
/// ecs:DescribeServiceDeployments.
pub(crate) const DESCRIBE_SERVICE_DEPLOYMENTS: Operation =
    op("ecs:DescribeServiceDeployments", false);
/// ecs:DescribeServiceRevisions.
pub(crate) const DESCRIBE_SERVICE_REVISIONS: Operation = op("ecs:DescribeServiceRevisions", false);
/// ecs:StopServiceDeployment (no published bucket: see the limits table).
pub(crate) const STOP_SERVICE_DEPLOYMENT: Operation = op("ecs:StopServiceDeployment", true);
/// ecs:ContinueServiceDeployment (no published bucket: see the limits table).
pub(crate) const CONTINUE_SERVICE_DEPLOYMENT: Operation = op("ecs:ContinueServiceDeployment", true);

#[async_trait]
impl EcsApi for SimAws {
    async fn describe_services(
        &self,
        cluster: &str,
        names: &[String],
    ) -> AwsResult<Vec<ServiceLookup>> {
        self.call(&DESCRIBE_SERVICES, |w, now| {
            w.ecs_describe_services(now, cluster, names)
        })
        .await
    }

    async fn create_service(&self, input: CreateServiceInput) -> AwsResult<Service> {
        self.call(&CREATE_SERVICE, |w, now| w.ecs_create_service(now, input))
            .await
    }

    async fn update_service(&self, input: UpdateServiceInput) -> AwsResult<Service> {
        self.call(&UPDATE_SERVICE, |w, now| w.ecs_update_service(now, input))
            .await
    }

    async fn delete_service(
        &self,
        cluster: &str,
        service: &str,
        force: bool,
    ) -> AwsResult<Service> {
        self.call(&DELETE_SERVICE, |w, now| {
            w.ecs_delete_service(now, cluster, service, force)
        })
        .await
    }

    async fn register_task_definition(
        &self,
        input: TaskDefinitionInput,
    ) -> AwsResult<TaskDefinition> {
        self.call(&REGISTER_TASK_DEFINITION, |w, now| {
            let (region, account) = (w.region.clone(), w.account_id.clone());
            w.ecs
                .task_definitions
                .register(&region, &account, input, now)
        })
        .await
    }

    async fn describe_task_definition(&self, arn: &str) -> AwsResult<TaskDefinition> {
        self.call(&DESCRIBE_TASK_DEFINITION, |w, _| {
            w.ecs.task_definitions.describe(arn)
        })
        .await
    }

    async fn list_task_definitions(&self, family: &str) -> AwsResult<Vec<String>> {
        self.call(&LIST_TASK_DEFINITIONS, |w, _| {
            Ok(w.ecs.task_definitions.list_active(family))
        })
        .await
    }

    async fn deregister_task_definition(&self, arn: &str) -> AwsResult<()> {
        self.call(&DEREGISTER_TASK_DEFINITION, |w, _| {
            w.ecs.task_definitions.deregister(arn).map(|_| ())
        })
        .await
    }

    async fn tag_resource(&self, arn: &str, tags: Vec<Tag>) -> AwsResult<()> {
        self.call(&TAG_RESOURCE, |w, _| w.ecs_tag_resource(arn, tags))
            .await
    }

    async fn list_service_deployments(
        &self,
        cluster: &str,
        service: &str,
    ) -> AwsResult<Vec<String>> {
        self.call(&LIST_SERVICE_DEPLOYMENTS, |w, _| {
            w.ecs_list_service_deployments(cluster, service)
        })
        .await
    }

    async fn describe_service_deployments(
        &self,
        arns: &[String],
    ) -> AwsResult<Vec<ServiceDeployment>> {
        self.call(&DESCRIBE_SERVICE_DEPLOYMENTS, |w, _| {
            w.ecs_describe_service_deployments(arns)
        })
        .await
    }

    async fn describe_service_revisions(&self, arns: &[String]) -> AwsResult<Vec<ServiceRevision>> {
        self.call(&DESCRIBE_SERVICE_REVISIONS, |w, _| {
            w.ecs_describe_service_revisions(arns)
        })
        .await
    }

    async fn stop_service_deployment(&self, arn: &str, stop_type: &str) -> AwsResult<()> {
        self.call(&STOP_SERVICE_DEPLOYMENT, |w, now| {
            w.ecs_stop_service_deployment(now, arn, stop_type)
        })
        .await
    }

    async fn continue_service_deployment(
        &self,
        arn: &str,
        hook_id: &str,
        action: &str,
    ) -> AwsResult<()> {
        self.call(&CONTINUE_SERVICE_DEPLOYMENT, |w, now| {
            w.ecs_continue_service_deployment(now, arn, hook_id, action)
        })
        .await
    }
}
