//! The `CloudWatchApi` trait: the CloudWatch operations the operator uses (rollout gates read
//! alarm states and, for metric analysis, GetMetricData; step scaling policies create the alarms
//! that drive them). No SDK types.

pub mod sdk;
#[cfg(test)]
mod wire_tests;

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

/// A metric by namespace, name and dimensions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    /// Namespace, e.g. `AWS/ApplicationELB`.
    pub namespace: String,
    /// Metric name, e.g. `HTTPCode_Target_5XX_Count`.
    pub metric_name: String,
    /// Dimensions (all must match).
    pub dimensions: Vec<Dimension>,
}

/// A metric and the statistic to return of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricStat {
    /// The metric.
    pub metric: Metric,
    /// Seconds per datapoint (60 or a multiple of 60).
    pub period: i32,
    /// Sum, Average, Minimum, Maximum, SampleCount, or a percentile such as `p99`.
    pub stat: String,
    /// Unit filter, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// One query of a GetMetricData request: a metric (`metric_stat`) or metric math over other
/// queries' ids (`expression`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricDataQuery {
    /// Id (lower-case first letter), referenced by expressions.
    pub id: String,
    /// A metric to read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_stat: Option<MetricStat>,
    /// Metric math over other ids, e.g. `100 * errors / requests`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Whether the result is returned (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_data: Option<bool>,
    /// Seconds per datapoint of an expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<i32>,
}

/// A GetMetricData request (datapoints newest first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetMetricDataInput {
    /// The queries (at most 500).
    pub queries: Vec<MetricDataQuery>,
    /// Start of the window (inclusive).
    pub start_time: jiff::Timestamp,
    /// End of the window (exclusive).
    pub end_time: jiff::Timestamp,
}

/// The datapoints of one returned query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricDataResult {
    /// The query's id.
    pub id: String,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Timestamps, newest first.
    pub timestamps: Vec<jiff::Timestamp>,
    /// Values, in the order of `timestamps`.
    pub values: Vec<f64>,
    /// Complete, PartialData, InternalError or Forbidden.
    pub status_code: String,
    /// Messages CloudWatch attached (e.g. why an expression had no data).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<String>,
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
    /// GetMetricData: the returned queries' datapoints in the window, newest first (every page).
    async fn get_metric_data(&self, input: GetMetricDataInput) -> AwsResult<Vec<MetricDataResult>>;
}
