//! Step scaling in the simulated account: a step policy acts when a CloudWatch alarm whose
//! action is the policy's ARN is in ALARM. An alarm put on the AWS/ECS CPUUtilization or
//! MemoryUtilization of a service with a simulated load is evaluated here once a minute
//! (ALARM after `evaluationPeriods` breaching datapoints, OK otherwise); any other alarm keeps
//! the state `SimAws::set_alarm_state` gives it. The step whose interval holds metric −
//! threshold sets the adjustment; the policy's cooldown applies.

use crate::autoscaling::SimPolicy;
use crate::cloudwatch::alarms::{ALARM_ALARM, ALARM_OK};
use crate::cloudwatch::metrics::Utilisation;
use crate::time::Secs;
use crate::world::World;
use aws::autoscaling::{PolicyAlarm, PolicyConfiguration, StepScalingConfiguration};
use aws::cloudwatch::PutMetricAlarmInput;

/// A step policy's decision: the new desired count and why.
pub(crate) struct StepDecision {
    /// New desiredCount (before min/max).
    pub desired: i32,
    /// The policy.
    pub policy: String,
    /// Activity cause.
    pub cause: String,
}

/// The alarm's metric for a service, when the alarm watches its simulated CPU or memory.
fn metric(
    def: &PutMetricAlarmInput,
    cluster: &str,
    service: &str,
    util: Utilisation,
) -> Option<f64> {
    if def.namespace != "AWS/ECS" {
        return None;
    }
    let dim = |name: &str| {
        def.dimensions
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.value.as_str())
    };
    if dim("ClusterName") != Some(cluster) || dim("ServiceName") != Some(service) {
        return None;
    }
    match def.metric_name.as_str() {
        "CPUUtilization" => Some(util.cpu),
        "MemoryUtilization" => Some(util.memory),
        _ => None,
    }
}

fn breaches(value: f64, threshold: f64, operator: &str) -> bool {
    match operator {
        "GreaterThanOrEqualToThreshold" => value >= threshold,
        "GreaterThanThreshold" => value > threshold,
        "LessThanThreshold" => value < threshold,
        "LessThanOrEqualToThreshold" => value <= threshold,
        _ => false,
    }
}

/// The new desired count a step policy asks for at `breach` (metric − threshold).
pub(crate) fn adjust(c: &StepScalingConfiguration, desired: i32, breach: f64) -> Option<i32> {
    let step = c.step_adjustments.iter().find(|s| {
        s.metric_interval_lower_bound.is_none_or(|l| breach >= l)
            && s.metric_interval_upper_bound.is_none_or(|u| breach < u)
    })?;
    let n = step.scaling_adjustment;
    Some(match c.adjustment_type.as_str() {
        "ExactCapacity" => n,
        "PercentChangeInCapacity" => {
            let mut change = (f64::from(desired) * f64::from(n) / 100.0).trunc() as i32;
            if let Some(min) = c.min_adjustment_magnitude
                && n != 0
                && change.abs() < min
            {
                change = min * n.signum();
            }
            desired + change
        }
        _ => desired + n,
    })
}

impl World {
    /// Alarms whose action is `policy_arn`.
    pub(crate) fn alarms_of(&self, policy_arn: &str) -> Vec<PolicyAlarm> {
        self.alarms
            .alarms
            .iter()
            .filter(|(_, a)| a.alarm_actions.iter().any(|x| x == policy_arn))
            .map(|(name, a)| PolicyAlarm {
                alarm_name: name.clone(),
                alarm_arn: a.arn.clone(),
            })
            .collect()
    }

    /// Evaluates the alarms of the target's step policies at `t` and picks the first policy
    /// (by name) in ALARM whose cooldown has passed.
    pub(crate) fn step_decision(
        &mut self,
        id: &str,
        cluster: &str,
        service: &str,
        desired: i32,
        util: Option<Utilisation>,
        t: Secs,
    ) -> Option<StepDecision> {
        let policies: Vec<(String, SimPolicy)> = self
            .autoscaling
            .targets
            .get(id)?
            .policies
            .iter()
            .filter(|(_, p)| matches!(p.configuration, PolicyConfiguration::StepScaling(_)))
            .map(|(n, p)| (n.clone(), p.clone()))
            .collect();
        for (name, policy) in policies {
            let PolicyConfiguration::StepScaling(c) = &policy.configuration else {
                continue;
            };
            for alarm in self.alarms_of(&policy.arn) {
                let mut breach = None;
                let def = self.alarms.alarms[&alarm.alarm_name].definition.clone();
                if let Some(def) = def
                    && let Some(value) = util.and_then(|u| metric(&def, cluster, service, u))
                {
                    let streak = self
                        .autoscaling
                        .alarm_streaks
                        .entry(alarm.alarm_name.clone())
                        .or_default();
                    *streak = if breaches(value, def.threshold, &def.comparison_operator) {
                        *streak + 1
                    } else {
                        0
                    };
                    let state = if *streak >= def.evaluation_periods.max(1) as u32 {
                        ALARM_ALARM
                    } else {
                        ALARM_OK
                    };
                    let reason = format!(
                        "Threshold Crossed: datapoint {value:.1} vs {}",
                        def.threshold
                    );
                    self.alarms.set_state(&alarm.alarm_name, state, &reason, t);
                    breach = Some(value - def.threshold);
                }
                if !self.alarms.is_alarming(&alarm.alarm_name) {
                    continue;
                }
                let cooldown = i64::from(c.cooldown.unwrap_or(300));
                let last = policy.last_out.max(policy.last_in);
                if last.is_some_and(|l| t - l < cooldown) {
                    continue;
                }
                let operator = self.alarms.alarms[&alarm.alarm_name]
                    .definition
                    .as_ref()
                    .map(|d| d.comparison_operator.clone())
                    .unwrap_or_default();
                // An alarm set by hand: just past its threshold.
                let breach = breach.unwrap_or(if operator.starts_with("Less") {
                    -1e-9
                } else {
                    0.0
                });
                if let Some(new) = adjust(c, desired, breach) {
                    return Some(StepDecision {
                        desired: new,
                        policy: name.clone(),
                        cause: format!(
                            "monitor alarm {} in state ALARM triggered policy {name}",
                            alarm.alarm_name
                        ),
                    });
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws::autoscaling::StepAdjustment;

    fn config(kind: &str, steps: &[(Option<f64>, Option<f64>, i32)]) -> StepScalingConfiguration {
        StepScalingConfiguration {
            adjustment_type: kind.into(),
            step_adjustments: steps
                .iter()
                .map(|(l, u, n)| StepAdjustment {
                    metric_interval_lower_bound: *l,
                    metric_interval_upper_bound: *u,
                    scaling_adjustment: *n,
                })
                .collect(),
            min_adjustment_magnitude: Some(2),
            cooldown: None,
            metric_aggregation_type: None,
        }
    }

    #[test]
    fn the_step_holding_the_breach_decides() {
        let c = config(
            "ChangeInCapacity",
            &[(Some(0.0), Some(10.0), 1), (Some(10.0), None, 3)],
        );
        assert_eq!(adjust(&c, 4, 0.0), Some(5));
        assert_eq!(adjust(&c, 4, 12.5), Some(7));
        assert_eq!(adjust(&c, 4, -1.0), None);
        let pct = config("PercentChangeInCapacity", &[(None, Some(0.0), -10)]);
        assert_eq!(adjust(&pct, 10, -5.0), Some(8), "min magnitude 2");
        let exact = config("ExactCapacity", &[(Some(0.0), None, 6)]);
        assert_eq!(adjust(&exact, 2, 1.0), Some(6));
    }
}
