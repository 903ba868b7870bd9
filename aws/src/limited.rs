//! `LimitedEcs`: wraps any `EcsApi` so every call waits for its category's token and is
//! counted in the metrics; `LimitedCodeDeploy` does the same for CodeDeploy, `MeteredElb` and
//! `MeteredCloudWatch` only count. The controllers only ever see these wrappers.

use std::sync::Arc;

use async_trait::async_trait;

use crate::cloudwatch::{CloudWatchApi, MetricAlarm, PutMetricAlarmInput};
use crate::codedeploy::{
    ApplicationInfo, CodeDeployApi, CreateDeploymentInput, DeploymentConfigSpec,
    DeploymentGroupInfo, DeploymentGroupSpec, DeploymentInfo,
};
use crate::ecs::*;
use crate::elb::{
    ElbApi, Listener, LoadBalancer as ElbLoadBalancer, Rule, TargetGroup as ElbTargetGroup,
};
use crate::error::AwsResult;
use crate::limiter::{Category, Limiter};
use crate::metrics::CallMetrics;

/// An `EcsApi` that stays under the client-side token buckets and records metrics.
pub struct LimitedEcs {
    inner: Arc<dyn EcsApi>,
    limiter: Arc<Limiter>,
    metrics: Arc<dyn CallMetrics>,
}

