//! The BlueGreenRollout kind: how new revisions of one EcsService reach production traffic,
//! through CodeDeploy or ECS-native blue/green, with operator-side gates and verbs.

pub use crate::analysis::*;
pub use crate::rollout_status::*;

use crate::common::{DeletionPolicy, LocalObjectReference};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How new task definition revisions of one EcsService are released.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "ecs-operator.dev",
    version = "v1alpha1",
    kind = "BlueGreenRollout",
    namespaced,
    status = "BlueGreenRolloutStatus",
    shortname = "bgr",
    category = "ecs",
    doc = "Blue/green, canary or linear releases of one EcsService through CodeDeploy or ECS-native deployments.",
    printcolumn = r#"{"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name": "Phase", "type": "string", "jsonPath": ".status.phase"}"#,
    printcolumn = r#"{"name": "Service", "type": "string", "jsonPath": ".spec.serviceRef.name"}"#,
    printcolumn = r#"{"name": "Canary", "type": "integer", "jsonPath": ".status.trafficWeights.canary"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name": "Message", "type": "string", "jsonPath": ".status.message", "priority": 1}"#
)]
#[x_kube(validation = Rule::new("self.serviceRef == oldSelf.serviceRef").message("serviceRef is immutable"))]
#[serde(rename_all = "camelCase")]
pub struct BlueGreenRolloutSpec {
    /// The EcsService this rollout releases (same namespace; one rollout per service).
    pub service_ref: LocalObjectReference,
    /// The engine: exactly one of codeDeploy or ecsNative.
    pub strategy: RolloutStrategy,
    /// Promote automatically once gates pass (default true). When false, the rollout pauses before
    /// production traffic moves until `promote` is requested.
    #[serde(default = "default_true")]
    pub auto_promotion_enabled: bool,
    /// With autoPromotionEnabled, wait this many seconds on test traffic before promoting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 172800))]
    pub auto_promotion_seconds: Option<i64>,
    /// Operator-side gates checked during the rollout and its bake window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<Analysis>,
    /// Seconds a rollout may go without progress before it is aborted and rolled back (default 1800).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 60, max = 172800))]
    pub progress_deadline_seconds: Option<i64>,
    /// Delete (default): deleting the rollout deletes the CodeDeploy deployment group it created,
    /// and the application it created once no other group is left in it, after any running
    /// deployment has finished. Retain: leave them. ECS-native rollouts create nothing to delete.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

fn default_true() -> bool {
    true
}

/// The rollout engine.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(validation = Rule::new("has(self.codeDeploy) != has(self.ecsNative)").message("set exactly one of strategy.codeDeploy or strategy.ecsNative"))]
#[x_kube(validation = Rule::new("has(self.codeDeploy) == has(oldSelf.codeDeploy)").message("the engine cannot be switched in place; create a new BlueGreenRollout"))]
#[serde(rename_all = "camelCase")]
pub struct RolloutStrategy {
    /// AWS CodeDeploy blue/green (the service runs with the CODE_DEPLOY deployment controller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_deploy: Option<CodeDeployStrategy>,
    /// ECS-native blue/green, linear or canary deployments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecs_native: Option<EcsNativeStrategy>,
}

/// CodeDeploy application and deployment group, created and kept in sync by the operator.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(validation = Rule::new("!(has(self.deploymentConfigName) && has(self.trafficRouting))").message("set deploymentConfigName or trafficRouting, not both"))]
#[serde(rename_all = "camelCase")]
pub struct CodeDeployStrategy {
    /// CodeDeploy application name. Defaults to `<namespace>-<serviceName>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    /// Deployment group name. Defaults to the service name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_group_name: Option<String>,
    /// IAM role CodeDeploy assumes (AWSCodeDeployRoleForECS).
    pub service_role_arn: String,
    /// The blue/green target group pair and listeners.
    pub target_group_pair_info: TargetGroupPairInfo,
    /// A predefined or existing deployment config, e.g. CodeDeployDefault.ECSCanary10Percent5Minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_config_name: Option<String>,
    /// A custom traffic routing: the operator creates a deployment config for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_routing: Option<TrafficRouting>,
    /// Minutes the original (blue) tasks are kept after traffic moved (0–2880, default 5).
    #[serde(default = "default_termination_wait")]
    #[schemars(range(min = 0, max = 2880))]
    pub termination_wait_time_in_minutes: i32,
    /// What happens when the replacement is ready before traffic is shifted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_ready_option: Option<DeploymentReadyOption>,
    /// Automatic rollback on failure or alarm (default enabled for DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_rollback_configuration: Option<AutoRollbackConfiguration>,
    /// CloudWatch alarms CodeDeploy watches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_configuration: Option<AlarmConfiguration>,
}

fn default_termination_wait() -> i32 {
    5
}

/// The target group pair and listeners of an ECS blue/green deployment group.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroupPairInfo {
    /// Exactly two target groups by name: the first is the one the EcsService's first
    /// `loadBalancers[].targetGroupArn` names (blue), the second the replacement (green).
    #[schemars(length(min = 2, max = 2))]
    pub target_groups: Vec<TargetGroupInfo>,
    /// Production listener.
    pub prod_traffic_route: TrafficRoute,
    /// Test listener (test traffic, and the operator's HTTP checks). Needed for HTTP checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_traffic_route: Option<TrafficRoute>,
}

