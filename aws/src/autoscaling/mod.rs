//! The `AutoScalingApi` trait: the Application Auto Scaling operations the operator calls for
//! ECS services (scalable targets, scaling policies, scheduled actions, scaling activities,
//! tags), with its own types. Implemented by the SDK adapter (`autoscaling_sdk`) and the
//! simulator (`sim`). No SDK types here; every call is about the ECS namespace and the
//! `ecs:service:DesiredCount` dimension.

pub mod reader;
pub mod schedule;
pub mod sdk;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use crds::Tag;
pub use crds::scaling::{MetricDimension, StepAdjustment};

use crate::error::AwsResult;

/// The service namespace of every scalable target the operator registers.
pub const ECS_SERVICE_NAMESPACE: &str = "ecs";
/// The scalable dimension of an ECS service.
pub const ECS_DESIRED_COUNT: &str = "ecs:service:DesiredCount";
/// Most resource ids one DescribeScalableTargets call accepts.
pub const DESCRIBE_SCALABLE_TARGETS_BATCH: usize = 50;
/// Policy type of a target-tracking policy.
pub const TARGET_TRACKING_SCALING: &str = "TargetTrackingScaling";
/// Policy type of a step scaling policy.
pub const STEP_SCALING: &str = "StepScaling";

/// The resource id of an ECS service: `service/<cluster>/<service>`.
pub fn ecs_resource_id(cluster: &str, service: &str) -> String {
    let cluster = cluster.rsplit('/').next().unwrap_or(cluster);
    format!("service/{cluster}/{service}")
}

/// `(cluster, service)` of an ECS resource id, if it is one.
pub fn parse_ecs_resource_id(resource_id: &str) -> Option<(&str, &str)> {
    let rest = resource_id.strip_prefix("service/")?;
    let (cluster, service) = rest.split_once('/')?;
    (!cluster.is_empty() && !service.is_empty() && !service.contains('/'))
        .then_some((cluster, service))
}

/// Which kinds of scaling are suspended on a scalable target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SuspendedState {
    /// Target tracking and step policies may not remove capacity.
    pub dynamic_scaling_in_suspended: bool,
    /// Target tracking and step policies may not add capacity.
    pub dynamic_scaling_out_suspended: bool,
    /// Scheduled actions do not run.
    pub scheduled_scaling_suspended: bool,
}

/// RegisterScalableTarget members the operator sets (it creates or updates the target).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterScalableTargetInput {
    /// `service/<cluster>/<service>`.
    pub resource_id: String,
    /// Minimum capacity (required when the target is new; left as is when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_capacity: Option<i32>,
    /// Maximum capacity (required when the target is new; left as is when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_capacity: Option<i32>,
    /// Suspended state (left as is when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended_state: Option<SuspendedState>,
    /// Tags of a new target (the owner tag); ignored by AWS for an existing one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// A scalable target as DescribeScalableTargets returns it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalableTarget {
    /// `service/<cluster>/<service>`.
    pub resource_id: String,
    /// ARN (absent for targets registered before AWS introduced them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scalable_target_arn: Option<String>,
    /// Minimum capacity.
    pub min_capacity: i32,
    /// Maximum capacity.
    pub max_capacity: i32,
    /// Suspended state.
    pub suspended_state: SuspendedState,
    /// When it was registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<Timestamp>,
}

/// A predefined metric (ECSServiceAverageCPUUtilization, …).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PredefinedMetric {
    /// ECSServiceAverageCPUUtilization, ECSServiceAverageMemoryUtilization or
    /// ALBRequestCountPerTarget.
    pub predefined_metric_type: String,
    /// For ALBRequestCountPerTarget: `app/<lb>/<id>/targetgroup/<tg>/<id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_label: Option<String>,
}

/// A customized CloudWatch metric.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomizedMetric {
    /// Metric name.
    pub metric_name: String,
    /// Namespace.
    pub namespace: String,
    /// Dimensions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<MetricDimension>,
    /// Average, Minimum, Maximum, SampleCount or Sum.
    pub statistic: String,
    /// Unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// TargetTrackingScalingPolicyConfiguration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetTrackingConfiguration {
    /// Target value of the metric.
    pub target_value: f64,
    /// A predefined metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predefined_metric: Option<PredefinedMetric>,
    /// A customized metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customized_metric: Option<CustomizedMetric>,
    /// Seconds between scale-outs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_out_cooldown: Option<i32>,
    /// Seconds between scale-ins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_in_cooldown: Option<i32>,
    /// Only scale out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_scale_in: Option<bool>,
}

/// StepScalingPolicyConfiguration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepScalingConfiguration {
    /// ChangeInCapacity, PercentChangeInCapacity or ExactCapacity.
    pub adjustment_type: String,
    /// Steps.
    pub step_adjustments: Vec<StepAdjustment>,
    /// With PercentChangeInCapacity, the smallest change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_adjustment_magnitude: Option<i32>,
    /// Seconds after an activity before another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown: Option<i32>,
    /// Average, Minimum or Maximum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_aggregation_type: Option<String>,
}

/// The configuration of a scaling policy: one of the two kinds the operator manages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PolicyConfiguration {
    /// TargetTrackingScaling.
    TargetTracking(TargetTrackingConfiguration),
    /// StepScaling.
    StepScaling(StepScalingConfiguration),
    /// Another type (PredictiveScaling): never written by the operator.
    Other(String),
}

