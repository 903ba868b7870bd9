//! Application Auto Scaling API operations on the simulated account's state, with the errors
//! AWS answers: register/deregister/describe targets (at most 50 ids per describe), put/delete/
//! describe policies (target tracking creates its AlarmHigh/AlarmLow, a step policy's alarms are
//! the CloudWatch alarms whose action it is), scheduled actions (their schedule parsed as AWS
//! would), activities and tags.

use std::collections::BTreeMap;

use crate::arn::alarm_arn;
use crate::autoscaling::{SimPolicy, SimScheduled, SimTarget};
use crate::ecs::model::SERVICE_ACTIVE;
use crate::time::Secs;
use crate::world::World;
use aws::autoscaling::schedule;
use aws::autoscaling::{
    PolicyAlarm, PolicyConfiguration, PutScalingPolicyInput, PutScalingPolicyOutput,
    RegisterScalableTargetInput, ScalableTarget, ScalingActivity, ScalingPolicy, ScheduledAction,
    SuspendedState, parse_ecs_resource_id,
};
use aws::error::{AwsError, AwsResult};

/// Most policies per scalable target.
pub const MAX_POLICIES_PER_TARGET: usize = 50;
/// Most scheduled actions per scalable target.
pub const MAX_SCHEDULED_ACTIONS_PER_TARGET: usize = 200;

/// An Application Auto Scaling error (HTTP 400 unless said otherwise).
pub(crate) fn aas_error(code: &str, message: impl Into<String>) -> AwsError {
    AwsError::from_code(code, message, Some(400))
}

fn validation(message: impl Into<String>) -> AwsError {
    aas_error("ValidationException", message)
}

fn no_target(resource_id: &str) -> AwsError {
    aas_error(
        "ObjectNotFoundException",
        format!(
            "No scalable target registered for service namespace: ecs, resource ID: {resource_id}, scalable dimension: ecs:service:DesiredCount"
        ),
    )
}

impl World {
    /// DescribeScalableTargets.
    pub(crate) fn aas_describe_targets(&self, ids: &[String]) -> AwsResult<Vec<ScalableTarget>> {
        if ids.len() > aws::autoscaling::DESCRIBE_SCALABLE_TARGETS_BATCH {
            return Err(validation(
                "1 validation error detected: Value at 'resourceIds' failed to satisfy constraint: Member must have length less than or equal to 50",
            ));
        }
        Ok(self
            .autoscaling
            .targets
            .iter()
            .filter(|(id, _)| ids.is_empty() || ids.contains(id))
            .map(|(id, t)| t.to_api(id))
            .collect())
    }

    /// RegisterScalableTarget: creates or updates; clamps the service into a new range.
    pub(crate) fn aas_register_target(
        &mut self,
        now: Secs,
        input: RegisterScalableTargetInput,
    ) -> AwsResult<String> {
        let id = input.resource_id.clone();
        let (cluster, service) = parse_ecs_resource_id(&id)
            .ok_or_else(|| validation(format!("Unsupported ECS resource ID {id}")))?;
        let exists = self
            .cluster_name(cluster)
            .and_then(|c| self.ecs.clusters[c].services.get(service))
            .is_some_and(|s| s.status == SERVICE_ACTIVE);
        if !exists {
            return Err(validation(format!("ECS service doesn't exist: {id}")));
        }
        let (region, account) = (self.region.clone(), self.account_id.clone());
        let state = &mut self.autoscaling;
        let target = match state.targets.get_mut(&id) {
            Some(t) => t,
            None => {
                let (Some(min), Some(max)) = (input.min_capacity, input.max_capacity) else {
                    return Err(validation(
                        "MinCapacity and MaxCapacity are required when registering a new scalable target",
                    ));
                };
                let arn_id = state.next_id(&["target", &id]).replace('-', "");
                let target = SimTarget {
                    arn: format!(
                        "arn:aws:application-autoscaling:{region}:{account}:scalable-target/0e{}",
                        &arn_id[..30]
                    ),
                    min,
                    max,
                    suspended: SuspendedState::default(),
                    created_at: now,
                    tags: input.tags.clone(),
                    policies: BTreeMap::new(),
                    scheduled: BTreeMap::new(),
                    activities: Vec::new(),
                };
                state.targets.entry(id.clone()).or_insert(target)
            }
        };
        let min = input.min_capacity.unwrap_or(target.min);
        let max = input.max_capacity.unwrap_or(target.max);
        if min < 0 || min > max {
            return Err(validation(format!(
                "Minimum capacity {min} cannot be greater than maximum capacity {max}"
            )));
        }
        target.min = min;
        target.max = max;
        if let Some(s) = input.suspended_state {
            target.suspended = s;
        }
        let arn = target.arn.clone();
        self.aas_clamp(&id, now, "the scalable target's capacity range changed");
        Ok(arn)
    }

