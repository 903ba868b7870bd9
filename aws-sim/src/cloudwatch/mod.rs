//! Amazon CloudWatch in the simulated account: alarms (set by tests or watched by deployments),
//! the metrics the simulated load and traffic produce (recorded as time passes), GetMetricData
//! over them with metric math, the API operations, and the Prometheus exposition of the same
//! traffic.

pub(crate) mod alarms;
pub(crate) mod alb_metrics;
pub(crate) mod api;
pub(crate) mod exposition;
pub(crate) mod math;
pub(crate) mod metric_data;
pub(crate) mod metric_series;
pub(crate) mod metrics;
pub(crate) mod recording;
