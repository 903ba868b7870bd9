//! `SdkCloudWatch`: the [`CloudWatchApi`] adapter over `aws_sdk_cloudwatch` (RPC v2 CBOR on
//! the wire, which moto does not route: its behaviour is checked against the simulator only).
//! Batches DescribeAlarms and DeleteAlarms by 100 names and paginates. Nothing outside `aws/`
//! sees an `aws_sdk_*` type.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types as sdk;

use crate::cloudwatch::{CloudWatchApi, MetricAlarm, PutMetricAlarmInput};
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
            .set_dimensions(Some(
                dimensions
                    .into_iter()
                    .map(|d| {
                        sdk::Dimension::builder()
                            .name(d.name)
                            .value(d.value)
                            .build()
                    })
                    .collect(),
            ))
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
}