    /// DeregisterScalableTarget: its policies and scheduled actions go with it.
    pub(crate) fn aas_deregister_target(&mut self, id: &str) -> AwsResult<()> {
        self.autoscaling
            .targets
            .remove(id)
            .map(|_| ())
            .ok_or_else(|| no_target(id))
    }

    /// DescribeScalingPolicies of one target.
    pub(crate) fn aas_describe_policies(&self, id: &str) -> AwsResult<Vec<ScalingPolicy>> {
        let Some(target) = self.autoscaling.targets.get(id) else {
            return Ok(Vec::new());
        };
        Ok(target
            .policies
            .iter()
            .map(|(name, p)| ScalingPolicy {
                policy_name: name.clone(),
                policy_arn: p.arn.clone(),
                resource_id: id.to_owned(),
                configuration: p.configuration.clone(),
                alarms: match p.configuration {
                    // A step policy's alarms are the CloudWatch alarms whose action it is.
                    PolicyConfiguration::StepScaling(_) => self.alarms_of(&p.arn),
                    _ => p.alarms.clone(),
                },
            })
            .collect())
    }

    /// PutScalingPolicy: creates, or replaces the configuration of the policy of that name.
    pub(crate) fn aas_put_policy(
        &mut self,
        input: PutScalingPolicyInput,
    ) -> AwsResult<PutScalingPolicyOutput> {
        let PutScalingPolicyInput {
            policy_name,
            resource_id,
            configuration,
        } = input;
        match &configuration {
            PolicyConfiguration::TargetTracking(c) => {
                if let Some(p) = &c.predefined_metric {
                    let known = [
                        "ECSServiceAverageCPUUtilization",
                        "ECSServiceAverageMemoryUtilization",
                        "ALBRequestCountPerTarget",
                    ];
                    if !known.contains(&p.predefined_metric_type.as_str()) {
                        return Err(validation(format!(
                            "Unsupported metric type {} for service namespace ecs",
                            p.predefined_metric_type
                        )));
                    }
                    if p.predefined_metric_type == "ALBRequestCountPerTarget"
                        && p.resource_label.is_none()
                    {
                        return Err(validation(
                            "ResourceLabel is required for ALBRequestCountPerTarget",
                        ));
                    }
                }
                if c.predefined_metric.is_some() == c.customized_metric.is_some() {
                    return Err(validation(
                        "Exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification is required",
                    ));
                }
            }
            PolicyConfiguration::StepScaling(c) if c.step_adjustments.is_empty() => {
                return Err(validation("StepAdjustments must not be empty"));
            }
            PolicyConfiguration::StepScaling(_) => {}
            PolicyConfiguration::Other(t) => {
                return Err(validation(format!("Unsupported policy type {t}")));
            }
        }
        let (region, account) = (self.region.clone(), self.account_id.clone());
        let state = &mut self.autoscaling;
        let Some(target) = state.targets.get(&resource_id) else {
            return Err(no_target(&resource_id));
        };
        if !target.policies.contains_key(&policy_name)
            && target.policies.len() >= MAX_POLICIES_PER_TARGET
        {
            return Err(aas_error(
                "LimitExceededException",
                format!("A scalable target can have at most {MAX_POLICIES_PER_TARGET} policies"),
            ));
        }
        let uuid = state.next_id(&["policy", &resource_id, &policy_name]);
        let target = state.targets.get_mut(&resource_id).expect("checked above");
        let is_tt = matches!(configuration, PolicyConfiguration::TargetTracking(_));
        let policy = target.policies.entry(policy_name.clone()).or_insert_with(|| SimPolicy {
            arn: format!(
                "arn:aws:autoscaling:{region}:{account}:scalingPolicy:{uuid}:resource/ecs/{resource_id}:policyName/{policy_name}"
            ),
            configuration: configuration.clone(),
            alarms: Vec::new(),
            high: 0,
            low: 0,
            last_out: None,
            last_in: None,
        });
        policy.configuration = configuration;
        policy.high = 0;
        policy.low = 0;
        if is_tt && policy.alarms.is_empty() {
            policy.alarms = ["AlarmHigh", "AlarmLow"]
                .iter()
                .map(|kind| {
                    let name = format!("TargetTracking-{resource_id}-{kind}-{uuid}");
                    PolicyAlarm {
                        alarm_arn: alarm_arn(&region, &account, &name),
                        alarm_name: name,
                    }
                })
                .collect();
        } else if !is_tt {
            policy.alarms.clear();
        }
        Ok(PutScalingPolicyOutput {
            policy_arn: policy.arn.clone(),
            alarms: policy.alarms.clone(),
        })
    }

