//! `impl AutoScalingApi for SimAws`: each operation passes the gate (latency, count, faults; no
//! token bucket: Application Auto Scaling publishes no rates), advances the world to now, then
//! runs the world's operation. Also the hooks tests and `ecs-operator local` use: set a
//! service's load, peek at targets and activities without a call.

use async_trait::async_trait;

use crate::account::SimAws;
use crate::ecs::tags::merge_tags;
use crate::gate::Operation;
use aws::autoscaling::{
    AutoScalingApi, PutScalingPolicyInput, PutScalingPolicyOutput, RegisterScalableTargetInput,
    ScalableTarget, ScalingActivity, ScalingPolicy, ScheduledAction, Tag,
};
use aws::error::AwsResult;

const fn op(key: &'static str, mutating: bool) -> Operation {
    Operation { key, mutating }
}

const DESCRIBE_TARGETS: Operation = op("application-autoscaling:DescribeScalableTargets", false);
const REGISTER_TARGET: Operation = op("application-autoscaling:RegisterScalableTarget", true);
const DEREGISTER_TARGET: Operation = op("application-autoscaling:DeregisterScalableTarget", true);
const DESCRIBE_POLICIES: Operation = op("application-autoscaling:DescribeScalingPolicies", false);
const PUT_POLICY: Operation = op("application-autoscaling:PutScalingPolicy", true);
const DELETE_POLICY: Operation = op("application-autoscaling:DeleteScalingPolicy", true);
const DESCRIBE_SCHEDULED: Operation = op("application-autoscaling:DescribeScheduledActions", false);
const PUT_SCHEDULED: Operation = op("application-autoscaling:PutScheduledAction", true);
const DELETE_SCHEDULED: Operation = op("application-autoscaling:DeleteScheduledAction", true);
const DESCRIBE_ACTIVITIES: Operation =
    op("application-autoscaling:DescribeScalingActivities", false);
const LIST_TAGS: Operation = op("application-autoscaling:ListTagsForResource", false);
const TAG_RESOURCE: Operation = op("application-autoscaling:TagResource", true);

#[async_trait]
impl AutoScalingApi for SimAws {
    async fn describe_scalable_targets(
        &self,
        resource_ids: &[String],
    ) -> AwsResult<Vec<ScalableTarget>> {
        self.call(&DESCRIBE_TARGETS, |w, _| {
            w.aas_describe_targets(resource_ids)
        })
        .await
    }

    async fn register_scalable_target(
        &self,
        input: RegisterScalableTargetInput,
    ) -> AwsResult<String> {
        self.call(&REGISTER_TARGET, |w, now| w.aas_register_target(now, input))
            .await
    }

    async fn deregister_scalable_target(&self, resource_id: &str) -> AwsResult<()> {
        self.call(&DEREGISTER_TARGET, |w, _| {
            w.aas_deregister_target(resource_id)
        })
        .await
    }

    async fn describe_scaling_policies(&self, resource_id: &str) -> AwsResult<Vec<ScalingPolicy>> {
        self.call(&DESCRIBE_POLICIES, |w, _| {
            w.aas_describe_policies(resource_id)
        })
        .await
    }

    async fn put_scaling_policy(
        &self,
        input: PutScalingPolicyInput,
    ) -> AwsResult<PutScalingPolicyOutput> {
        self.call(&PUT_POLICY, |w, _| w.aas_put_policy(input)).await
    }

    async fn delete_scaling_policy(&self, resource_id: &str, policy_name: &str) -> AwsResult<()> {
        self.call(&DELETE_POLICY, |w, _| {
            w.aas_delete_policy(resource_id, policy_name)
        })
        .await
    }

    async fn describe_scheduled_actions(
        &self,
        resource_id: &str,
    ) -> AwsResult<Vec<ScheduledAction>> {
        self.call(&DESCRIBE_SCHEDULED, |w, _| {
            w.aas_describe_scheduled(resource_id)
        })
        .await
    }

