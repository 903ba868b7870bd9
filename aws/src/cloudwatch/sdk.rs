//! `SdkCloudWatch`: the [`CloudWatchApi`] adapter over `aws_sdk_cloudwatch` (RPC v2 CBOR on
//! the wire, which moto does not route: the simulator checks its behaviour, and `wire_tests`
//! the requests it sends). Batches DescribeAlarms and DeleteAlarms by 100 names, paginates
//! DescribeAlarms and GetMetricData (newest datapoints first, a query's datapoints merged across
//! pages). Nothing outside `aws/` sees an `aws_sdk_*` type.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types as sdk;
use aws_smithy_types::DateTime;

use crate::cloudwatch::{
    CloudWatchApi, GetMetricDataInput, Metric, MetricAlarm, MetricDataQuery, MetricDataResult,
    MetricStat, PutMetricAlarmInput,
};
use crate::error::AwsResult;
use crate::sdk::aws_error;

/// Most alarm names one DescribeAlarms or DeleteAlarms call takes.
pub const ALARM_BATCH: usize = 100;

/// Amazon CloudWatch through the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkCloudWatch {
    client: Client,
}

impl SdkCloudWatch {
    /// An adapter for the account, region and endpoint of `config`.
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            client: Client::new(config),
        }
    }
}

fn alarm_from_sdk(a: sdk::MetricAlarm) -> MetricAlarm {
    MetricAlarm {
        alarm_name: a.alarm_name.unwrap_or_default(),
        alarm_arn: a.alarm_arn.unwrap_or_default(),
        state_value: a
            .state_value
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        state_reason: a.state_reason,
        alarm_actions: a.alarm_actions.unwrap_or_default(),
    }
}

#[async_trait]
impl CloudWatchApi for SdkCloudWatch {
    async fn describe_alarms(&self, names: &[String]) -> AwsResult<Vec<MetricAlarm>> {
        let mut out = Vec::new();
        for chunk in names.chunks(ALARM_BATCH) {
            let mut next: Option<String> = None;
            loop {
                let answer = self
                    .client
                    .describe_alarms()
                    .set_alarm_names(Some(chunk.to_vec()))
                    .alarm_types(sdk::AlarmType::MetricAlarm)
                    .set_next_token(next.take())
                    .send()
                    .await
                    .map_err(aws_error)?;
                out.extend(
                    answer
                        .metric_alarms
                        .unwrap_or_default()
                        .into_iter()
                        .map(alarm_from_sdk),
                );
                match answer.next_token {
                    Some(token) if !token.is_empty() => next = Some(token),
                    _ => break,
                }
            }
        }
        Ok(out)
    }

    async fn put_metric_alarm(&self, input: PutMetricAlarmInput) -> AwsResult<()> {
        let PutMetricAlarmInput {
            alarm_name,
            metric_name,
            namespace,
            statistic,
            dimensions,
            period,
            evaluation_periods,
            threshold,
            comparison_operator,
            alarm_actions,
            tags,
        } = input;
        self.client
            .put_metric_alarm()
            .alarm_name(alarm_name)
            .metric_name(metric_name)
            .namespace(namespace)
            .statistic(sdk::Statistic::from(statistic.as_str()))
            .set_dimensions(Some(dimensions_to_sdk(dimensions)))
            .period(period)
            .evaluation_periods(evaluation_periods)
            .threshold(threshold)
            .comparison_operator(sdk::ComparisonOperator::from(comparison_operator.as_str()))
            .set_alarm_actions(Some(alarm_actions))
            .set_tags((!tags.is_empty()).then(|| {
                tags.into_iter()
                    .map(|t| sdk::Tag::builder().key(t.key).value(t.value).build())
                    .collect()
            }))
            .send()
            .await
            .map_err(aws_error)?;
        Ok(())
    }

