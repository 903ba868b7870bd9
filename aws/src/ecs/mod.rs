//! The `EcsApi` trait: the Amazon ECS operations the operator calls, with its own types.
//! Implemented by the SDK adapter (`ecs_sdk`) and the simulator (`sim`). No SDK types here.

pub mod reader;
pub mod sdk;
pub mod states;

pub use states::{
    DeploymentController, DeploymentStatus, HookStatus, RolloutState, ServiceDeploymentStatus,
    ServiceStatus, TaskDefinitionStatus,
};

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use crds::Tag;
pub use crds::ecs_service::{
    AwsVpcConfiguration, CapacityProviderStrategyItem, NetworkConfiguration, ServiceRegistry,
};
pub use crds::task_definition::{ContainerDefinition, EphemeralStorage, RuntimePlatform, Volume};

use crate::error::AwsResult;

/// Most services one DescribeServices call accepts.
pub const DESCRIBE_SERVICES_BATCH: usize = 10;

/// A task definition to register (RegisterTaskDefinition members).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskDefinitionInput {
    /// Family.
    pub family: String,
    /// Task CPU units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    /// Task memory (MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    /// awsvpc, bridge, host or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<String>,
    /// FARGATE, EC2, EXTERNAL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires_compatibilities: Vec<String>,
    /// Execution role ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_role_arn: Option<String>,
    /// Task role ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_role_arn: Option<String>,
    /// Runtime platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_platform: Option<RuntimePlatform>,
    /// Containers.
    pub container_definitions: Vec<ContainerDefinition>,
    /// Volumes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    /// Ephemeral storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral_storage: Option<EphemeralStorage>,
    /// Tags (owner and content hash).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// A registered task definition revision.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskDefinition {
    /// Full revision ARN (…:task-definition/family:17).
    pub task_definition_arn: String,
    /// Family.
    pub family: String,
    /// Revision number.
    pub revision: i32,
    /// ACTIVE, INACTIVE or DELETE_IN_PROGRESS.
    pub status: TaskDefinitionStatus,
    /// The content as registered.
    pub definition: TaskDefinitionInput,
    /// Tags of the revision (from `include: TAGS`).
    pub tags: Vec<Tag>,
    /// When it was registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_at: Option<Timestamp>,
}

/// A load balancer of a service, with the ECS-native blue/green extension.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancer {
    /// Target group ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_group_arn: Option<String>,
    /// Classic load balancer name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_name: Option<String>,
    /// Container to register.
    pub container_name: String,
    /// Container port.
    pub container_port: i32,
    /// ECS-native blue/green: alternate target group and listener rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced_configuration: Option<AdvancedConfiguration>,
}

/// loadBalancers[].advancedConfiguration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdvancedConfiguration {
    /// Green target group.
    pub alternate_target_group_arn: String,
    /// Production listener rule ARN.
    pub production_listener_rule: String,
    /// Test listener rule ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_listener_rule: Option<String>,
    /// Role ECS uses to modify the rules.
    pub role_arn: String,
}

/// deploymentConfiguration, all strategies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentConfiguration {
    /// ROLLING, BLUE_GREEN, LINEAR or CANARY (absent means ROLLING).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// maximumPercent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_percent: Option<i32>,
    /// minimumHealthyPercent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_healthy_percent: Option<i32>,
    /// Circuit breaker (rolling only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_circuit_breaker: Option<CircuitBreaker>,
    /// Alarms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarms: Option<DeploymentAlarms>,
    /// Bake time (blue/green, linear, canary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bake_time_in_minutes: Option<i32>,
    /// Linear steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linear_configuration: Option<LinearConfiguration>,
    /// Canary step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_configuration: Option<CanaryConfiguration>,
    /// Lifecycle hooks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lifecycle_hooks: Vec<LifecycleHook>,
}

/// Circuit breaker settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CircuitBreaker {
    /// On.
    pub enable: bool,
    /// Roll back on failure.
    pub rollback: bool,
}

/// Deployment alarms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentAlarms {
    /// Alarm names.
    pub alarm_names: Vec<String>,
    /// On.
    pub enable: bool,
    /// Roll back on alarm.
    pub rollback: bool,
}

/// Linear configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinearConfiguration {
    /// Percent per step.
    pub step_percent: f64,
    /// Minutes between steps.
    pub step_bake_time_in_minutes: i32,
}