impl LimitedEcs {
    /// Wraps `inner`; `limiter` is the one of the same account × region.
    pub fn new(
        inner: Arc<dyn EcsApi>,
        limiter: Arc<Limiter>,
        metrics: Arc<dyn CallMetrics>,
    ) -> Self {
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

/// A `CodeDeployApi` under the account's CodeDeploy token bucket, metered.
pub struct LimitedCodeDeploy {
    inner: Arc<dyn CodeDeployApi>,
    limiter: Arc<Limiter>,
    metrics: Arc<dyn CallMetrics>,
}

impl LimitedCodeDeploy {
    /// Wraps `inner`; `limiter` is the one of the same account × region.
    pub fn new(
        inner: Arc<dyn CodeDeployApi>,
        limiter: Arc<Limiter>,
        metrics: Arc<dyn CallMetrics>,
    ) -> Self {
        Self {
            inner,
            limiter,
            metrics,
        }
    }

    async fn call<T>(
        &self,
        operation: &'static str,
        fut: impl std::future::Future<Output = AwsResult<T>>,
    ) -> AwsResult<T> {
        self.limiter.acquire(Category::CodeDeploy).await;
        metered(self.metrics.as_ref(), "codedeploy", operation, fut).await
    }
}

async fn metered<T>(
    metrics: &dyn CallMetrics,
    service: &'static str,
    operation: &'static str,
    fut: impl std::future::Future<Output = AwsResult<T>>,
) -> AwsResult<T> {
    let result = fut.await;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => e.kind.as_str(),
    };
    metrics.aws_request(service, operation, outcome);
    result
}

#[async_trait]
impl CodeDeployApi for LimitedCodeDeploy {
    async fn get_application(&self, name: &str) -> AwsResult<ApplicationInfo> {
        self.call("GetApplication", self.inner.get_application(name))
            .await
    }
    async fn create_application(&self, name: &str, tags: Vec<Tag>) -> AwsResult<String> {
        self.call(
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
        self.call(
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
        self.call(
            "CreateDeploymentGroup",
            self.inner.create_deployment_group(spec, tags),
        )
        .await
    }
    async fn update_deployment_group(&self, spec: DeploymentGroupSpec) -> AwsResult<()> {
        self.call(
            "UpdateDeploymentGroup",
            self.inner.update_deployment_group(spec),
        )
        .await
    }
    async fn delete_deployment_group(&self, application: &str, group: &str) -> AwsResult<()> {
        self.call(
            "DeleteDeploymentGroup",
            self.inner.delete_deployment_group(application, group),
        )
        .await
    }
    async fn delete_application(&self, name: &str) -> AwsResult<()> {
        self.call("DeleteApplication", self.inner.delete_application(name))
            .await
    }
    async fn list_deployment_groups(&self, application: &str) -> AwsResult<Vec<String>> {
        self.call(
            "ListDeploymentGroups",
            self.inner.list_deployment_groups(application),
        )
        .await
    }
    async fn get_deployment_config(&self, name: &str) -> AwsResult<DeploymentConfigSpec> {
        self.call(
            "GetDeploymentConfig",
            self.inner.get_deployment_config(name),
        )
        .await
    }
    async fn create_deployment_config(&self, spec: DeploymentConfigSpec) -> AwsResult<String> {
        self.call(
            "CreateDeploymentConfig",
            self.inner.create_deployment_config(spec),
        )
        .await
    }
    async fn create_deployment(&self, input: CreateDeploymentInput) -> AwsResult<String> {
        self.call("CreateDeployment", self.inner.create_deployment(input))
            .await
    }
    async fn get_deployment(&self, id: &str) -> AwsResult<DeploymentInfo> {
        self.call("GetDeployment", self.inner.get_deployment(id))
            .await
    }
    async fn list_deployments(
        &self,
        application: &str,
        group: &str,
        statuses: &[&str],
        created_after: Option<jiff::Timestamp>,
    ) -> AwsResult<Vec<String>> {
        self.call(
            "ListDeployments",
            self.inner
                .list_deployments(application, group, statuses, created_after),
        )
        .await
    }
    async fn stop_deployment(&self, id: &str, auto_rollback_enabled: bool) -> AwsResult<()> {
        self.call(
            "StopDeployment",
            self.inner.stop_deployment(id, auto_rollback_enabled),
        )
        .await
    }
    async fn continue_deployment(&self, id: &str, wait_type: &str) -> AwsResult<()> {
        self.call(
            "ContinueDeployment",
            self.inner.continue_deployment(id, wait_type),
        )
        .await
    }
}

/// An `ElbApi` whose calls are counted in the metrics (ELBv2 reads are not rate limited here:
/// a rollout reads a few rules per poll).
pub struct MeteredElb {
    inner: Arc<dyn ElbApi>,
    metrics: Arc<dyn CallMetrics>,
}

impl MeteredElb {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn ElbApi>, metrics: Arc<dyn CallMetrics>) -> Self {
        Self { inner, metrics }
    }
}

#[async_trait]
impl ElbApi for MeteredElb {
    async fn describe_target_groups(&self, names: &[String]) -> AwsResult<Vec<ElbTargetGroup>> {
        let fut = self.inner.describe_target_groups(names);
        metered(self.metrics.as_ref(), "elbv2", "DescribeTargetGroups", fut).await
    }
    async fn describe_listeners(&self, arns: &[String]) -> AwsResult<Vec<Listener>> {
        let fut = self.inner.describe_listeners(arns);
        metered(self.metrics.as_ref(), "elbv2", "DescribeListeners", fut).await
    }
    async fn describe_listener_rules(&self, listener_arn: &str) -> AwsResult<Vec<Rule>> {
        let fut = self.inner.describe_listener_rules(listener_arn);
        metered(self.metrics.as_ref(), "elbv2", "DescribeRules", fut).await
    }
    async fn describe_rules(&self, rule_arns: &[String]) -> AwsResult<Vec<Rule>> {
        let fut = self.inner.describe_rules(rule_arns);
        metered(self.metrics.as_ref(), "elbv2", "DescribeRules", fut).await
    }
    async fn describe_load_balancers(&self, arns: &[String]) -> AwsResult<Vec<ElbLoadBalancer>> {
        let fut = self.inner.describe_load_balancers(arns);
        metered(self.metrics.as_ref(), "elbv2", "DescribeLoadBalancers", fut).await
    }
}

/// A `CloudWatchApi` whose calls are counted in the metrics.
pub struct MeteredCloudWatch {
    inner: Arc<dyn CloudWatchApi>,
    metrics: Arc<dyn CallMetrics>,
}

impl MeteredCloudWatch {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn CloudWatchApi>, metrics: Arc<dyn CallMetrics>) -> Self {
        Self { inner, metrics }
    }
}

#[async_trait]
impl CloudWatchApi for MeteredCloudWatch {
    async fn describe_alarms(&self, names: &[String]) -> AwsResult<Vec<MetricAlarm>> {
        let fut = self.inner.describe_alarms(names);
        metered(self.metrics.as_ref(), "cloudwatch", "DescribeAlarms", fut).await
    }
    async fn put_metric_alarm(&self, input: PutMetricAlarmInput) -> AwsResult<()> {
        let fut = self.inner.put_metric_alarm(input);
        metered(self.metrics.as_ref(), "cloudwatch", "PutMetricAlarm", fut).await
    }
    async fn delete_alarms(&self, names: &[String]) -> AwsResult<()> {
        let fut = self.inner.delete_alarms(names);
        metered(self.metrics.as_ref(), "cloudwatch", "DeleteAlarms", fut).await
    }
}