    async fn put_scheduled_action(&self, input: ScheduledAction) -> AwsResult<()> {
        self.call(&PUT_SCHEDULED, |w, now| w.aas_put_scheduled(now, input))
            .await
    }

    async fn delete_scheduled_action(&self, resource_id: &str, name: &str) -> AwsResult<()> {
        self.call(&DELETE_SCHEDULED, |w, _| {
            w.aas_delete_scheduled(resource_id, name)
        })
        .await
    }

    async fn describe_scaling_activities(
        &self,
        resource_id: &str,
        max_results: i32,
    ) -> AwsResult<Vec<ScalingActivity>> {
        self.call(&DESCRIBE_ACTIVITIES, |w, _| {
            Ok(w.aas_describe_activities(resource_id, max_results))
        })
        .await
    }

    async fn list_tags_for_resource(&self, arn: &str) -> AwsResult<Vec<Tag>> {
        self.call(&LIST_TAGS, |w, _| {
            let mut tags = w.aas_target_by_arn(arn)?.tags.clone();
            tags.sort();
            Ok(tags)
        })
        .await
    }

    async fn tag_resource(&self, arn: &str, tags: Vec<Tag>) -> AwsResult<()> {
        self.call(&TAG_RESOURCE, |w, _| {
            let target = w.aas_target_by_arn(arn)?;
            merge_tags(&mut target.tags, tags);
            Ok(())
        })
        .await
    }
}

/// One scaling activity with the target it belongs to (for progress views).
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRecord {
    /// `service/<cluster>/<service>`.
    pub resource_id: String,
    /// The activity.
    pub activity: ScalingActivity,
}

impl SimAws {
    /// Sets the CPU and memory load of an ECS service, in percent of its tasks' capacity at
    /// its current desiredCount (values above 100 mean more work than the tasks can do; the
    /// load then spreads over however many tasks run). False when there is no such service.
    pub fn set_service_load(&self, cluster: &str, service: &str, cpu: f64, memory: f64) -> bool {
        self.with_world(|w, _| {
            let Some(cluster) = w.cluster_name(cluster).map(str::to_owned) else {
                return false;
            };
            let Some(desired) = w.ecs.clusters[&cluster]
                .services
                .get(service)
                .map(|s| s.desired_count)
            else {
                return false;
            };
            w.metrics.set_load(&cluster, service, cpu, memory, desired);
            true
        })
    }

    /// Forgets a service's load: it reports no metrics again.
    pub fn clear_service_load(&self, cluster: &str, service: &str) {
        self.with_world(|w, _| w.metrics.clear_load(cluster, service));
    }

    /// The scalable target of a resource id, without a call.
    pub fn scalable_target(&self, resource_id: &str) -> Option<ScalableTarget> {
        self.with_world(|w, _| {
            w.autoscaling
                .targets
                .get(resource_id)
                .map(|t| t.to_api(resource_id))
        })
    }

    /// The policies of a scalable target, without a call.
    pub fn scaling_policies(&self, resource_id: &str) -> Vec<ScalingPolicy> {
        self.with_world(|w, _| w.aas_describe_policies(resource_id).unwrap_or_default())
    }

    /// The scheduled actions of a scalable target, without a call.
    pub fn scheduled_actions(&self, resource_id: &str) -> Vec<ScheduledAction> {
        self.with_world(|w, _| w.aas_describe_scheduled(resource_id).unwrap_or_default())
    }

    /// Every scaling activity of every target, oldest first.
    pub fn scaling_activities(&self) -> Vec<ActivityRecord> {
        self.with_world(|w, _| {
            let mut all: Vec<ActivityRecord> = w
                .autoscaling
                .targets
                .iter()
                .flat_map(|(id, t)| {
                    t.activities.iter().map(|a| ActivityRecord {
                        resource_id: id.clone(),
                        activity: a.clone(),
                    })
                })
                .collect();
            all.sort_by_key(|a| a.activity.start_time);
            all
        })
    }
}