    async fn delete_alarms(&self, names: &[String]) -> AwsResult<()> {
        for chunk in names.chunks(ALARM_BATCH) {
            self.client
                .delete_alarms()
                .set_alarm_names(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(aws_error)?;
        }
        Ok(())
    }

    async fn get_metric_data(&self, input: GetMetricDataInput) -> AwsResult<Vec<MetricDataResult>> {
        let GetMetricDataInput {
            queries,
            start_time,
            end_time,
        } = input;
        let queries: Vec<sdk::MetricDataQuery> = queries.into_iter().map(query_to_sdk).collect();
        let mut results: Vec<MetricDataResult> = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let answer = self
                .client
                .get_metric_data()
                .set_metric_data_queries(Some(queries.clone()))
                .start_time(date_time(start_time))
                .end_time(date_time(end_time))
                .scan_by(sdk::ScanBy::TimestampDescending)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(aws_error)?;
            for page in answer.metric_data_results.unwrap_or_default() {
                merge_page(&mut results, result_from_sdk(page));
            }
            match answer.next_token {
                Some(token) if !token.is_empty() => next = Some(token),
                _ => break,
            }
        }
        Ok(results)
    }
}

/// Dimensions as the SDK takes them.
fn dimensions_to_sdk(dimensions: Vec<crate::cloudwatch::Dimension>) -> Vec<sdk::Dimension> {
    dimensions
        .into_iter()
        .map(|d| {
            sdk::Dimension::builder()
                .name(d.name)
                .value(d.value)
                .build()
        })
        .collect()
}

/// A jiff timestamp as an SDK one.
fn date_time(t: jiff::Timestamp) -> DateTime {
    DateTime::from_secs_and_nanos(t.as_second(), t.subsec_nanosecond().max(0) as u32)
}

/// A query as the SDK takes it.
fn query_to_sdk(q: MetricDataQuery) -> sdk::MetricDataQuery {
    let MetricDataQuery {
        id,
        metric_stat,
        expression,
        label,
        return_data,
        period,
    } = q;
    sdk::MetricDataQuery::builder()
        .id(id)
        .set_metric_stat(metric_stat.map(metric_stat_to_sdk))
        .set_expression(expression)
        .set_label(label)
        .set_return_data(return_data)
        .set_period(period)
        .build()
}

/// A metric and statistic as the SDK takes them.
fn metric_stat_to_sdk(m: MetricStat) -> sdk::MetricStat {
    let MetricStat {
        metric,
        period,
        stat,
        unit,
    } = m;
    let Metric {
        namespace,
        metric_name,
        dimensions,
    } = metric;
    let metric = sdk::Metric::builder()
        .namespace(namespace)
        .metric_name(metric_name)
        .set_dimensions(Some(dimensions_to_sdk(dimensions)))
        .build();
    sdk::MetricStat::builder()
        .metric(metric)
        .period(period)
        .stat(stat)
        .set_unit(unit.map(|u| sdk::StandardUnit::from(u.as_str())))
        .build()
}

/// One page's result for one query; timestamps outside jiff's range are dropped with their
/// values.
fn result_from_sdk(r: sdk::MetricDataResult) -> MetricDataResult {
    let (timestamps, values) = r
        .timestamps
        .unwrap_or_default()
        .iter()
        .zip(r.values.unwrap_or_default())
        .filter_map(|(t, v)| Some((timestamp(t)?, v)))
        .unzip();
    MetricDataResult {
        id: r.id.unwrap_or_default(),
        label: r.label,
        timestamps,
        values,
        status_code: r
            .status_code
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        messages: r
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| m.value)
            .collect(),
    }
}

/// An SDK timestamp as a jiff one (`None` outside jiff's range).
fn timestamp(t: &DateTime) -> Option<jiff::Timestamp> {
    jiff::Timestamp::new(t.secs(), t.subsec_nanos() as i32).ok()
}

/// Adds a page's result to the results so far: a query already seen (its datapoints continue
/// from the previous page, PartialData there) gets the page's datapoints appended and the
/// page's status; a new one is appended in page order.
fn merge_page(results: &mut Vec<MetricDataResult>, page: MetricDataResult) {
    match results.iter_mut().find(|r| r.id == page.id) {
        Some(seen) => {
            seen.timestamps.extend(page.timestamps);
            seen.values.extend(page.values);
            seen.status_code = page.status_code;
            seen.messages.extend(page.messages);
            if seen.label.is_none() {
                seen.label = page.label;
            }
        }
        None => results.push(page),
    }
}
