//! What Application Auto Scaling does over time in the simulated account, evaluated once a
//! simulated minute (CloudWatch's period): scheduled actions fire and change min/max;
//! target-tracking policies read the service's simulated CPU/memory (`metrics`) the way their
//! alarms would — scale out after 3 datapoints above the target, scale in after 15 below 90 % of
//! it, when every policy agrees — to `ceil(desired × metric / target)` within min/max, per-policy
//! cooldowns, disableScaleIn and the target's suspended state; step policies follow their
//! alarms (`autoscaling_steps`); the ECS service's desiredCount follows, and every change is a
//! scaling activity.

use crate::autoscaling::{Activity, SimTarget};
use crate::cloudwatch::metrics::Utilisation;
use crate::ecs::model::SERVICE_ACTIVE;
use crate::time::Secs;
use crate::world::World;
use aws::autoscaling::{PolicyConfiguration, parse_ecs_resource_id};
use aws::ecs::UpdateServiceInput;

/// Datapoints above the target before a scale-out (the AlarmHigh alarm: 3 of 3 minutes).
pub const SCALE_OUT_DATAPOINTS: u32 = 3;
/// Datapoints below 90 % of the target before a scale-in (the AlarmLow alarm: 15 of 15).
pub const SCALE_IN_DATAPOINTS: u32 = 15;
/// The scale-in alarm's threshold as a fraction of the target.
const SCALE_IN_THRESHOLD: f64 = 0.9;
/// Cooldown when a policy sets none (AWS's default for ECS).
const DEFAULT_COOLDOWN: i32 = 300;

/// A change of desiredCount a policy asked for.
struct Decision {
    desired: i32,
    cause: String,
    policies: Vec<String>,
    scale_out: bool,
}

impl World {
    /// One evaluation of every scalable target at `t`.
    pub(crate) fn autoscaling_tick(&mut self, t: Secs) {
        let ids: Vec<String> = self.autoscaling.targets.keys().cloned().collect();
        for id in ids {
            self.fire_scheduled(&id, t);
            self.evaluate_policies(&id, t);
        }
    }

    /// `(desiredCount, runningCount)` of an ACTIVE ECS service at `now`.
    fn aas_service_counts(&self, id: &str, now: Secs) -> Option<(i32, i32)> {
        let (cluster, service) = parse_ecs_resource_id(id)?;
        let cluster = self.cluster_name(cluster)?;
        let svc = self.ecs.clusters[cluster].services.get(service)?;
        if svc.status != SERVICE_ACTIVE {
            return None;
        }
        let running = svc.tasks.iter().filter(|t| t.is_running(now)).count();
        Some((
            svc.desired_count,
            i32::try_from(running).unwrap_or(i32::MAX),
        ))
    }

    /// Sets the service's desiredCount as a scaling activity.
    fn aas_set_desired(&mut self, id: &str, now: Secs, desired: i32, cause: String) {
        let Some((cluster, service)) = parse_ecs_resource_id(id) else {
            return;
        };
        let input = UpdateServiceInput {
            cluster: cluster.to_owned(),
            service: service.to_owned(),
            desired_count: Some(desired),
            ..UpdateServiceInput::default()
        };
        if let Err(error) = self.ecs_update_service(now, input) {
            tracing::debug!(%error, resource_id = id, "simulated autoscaler could not scale");
            return;
        }
        let activity_id = self.autoscaling.next_id(&["activity", id]);
        if let Some(target) = self.autoscaling.targets.get_mut(id) {
            target.record(
                activity_id,
                id,
                now,
                Activity {
                    description: format!("Setting desired count to {desired}."),
                    cause,
                    status_message: format!(
                        "Successfully set desired count to {desired}. Change successfully fulfilled by ecs."
                    ),
                },
            );
        }
    }

    /// Brings the service's desiredCount into the target's range, if it is outside.
    pub(crate) fn aas_clamp(&mut self, id: &str, now: Secs, why: &str) {
        let Some(target) = self.autoscaling.targets.get(id) else {
            return;
        };
        let (min, max) = (target.min, target.max);
        let Some((desired, _)) = self.aas_service_counts(id, now) else {
            return;
        };
        let clamped = desired.clamp(min, max);
        if clamped != desired {
            let bound = if clamped == min { "minimum" } else { "maximum" };
            let cause =
                format!("{why}: desired count {desired} is outside the {bound} capacity {clamped}");
            self.aas_set_desired(id, now, clamped, cause);
        }
    }

    /// Runs the scheduled actions of a target that are due at `t`.
    fn fire_scheduled(&mut self, id: &str, t: Secs) {
        let Some(target) = self.autoscaling.targets.get_mut(id) else {
            return;
        };
        let due: Vec<String> = target
            .scheduled
            .iter()
            .filter(|(_, s)| s.next_fire.is_some_and(|f| f <= t))
            .map(|(name, _)| name.clone())
            .collect();
        for name in due {
            let Some(target) = self.autoscaling.targets.get_mut(id) else {
                return;
            };
            let Some(s) = target.scheduled.get_mut(&name) else {
                continue;
            };
            s.plan_next(t);
            if target.suspended.scheduled_scaling_suspended {
                continue;
            }
            let (new_min, new_max) = match (s.action.min_capacity, s.action.max_capacity) {
                (Some(min), Some(max)) => (min, max),
                (Some(min), None) => (min, target.max.max(min)),
                (None, Some(max)) => (target.min.min(max), max),
                (None, None) => continue,
            };
            target.min = new_min;
            target.max = new_max;
            let activity_id = self.autoscaling.next_id(&["activity", id, &name]);
            let cause = format!("scheduled action name {name} was triggered");
            if let Some(target) = self.autoscaling.targets.get_mut(id) {
                target.record(
                    activity_id,
                    id,
                    t,
                    Activity {
                        description: format!(
                            "Setting min capacity to {new_min} and max capacity to {new_max}"
                        ),
                        cause: cause.clone(),
                        status_message: format!(
                            "Successfully set min capacity to {new_min} and max capacity to {new_max}"
                        ),
                    },
                );
            }
            self.aas_clamp(id, t, &cause);
        }
    }

