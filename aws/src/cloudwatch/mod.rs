//! The `CloudWatchApi` trait: the CloudWatch alarm operations the operator uses (rollout gates
//! read alarm states; step scaling policies create the alarms that drive them). No SDK types.

pub mod sdk;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::AwsResult;

/// A CloudWatch metric alarm as DescribeAlarms returns it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricAlarm {
    /// Alarm name.
    pub alarm_name: String,
    /// Alarm ARN.
    pub alarm_arn: String,
    /// OK, ALARM or INSUFFICIENT_DATA.
    pub state_value: String,
    /// Why it is in that state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    /// Actions run on ALARM (e.g. a scaling policy ARN).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarm_actions: Vec<String>,
}

/// A metric dimension.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dimension {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// PutMetricAlarm members the operator sets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutMetricAlarmInput {
    /// Alarm name.
    pub alarm_name: String,
    /// Metric name.
    pub metric_name: String,
    /// Metric namespace.
    pub namespace: String,
    /// Average, Minimum, Maximum, SampleCount or Sum.
    pub statistic: String,
    /// Dimensions.
    pub dimensions: Vec<Dimension>,
    /// Seconds per period.
    pub period: i32,
    /// Periods that must breach.
    pub evaluation_periods: i32,
    /// Threshold.
    pub threshold: f64,
    /// GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold.
    pub comparison_operator: String,
    /// Actions on ALARM (scaling policy ARNs).
    pub alarm_actions: Vec<String>,
    /// Tags (owner).
    pub tags: Vec<crate::ecs::Tag>,
}

/// The CloudWatch operations the operator uses.
#[async_trait]
pub trait CloudWatchApi: Send + Sync {
    /// DescribeAlarms for these names (at most 100); unknown names are simply absent.
    async fn describe_alarms(&self, names: &[String]) -> AwsResult<Vec<MetricAlarm>>;
    /// PutMetricAlarm (creates or replaces).
    async fn put_metric_alarm(&self, input: PutMetricAlarmInput) -> AwsResult<()>;
    /// DeleteAlarms (at most 100 names).
    async fn delete_alarms(&self, names: &[String]) -> AwsResult<()>;
}
