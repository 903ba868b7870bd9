//! GetMetricData of the simulated account: the request checked as CloudWatch checks it, each
//! metric query's datapoints from the recorded metrics (`cloudwatch::metric_series`), then the
//! expressions (`cloudwatch::math`, which may read other expressions), and the results of the
//! queries whose `returnData` is not false, newest datapoint first, all `Complete` (one page).
//!
//! | checked | error |
//! |---|---|
//! | 1–500 queries | ValidationError |
//! | StartTime before EndTime | ValidationError |
//! | ids match `^[a-z][a-zA-Z0-9_]*$` and are unique | ValidationError |
//! | exactly one of MetricStat and Expression per query | ValidationError |
//! | a MetricStat's Period (and an expression's, if set) a positive multiple of 60 | InvalidParameterValue |
//! | a MetricStat's Stat one the simulator computes (`metric_series`) | ValidationError |
//! | an expression parses, names only known ids, without a cycle, and calls no function | ValidationError |

use std::collections::{BTreeMap, BTreeSet};

use crate::cloudwatch::alb_metrics::minute_of;
use crate::cloudwatch::math::{self, Expr, Series, Value};
use crate::cloudwatch::metric_series::{Statistic, Window};
use crate::time::to_timestamp;
use crate::world::World;
use aws::cloudwatch::{GetMetricDataInput, MetricDataQuery, MetricDataResult};
use aws::error::{AwsError, AwsResult};

/// Most queries one request may carry.
const MAX_QUERIES: usize = 500;
/// Most dimensions a metric may have.
const MAX_DIMENSIONS: usize = 30;

fn validation(message: impl Into<String>) -> AwsError {
    AwsError::from_code("ValidationError", message, Some(400))
}

fn invalid_value(message: impl Into<String>) -> AwsError {
    AwsError::from_code("InvalidParameterValue", message, Some(400))
}

/// What a checked query computes.
#[derive(Debug, Clone)]
enum Planned<'a> {
    /// A metric with a statistic.
    Metric(&'a aws::cloudwatch::MetricStat, Statistic),
    /// Metric math.
    Expression(Expr),
}

/// Whether `id` matches `^[a-z][a-zA-Z0-9_]*$`.
fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks the request; each query's plan by id, in request order.
fn validate(input: &GetMetricDataInput) -> AwsResult<Vec<(&str, Planned<'_>)>> {
    let queries = &input.queries;
    if queries.is_empty() {
        return Err(validation(
            "The collection MetricDataQueries must not be empty.",
        ));
    }
    if queries.len() > MAX_QUERIES {
        return Err(validation(format!(
            "The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}."
        )));
    }
    if input.start_time == input.end_time {
        return Err(validation(
            "The parameter StartTime must not equal parameter EndTime.",
        ));
    }
    if input.start_time > input.end_time {
        return Err(validation(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
    let mut seen = BTreeSet::new();
    let mut planned = Vec::with_capacity(queries.len());
    for (i, q) in queries.iter().enumerate() {
        let member = format!("MetricDataQueries.member.{}", i + 1);
        planned.push((q.id.as_str(), plan(q, &member, &mut seen)?));
    }
    let ids: BTreeSet<&str> = queries.iter().map(|q| q.id.as_str()).collect();
    for (id, p) in &planned {
        if let Planned::Expression(expr) = p
            && let Some(unknown) = expr.ids().into_iter().find(|x| !ids.contains(x))
        {
            return Err(validation(format!(
                "Error in expression {id}: Unrecognized metric id {unknown}"
            )));
        }
    }
    Ok(planned)
}

/// Checks one query (`member` names it in messages).
fn plan<'a>(
    q: &'a MetricDataQuery,
    member: &str,
    seen: &mut BTreeSet<&'a str>,
) -> AwsResult<Planned<'a>> {
    let id = q.id.as_str();
    if !valid_id(id) || id.len() > 255 {
        return Err(validation(format!(
            "The value {id} for parameter {member}.Id is not matching the expected pattern ^[a-z][a-zA-Z0-9_]*$."
        )));
    }
    if !seen.insert(id) {
        return Err(validation(format!(
            "The value {id} for parameter {member}.Id is not unique."
        )));
    }
    let period_ok = |p: i32| p > 0 && p % 60 == 0;
    if q.period.is_some_and(|p| !period_ok(p)) {
        return Err(invalid_value(format!(
            "The parameter {member}.Period must be a multiple of 60."
        )));
    }
    match (&q.metric_stat, &q.expression) {
        (Some(_), Some(_)) => Err(validation(format!(
            "The parameters {member}.MetricStat and {member}.Expression are mutually exclusive and you have specified both."
        ))),
        (None, None) => Err(validation(format!(
            "Exactly one of the parameters {member}.MetricStat and {member}.Expression must be specified."
        ))),
        (Some(stat), None) => {
            if stat.metric.metric_name.is_empty() || stat.metric.namespace.is_empty() {
                return Err(validation(format!(
                    "The parameters {member}.MetricStat.Metric.Namespace and {member}.MetricStat.Metric.MetricName are required."
                )));
            }
            if stat.metric.dimensions.len() > MAX_DIMENSIONS {
                return Err(validation(format!(
                    "The collection {member}.MetricStat.Metric.Dimensions must not have a size greater than {MAX_DIMENSIONS}."
                )));
            }
            if !period_ok(stat.period) {
                return Err(invalid_value(format!(
                    "The parameter {member}.MetricStat.Period must be a multiple of 60."
                )));
            }
            let statistic = Statistic::parse(&stat.stat).ok_or_else(|| {
                validation(format!(
                    "The value for parameter {member}.MetricStat.Stat is not a valid statistic."
                ))
            })?;
            Ok(Planned::Metric(stat, statistic))
        }
        (None, Some(text)) => math::parse(text)
            .map(Planned::Expression)
            .map_err(|why| validation(format!("Error in expression {id}: {why}"))),
    }
}

/// The request's window in simulated seconds (start rounded down to the minute, end rounded
/// up to the second).
fn window(input: &GetMetricDataInput) -> Window {
    let end = input.end_time.as_second() + i64::from(input.end_time.subsec_nanosecond() > 0);
    Window {
        start: minute_of(input.start_time.as_second()),
        end: end.max(input.start_time.as_second() + 1),
    }
}

/// Evaluates the expression of `id` (and the expressions it reads) into `done`.
fn evaluate<'a>(
    id: &'a str,
    exprs: &BTreeMap<&'a str, &'a Expr>,
    done: &mut BTreeMap<&'a str, Value>,
    visiting: &mut Vec<&'a str>,
) -> AwsResult<()> {
    if done.contains_key(id) {
        return Ok(());
    }
    let Some(&expr) = exprs.get(id) else {
        return Ok(());
    };
    if visiting.contains(&id) {
        return Err(validation(format!(
            "Error in expression {}: circular reference through {id}",
            visiting[0]
        )));
    }
    visiting.push(id);
    for dep in expr.ids() {
        evaluate(dep, exprs, done, visiting)?;
    }
    visiting.pop();
    let lookup = |x: &str| match done.get(x) {
        Some(Value::Series(s)) => s.clone(),
        Some(Value::Scalar(c)) => every_timestamp(done, *c),
        None => Series::new(),
    };
    let value = expr.evaluate(&lookup);
    done.insert(id, value);
    Ok(())
}

