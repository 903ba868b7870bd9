//! The EcsService status: computed from the plan's report, the step's result and AWS, and
//! written only when it changed.

use crds::ecs_service::EcsServiceStatus;
use jiff::Timestamp;

use super::apply::Applied;
use super::deployment::tracked_deployment;
use super::observe::Observed;
use super::plan::Report;
use crate::controllers::conditions::merge;

/// The status after this reconcile.
pub fn compute(
    prev: &EcsServiceStatus,
    content_hash: &str,
    report: &Report,
    applied: &Applied,
    observed: &Observed,
    generation: Option<i64>,
    now: Timestamp,
) -> EcsServiceStatus {
    let service = applied.service.as_ref().or(observed.service.as_ref());
    let desired = applied
        .registered
        .as_ref()
        .map(|td| td.task_definition_arn.clone())
        .or_else(|| report.desired_task_definition_arn.clone());
    let deployment = match (service, desired.as_deref()) {
        (Some(s), Some(d)) => tracked_deployment(s, prev, d, observed.deployment_end.as_ref())
            .or_else(|| report.deployment.clone()),
        _ => report.deployment.clone(),
    };
    EcsServiceStatus {
        observed_generation: generation,
        conditions: merge(&prev.conditions, &report.conditions, generation, now),
        aws_account: prev.aws_account.clone(),
        service_arn: service
            .map(|s| s.service_arn.clone())
            .or_else(|| prev.service_arn.clone()),
        task_definition_arn: service.and_then(|s| s.task_definition.clone()),
        desired_task_definition_arn: desired,
        last_good_task_definition_arn: report.last_good_task_definition_arn.clone(),
        content_hash: Some(content_hash.to_string()),
        failed_content_hash: report.failed_content_hash.clone(),
        desired_count: service.map(|s| s.desired_count),
        running_count: service.map(|s| s.running_count),
        pending_count: service.map(|s| s.pending_count),
        deployment,
        release: report.release.clone(),
    }
}