/// Canary configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanaryConfiguration {
    /// Canary percent.
    pub canary_percent: f64,
    /// Minutes on the canary.
    pub canary_bake_time_in_minutes: i32,
}

/// A deployment lifecycle hook.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleHook {
    /// AWS_LAMBDA or PAUSE.
    pub target_type: String,
    /// Lambda ARN (AWS_LAMBDA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook_target_arn: Option<String>,
    /// Role to invoke it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// Stages (PRE_SCALE_UP, POST_TEST_TRAFFIC_SHIFT, …).
    pub lifecycle_stages: Vec<String>,
    /// Timeout of a PAUSE hook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_in_minutes: Option<i32>,
    /// ROLLBACK or CONTINUE when the timeout passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_action: Option<String>,
}

/// Desired service configuration for CreateService.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateServiceInput {
    /// Cluster name or ARN.
    pub cluster: String,
    /// Service name.
    pub service_name: String,
    /// Task definition revision ARN.
    pub task_definition: String,
    /// Task count.
    pub desired_count: i32,
    /// Everything else a service can be configured with.
    pub config: ServiceConfig,
    /// ECS, CODE_DEPLOY or EXTERNAL (absent: ECS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_controller: Option<DeploymentController>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// Idempotency token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
}

/// Service configuration the spec owns (shared by create, update and the drift diff).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConfig {
    /// FARGATE, EC2 or EXTERNAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_type: Option<String>,
    /// Capacity provider strategy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    /// Fargate platform version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_version: Option<String>,
    /// awsvpc configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_configuration: Option<NetworkConfiguration>,
    /// Load balancers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub load_balancers: Vec<LoadBalancer>,
    /// Service registries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_registries: Vec<ServiceRegistry>,
    /// Health check grace period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_grace_period_seconds: Option<i32>,
    /// Deployment configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_configuration: Option<DeploymentConfiguration>,
    /// ECS Exec.
    #[serde(default)]
    pub enable_execute_command: bool,
    /// ECS managed tags.
    #[serde(default, rename = "enableECSManagedTags")]
    pub enable_ecs_managed_tags: bool,
    /// SERVICE, TASK_DEFINITION or NONE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagate_tags: Option<String>,
}

/// An UpdateService call: only the members that are `Some` are sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateServiceInput {
    /// Cluster.
    pub cluster: String,
    /// Service name.
    pub service: String,
    /// New task definition revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition: Option<String>,
    /// New desired count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_count: Option<i32>,
    /// New configuration (sent whole when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ServiceConfig>,
    /// Start a new deployment even if nothing changed.
    #[serde(default)]
    pub force_new_deployment: bool,
}

/// An ECS deployment of a service (Service.deployments[]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// ecs-svc/… id.
    pub id: String,
    /// PRIMARY, ACTIVE or INACTIVE.
    pub status: DeploymentStatus,
    /// Task definition revision ARN.
    pub task_definition: String,
    /// Tasks wanted.
    pub desired_count: i32,
    /// Tasks running.
    pub running_count: i32,
    /// Tasks pending.
    pub pending_count: i32,
    /// Tasks that failed to start or pass health checks.
    pub failed_tasks: i32,
    /// IN_PROGRESS, COMPLETED or FAILED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout_state: Option<RolloutState>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout_state_reason: Option<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last updated.
    pub updated_at: Timestamp,
}

/// An ECS service as DescribeServices returns it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// Service ARN.
    pub service_arn: String,
    /// Service name.
    pub service_name: String,
    /// Cluster ARN.
    pub cluster_arn: String,
    /// ACTIVE, DRAINING or INACTIVE.
    pub status: ServiceStatus,
    /// Task definition revision of the PRIMARY deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition: Option<String>,
    /// Desired tasks.
    pub desired_count: i32,
    /// Running tasks.
    pub running_count: i32,
    /// Pending tasks.
    pub pending_count: i32,
    /// Configuration as AWS holds it.
    pub config: ServiceConfig,
    /// ECS, CODE_DEPLOY or EXTERNAL.
    pub deployment_controller: DeploymentController,
    /// Deployments, PRIMARY first.
    pub deployments: Vec<Deployment>,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
}

impl Service {
    /// The PRIMARY deployment, if any.
    pub fn primary_deployment(&self) -> Option<&Deployment> {
        self.deployments
            .iter()
            .find(|d| d.status == DeploymentStatus::Primary)
    }