    /// Lets the target's policies look at their metrics at `t` and scale.
    fn evaluate_policies(&mut self, id: &str, t: Secs) {
        let Some((desired, running)) = self.aas_service_counts(id, t) else {
            return;
        };
        let util =
            parse_ecs_resource_id(id).and_then(|(c, s)| self.metrics.utilisation(c, s, running));
        // Step policies' alarms are evaluated every minute, whatever target tracking decides.
        let step = parse_ecs_resource_id(id).and_then(|(cluster, service)| {
            let (cluster, service) = (cluster.to_owned(), service.to_owned());
            self.step_decision(id, &cluster, &service, desired, util, t)
        });
        let Some(target) = self.autoscaling.targets.get_mut(id) else {
            return;
        };
        let decision = decide(target, desired, util, t).or_else(|| {
            let step = step?;
            let new = step.desired.clamp(target.min, target.max);
            let allowed = if new > desired {
                !target.suspended.dynamic_scaling_out_suspended
            } else {
                !target.suspended.dynamic_scaling_in_suspended
            };
            (new != desired && allowed).then(|| Decision {
                desired: new,
                cause: step.cause,
                policies: vec![step.policy],
                scale_out: new > desired,
            })
        });
        let Some(decision) = decision else {
            return;
        };
        for name in &decision.policies {
            if let Some(p) = target.policies.get_mut(name) {
                if decision.scale_out {
                    p.last_out = Some(t);
                } else {
                    p.last_in = Some(t);
                }
            }
        }
        self.aas_set_desired(id, t, decision.desired, decision.cause);
    }
}

/// Updates every target-tracking policy's datapoints and decides whether to scale.
fn decide(
    target: &mut SimTarget,
    desired: i32,
    util: Option<Utilisation>,
    t: Secs,
) -> Option<Decision> {
    let mut outs: Vec<(i32, String, String)> = Vec::new();
    let mut ins: Vec<(i32, String, String)> = Vec::new();
    let mut all_ready_to_scale_in = true;
    let mut any = false;
    for (name, p) in target.policies.iter_mut() {
        let PolicyConfiguration::TargetTracking(c) = &p.configuration else {
            continue;
        };
        any = true;
        let metric = util.and_then(|u| {
            match c
                .predefined_metric
                .as_ref()?
                .predefined_metric_type
                .as_str()
            {
                "ECSServiceAverageCPUUtilization" => Some(u.cpu),
                "ECSServiceAverageMemoryUtilization" => Some(u.memory),
                _ => None,
            }
        });
        let Some(m) = metric.filter(|_| c.target_value > 0.0) else {
            // INSUFFICIENT_DATA: neither alarm fires, and scale-in needs every policy.
            p.high = 0;
            p.low = 0;
            all_ready_to_scale_in = false;
            continue;
        };
        if m > c.target_value {
            p.high += 1;
            p.low = 0;
        } else if m < SCALE_IN_THRESHOLD * c.target_value {
            p.low += 1;
            p.high = 0;
        } else {
            p.high = 0;
            p.low = 0;
        }
        let proposal = (f64::from(desired) * m / c.target_value).ceil() as i32;
        let alarm = |kind: &str| {
            p.alarms
                .iter()
                .find(|a| a.alarm_name.contains(kind))
                .map(|a| a.alarm_name.clone())
                .unwrap_or_else(|| format!("TargetTracking-{kind}"))
        };
        let cooled = |last: Option<Secs>, cooldown: Option<i32>| {
            last.is_none_or(|l| t - l >= i64::from(cooldown.unwrap_or(DEFAULT_COOLDOWN)))
        };
        if p.high >= SCALE_OUT_DATAPOINTS
            && proposal > desired
            && cooled(p.last_out, c.scale_out_cooldown)
        {
            outs.push((proposal, name.clone(), alarm("AlarmHigh")));
        }
        let ready = !c.disable_scale_in.unwrap_or(false)
            && p.low >= SCALE_IN_DATAPOINTS
            && cooled(p.last_in, c.scale_in_cooldown);
        if ready {
            ins.push((proposal, name.clone(), alarm("AlarmLow")));
        } else {
            all_ready_to_scale_in = false;
        }
    }
    let cause = |(_, policy, alarm): &(i32, String, String)| {
        format!("monitor alarm {alarm} in state ALARM triggered policy {policy}")
    };
    if let Some(best) = outs.iter().max_by_key(|(p, _, _)| *p) {
        let new = best.0.clamp(target.min, target.max);
        if new > desired && !target.suspended.dynamic_scaling_out_suspended {
            return Some(Decision {
                desired: new,
                cause: cause(best),
                policies: outs.iter().map(|(_, n, _)| n.clone()).collect(),
                scale_out: true,
            });
        }
    }
    if any && all_ready_to_scale_in && !target.suspended.dynamic_scaling_in_suspended {
        let best = ins.iter().max_by_key(|(p, _, _)| *p)?;
        let new = best.0.clamp(target.min, target.max);
        if new < desired {
            return Some(Decision {
                desired: new,
                cause: cause(best),
                policies: ins.iter().map(|(_, n, _)| n.clone()).collect(),
                scale_out: false,
            });
        }
    }
    None
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
