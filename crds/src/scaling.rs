//! The ScalingPolicy kind: Application Auto Scaling of one EcsService (scalable target,
//! target-tracking and step policies, scheduled actions).

use crate::common::{AdoptionPolicy, DeletionPolicy, LocalObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Auto-scaling of one EcsService's desiredCount.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "ecs-operator.dev",
    version = "v1alpha1",
    kind = "ScalingPolicy",
    namespaced,
    status = "ScalingPolicyStatus",
    shortname = "ecssp",
    category = "ecs",
    doc = "Application Auto Scaling of one EcsService, kept in sync by ecs-operator.",
    printcolumn = r#"{"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name": "Service", "type": "string", "jsonPath": ".spec.serviceRef.name"}"#,
    printcolumn = r#"{"name": "Min", "type": "integer", "jsonPath": ".spec.minCapacity"}"#,
    printcolumn = r#"{"name": "Max", "type": "integer", "jsonPath": ".spec.maxCapacity"}"#,
    printcolumn = r#"{"name": "Desired", "type": "integer", "jsonPath": ".status.currentDesiredCount"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#
)]
#[x_kube(validation = Rule::new("self.minCapacity <= self.maxCapacity").message("minCapacity must not exceed maxCapacity"))]
#[x_kube(validation = Rule::new("self.serviceRef == oldSelf.serviceRef").message("serviceRef is immutable"))]
#[x_kube(validation = Rule::new("!has(self.targetTrackingPolicies) || !has(self.stepPolicies) || self.targetTrackingPolicies.all(t, !self.stepPolicies.exists(s, s.policyName == t.policyName))").message("policyName must be unique across targetTrackingPolicies and stepPolicies"))]
#[serde(rename_all = "camelCase")]
pub struct ScalingPolicySpec {
    /// The EcsService to scale (same namespace; one ScalingPolicy per service).
    pub service_ref: LocalObjectReference,
    /// Lowest desiredCount the autoscaler may set.
    #[schemars(range(min = 0, max = 5000))]
    pub min_capacity: i32,
    /// Highest desiredCount the autoscaler may set.
    #[schemars(range(min = 0, max = 5000))]
    pub max_capacity: i32,
    /// Target-tracking policies (e.g. CPU 70 %, memory 80 %), keyed by policyName.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["policyName".into()]))]
    pub target_tracking_policies: Vec<TargetTrackingPolicy>,
    /// Step scaling policies, each driven by a CloudWatch alarm the operator creates; keyed by
    /// policyName.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["policyName".into()]))]
    pub step_policies: Vec<StepPolicy>,
    /// Scheduled changes of min/max capacity, keyed by scheduledActionName. While a spec has
    /// scheduled actions, the min/max they set are left alone until minCapacity or maxCapacity
    /// change in the spec.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 200))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["scheduledActionName".into()]))]
    pub scheduled_actions: Vec<ScheduledAction>,
    /// Suspend dynamic scale-in while a deployment of the service is in progress (default true).
    #[serde(default = "default_true")]
    pub suspend_scale_in_during_rollout: bool,
    /// Delete (default): deregister the scalable target (with its policies and scheduled
    /// actions) and delete the step policies' alarms on deletion. Retain: leave them.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// Never (default): refuse a scalable target that already exists without the operator's
    /// owner tag. Adopt: tag it and manage it (its policies and scheduled actions become the
    /// spec's). A target tagged for another object is always refused.
    #[serde(default)]
    pub adoption_policy: AdoptionPolicy,
}

fn default_true() -> bool {
    true
}

/// A target-tracking policy (TargetTrackingScalingPolicyConfiguration).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(validation = Rule::new("has(self.predefinedMetricSpecification) != has(self.customizedMetricSpecification)").message("set exactly one of predefinedMetricSpecification or customizedMetricSpecification"))]
#[serde(rename_all = "camelCase")]
pub struct TargetTrackingPolicy {
    /// Policy name, unique within the ScalingPolicy.
    #[schemars(length(min = 1, max = 256), regex(pattern = r"^[a-zA-Z0-9._-]+$"))]
    pub policy_name: String,
    /// Target value of the metric (e.g. 70 for 70 % CPU).
    pub target_value: f64,
    /// A predefined ECS metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predefined_metric_specification: Option<PredefinedMetricSpecification>,
    /// A CloudWatch metric of your own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customized_metric_specification: Option<CustomizedMetricSpecification>,
    /// Seconds after a scale-out before another scale-out (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 86400))]
    pub scale_out_cooldown: Option<i32>,
    /// Seconds after a scale-in before another scale-in (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 86400))]
    pub scale_in_cooldown: Option<i32>,
    /// Only scale out, never in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_scale_in: Option<bool>,
}

