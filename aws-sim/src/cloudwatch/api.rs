//! CloudWatch through the API (`impl CloudWatchApi for SimAws`): DescribeAlarms, PutMetricAlarm
//! (a new alarm starts INSUFFICIENT_DATA; replacing one keeps its state) and DeleteAlarms; alarm
//! states only change through `SimAws::set_alarm_state`, never from metrics. GetMetricData
//! reads the simulated traffic and load (`cloudwatch::metric_data`).

use async_trait::async_trait;

use crate::account::SimAws;
use crate::arn;
use crate::cloudwatch::alarms::{ALARM_INSUFFICIENT_DATA, Alarm};
use crate::gate::Operation;
use crate::time::Secs;
use crate::world::World;
use aws::cloudwatch::{
    CloudWatchApi, GetMetricDataInput, MetricAlarm, MetricDataResult, PutMetricAlarmInput,
};
use aws::error::{AwsError, AwsResult};

/// cloudwatch:DescribeAlarms.
const DESCRIBE_ALARMS: Operation = Operation {
    key: "cloudwatch:DescribeAlarms",
    mutating: false,
};
/// cloudwatch:PutMetricAlarm.
const PUT_METRIC_ALARM: Operation = Operation {
    key: "cloudwatch:PutMetricAlarm",
    mutating: true,
};
/// cloudwatch:DeleteAlarms.
const DELETE_ALARMS: Operation = Operation {
    key: "cloudwatch:DeleteAlarms",
    mutating: true,
};

/// cloudwatch:GetMetricData.
const GET_METRIC_DATA: Operation = Operation {
    key: "cloudwatch:GetMetricData",
    mutating: false,
};

/// Most names per DescribeAlarms or DeleteAlarms call.
const MAX_NAMES: usize = 100;

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::from_code("InvalidParameterValue", message, Some(400))
}

impl World {
    fn cw_describe_alarms(&self, names: &[String]) -> AwsResult<Vec<MetricAlarm>> {
        if names.len() > MAX_NAMES {
            return Err(invalid("AlarmNames can have at most 100 items."));
        }
        Ok(names
            .iter()
            .filter_map(|name| {
                let a = self.alarms.alarms.get(name)?;
                Some(MetricAlarm {
                    alarm_name: name.clone(),
                    alarm_arn: a.arn.clone(),
                    state_value: a.state_value.clone(),
                    state_reason: Some(a.state_reason.clone()),
                    alarm_actions: a.alarm_actions.clone(),
                })
            })
            .collect())
    }

    fn cw_put_metric_alarm(&mut self, now: Secs, input: PutMetricAlarmInput) -> AwsResult<()> {
        if input.alarm_name.is_empty() || input.alarm_name.len() > 255 {
            return Err(invalid("AlarmName must be 1-255 characters."));
        }
        if input.period <= 0 || input.evaluation_periods <= 0 {
            return Err(invalid(
                "Period and EvaluationPeriods must be greater than 0.",
            ));
        }
        let arn = arn::alarm_arn(&self.region, &self.account_id, &input.alarm_name);
        let actions = input.alarm_actions.clone();
        match self.alarms.alarms.get_mut(&input.alarm_name) {
            Some(alarm) => {
                alarm.alarm_actions = actions;
                alarm.definition = Some(input);
            }
            None => {
                let name = input.alarm_name.clone();
                let alarm = Alarm {
                    arn,
                    state_value: ALARM_INSUFFICIENT_DATA.to_owned(),
                    state_reason: "Unchecked: Initial alarm creation".to_owned(),
                    state_updated_at: Some(now),
                    alarm_actions: actions,
                    definition: Some(input),
                };
                self.alarms.alarms.insert(name, alarm);
            }
        }
        Ok(())
    }

    fn cw_delete_alarms(&mut self, names: &[String]) -> AwsResult<()> {
        if names.len() > MAX_NAMES {
            return Err(invalid("AlarmNames can have at most 100 items."));
        }
        if let Some(missing) = names.iter().find(|n| !self.alarms.alarms.contains_key(*n)) {
            return Err(AwsError::from_code(
                "ResourceNotFound",
                format!("Could not find alarm {missing}"),
                Some(404),
            ));
        }
        for name in names {
            self.alarms.alarms.remove(name);
        }
        Ok(())
    }
}

#[async_trait]
impl CloudWatchApi for SimAws {
    async fn describe_alarms(&self, names: &[String]) -> AwsResult<Vec<MetricAlarm>> {
        self.call(&DESCRIBE_ALARMS, |w, _| w.cw_describe_alarms(names))
            .await
    }

    async fn put_metric_alarm(&self, input: PutMetricAlarmInput) -> AwsResult<()> {
        self.call(&PUT_METRIC_ALARM, |w, now| {
            w.cw_put_metric_alarm(now, input)
        })
        .await
    }

    async fn delete_alarms(&self, names: &[String]) -> AwsResult<()> {
        self.call(&DELETE_ALARMS, |w, _| w.cw_delete_alarms(names))
            .await
    }

    async fn get_metric_data(&self, input: GetMetricDataInput) -> AwsResult<Vec<MetricDataResult>> {
        self.call(&GET_METRIC_DATA, |w, _| w.cw_get_metric_data(&input))
            .await
    }
}
