//! Metric analysis of a rollout: the metrics of `spec.analysis.metrics` as validated (the
//! machine's `MetricSpec`, what to query, the conditions), and the measurements of the ones the
//! machine says are due — CloudWatch GetMetricData or a PromQL query, judged by the CEL
//! conditions. Reads only; a failed query is an `Error` measurement carrying the provider's own
//! code and message, never a failed reconcile.

pub mod cloudwatch;
pub mod condition;
pub mod prometheus;
mod status;

use std::collections::BTreeMap;
use std::sync::Arc;

use aws::accounts::AwsClients;
use crds::rollout::{AnalysisPhase, MeasurementOutcome, MetricCheck, SecretKeyRef};
use jiff::Timestamp;

pub use self::cloudwatch::CloudWatchPlan;
pub use self::condition::Conditions;
use self::condition::format_value;
pub use self::prometheus::PrometheusPlan;
pub use self::status::{from_status, to_status};
use super::machine::{Measurement, MetricSpec};

/// Default seconds between measurements, measurements needed on test traffic, failed queries
/// in a row tolerated, CloudWatch lookback and Prometheus timeout.
const INTERVAL_SECS: i64 = 60;
const COUNT: i32 = 3;
const CONSECUTIVE_ERROR_LIMIT: i32 = 4;
const LOOKBACK_SECS: i64 = 300;
const PROMETHEUS_TIMEOUT_SECS: i64 = 10;

/// Where a metric's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Provider {
    /// CloudWatch GetMetricData.
    CloudWatch(CloudWatchPlan),
    /// A PromQL instant query.
    Prometheus(PrometheusPlan),
}

/// One metric as validated.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPlan {
    /// What the machine needs.
    pub spec: MetricSpec,
    /// What to query.
    pub provider: Provider,
    /// successCondition and failureCondition, checked.
    pub conditions: Conditions,
}

/// Turns `spec.analysis.metrics[index]` into a plan; `Err` names the field and what is wrong.
pub fn plan(index: usize, m: &MetricCheck) -> Result<MetricPlan, String> {
    let field = |name: &str| format!("spec.analysis.metrics[{index}] ({}).{name}", m.name);
    let conditions = Conditions::compile(
        m.success_condition.as_deref(),
        m.failure_condition.as_deref(),
    )
    .map_err(|e| format!("{}: {}", field(e.field), e.message))?;
    let provider = match (&m.provider.cloud_watch, &m.provider.prometheus) {
        (Some(cw), None) => {
            let returned: Vec<_> = cw
                .metric_data_queries
                .iter()
                .filter(|q| q.return_data != Some(false))
                .collect();
            let [result] = returned.as_slice() else {
                return Err(format!(
                    "{}: exactly one query must return data (set returnData: false on the others)",
                    field("provider.cloudWatch.metricDataQueries")
                ));
            };
            Provider::CloudWatch(CloudWatchPlan {
                queries: cw.metric_data_queries.iter().map(to_query).collect(),
                result_id: result.id.clone(),
                lookback_secs: cw.lookback_seconds.unwrap_or(LOOKBACK_SECS),
                region: cw.region.clone(),
            })
        }
        (None, Some(p)) => Provider::Prometheus(PrometheusPlan {
            address: p.address.trim_end_matches('/').to_owned(),
            query: p.query.clone(),
            sigv4: p.sigv4.as_ref().map(|s| s.region.clone()),
            bearer_token: p.bearer_token_secret_ref.clone(),
            timeout_secs: p.timeout_seconds.unwrap_or(PROMETHEUS_TIMEOUT_SECS).max(1) as u64,
        }),
        _ => {
            return Err(format!(
                "{}: set exactly one of cloudWatch or prometheus",
                field("provider")
            ));
        }
    };
    let mut phases = m.phases.clone();
    if phases.is_empty() {
        phases.push(AnalysisPhase::TestTraffic);
    }
    phases.sort();
    phases.dedup();
    Ok(MetricPlan {
        spec: MetricSpec {
            name: m.name.clone(),
            phases,
            interval_secs: m.interval_seconds.unwrap_or(INTERVAL_SECS).max(1),
            count: m.count.unwrap_or(COUNT).max(1),
            failure_limit: m.failure_limit.unwrap_or(0).max(0),
            inconclusive_limit: m.inconclusive_limit.unwrap_or(0).max(0),
            consecutive_error_limit: m
                .consecutive_error_limit
                .unwrap_or(CONSECUTIVE_ERROR_LIMIT)
                .max(0),
            initial_delay_secs: m.initial_delay_seconds.unwrap_or(0).max(0),
            dry_run: m.dry_run,
        },
        provider,
        conditions,
    })
}