/// A constant at every timestamp any series of the request has.
fn every_timestamp(done: &BTreeMap<&str, Value>, constant: f64) -> Series {
    done.values()
        .filter_map(|v| match v {
            Value::Series(s) => Some(s.keys()),
            Value::Scalar(_) => None,
        })
        .flatten()
        .map(|t| (*t, constant))
        .collect()
}

impl World {
    /// GetMetricData over the metrics recorded up to now.
    pub(crate) fn cw_get_metric_data(
        &self,
        input: &GetMetricDataInput,
    ) -> AwsResult<Vec<MetricDataResult>> {
        let planned = validate(input)?;
        let window = window(input);
        let mut done: BTreeMap<&str, Value> = BTreeMap::new();
        let mut exprs: BTreeMap<&str, &Expr> = BTreeMap::new();
        for (id, p) in &planned {
            match p {
                Planned::Metric(stat, statistic) => {
                    let series = self.metric_series(stat, *statistic, window);
                    done.insert(id, Value::Series(series));
                }
                Planned::Expression(expr) => {
                    exprs.insert(id, expr);
                }
            }
        }
        for id in exprs.keys() {
            evaluate(id, &exprs, &mut done, &mut Vec::new())?;
        }
        let results = input
            .queries
            .iter()
            .filter(|q| q.return_data != Some(false))
            .map(|q| {
                let series = match done.get(q.id.as_str()) {
                    Some(Value::Series(s)) => s.clone(),
                    Some(Value::Scalar(c)) => every_timestamp(&done, *c),
                    None => Series::new(),
                };
                let default_label = q
                    .metric_stat
                    .as_ref()
                    .map_or(q.id.as_str(), |m| m.metric.metric_name.as_str());
                result(q, default_label, &series)
            })
            .collect();
        Ok(results)
    }
}

/// One query's result: its datapoints newest first (a constant expression that divided by
/// zero has none).
fn result(q: &MetricDataQuery, default_label: &str, series: &Series) -> MetricDataResult {
    let (timestamps, values) = series
        .iter()
        .rev()
        .filter(|(_, v)| v.is_finite())
        .map(|(t, v)| (to_timestamp(*t), *v))
        .unzip();
    MetricDataResult {
        id: q.id.clone(),
        label: Some(q.label.clone().unwrap_or_else(|| default_label.to_owned())),
        timestamps,
        values,
        status_code: "Complete".to_owned(),
        messages: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_cloudwatch_s_pattern() {
        for ok in ["m", "m1", "errorRate", "a_b_9"] {
            assert!(valid_id(ok), "{ok}");
        }
        for bad in ["", "M1", "1m", "_m", "m-1", "m.1", "é"] {
            assert!(!valid_id(bad), "{bad}");
        }
    }
}
