//! The `CodeDeployApi` trait: the AWS CodeDeploy operations the BlueGreenRollout's CodeDeploy
//! engine calls (application, ECS blue/green deployment group, deployment configs, deployments),
//! with the operator's own types. Implemented by `codedeploy_sdk` and the simulator. No SDK types.

pub mod sdk;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use crds::Tag;

use crate::error::AwsResult;

crate::aws_enum!(
    /// A CodeDeploy deployment's status.
    DeploymentStatus {
        /// Accepted, not started.
        #[default]
        Created => "Created",
        /// Waiting for another deployment.
        Queued => "Queued",
        /// Running.
        InProgress => "InProgress",
        /// Traffic rerouted; waiting before the original task set is terminated.
        Baking => "Baking",
        /// The replacement is ready; waiting for ContinueDeployment(READY_WAIT).
        Ready => "Ready",
        /// Done.
        Succeeded => "Succeeded",
        /// Failed (and rolled back when auto rollback was on).
        Failed => "Failed",
        /// Stopped by StopDeployment or an alarm.
        Stopped => "Stopped",
    }
);

/// The statuses of a deployment that is still moving: a group has at most one.
pub const ACTIVE_DEPLOYMENT_STATUSES: [DeploymentStatus; 5] = [
    DeploymentStatus::Created,
    DeploymentStatus::Queued,
    DeploymentStatus::InProgress,
    DeploymentStatus::Baking,
    DeploymentStatus::Ready,
];

impl DeploymentStatus {
    /// A deployment that is still moving: a group has at most one.
    pub fn is_active(&self) -> bool {
        ACTIVE_DEPLOYMENT_STATUSES.contains(self)
    }
}

/// A CodeDeploy application.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationInfo {
    /// Name.
    pub application_name: String,
    /// Id.
    pub application_id: String,
    /// `ECS`, `Server` or `Lambda`.
    pub compute_platform: String,
}

/// The ECS service a deployment group deploys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EcsServiceRef {
    /// Cluster name.
    pub cluster_name: String,
    /// Service name.
    pub service_name: String,
}

/// loadBalancerInfo.targetGroupPairInfoList[0] by names and listener ARNs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroupPair {
    /// The two target group names.
    pub target_groups: Vec<String>,
    /// prodTrafficRoute.listenerArns.
    pub prod_listener_arns: Vec<String>,
    /// testTrafficRoute.listenerArns (may be empty).
    pub test_listener_arns: Vec<String>,
}

/// blueGreenDeploymentConfiguration.deploymentReadyOption.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadyOption {
    /// CONTINUE_DEPLOYMENT or STOP_DEPLOYMENT.
    pub action_on_timeout: String,
    /// Minutes STOP_DEPLOYMENT waits for ContinueDeployment before stopping the deployment.
    pub wait_time_in_minutes: i32,
}

/// autoRollbackConfiguration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoRollback {
    /// On.
    pub enabled: bool,
    /// DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM, DEPLOYMENT_STOP_ON_REQUEST (sorted).
    pub events: Vec<String>,
}

/// alarmConfiguration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmSettings {
    /// On.
    pub enabled: bool,
    /// Continue when CodeDeploy cannot read an alarm.
    pub ignore_poll_alarm_failure: bool,
    /// Alarm names.
    pub alarms: Vec<String>,
}

/// An ECS blue/green deployment group as the operator configures it (Create/UpdateDeploymentGroup
/// members; GetDeploymentGroup answers the same shape).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentGroupSpec {
    /// Application.
    pub application_name: String,
    /// Deployment group name.
    pub deployment_group_name: String,
    /// Role CodeDeploy assumes.
    pub service_role_arn: String,
    /// Deployment config.
    pub deployment_config_name: String,
    /// The one ECS service.
    pub ecs_service: EcsServiceRef,
    /// Target groups and listeners.
    pub target_group_pair: TargetGroupPair,
    /// Ready option.
    pub ready_option: ReadyOption,
    /// Minutes the original task set is kept after traffic moved (action TERMINATE).
    pub termination_wait_time_in_minutes: i32,
    /// Automatic rollback.
    pub auto_rollback: AutoRollback,
    /// Alarms CodeDeploy watches.
    pub alarms: AlarmSettings,
}

/// A deployment group as GetDeploymentGroup returns it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentGroupInfo {
    /// Id.
    pub deployment_group_id: String,
    /// Configuration.
    pub spec: DeploymentGroupSpec,
}

/// trafficRoutingConfig of an ECS deployment config.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum TrafficRoutingConfig {
    /// All traffic at once.
    #[default]
    AllAtOnce,
    /// `percentage` first, the rest after `interval_minutes`.
    TimeBasedCanary {
        /// Percent of the first increment.
        percentage: i32,
        /// Minutes between the increments.
        interval_minutes: i32,
    },
    /// `percentage` every `interval_minutes`.
    TimeBasedLinear {
        /// Percent per increment.
        percentage: i32,
        /// Minutes between increments.
        interval_minutes: i32,
    },
}

