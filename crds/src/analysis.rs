//! Metric analysis of a BlueGreenRollout (`spec.analysis.metrics`): CloudWatch GetMetricData or
//! PromQL queries measured during test traffic, the traffic shift and the bake, each judged by
//! CEL conditions over the result.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One metric that judges the release: what to query, when, how often, and the conditions its
/// result must meet.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(validation = Rule::new("has(self.successCondition) || has(self.failureCondition)").message("set successCondition, failureCondition or both"))]
#[serde(rename_all = "camelCase")]
pub struct MetricCheck {
    /// Name, unique in the rollout (shown in status, events and messages).
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    )]
    pub name: String,
    /// Where the value comes from: exactly one of cloudWatch or prometheus.
    pub provider: MetricProvider,
    /// When it is measured (default [TestTraffic]). TestTraffic holds the release at the gate
    /// until `count` measurements passed; Steps measures while production traffic shifts (every
    /// canary or linear step); Bake measures while both revisions run after the shift.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 3))]
    pub phases: Vec<AnalysisPhase>,
    /// Seconds between measurements (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10, max = 3600))]
    pub interval_seconds: Option<i64>,
    /// Measurements that must pass during test traffic before the gate opens (default 3).
    /// During Steps and Bake the metric is measured every interval until the phase ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub count: Option<i32>,
    /// Failed measurements tolerated in a phase (default 0): one more aborts and rolls back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub failure_limit: Option<i32>,
    /// Inconclusive measurements tolerated in a phase (default 0). One more pauses the release
    /// at the gate for `kubectl ecs promote` or `abort`; after the gate, where an engine cannot
    /// be held, it aborts the release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub inconclusive_limit: Option<i32>,
    /// Consecutive measurements that could not be taken (the query failed) tolerated (default 4):
    /// one more aborts the release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub consecutive_error_limit: Option<i32>,
    /// Seconds after the phase starts before the first measurement (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 3600))]
    pub initial_delay_seconds: Option<i64>,
    /// CEL expression that must be true for a measurement to pass, over `result` (double: the
    /// newest value) and `values` (list of double: every value of the window, newest first),
    /// e.g. `result < 1.0`. With only successCondition, false fails the measurement; with both,
    /// neither true is inconclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub success_condition: Option<String>,
    /// CEL expression that fails a measurement when true, e.g. `result > 2.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub failure_condition: Option<String>,
    /// Measure and report only: the metric never holds, pauses or aborts the release.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
}

/// When a metric is measured.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, JsonSchema,
)]
pub enum AnalysisPhase {
    /// On test traffic, at the gate, before production traffic moves.
    #[default]
    TestTraffic,
    /// While production traffic shifts (each canary or linear step).
    Steps,
    /// After the shift, while both revisions run (bake time / termination wait).
    Bake,
}

/// Where a metric's value comes from.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(validation = Rule::new("has(self.cloudWatch) != has(self.prometheus)").message("set exactly one of provider.cloudWatch or provider.prometheus"))]
#[serde(rename_all = "camelCase")]
pub struct MetricProvider {
    /// CloudWatch GetMetricData, in the account the namespace is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_watch: Option<CloudWatchMetric>,
    /// A PromQL instant query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<PrometheusMetric>,
}

/// A CloudWatch GetMetricData request (member names as in the AWS API).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(validation = Rule::new("self.metricDataQueries.exists_one(q, !has(q.returnData) || q.returnData)").message("exactly one metricDataQueries entry must return data (set returnData: false on the others)"))]
#[serde(rename_all = "camelCase")]
pub struct CloudWatchMetric {
    /// The queries: metrics (metricStat) and metric math over their ids (expression). The one
    /// that returns data gives `result` and `values`.
    #[schemars(length(min = 1, max = 10))]
    pub metric_data_queries: Vec<MetricDataQuery>,
    /// Seconds of data each measurement reads, ending now (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 60, max = 86400))]
    pub lookback_seconds: Option<i64>,
    /// Region of the metrics (default: the EcsService's Region); it must be one the namespace's
    /// AwsAccountBinding allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z]{2}(-[a-z]+)+-[0-9]$"))]
    pub region: Option<String>,
}