/// A predefined metric.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(validation = Rule::new("self.predefinedMetricType != 'ALBRequestCountPerTarget' || has(self.resourceLabel)").message("ALBRequestCountPerTarget needs resourceLabel (app/<lb>/<id>/targetgroup/<tg>/<id>)"))]
#[serde(rename_all = "camelCase")]
pub struct PredefinedMetricSpecification {
    /// ECSServiceAverageCPUUtilization, ECSServiceAverageMemoryUtilization or ALBRequestCountPerTarget.
    pub predefined_metric_type: PredefinedMetricType,
    /// For ALBRequestCountPerTarget: the load balancer and target group label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_label: Option<String>,
}

/// Predefined metric types for ECS services.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[allow(clippy::enum_variant_names)]
pub enum PredefinedMetricType {
    /// Average CPU utilisation of the service's tasks, percent.
    #[default]
    ECSServiceAverageCPUUtilization,
    /// Average memory utilisation of the service's tasks, percent.
    ECSServiceAverageMemoryUtilization,
    /// ALB requests per target.
    ALBRequestCountPerTarget,
}

/// A customized CloudWatch metric.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomizedMetricSpecification {
    /// Metric name.
    pub metric_name: String,
    /// Metric namespace.
    pub namespace: String,
    /// Metric dimensions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<MetricDimension>,
    /// Average, Minimum, Maximum, SampleCount or Sum.
    pub statistic: MetricStatistic,
    /// Unit of the metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// A CloudWatch dimension.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricDimension {
    /// Dimension name.
    pub name: String,
    /// Dimension value.
    pub value: String,
}

/// A CloudWatch statistic.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum MetricStatistic {
    /// Mean.
    #[default]
    Average,
    /// Minimum.
    Minimum,
    /// Maximum.
    Maximum,
    /// Count of samples.
    SampleCount,
    /// Sum.
    Sum,
}

/// A step scaling policy and the alarm that drives it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StepPolicy {
    /// Policy name, unique within the ScalingPolicy.
    #[schemars(length(min = 1, max = 256), regex(pattern = r"^[a-zA-Z0-9._-]+$"))]
    pub policy_name: String,
    /// ChangeInCapacity, PercentChangeInCapacity or ExactCapacity.
    pub adjustment_type: AdjustmentType,
    /// Adjustments by how far the metric is from the alarm threshold.
    #[schemars(length(min = 1, max = 20))]
    pub step_adjustments: Vec<StepAdjustment>,
    /// With PercentChangeInCapacity, the smallest change in tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_adjustment_magnitude: Option<i32>,
    /// Seconds after an activity before another (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 86400))]
    pub cooldown: Option<i32>,
    /// Average, Minimum or Maximum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_aggregation_type: Option<MetricStatistic>,
    /// The CloudWatch alarm the operator creates to trigger this policy.
    pub alarm: StepAlarm,
}

/// Step scaling adjustment types.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum AdjustmentType {
    /// Add the adjustment to the current count.
    #[default]
    ChangeInCapacity,
    /// Add a percentage of the current count.
    PercentChangeInCapacity,
    /// Set the count.
    ExactCapacity,
}

/// One step of a step scaling policy.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StepAdjustment {
    /// Lower bound of the metric minus threshold (inclusive); absent = −infinity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_interval_lower_bound: Option<f64>,
    /// Upper bound of the metric minus threshold (exclusive); absent = +infinity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_interval_upper_bound: Option<f64>,
    /// Change to apply.
    pub scaling_adjustment: i32,
}

/// The CloudWatch alarm of a step policy.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StepAlarm {
    /// Metric name (e.g. CPUUtilization).
    pub metric_name: String,
    /// Metric namespace (e.g. AWS/ECS).
    pub namespace: String,
    /// Statistic.
    #[serde(default)]
    pub statistic: MetricStatistic,
    /// Threshold compared with the statistic.
    pub threshold: f64,
    /// GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold or
    /// LessThanOrEqualToThreshold.
    pub comparison_operator: ComparisonOperator,
    /// Seconds per period (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<i32>,
    /// Periods that must breach (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation_periods: Option<i32>,
    /// Extra dimensions; ClusterName and ServiceName are added for AWS/ECS.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<MetricDimension>,
}