fn to_query(q: &crds::rollout::MetricDataQuery) -> aws::cloudwatch::MetricDataQuery {
    aws::cloudwatch::MetricDataQuery {
        id: q.id.clone(),
        metric_stat: q.metric_stat.as_ref().map(|s| aws::cloudwatch::MetricStat {
            metric: aws::cloudwatch::Metric {
                namespace: s.metric.namespace.clone(),
                metric_name: s.metric.metric_name.clone(),
                dimensions: s
                    .metric
                    .dimensions
                    .iter()
                    .map(|d| aws::cloudwatch::Dimension {
                        name: d.name.clone(),
                        value: d.value.clone(),
                    })
                    .collect(),
            },
            period: s.period,
            stat: s.stat.clone(),
            unit: s.unit.clone(),
        }),
        expression: q.expression.clone(),
        label: q.label.clone(),
        return_data: q.return_data,
        period: q.period,
    }
}

/// What the measurements of one reconcile may use: the clients of the EcsService's account
/// and region, those of other regions the metrics name, and the bearer tokens read.
pub struct Sources<'a> {
    /// The EcsService's account and region.
    pub aws: &'a Arc<AwsClients>,
    /// Other regions of the same account, by name.
    pub regions: &'a BTreeMap<String, Arc<AwsClients>>,
    /// Bearer tokens by Secret (name, key), or why one could not be read.
    pub tokens: &'a BTreeMap<(String, String), Result<String, String>>,
}

/// The regions other than the EcsService's that the due metrics read.
pub fn regions_needed(
    metrics: &[MetricPlan],
    due: &[(usize, AnalysisPhase)],
    home: &str,
) -> Vec<String> {
    let mut regions: Vec<String> = due
        .iter()
        .filter_map(|(i, _)| match &metrics.get(*i)?.provider {
            Provider::CloudWatch(cw) => cw.region.clone(),
            Provider::Prometheus(_) => None,
        })
        .filter(|r| r != home)
        .collect();
    regions.sort();
    regions.dedup();
    regions
}

/// The Secrets the due metrics need read.
pub fn secrets_needed(metrics: &[MetricPlan], due: &[(usize, AnalysisPhase)]) -> Vec<SecretKeyRef> {
    let mut refs: Vec<SecretKeyRef> = due
        .iter()
        .filter_map(|(i, _)| match &metrics.get(*i)?.provider {
            Provider::Prometheus(p) => p.bearer_token.clone(),
            Provider::CloudWatch(_) => None,
        })
        .collect();
    refs.sort_by(|a, b| (&a.name, &a.key).cmp(&(&b.name, &b.key)));
    refs.dedup();
    refs
}

/// Measures the due metrics, one query each, in order.
pub async fn measure(
    metrics: &[MetricPlan],
    due: &[(usize, AnalysisPhase)],
    sources: &Sources<'_>,
    now: Timestamp,
) -> Vec<(usize, AnalysisPhase, Measurement)> {
    let mut out = Vec::new();
    for (index, phase) in due {
        let Some(metric) = metrics.get(*index) else {
            continue;
        };
        let found = match &metric.provider {
            Provider::CloudWatch(cw) => {
                let aws = match &cw.region {
                    Some(r) if r != &sources.aws.region => sources.regions.get(r),
                    _ => Some(sources.aws),
                };
                match aws {
                    Some(aws) => cloudwatch::read(cw, aws.cloudwatch.as_ref(), now).await,
                    None => Err((
                        "RegionUnavailable".to_owned(),
                        format!(
                            "no clients for region {}",
                            cw.region.as_deref().unwrap_or("?")
                        ),
                    )),
                }
            }
            Provider::Prometheus(p) => {
                let token = match &p.bearer_token {
                    None => Ok(None),
                    Some(r) => match sources.tokens.get(&(r.name.clone(), r.key.clone())) {
                        Some(Ok(t)) => Ok(Some(t.clone())),
                        Some(Err(e)) => Err(("SecretUnreadable".to_owned(), e.clone())),
                        None => Err((
                            "SecretUnreadable".to_owned(),
                            format!("Secret {} was not read", r.name),
                        )),
                    },
                };
                match token {
                    Ok(token) => {
                        prometheus::read(
                            p,
                            sources.aws.prometheus.as_ref(),
                            &sources.aws.region,
                            token,
                        )
                        .await
                    }
                    Err(e) => Err(e),
                }
            }
        };
        out.push((*index, *phase, judge(metric, found)));
    }
    out
}

/// A measurement of what a query found.
fn judge(metric: &MetricPlan, found: cloudwatch::Found) -> Measurement {
    let values = match found {
        Ok(values) => values,
        Err((code, message)) => {
            return Measurement {
                outcome: MeasurementOutcome::Error,
                value: None,
                message: Some(format!("{code}: {message}")),
            };
        }
    };
    let Some(result) = values.first().copied() else {
        return Measurement {
            outcome: MeasurementOutcome::Inconclusive,
            value: None,
            message: Some("the query returned no data".to_owned()),
        };
    };
    if result.is_nan() {
        return Measurement {
            outcome: MeasurementOutcome::Inconclusive,
            value: Some(format_value(result)),
            message: Some(
                "the query returned NaN (nothing to divide by in the window?)".to_owned(),
            ),
        };
    }
    let (outcome, message) = metric.conditions.judge(result, &values);
    Measurement {
        outcome,
        value: Some(format_value(result)),
        message: Some(message),
    }
}