    /// Value of a tag.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.key == key)
            .map(|t| t.value.as_str())
    }
}

/// One name of a DescribeServices call: found, or reported in `failures` (MISSING).
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceLookup {
    /// The service (any status, including INACTIVE).
    Found(Box<Service>),
    /// AWS reported the name as MISSING.
    Missing,
}

/// An ECS-native service deployment (DescribeServiceDeployments).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDeployment {
    /// ARN.
    pub service_deployment_arn: String,
    /// Service ARN.
    pub service_arn: String,
    /// PENDING, IN_PROGRESS, SUCCESSFUL, STOPPED, STOP_REQUESTED, ROLLBACK_REQUESTED,
    /// ROLLBACK_IN_PROGRESS, ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED.
    pub status: ServiceDeploymentStatus,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// Current lifecycle stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<String>,
    /// The revision being deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_service_revision_arn: Option<String>,
    /// Revisions being replaced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_service_revision_arns: Vec<String>,
    /// Hooks and their states.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lifecycle_hook_details: Vec<LifecycleHookDetail>,
    /// Created.
    pub created_at: Timestamp,
    /// Finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    /// Why the deployment rolled back, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_reason: Option<String>,
}

/// A lifecycle hook invocation of a service deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleHookDetail {
    /// Hook id (for ContinueServiceDeployment).
    pub hook_id: String,
    /// AWS_LAMBDA or PAUSE.
    pub target_type: String,
    /// AWAITING_ACTION, IN_PROGRESS, SUCCEEDED, FAILED.
    pub status: HookStatus,
    /// The stage it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<String>,
    /// When a PAUSE hook times out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
}

/// A service revision (DescribeServiceRevisions): which task definition it runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRevision {
    /// ARN.
    pub service_revision_arn: String,
    /// Task definition revision ARN.
    pub task_definition: String,
}

/// The ECS operations the operator uses.
#[async_trait]
pub trait EcsApi: Send + Sync {
    /// DescribeServices with `include: [TAGS]` for at most 10 names of one cluster; one
    /// result per name, in the order given.
    async fn describe_services(
        &self,
        cluster: &str,
        names: &[String],
    ) -> AwsResult<Vec<ServiceLookup>>;
    /// CreateService.
    async fn create_service(&self, input: CreateServiceInput) -> AwsResult<Service>;
    /// UpdateService.
    async fn update_service(&self, input: UpdateServiceInput) -> AwsResult<Service>;
    /// DeleteService (`force` deletes a service that still has tasks).
    async fn delete_service(&self, cluster: &str, service: &str, force: bool)
    -> AwsResult<Service>;
    /// RegisterTaskDefinition (tags included).
    async fn register_task_definition(
        &self,
        input: TaskDefinitionInput,
    ) -> AwsResult<TaskDefinition>;
    /// DescribeTaskDefinition with `include: [TAGS]`.
    async fn describe_task_definition(&self, arn: &str) -> AwsResult<TaskDefinition>;
    /// ListTaskDefinitions of a family with status ACTIVE, newest first (all pages).
    async fn list_task_definitions(&self, family: &str) -> AwsResult<Vec<String>>;
    /// DeregisterTaskDefinition.
    async fn deregister_task_definition(&self, arn: &str) -> AwsResult<()>;
    /// TagResource.
    async fn tag_resource(&self, arn: &str, tags: Vec<Tag>) -> AwsResult<()>;
    /// ListServiceDeployments of a service, newest first (ARNs).
    async fn list_service_deployments(
        &self,
        cluster: &str,
        service: &str,
    ) -> AwsResult<Vec<String>>;
    /// DescribeServiceDeployments (at most 20 ARNs).
    async fn describe_service_deployments(
        &self,
        arns: &[String],
    ) -> AwsResult<Vec<ServiceDeployment>>;
    /// DescribeServiceRevisions (at most 20 ARNs).
    async fn describe_service_revisions(&self, arns: &[String]) -> AwsResult<Vec<ServiceRevision>>;
    /// StopServiceDeployment with stopType ROLLBACK or ABORT.
    async fn stop_service_deployment(&self, arn: &str, stop_type: &str) -> AwsResult<()>;
    /// ContinueServiceDeployment: answer a PAUSE hook with CONTINUE or ROLLBACK.
    async fn continue_service_deployment(
        &self,
        arn: &str,
        hook_id: &str,
        action: &str,
    ) -> AwsResult<()>;
}