/// A deployment config (GetDeploymentConfig / CreateDeploymentConfig, ECS compute platform).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentConfigSpec {
    /// Name.
    pub deployment_config_name: String,
    /// Traffic routing.
    pub traffic_routing: TrafficRoutingConfig,
}

/// CreateDeployment with an AppSpec given inline (revisionType AppSpecContent).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDeploymentInput {
    /// Application.
    pub application_name: String,
    /// Deployment group.
    pub deployment_group_name: String,
    /// The AppSpec (YAML or JSON).
    pub app_spec_content: String,
    /// Description shown in the console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A deployment as GetDeployment returns it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentInfo {
    /// Id (`d-…`).
    pub deployment_id: String,
    /// Application.
    pub application_name: String,
    /// Deployment group.
    pub deployment_group_name: String,
    /// Deployment config.
    pub deployment_config_name: String,
    /// Where it stands.
    pub status: DeploymentStatus,
    /// errorInformation.message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// user, autoscaling, codeDeployRollback, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    /// The AppSpec it deploys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_spec_content: Option<String>,
    /// Whether the wait before terminating the original task set has started (traffic moved).
    #[serde(default)]
    pub instance_termination_wait_time_started: bool,
    /// The deployment that rolls this one back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_deployment_id: Option<String>,
    /// The deployment this one rolls back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_triggering_deployment_id: Option<String>,
    /// Why it was rolled back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_message: Option<String>,
    /// Created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<Timestamp>,
    /// Finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete_time: Option<Timestamp>,
}

impl DeploymentInfo {
    /// Whether the deployment is still moving (counts as the group's one active deployment).
    pub fn is_active(&self) -> bool {
        self.status.is_active()
    }
}

/// The CodeDeploy operations the operator uses.
#[async_trait]
pub trait CodeDeployApi: Send + Sync {
    /// GetApplication.
    async fn get_application(&self, name: &str) -> AwsResult<ApplicationInfo>;
    /// CreateApplication (compute platform ECS); the application id.
    async fn create_application(&self, name: &str, tags: Vec<Tag>) -> AwsResult<String>;
    /// GetDeploymentGroup.
    async fn get_deployment_group(
        &self,
        application: &str,
        group: &str,
    ) -> AwsResult<DeploymentGroupInfo>;
    /// CreateDeploymentGroup (deploymentStyle BLUE_GREEN / WITH_TRAFFIC_CONTROL); the group id.
    async fn create_deployment_group(
        &self,
        spec: DeploymentGroupSpec,
        tags: Vec<Tag>,
    ) -> AwsResult<String>;
    /// UpdateDeploymentGroup to `spec` (same application and name).
    async fn update_deployment_group(&self, spec: DeploymentGroupSpec) -> AwsResult<()>;
    /// DeleteDeploymentGroup.
    async fn delete_deployment_group(&self, application: &str, group: &str) -> AwsResult<()>;
    /// DeleteApplication.
    async fn delete_application(&self, name: &str) -> AwsResult<()>;
    /// ListDeploymentGroups of an application (all pages): the group names.
    async fn list_deployment_groups(&self, application: &str) -> AwsResult<Vec<String>>;
    /// GetDeploymentConfig.
    async fn get_deployment_config(&self, name: &str) -> AwsResult<DeploymentConfigSpec>;
    /// CreateDeploymentConfig (compute platform ECS); the config id.
    async fn create_deployment_config(&self, spec: DeploymentConfigSpec) -> AwsResult<String>;
    /// CreateDeployment; the deployment id.
    async fn create_deployment(&self, input: CreateDeploymentInput) -> AwsResult<String>;
    /// GetDeployment.
    async fn get_deployment(&self, id: &str) -> AwsResult<DeploymentInfo>;
    /// ListDeployments of a group with one of `statuses` (all statuses when empty), created at
    /// or after `created_after` when given (all pages).
    async fn list_deployments(
        &self,
        application: &str,
        group: &str,
        statuses: &[DeploymentStatus],
        created_after: Option<Timestamp>,
    ) -> AwsResult<Vec<String>>;
    /// StopDeployment; with `auto_rollback_enabled` CodeDeploy rolls back to the original.
    async fn stop_deployment(&self, id: &str, auto_rollback_enabled: bool) -> AwsResult<()>;
    /// ContinueDeployment with deploymentWaitType READY_WAIT or TERMINATION_WAIT.
    async fn continue_deployment(&self, id: &str, wait_type: &str) -> AwsResult<()>;
}