/// A target group by name.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroupInfo {
    /// Target group name.
    pub name: String,
}

/// Listener ARNs of a traffic route.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrafficRoute {
    /// Exactly one listener ARN.
    #[schemars(length(min = 1, max = 1))]
    pub listener_arns: Vec<String>,
}

/// Custom traffic routing (TrafficRoutingConfig).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(validation = Rule::new("self.type != 'TimeBasedCanary' || has(self.timeBasedCanary)").message("type TimeBasedCanary needs timeBasedCanary"))]
#[x_kube(validation = Rule::new("self.type != 'TimeBasedLinear' || has(self.timeBasedLinear)").message("type TimeBasedLinear needs timeBasedLinear"))]
#[serde(rename_all = "camelCase")]
pub struct TrafficRouting {
    /// AllAtOnce, TimeBasedCanary or TimeBasedLinear.
    #[serde(rename = "type")]
    pub type_: TrafficRoutingType,
    /// Canary: percentage shifted first, then the rest after the interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_based_canary: Option<TimeBasedCanary>,
    /// Linear: equal increments every interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_based_linear: Option<TimeBasedLinear>,
}

/// Traffic routing type.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum TrafficRoutingType {
    /// All traffic at once.
    #[default]
    AllAtOnce,
    /// Two increments.
    TimeBasedCanary,
    /// Equal increments.
    TimeBasedLinear,
}

/// Canary traffic shifting.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimeBasedCanary {
    /// Percent of traffic in the first increment (1–99).
    #[schemars(range(min = 1, max = 99))]
    pub canary_percentage: i32,
    /// Minutes between the two increments.
    #[schemars(range(min = 1, max = 2880))]
    pub canary_interval: i32,
}

/// Linear traffic shifting.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimeBasedLinear {
    /// Percent of traffic per increment (1–99).
    #[schemars(range(min = 1, max = 99))]
    pub linear_percentage: i32,
    /// Minutes between increments.
    #[schemars(range(min = 1, max = 2880))]
    pub linear_interval: i32,
}

/// deploymentReadyOption of a blue/green deployment group. The operator's gates (HTTP checks,
/// manual promotion, autoPromotionSeconds) wait here, on test traffic, before production moves.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentReadyOption {
    /// STOP_DEPLOYMENT waits for the operator's ContinueDeployment (default when the rollout
    /// has gates); CONTINUE_DEPLOYMENT shifts traffic as soon as the replacement is ready
    /// (default without gates; refused when the rollout has gates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_on_timeout: Option<ReadyAction>,
    /// Minutes STOP_DEPLOYMENT waits before CodeDeploy stops (and rolls back) the deployment
    /// (1–2880, default 60; with manual promotion 2880).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 2880))]
    pub wait_time_in_minutes: Option<i32>,
}

/// deploymentReadyOption.actionOnTimeout.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReadyAction {
    /// Shift production traffic as soon as the replacement is ready.
    ContinueDeployment,
    /// Wait for ContinueDeployment (the operator's gates), up to waitTimeInMinutes.
    StopDeployment,
}

/// An event that triggers CodeDeploy's automatic rollback.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AutoRollbackEvent {
    /// The deployment failed.
    DeploymentFailure,
    /// A CodeDeploy alarm stopped it.
    DeploymentStopOnAlarm,
    /// StopDeployment stopped it.
    DeploymentStopOnRequest,
}

/// Automatic rollback settings. The operator's own aborts always ask for a rollback
/// (StopDeployment with autoRollbackEnabled); these settings decide what CodeDeploy does when
/// the deployment fails or one of its own alarms fires.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutoRollbackConfiguration {
    /// Whether automatic rollback is on.
    pub enabled: bool,
    /// Events that roll back (default all three).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<AutoRollbackEvent>>,
}

