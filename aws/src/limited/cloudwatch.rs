//! `Limited<dyn CloudWatchApi>`.

use async_trait::async_trait;

use super::Limited;
use crate::cloudwatch::{
    CloudWatchApi, GetMetricDataInput, MetricAlarm, MetricDataResult, PutMetricAlarmInput,
};
use crate::error::AwsResult;

#[async_trait]
impl CloudWatchApi for Limited<dyn CloudWatchApi> {
    async fn describe_alarms(&self, names: &[String]) -> AwsResult<Vec<MetricAlarm>> {
        let fut = self.inner.describe_alarms(names);
        self.guard.call("cloudwatch", "DescribeAlarms", fut).await
    }
    async fn put_metric_alarm(&self, input: PutMetricAlarmInput) -> AwsResult<()> {
        let fut = self.inner.put_metric_alarm(input);
        self.guard.call("cloudwatch", "PutMetricAlarm", fut).await
    }
    async fn delete_alarms(&self, names: &[String]) -> AwsResult<()> {
        let fut = self.inner.delete_alarms(names);
        self.guard.call("cloudwatch", "DeleteAlarms", fut).await
    }
    async fn get_metric_data(&self, input: GetMetricDataInput) -> AwsResult<Vec<MetricDataResult>> {
        let fut = self.inner.get_metric_data(input);
        self.guard.call("cloudwatch", "GetMetricData", fut).await
    }
}
