//! CloudWatch alarm state of the simulated account: seeded alarms and their state, set by hand
//! through `SimAws::set_alarm_state`. ECS deployment alarms and blue/green runs read it; the
//! CloudWatch API is `cloudwatch_api`.

use std::collections::BTreeMap;

use crate::arn;
use crate::seed::SimSeed;
use crate::time::Secs;

/// OK.
pub const ALARM_OK: &str = "OK";
/// ALARM.
pub const ALARM_ALARM: &str = "ALARM";
/// INSUFFICIENT_DATA.
pub const ALARM_INSUFFICIENT_DATA: &str = "INSUFFICIENT_DATA";

/// One alarm.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Alarm {
    /// ARN.
    pub arn: String,
    /// OK, ALARM or INSUFFICIENT_DATA.
    pub state_value: String,
    /// Why it is in that state.
    pub state_reason: String,
    /// When the state last changed (sim seconds).
    pub state_updated_at: Option<Secs>,
    /// Actions run on ALARM (PutMetricAlarm).
    pub alarm_actions: Vec<String>,
    /// What PutMetricAlarm set (None for seeded alarms).
    pub definition: Option<aws::cloudwatch::PutMetricAlarmInput>,
}

/// All alarms by name.
#[derive(Debug, Clone, Default)]
pub(crate) struct AlarmState {
    /// Alarm name → alarm.
    pub alarms: BTreeMap<String, Alarm>,
}

impl AlarmState {
    /// The seeded alarms.
    pub fn from_seed(seed: &SimSeed) -> Self {
        let alarms = seed
            .alarms
            .iter()
            .map(|a| {
                let alarm = Alarm {
                    arn: arn::alarm_arn(&seed.region, &seed.account_id, &a.alarm_name),
                    state_value: a.state_value.clone().unwrap_or_else(|| ALARM_OK.to_owned()),
                    state_reason: "Seeded".to_owned(),
                    state_updated_at: None,
                    alarm_actions: Vec::new(),
                    definition: None,
                };
                (a.alarm_name.clone(), alarm)
            })
            .collect();
        Self { alarms }
    }

    /// Whether the alarm exists and is in ALARM.
    pub fn is_alarming(&self, name: &str) -> bool {
        self.alarms
            .get(name)
            .is_some_and(|a| a.state_value == ALARM_ALARM)
    }

    /// Sets the state of an alarm; false when there is no such alarm or the value is not one of
    /// OK, ALARM, INSUFFICIENT_DATA.
    pub fn set_state(&mut self, name: &str, state: &str, reason: &str, now: Secs) -> bool {
        if ![ALARM_OK, ALARM_ALARM, ALARM_INSUFFICIENT_DATA].contains(&state) {
            return false;
        }
        let Some(alarm) = self.alarms.get_mut(name) else {
            return false;
        };
        if alarm.state_value != state {
            alarm.state_value = state.to_owned();
            alarm.state_reason = reason.to_owned();
            alarm.state_updated_at = Some(now);
        }
        true
    }
}