/// How a step alarm compares its statistic with the threshold.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum ComparisonOperator {
    /// statistic ≥ threshold.
    #[default]
    GreaterThanOrEqualToThreshold,
    /// statistic > threshold.
    GreaterThanThreshold,
    /// statistic < threshold.
    LessThanThreshold,
    /// statistic ≤ threshold.
    LessThanOrEqualToThreshold,
}

/// A scheduled action.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledAction {
    /// Name, unique within the ScalingPolicy.
    #[schemars(length(min = 1, max = 256), regex(pattern = r"^[a-zA-Z0-9._-]+$"))]
    pub scheduled_action_name: String,
    /// `at(yyyy-mm-ddThh:mm:ss)`, `rate(value unit)` or `cron(min hour dom month dow year)`.
    #[schemars(regex(pattern = r"^(at|rate|cron)\(.+\)$"))]
    pub schedule: String,
    /// IANA time zone of the schedule (default UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// When the schedule starts (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// When the schedule ends (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// The capacity limits to set.
    pub scalable_target_action: ScalableTargetAction,
}

/// Capacity set by a scheduled action.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(validation = Rule::new("!has(self.minCapacity) || !has(self.maxCapacity) || self.minCapacity <= self.maxCapacity").message("minCapacity must not exceed maxCapacity"))]
#[x_kube(validation = Rule::new("has(self.minCapacity) || has(self.maxCapacity)").message("set minCapacity, maxCapacity or both"))]
#[serde(rename_all = "camelCase")]
pub struct ScalableTargetAction {
    /// New minimum capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 5000))]
    pub min_capacity: Option<i32>,
    /// New maximum capacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 5000))]
    pub max_capacity: Option<i32>,
}

/// Observed state of a ScalingPolicy.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScalingPolicyStatus {
    /// The metadata.generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, Reconciling, Stalled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The AWS account this object's resources are in: the 12-digit id its namespace's
    /// AwsAccountBinding named, or `operator` for ecs-operator's own identity. Recorded before
    /// the object's first AWS call; when the namespace's binding later points elsewhere, the
    /// object is Stalled (`AccountChanged`) until a person confirms the new account with the
    /// annotation `ecs-operator.dev/confirm-account`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_account: Option<String>,
    /// ARN of the scalable target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scalable_target_arn: Option<String>,
    /// The scalable target's resource id (`service/<cluster>/<service>`), recorded before it is
    /// registered so deletion finds it even when the EcsService is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// The scalable target's minimum capacity in AWS now (a scheduled action may have changed it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_capacity: Option<i32>,
    /// The scalable target's maximum capacity in AWS now (a scheduled action may have changed it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_capacity: Option<i32>,
    /// The spec's minCapacity/maxCapacity last sent to AWS. With scheduled actions, AWS's
    /// min/max are only set again when the spec's differ from these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_capacity: Option<CapacityStatus>,
    /// Policies in AWS with their alarms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicyStatus>,
    /// desiredCount of the service as the autoscaler left it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_desired_count: Option<i32>,
    /// Whether dynamic scale-in is suspended now (during a rollout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_in_suspended: Option<bool>,
    /// The most recent scaling activity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_scaling_activity: Option<ScalingActivityStatus>,
}

/// A capacity range.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CapacityStatus {
    /// Minimum capacity.
    pub min_capacity: i32,
    /// Maximum capacity.
    pub max_capacity: i32,
}

/// One scaling policy in AWS.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyStatus {
    /// Policy name.
    pub policy_name: String,
    /// Policy ARN.
    pub policy_arn: String,
    /// CloudWatch alarms that drive the policy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarms: Vec<AlarmStatus>,
}

/// A CloudWatch alarm.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AlarmStatus {
    /// Alarm name.
    pub alarm_name: String,
    /// Alarm ARN.
    pub alarm_arn: String,
    /// For a step policy's alarm: a hash of the definition the operator last put (it is put
    /// again when the spec's alarm changes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_hash: Option<String>,
}

/// A scaling activity.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScalingActivityStatus {
    /// Activity id.
    pub activity_id: String,
    /// What the activity did.
    pub description: String,
    /// Successful, InProgress, Failed, ….
    pub status_code: String,
    /// When it started (RFC 3339).
    pub start_time: String,
}
