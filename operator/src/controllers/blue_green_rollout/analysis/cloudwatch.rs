//! One CloudWatch measurement: GetMetricData over the lookback window ending now, in the
//! account the namespace is bound to; the query that returns data gives `result` (its newest
//! datapoint) and `values`.

use aws::cloudwatch::{CloudWatchApi, GetMetricDataInput, MetricDataQuery};
use jiff::{SignedDuration, Timestamp};

/// A CloudWatch metric as validated.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudWatchPlan {
    /// The queries, as GetMetricData takes them.
    pub queries: Vec<MetricDataQuery>,
    /// Id of the query whose datapoints are the result.
    pub result_id: String,
    /// Seconds of data read, ending now.
    pub lookback_secs: i64,
    /// Region, when not the EcsService's.
    pub region: Option<String>,
}

/// What a query found: the values newest first, or why there are none.
pub type Found = Result<Vec<f64>, (String, String)>;

/// Reads the metric's datapoints (`Err((code, message))` with AWS's own code on failure).
pub async fn read(plan: &CloudWatchPlan, cloudwatch: &dyn CloudWatchApi, now: Timestamp) -> Found {
    let input = GetMetricDataInput {
        queries: plan.queries.clone(),
        start_time: now - SignedDuration::from_secs(plan.lookback_secs),
        end_time: now,
    };
    let results = cloudwatch
        .get_metric_data(input)
        .await
        .map_err(|e| (e.code.clone(), e.message.clone()))?;
    let Some(found) = results.into_iter().find(|r| r.id == plan.result_id) else {
        return Ok(Vec::new());
    };
    if found.status_code == "Forbidden" || found.status_code == "InternalError" {
        return Err((found.status_code, found.messages.join("; ")));
    }
    let mut points: Vec<(Timestamp, f64)> =
        found.timestamps.into_iter().zip(found.values).collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.0));
    Ok(points.into_iter().map(|(_, v)| v).collect())
}
