//! Application Auto Scaling state of the simulated account: scalable targets of ECS services
//! with their policies, scheduled actions and scaling activities. The API operations on it live
//! in `autoscaling_ops`, what happens over time (policies reading metrics, scheduled actions
//! firing) in `autoscaling_engine`, the trait impl in `autoscaling_api`.

pub(crate) mod api;
pub(crate) mod engine;
pub(crate) mod steps;
pub(crate) mod targets;

use std::collections::BTreeMap;

use jiff::tz::TimeZone;

use crate::arn::hex16;
use crate::time::{Secs, to_timestamp};
use aws::autoscaling::schedule::Schedule;
use aws::autoscaling::{
    PolicyAlarm, PolicyConfiguration, ScalableTarget, ScalingActivity, ScheduledAction,
    SuspendedState, Tag,
};

/// Scaling activities kept per target.
const ACTIVITIES_KEPT: usize = 100;

/// One scalable target.
#[derive(Debug, Clone)]
pub(crate) struct SimTarget {
    /// ARN.
    pub arn: String,
    /// Minimum capacity.
    pub min: i32,
    /// Maximum capacity.
    pub max: i32,
    /// Suspended state.
    pub suspended: SuspendedState,
    /// When it was registered.
    pub created_at: Secs,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Policies by name.
    pub policies: BTreeMap<String, SimPolicy>,
    /// Scheduled actions by name.
    pub scheduled: BTreeMap<String, SimScheduled>,
    /// Scaling activities, oldest first.
    pub activities: Vec<ScalingActivity>,
}

/// One scaling policy and the engine's memory of its alarms.
#[derive(Debug, Clone)]
pub(crate) struct SimPolicy {
    /// ARN.
    pub arn: String,
    /// Configuration.
    pub configuration: PolicyConfiguration,
    /// Alarms (the target-tracking ones AWS creates).
    pub alarms: Vec<PolicyAlarm>,
    /// Consecutive evaluations above the target (AlarmHigh datapoints) or breaching (step).
    pub high: u32,
    /// Consecutive evaluations below 90 % of the target (AlarmLow datapoints).
    pub low: u32,
    /// Last scale-out this policy caused.
    pub last_out: Option<Secs>,
    /// Last scale-in this policy caused.
    pub last_in: Option<Secs>,
}

/// One scheduled action with its parsed schedule.
#[derive(Debug, Clone)]
pub(crate) struct SimScheduled {
    /// As put (with its ARN).
    pub action: ScheduledAction,
    /// The parsed expression.
    pub schedule: Schedule,
    /// Its time zone.
    pub tz: TimeZone,
    /// When it was put.
    pub created_at: Secs,
    /// When it fires next (None: never again).
    pub next_fire: Option<Secs>,
}

impl SimScheduled {
    /// Computes `next_fire` after `after`.
    pub fn plan_next(&mut self, after: Secs) {
        self.next_fire = self
            .schedule
            .next_after(
                to_timestamp(after),
                &self.tz,
                self.action.start_time,
                self.action.end_time,
                to_timestamp(self.created_at),
            )
            .map(|t| t.as_second());
    }
}

/// Every scalable target by resource id, and the evaluation clock.
#[derive(Debug, Clone, Default)]
pub(crate) struct AutoScalingState {
    /// Targets by resource id.
    pub targets: BTreeMap<String, SimTarget>,
    /// When policies are evaluated next (every minute while targets exist).
    pub next_tick: Option<Secs>,
    /// Consecutive breaching datapoints of the step policies' alarms, by alarm name.
    pub alarm_streaks: BTreeMap<String, u32>,
    /// Sequence for ids.
    pub seq: u64,
}

/// Seconds between evaluations (CloudWatch's one-minute period).
pub const TICK_SECS: Secs = 60;

impl AutoScalingState {
    /// The next evaluation time if it is due by `now` (and schedules the one after).
    pub fn due(&mut self, advanced_to: Secs, now: Secs) -> Option<Secs> {
        if self.targets.is_empty() {
            self.next_tick = None;
            return None;
        }
        let t = *self
            .next_tick
            .get_or_insert((advanced_to.div_euclid(TICK_SECS) + 1) * TICK_SECS);
        (t <= now).then(|| {
            self.next_tick = Some(t + TICK_SECS);
            t
        })
    }

    /// A fresh id.
    pub fn next_id(&mut self, parts: &[&str]) -> String {
        self.seq += 1;
        let seq = self.seq.to_string();
        let mut all = parts.to_vec();
        all.push(&seq);
        let a = hex16(&all);
        all.push("b");
        let b = hex16(&all);
        format!(
            "{}-{}-{}-{}-{}",
            &a[..8],
            &a[8..12],
            &a[12..16],
            &b[..4],
            &b[4..16]
        )
    }
}

impl SimTarget {
    /// Records an activity.
    pub fn record(&mut self, id: String, resource_id: &str, now: Secs, what: Activity) {
        self.activities.push(ScalingActivity {
            activity_id: id,
            resource_id: resource_id.to_owned(),
            description: what.description,
            cause: what.cause,
            start_time: to_timestamp(now),
            end_time: Some(to_timestamp(now)),
            status_code: "Successful".to_owned(),
            status_message: Some(what.status_message),
        });
        if self.activities.len() > ACTIVITIES_KEPT {
            self.activities.remove(0);
        }
    }

    /// The target as DescribeScalableTargets shows it.
    pub fn to_api(&self, resource_id: &str) -> ScalableTarget {
        ScalableTarget {
            resource_id: resource_id.to_owned(),
            scalable_target_arn: Some(self.arn.clone()),
            min_capacity: self.min,
            max_capacity: self.max,
            suspended_state: self.suspended,
            creation_time: Some(to_timestamp(self.created_at)),
        }
    }
}

/// What an activity says.
pub(crate) struct Activity {
    /// Description.
    pub description: String,
    /// Cause.
    pub cause: String,
    /// Status message.
    pub status_message: String,
}