impl PolicyConfiguration {
    /// The PolicyType AWS uses.
    pub fn policy_type(&self) -> &str {
        match self {
            PolicyConfiguration::TargetTracking(_) => TARGET_TRACKING_SCALING,
            PolicyConfiguration::StepScaling(_) => STEP_SCALING,
            PolicyConfiguration::Other(t) => t,
        }
    }
}

/// A CloudWatch alarm that drives a policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyAlarm {
    /// Alarm name.
    pub alarm_name: String,
    /// Alarm ARN.
    pub alarm_arn: String,
}

/// A scaling policy as DescribeScalingPolicies returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingPolicy {
    /// Name, unique per scalable target.
    pub policy_name: String,
    /// ARN.
    pub policy_arn: String,
    /// The target's resource id.
    pub resource_id: String,
    /// Its configuration.
    pub configuration: PolicyConfiguration,
    /// The alarms that drive it (for target tracking: the ones AWS created).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<PolicyAlarm>,
}

/// PutScalingPolicy (creates or replaces the policy of that name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutScalingPolicyInput {
    /// Name.
    pub policy_name: String,
    /// The target's resource id.
    pub resource_id: String,
    /// Configuration (`Other` is refused).
    pub configuration: PolicyConfiguration,
}

/// What PutScalingPolicy answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutScalingPolicyOutput {
    /// ARN of the policy.
    pub policy_arn: String,
    /// Alarms AWS created for a target-tracking policy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<PolicyAlarm>,
}

/// A scheduled action, as put and as described.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledAction {
    /// Name, unique per scalable target.
    pub scheduled_action_name: String,
    /// ARN (empty in a put).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scheduled_action_arn: String,
    /// The target's resource id.
    pub resource_id: String,
    /// `at(…)`, `rate(…)` or `cron(…)`.
    pub schedule: String,
    /// IANA time zone (AWS treats absent as UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// When a recurring schedule starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Timestamp>,
    /// When a recurring schedule ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
    /// New minimum capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_capacity: Option<i32>,
    /// New maximum capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_capacity: Option<i32>,
}

/// A scaling activity (DescribeScalingActivities), newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingActivity {
    /// Id.
    pub activity_id: String,
    /// The target's resource id.
    pub resource_id: String,
    /// What it did ("Setting desired count to 3.").
    pub description: String,
    /// Why (the alarm or scheduled action).
    pub cause: String,
    /// When it started.
    pub start_time: Timestamp,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
    /// Pending, InProgress, Successful, Overridden, Unfulfilled or Failed.
    pub status_code: String,
    /// Details of the outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
}

/// The Application Auto Scaling operations the operator uses (ECS namespace only).
#[async_trait]
pub trait AutoScalingApi: Send + Sync {
    /// DescribeScalableTargets for these resource ids (any number: the adapter calls in batches
    /// of [`DESCRIBE_SCALABLE_TARGETS_BATCH`]); unregistered ids are simply absent.
    async fn describe_scalable_targets(
        &self,
        resource_ids: &[String],
    ) -> AwsResult<Vec<ScalableTarget>>;
    /// RegisterScalableTarget (creates or updates); returns the target's ARN.
    async fn register_scalable_target(
        &self,
        input: RegisterScalableTargetInput,
    ) -> AwsResult<String>;
    /// DeregisterScalableTarget: AWS deletes its policies and scheduled actions with it.
    async fn deregister_scalable_target(&self, resource_id: &str) -> AwsResult<()>;
    /// DescribeScalingPolicies of one target (every page).
    async fn describe_scaling_policies(&self, resource_id: &str) -> AwsResult<Vec<ScalingPolicy>>;
    /// PutScalingPolicy.
    async fn put_scaling_policy(
        &self,
        input: PutScalingPolicyInput,
    ) -> AwsResult<PutScalingPolicyOutput>;
    /// DeleteScalingPolicy.
    async fn delete_scaling_policy(&self, resource_id: &str, policy_name: &str) -> AwsResult<()>;
    /// DescribeScheduledActions of one target (every page).
    async fn describe_scheduled_actions(
        &self,
        resource_id: &str,
    ) -> AwsResult<Vec<ScheduledAction>>;
    /// PutScheduledAction (creates or replaces).
    async fn put_scheduled_action(&self, input: ScheduledAction) -> AwsResult<()>;
    /// DeleteScheduledAction.
    async fn delete_scheduled_action(&self, resource_id: &str, name: &str) -> AwsResult<()>;
    /// The newest `max_results` scaling activities of one target, newest first.
    async fn describe_scaling_activities(
        &self,
        resource_id: &str,
        max_results: i32,
    ) -> AwsResult<Vec<ScalingActivity>>;
    /// ListTagsForResource of a scalable target ARN.
    async fn list_tags_for_resource(&self, arn: &str) -> AwsResult<Vec<Tag>>;
    /// TagResource of a scalable target ARN.
    async fn tag_resource(&self, arn: &str, tags: Vec<Tag>) -> AwsResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids_round_trip() {
        let id = ecs_resource_id("arn:aws:ecs:eu-west-1:1:cluster/shop", "auth");
        assert_eq!(id, "service/shop/auth");
        assert_eq!(parse_ecs_resource_id(&id), Some(("shop", "auth")));
        assert_eq!(parse_ecs_resource_id("table/orders"), None);
        assert_eq!(parse_ecs_resource_id("service/a/b/c"), None);
    }
}
