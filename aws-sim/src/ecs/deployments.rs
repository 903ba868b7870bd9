//! Deployment records of a service, shared by every strategy: starting a deployment (with its
//! service deployment and service revision), failing it (rollback or stop) and completing it
//! (older deployments INACTIVE). Decides nothing about tasks.

use crate::arn;
use crate::ecs::env::EcsEnv;
use crate::ecs::model::{
    CompletedRef, Rollout, ServiceDeploymentRec, SimDeployment, SimService, sd_status,
};
use crate::time::Secs;

/// What starts a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cause {
    /// CreateService, or an UpdateService that needs new tasks: a new service deployment.
    Update,
    /// A rollback to `revision_arn`, part of the failed deployment's service deployment.
    Rollback {
        /// rolloutStateReason of the rollback deployment.
        reason: String,
        /// The service revision it goes back to.
        revision_arn: String,
    },
}

/// Starts a new PRIMARY deployment of `task_definition`; the previous deployments become ACTIVE
/// and are drained by the following scheduling steps.
pub(crate) fn start_deployment(
    svc: &mut SimService,
    now: Secs,
    env: &EcsEnv<'_>,
    task_definition: &str,
    cause: Cause,
) {
    let seq = svc.next_deployment_seq;
    svc.next_deployment_seq += 1;
    let id = arn::ecs_deployment_id(&svc.arn, seq);
    let (sd_index, revision_arn, reason, is_rollback) = match cause {
        Cause::Update => {
            if let Some(prev) = svc.primary().map(|d| d.sd_index) {
                let sd = &mut svc.service_deployments[prev];
                if sd.is_active() {
                    sd.status = sd_status::STOPPED;
                    sd.status_reason = Some("A newer service deployment started.".to_owned());
                    sd.finished_at = Some(now);
                }
            }
            let seq_s = seq.to_string();
            let revision_id = arn::numeric_id(&[&svc.arn, &seq_s, "revision"]);
            let revision_arn = arn::service_revision_arn(
                env.region,
                env.account,
                &svc.cluster,
                &svc.name,
                &revision_id,
            );
            svc.revisions
                .insert(revision_arn.clone(), task_definition.to_owned());
            let mut sources: Vec<String> = svc
                .deployments
                .iter()
                .map(|d| d.revision_arn.clone())
                .collect();
            sources.dedup();
            let sd_id = arn::alnum_id(&[&svc.arn, &seq_s, "service-deployment"]);
            svc.service_deployments.push(ServiceDeploymentRec {
                arn: arn::service_deployment_arn(
                    env.region,
                    env.account,
                    &svc.cluster,
                    &svc.name,
                    &sd_id,
                ),
                status: sd_status::IN_PROGRESS,
                status_reason: None,
                target_revision_arn: revision_arn.clone(),
                source_revision_arns: sources,
                created_at: now,
                finished_at: None,
                rollback_reason: None,
            });
            let reason = format!("ECS deployment {id} in progress.");
            (
                svc.service_deployments.len() - 1,
                revision_arn,
                reason,
                false,
            )
        }
        Cause::Rollback {
            reason,
            revision_arn,
        } => {
            let sd_index = svc.primary().map_or(0, |d| d.sd_index);
            (sd_index, revision_arn, reason, true)
        }
    };
    svc.deployments.push(SimDeployment {
        seq,
        id,
        task_definition: task_definition.to_owned(),
        revision_arn,
        rollout: Rollout::InProgress,
        reason: Some(reason),
        failed_tasks: 0,
        created_at: now,
        updated_at: now,
        sd_index,
        is_rollback,
        launch_stopped: false,
    });
}

/// Marks the PRIMARY deployment FAILED; rolls back to the last COMPLETED deployment when asked
/// and possible, otherwise stops launching for it.
pub(crate) fn fail_primary(
    svc: &mut SimService,
    now: Secs,
    env: &EcsEnv<'_>,
    reason: String,
    rollback: bool,
    source: &str,
) {
    let last = svc.last_completed.clone();
    let Some(primary) = svc.primary_mut() else {
        return;
    };
    primary.rollout = Rollout::Failed;
    primary.reason = Some(reason.clone());
    primary.updated_at = now;
    let (sd_index, is_rollback) = (primary.sd_index, primary.is_rollback);
    match last.filter(|_| rollback && !is_rollback) {
        Some(last) => {
            let sd = &mut svc.service_deployments[sd_index];
            sd.status = sd_status::ROLLBACK_IN_PROGRESS;
            sd.status_reason = Some(reason.clone());
            sd.rollback_reason = Some(reason);
            let cause = Cause::Rollback {
                reason: format!(
                    "ECS deployment {source}: rolling back to deploymentId {}.",
                    last.deployment_id
                ),
                revision_arn: last.revision_arn,
            };
            start_deployment(svc, now, env, &last.task_definition, cause);
        }
        None => {
            if let Some(primary) = svc.primary_mut() {
                primary.launch_stopped = true;
            }
            let sd = &mut svc.service_deployments[sd_index];
            sd.status = if is_rollback {
                sd_status::ROLLBACK_FAILED
            } else {
                sd_status::STOPPED
            };
            sd.status_reason = Some(reason);
            sd.finished_at = Some(now);
        }
    }
}

/// Marks the PRIMARY deployment COMPLETED: older deployments become INACTIVE (dropped), its
/// service deployment SUCCESSFUL (ROLLBACK_SUCCESSFUL for a rollback), and it becomes the
/// rollback target.
pub(crate) fn complete_primary(svc: &mut SimService, now: Secs) {
    let Some(p_seq) = svc.primary().map(|d| d.seq) else {
        return;
    };
    svc.deployments.retain(|d| d.seq == p_seq);
    let Some(primary) = svc.primary_mut() else {
        return;
    };
    primary.rollout = Rollout::Completed;
    primary.reason = Some(format!("ECS deployment {} completed.", primary.id));
    primary.updated_at = now;
    let completed = CompletedRef {
        deployment_id: primary.id.clone(),
        task_definition: primary.task_definition.clone(),
        revision_arn: primary.revision_arn.clone(),
    };
    let (sd_index, is_rollback) = (primary.sd_index, primary.is_rollback);
    let sd = &mut svc.service_deployments[sd_index];
    if sd.is_active() {
        sd.status = if is_rollback {
            sd_status::ROLLBACK_SUCCESSFUL
        } else {
            sd_status::SUCCESSFUL
        };
        sd.finished_at = Some(now);
    }
    svc.last_completed = Some(completed);
}