/// One query of a GetMetricData request.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(validation = Rule::new("has(self.metricStat) != has(self.expression)").message("set exactly one of metricStat or expression"))]
#[serde(rename_all = "camelCase")]
pub struct MetricDataQuery {
    /// Id, referenced by expressions: a lower-case letter, then letters, digits and `_`.
    #[schemars(length(min = 1, max = 255), regex(pattern = r"^[a-z][a-zA-Z0-9_]*$"))]
    pub id: String,
    /// A metric and statistic to read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_stat: Option<MetricStat>,
    /// Metric math over other queries' ids, e.g. `100 * errors / requests`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2048))]
    pub expression: Option<String>,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Whether this query's datapoints are the result (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_data: Option<bool>,
    /// Seconds per datapoint of an expression (a multiple of 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 60, max = 86400))]
    pub period: Option<i32>,
}

/// A metric and its statistic.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricStat {
    /// The metric.
    pub metric: MetricIdentity,
    /// Seconds per datapoint (a multiple of 60).
    #[schemars(range(min = 60, max = 86400))]
    pub period: i32,
    /// Sum, Average, Minimum, Maximum, SampleCount, or a percentile such as p99.
    #[schemars(regex(
        pattern = r"^(Sum|Average|Minimum|Maximum|SampleCount|p[0-9]{1,2}(\.[0-9]+)?)$"
    ))]
    pub stat: String,
    /// Unit filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// A CloudWatch metric by namespace, name and dimensions.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricIdentity {
    /// Namespace, e.g. AWS/ApplicationELB.
    #[schemars(length(min = 1, max = 255))]
    pub namespace: String,
    /// Metric name, e.g. HTTPCode_Target_5XX_Count.
    #[schemars(length(min = 1, max = 255))]
    pub metric_name: String,
    /// Dimensions, e.g. TargetGroup = targetgroup/<name>/<id>.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 30))]
    pub dimensions: Vec<MetricDimension>,
}

/// A metric dimension.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricDimension {
    /// Name.
    #[schemars(length(min = 1, max = 255))]
    pub name: String,
    /// Value.
    #[schemars(length(min = 1, max = 1024))]
    pub value: String,
}

/// A PromQL instant query.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(validation = Rule::new("!(has(self.sigv4) && has(self.bearerTokenSecretRef))").message("set sigv4 or bearerTokenSecretRef, not both"))]
#[serde(rename_all = "camelCase")]
pub struct PrometheusMetric {
    /// Server address, e.g. http://prometheus.monitoring:9090, or an Amazon Managed Service
    /// for Prometheus workspace URL (https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>).
    #[schemars(regex(pattern = r"^https?://[^\s/]+(/\S*)?$"))]
    pub address: String,
    /// PromQL giving an instant vector or a scalar; `result` is the first sample's value and
    /// `values` every sample's.
    #[schemars(length(min = 1, max = 4096))]
    pub query: String,
    /// Sign requests with SigV4 (Amazon Managed Service for Prometheus), with the credentials of
    /// the account the namespace is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigv4: Option<PrometheusSigV4>,
    /// A Secret key (same namespace) holding a bearer token sent as `Authorization: Bearer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_secret_ref: Option<SecretKeyRef>,
    /// Seconds a query may take (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 60))]
    pub timeout_seconds: Option<i64>,
}

/// SigV4 signing of Prometheus queries.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusSigV4 {
    /// Region of the workspace (default: the EcsService's Region).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z]{2}(-[a-z]+)+-[0-9]$"))]
    pub region: Option<String>,
}

/// A key of a Secret in the object's namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// Secret name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key in the Secret's data.
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}