    /// DeleteScalingPolicy.
    pub(crate) fn aas_delete_policy(&mut self, id: &str, name: &str) -> AwsResult<()> {
        let target = self
            .autoscaling
            .targets
            .get_mut(id)
            .ok_or_else(|| no_target(id))?;
        target.policies.remove(name).map(|_| ()).ok_or_else(|| {
            aas_error(
                "ObjectNotFoundException",
                format!("No scaling policy found for service namespace: ecs, resource ID: {id}, scalable dimension: ecs:service:DesiredCount, policy name: {name}"),
            )
        })
    }

    /// DescribeScheduledActions of one target.
    pub(crate) fn aas_describe_scheduled(&self, id: &str) -> AwsResult<Vec<ScheduledAction>> {
        Ok(self
            .autoscaling
            .targets
            .get(id)
            .map(|t| t.scheduled.values().map(|s| s.action.clone()).collect())
            .unwrap_or_default())
    }

    /// PutScheduledAction: creates or replaces.
    pub(crate) fn aas_put_scheduled(&mut self, now: Secs, input: ScheduledAction) -> AwsResult<()> {
        let parsed = schedule::parse(&input.schedule)
            .map_err(|e| validation(format!("Schedule {}: {e}", input.schedule)))?;
        let tz = schedule::time_zone(input.timezone.as_deref())
            .map_err(|e| validation(e.to_string()))?;
        if input.min_capacity.is_none() && input.max_capacity.is_none() {
            return Err(validation(
                "ScalableTargetAction must set MinCapacity or MaxCapacity",
            ));
        }
        let (region, account) = (self.region.clone(), self.account_id.clone());
        let id = input.resource_id.clone();
        let state = &mut self.autoscaling;
        let Some(target) = state.targets.get(&id) else {
            return Err(no_target(&id));
        };
        let name = input.scheduled_action_name.clone();
        if !target.scheduled.contains_key(&name)
            && target.scheduled.len() >= MAX_SCHEDULED_ACTIONS_PER_TARGET
        {
            return Err(aas_error(
                "LimitExceededException",
                format!(
                    "A scalable target can have at most {MAX_SCHEDULED_ACTIONS_PER_TARGET} scheduled actions"
                ),
            ));
        }
        let arn = match target.scheduled.get(&name) {
            Some(s) => s.action.scheduled_action_arn.clone(),
            None => {
                let uuid = state.next_id(&["scheduled", &id, &name]);
                format!(
                    "arn:aws:autoscaling:{region}:{account}:scheduledAction:{uuid}:resource/ecs/{id}:scheduledActionName/{name}"
                )
            }
        };
        let mut scheduled = SimScheduled {
            action: ScheduledAction {
                scheduled_action_arn: arn,
                ..input
            },
            schedule: parsed,
            tz,
            created_at: now,
            next_fire: None,
        };
        scheduled.plan_next(now);
        let target = state.targets.get_mut(&id).expect("checked above");
        target.scheduled.insert(name, scheduled);
        Ok(())
    }

    /// DeleteScheduledAction.
    pub(crate) fn aas_delete_scheduled(&mut self, id: &str, name: &str) -> AwsResult<()> {
        let target = self
            .autoscaling
            .targets
            .get_mut(id)
            .ok_or_else(|| no_target(id))?;
        target.scheduled.remove(name).map(|_| ()).ok_or_else(|| {
            aas_error(
                "ObjectNotFoundException",
                format!("No scheduled action found for service namespace: ecs, resource ID: {id}, scalable dimension: ecs:service:DesiredCount, scheduled action name: {name}"),
            )
        })
    }

    /// DescribeScalingActivities of one target, newest first.
    pub(crate) fn aas_describe_activities(&self, id: &str, max: i32) -> Vec<ScalingActivity> {
        self.autoscaling
            .targets
            .get(id)
            .map(|t| {
                t.activities
                    .iter()
                    .rev()
                    .take(max.clamp(1, 50) as usize)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The target whose ARN is `arn`.
    pub(crate) fn aas_target_by_arn(&mut self, arn: &str) -> AwsResult<&mut SimTarget> {
        self.autoscaling
            .targets
            .values_mut()
            .find(|t| t.arn == arn)
            .ok_or_else(|| {
                aas_error(
                    "ResourceNotFoundException",
                    format!("No scalable target found for ARN {arn}"),
                )
            })
    }
}
