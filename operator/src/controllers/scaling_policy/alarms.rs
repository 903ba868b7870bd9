//! The CloudWatch alarms that drive step policies: named `ecs-operator/<namespace>/<name>/<policy>`,
//! created with the policy's ARN as their action, and re-put when missing, pointed elsewhere or
//! when the spec's alarm changed (the status records a hash of what was put: the CloudWatch
//! trait reads state and actions, not definitions). Alarms of removed step policies are deleted
//! before their policy. Pure, like `plan`.

use crds::common::OWNER_TAG;
use crds::scaling::{AlarmStatus, ScalingPolicyStatus, StepAlarm};
use sha2::{Digest, Sha256};

use super::observe::{Observed, ServiceTarget};
use super::step::Step;
use super::validate::{ValidatedSpec, enum_name};
use aws::cloudwatch::{Dimension, PutMetricAlarmInput};
use aws::ecs::Tag;

/// Seconds per period when the spec gives none.
const DEFAULT_PERIOD: i32 = 60;

/// The alarm name of a step policy of `owner` (`<namespace>/<name>`).
pub fn alarm_name(owner: &str, policy: &str) -> String {
    format!("ecs-operator/{owner}/{policy}")
}

/// Whether `name` is an alarm the operator creates for `owner`.
pub fn is_ours(owner: &str, name: &str) -> bool {
    name.starts_with(&format!("ecs-operator/{owner}/"))
}

/// The alarm names worth describing: the spec's step policies' and the ones the status knows.
pub fn candidates(spec: &ValidatedSpec, prev: &ScalingPolicyStatus) -> Vec<String> {
    let step_policies: Vec<&str> = spec
        .policies
        .iter()
        .filter(|p| p.alarm.is_some())
        .map(|p| p.name.as_str())
        .collect();
    known(&spec.owner, &step_policies, prev)
}

/// Alarm names of `owner`: those of `step_policies` and those `status` records.
pub fn known(owner: &str, step_policies: &[&str], status: &ScalingPolicyStatus) -> Vec<String> {
    let mut names: Vec<String> = step_policies
        .iter()
        .map(|p| alarm_name(owner, p))
        .chain(
            status
                .policies
                .iter()
                .flat_map(|p| p.alarms.iter())
                .filter(|a| is_ours(owner, &a.alarm_name))
                .map(|a| a.alarm_name.clone()),
        )
        .collect();
    names.sort();
    names.dedup();
    names
}

/// PutMetricAlarm for a step policy's alarm (actions filled in by `apply`). For the AWS/ECS
/// namespace the service's ClusterName and ServiceName dimensions are added unless given.
pub fn alarm_input(
    owner: &str,
    policy: &str,
    alarm: &StepAlarm,
    target: &ServiceTarget,
) -> PutMetricAlarmInput {
    let mut dimensions: Vec<Dimension> = alarm
        .dimensions
        .iter()
        .map(|d| Dimension {
            name: d.name.clone(),
            value: d.value.clone(),
        })
        .collect();
    if alarm.namespace == "AWS/ECS" {
        let cluster = target.cluster.rsplit('/').next().unwrap_or(&target.cluster);
        for (name, value) in [
            ("ClusterName", cluster),
            ("ServiceName", &target.service_name),
        ] {
            if !dimensions.iter().any(|d| d.name == name) {
                dimensions.push(Dimension {
                    name: name.into(),
                    value: value.to_owned(),
                });
            }
        }
    }
    dimensions.sort_by(|a, b| a.name.cmp(&b.name));
    PutMetricAlarmInput {
        alarm_name: alarm_name(owner, policy),
        metric_name: alarm.metric_name.clone(),
        namespace: alarm.namespace.clone(),
        statistic: enum_name(&alarm.statistic),
        dimensions,
        period: alarm.period.unwrap_or(DEFAULT_PERIOD),
        evaluation_periods: alarm.evaluation_periods.unwrap_or(1),
        threshold: alarm.threshold,
        comparison_operator: enum_name(&alarm.comparison_operator),
        alarm_actions: Vec::new(),
        tags: vec![Tag {
            key: OWNER_TAG.into(),
            value: owner.to_owned(),
        }],
    }
}

/// A short hash of an alarm definition.
pub fn spec_hash(input: &PutMetricAlarmInput) -> String {
    let json = serde_json::to_string(input).expect("an alarm input serializes");
    hex::encode(&Sha256::digest(json.as_bytes())[..8])
}

/// What the alarms need: deletions (to run before policy deletions), puts (after policy puts),
/// and what the status says about each step policy's alarm afterwards.
#[derive(Debug, Default)]
pub struct AlarmPlan {
    /// DeleteAlarms of alarms whose step policy is gone.
    pub deletions: Vec<Step>,
    /// PutMetricAlarm of missing or changed alarms.
    pub puts: Vec<Step>,
    /// (policy name, alarm status) of every step policy of the spec.
    pub statuses: Vec<(String, AlarmStatus)>,
}

/// Plans the step policies' alarms.
pub fn plan(
    spec: &ValidatedSpec,
    prev: &ScalingPolicyStatus,
    observed: &Observed,
    target: &ServiceTarget,
) -> AlarmPlan {
    let mut out = AlarmPlan::default();
    let wanted: Vec<String> = spec
        .policies
        .iter()
        .filter(|p| p.alarm.is_some())
        .map(|p| alarm_name(&spec.owner, &p.name))
        .collect();
    let stale: Vec<String> = observed
        .alarms
        .iter()
        .map(|a| a.alarm_name.clone())
        .filter(|n| is_ours(&spec.owner, n) && !wanted.contains(n))
        .collect();
    if !stale.is_empty() {
        out.deletions.push(Step::DeleteAlarms(stale));
    }
    for p in &spec.policies {
        let Some(alarm) = &p.alarm else {
            continue;
        };
        let input = alarm_input(&spec.owner, &p.name, alarm, target);
        let hash = spec_hash(&input);
        let live = observed
            .alarms
            .iter()
            .find(|a| a.alarm_name == input.alarm_name);
        let policy_arn = observed
            .policies
            .iter()
            .find(|x| x.policy_name == p.name)
            .map(|x| x.policy_arn.clone());
        let recorded = prev
            .policies
            .iter()
            .find(|x| x.policy_name == p.name)
            .and_then(|x| x.alarms.iter().find(|a| a.alarm_name == input.alarm_name))
            .and_then(|a| a.spec_hash.clone());
        let points_at_policy = match (live, &policy_arn) {
            (Some(a), Some(arn)) => a.alarm_actions.contains(arn),
            _ => false,
        };
        let needed = !points_at_policy || recorded.as_deref() != Some(hash.as_str());
        out.statuses.push((
            p.name.clone(),
            AlarmStatus {
                alarm_name: input.alarm_name.clone(),
                alarm_arn: live.map(|a| a.alarm_arn.clone()).unwrap_or_default(),
                spec_hash: Some(hash.clone()),
            },
        ));
        if needed {
            out.puts.push(Step::PutAlarm {
                input,
                policy_name: p.name.clone(),
                policy_arn,
            });
        }
    }
    out
}