/// CloudWatch alarms of a deployment group.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlarmConfiguration {
    /// Whether the alarms are watched.
    pub enabled: bool,
    /// Continue when alarm state cannot be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_poll_alarm_failure: Option<bool>,
    /// Alarm names (at most 10).
    #[serde(default)]
    #[schemars(length(max = 10))]
    pub alarms: Vec<AlarmRef>,
}

/// A CloudWatch alarm by name.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlarmRef {
    /// Alarm name.
    pub name: String,
}

/// ECS-native blue/green, linear or canary deployments.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(validation = Rule::new("self.strategy != 'LINEAR' || has(self.linearConfiguration)").message("strategy LINEAR needs linearConfiguration"))]
#[x_kube(validation = Rule::new("self.strategy != 'CANARY' || has(self.canaryConfiguration)").message("strategy CANARY needs canaryConfiguration"))]
#[serde(rename_all = "camelCase")]
pub struct EcsNativeStrategy {
    /// BLUE_GREEN, LINEAR or CANARY.
    pub strategy: EcsNativeStrategyType,
    /// Minutes both revisions run after production traffic moved, before the old one is removed
    /// (0–1440, default 5): the window in which a rollback is instant.
    #[serde(default = "default_bake_time")]
    #[schemars(range(min = 0, max = 1440))]
    pub bake_time_in_minutes: i32,
    /// Linear shifting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linear_configuration: Option<LinearConfiguration>,
    /// Canary shifting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_configuration: Option<CanaryConfiguration>,
    /// The alternate target group and listener rules for the EcsService's first load balancer.
    pub advanced_configuration: AdvancedConfiguration,
    /// Additional Lambda lifecycle hooks (the operator adds its own PAUSE hooks for its gates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_hooks: Option<Vec<LifecycleHook>>,
}

fn default_bake_time() -> i32 {
    5
}

/// The ECS-native strategy.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EcsNativeStrategyType {
    /// Shift all production traffic at once.
    #[default]
    BlueGreen,
    /// Shift in equal steps.
    Linear,
    /// Shift a canary percentage, then the rest.
    Canary,
}

/// linearConfiguration.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinearConfiguration {
    /// Percent per step (3.0–100.0).
    #[schemars(range(min = 3.0, max = 100.0))]
    pub step_percent: f64,
    /// Minutes between steps (0–1440).
    #[schemars(range(min = 0, max = 1440))]
    pub step_bake_time_in_minutes: i32,
}

/// canaryConfiguration.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CanaryConfiguration {
    /// Percent of production traffic on the canary (0.1–100.0).
    #[schemars(range(min = 0.1, max = 100.0))]
    pub canary_percent: f64,
    /// Minutes on the canary before the rest shifts (0–1440).
    #[schemars(range(min = 0, max = 1440))]
    pub canary_bake_time_in_minutes: i32,
}

/// loadBalancers[].advancedConfiguration.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdvancedConfiguration {
    /// The green target group ARN.
    pub alternate_target_group_arn: String,
    /// ARN of the production listener rule whose weights ECS moves.
    pub production_listener_rule: String,
    /// ARN of the test listener rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_listener_rule: Option<String>,
    /// IAM role ECS uses to change the listener rules.
    pub role_arn: String,
}

/// A lifecycle hook.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleHook {
    /// ARN of the Lambda function.
    pub hook_target_arn: String,
    /// Role ECS uses to invoke it.
    pub role_arn: String,
    /// Stages the hook runs at (e.g. POST_TEST_TRAFFIC_SHIFT).
    pub lifecycle_stages: Vec<String>,
}

/// Operator-side gates, the same for both engines.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(validation = Rule::new("!has(self.metrics) || self.metrics.all(m, self.metrics.exists_one(n, n.name == m.name))").message("metric names must be unique"))]
#[serde(rename_all = "camelCase")]
pub struct Analysis {
    /// CloudWatch alarms watched during the rollout and the bake window: one in ALARM, or one that
    /// does not exist, aborts the release and rolls it back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarm_names: Vec<String>,
    /// HTTP checks against the test listener before production traffic moves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub http_checks: Vec<HttpCheck>,
    /// Metric queries (CloudWatch or Prometheus) that judge the release on test traffic, at
    /// every traffic step and during the bake: a failing one aborts and rolls back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    pub metrics: Vec<MetricCheck>,
}

/// An HTTP check against the test listener (a smoke test).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpCheck {
    /// Request path, e.g. /actuator/health.
    pub path: String,
    /// Expected HTTP status (default 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 100, max = 599))]
    pub expected_status: Option<u16>,
    /// Seconds between attempts (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3600))]
    pub interval_seconds: Option<i64>,
    /// Consecutive successes needed (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub count: Option<i32>,
}
