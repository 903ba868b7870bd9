//! The EcsService plan: from the validated spec, the previous status and what AWS shows,
//! decide at most one mutating step and the conditions to report. Pure: no IO, no clock.

use crds::common::{ManagementPolicy, OWNER_TAG, condition};
use crds::ecs_service::EcsServiceStatus;

use super::deployment::{deployment_failure, tracked_deployment};
use super::observe::Observed;
pub use super::outcome::{Plan, Report, Step, short_arn};
use super::outcome::{progressing, ready_conditions, settled_revision, stalled};
use super::release;
use super::render;
use super::rollback_plan::plan_rollback;
use super::validate::ValidatedSpec;
use crate::controllers::conditions::Desired;
use crate::controllers::ownership::{self, Verdict};
use crate::controllers::runtime::Requeue;
use aws::ecs::{
    CreateServiceInput, DeploymentController, Service, ServiceStatus, Tag, UpdateServiceInput,
};

/// Plans one reconcile of an EcsService.
pub fn plan(spec: &ValidatedSpec, prev: &EcsServiceStatus, observed: &Observed) -> Plan {
    let failure_key = release::failure_key(&spec.content_hash, observed.membership.as_ref());
    let live = observed
        .service
        .as_ref()
        .and_then(|s| s.task_definition.as_deref());
    let base = Report {
        conditions: Vec::new(),
        desired_task_definition_arn: observed.desired_revision.clone(),
        last_good_task_definition_arn: prev.last_good_task_definition_arn.clone(),
        failed_content_hash: prev
            .failed_content_hash
            .clone()
            .filter(|h| *h == failure_key),
        deployment: None,
        release: release::record(prev, observed.membership.as_ref(), live),
        requeue: Requeue::Idle,
    };
    match spec.management_policy {
        ManagementPolicy::ObserveOnly => plan_observe_only(spec, observed, base),
        ManagementPolicy::Manage => plan_manage(spec, prev, observed, base),
    }
}

fn plan_manage(
    spec: &ValidatedSpec,
    prev: &EcsServiceStatus,
    observed: &Observed,
    mut report: Report,
) -> Plan {
    let service = observed.service.as_ref();
    if let Some(s) = service {
        let what = format!(
            "ECS service {} in cluster {}",
            spec.service_name, spec.cluster
        );
        match ownership::existing(
            &what,
            s.tag(OWNER_TAG),
            &spec.owner,
            spec.adoption_policy,
            "use another serviceName",
        ) {
            Verdict::Act => {}
            Verdict::Adopt => {
                let step = Step::AdoptService {
                    arn: s.service_arn.clone(),
                    tags: vec![Tag {
                        key: OWNER_TAG.into(),
                        value: spec.owner.clone(),
                    }],
                };
                return progressing(
                    report,
                    Some(step),
                    "Adopting",
                    "tagging the existing ECS service to take it over",
                );
            }
            Verdict::Refuse(r) => return stalled(report, r.reason, r.message),
        }
        if s.status == ServiceStatus::Draining {
            report.requeue = Requeue::Poll;
            return progressing(
                report,
                None,
                "WaitingForDeletion",
                "a service of this name is draining in ECS; it will be created again once it is INACTIVE",
            );
        }
    }
    if let Some(rollback) = (observed.membership.as_ref()).and_then(|m| m.rollback.as_ref()) {
        return plan_rollback(spec, observed, report, rollback);
    }

    let desired = observed.desired_revision.clone();
    let needs_revision =
        service.is_none_or(|s| s.task_definition.is_none() || s.task_definition != desired);
    let blocked: Vec<&str> = observed
        .dependencies
        .iter()
        .filter(|d| !d.ready)
        .map(|d| d.name.as_str())
        .collect();
    // With a rollout, the rollout judges releases (and reports failures in rollout_failure).
    let failed_now = service
        .filter(|_| observed.rollout.is_none())
        .and_then(|s| {
            deployment_failure(
                s,
                prev,
                desired.as_deref(),
                observed.deployment_end.as_ref(),
            )
        });
    let failure_key = release::failure_key(&spec.content_hash, observed.membership.as_ref());
    if failed_now.is_some() {
        report.failed_content_hash = Some(failure_key.clone());
    }
    if observed.rollout.is_some() {
        report.failed_content_hash = None;
    }
    let hash_failed = report.failed_content_hash.as_deref() == Some(failure_key.as_str());
    // A revision that failed is not rolled out again: its failure is reported, not a wait.
    let failed = hash_failed || observed.rollout_failure.is_some();
    if needs_revision && !failed && !blocked.is_empty() {
        report.requeue = Requeue::Wait;
        return progressing(
            report,
            None,
            "WaitingForDependencies",
            format!(
                "waiting for {} to be Ready before rolling out",
                blocked.join(", ")
            ),
        );
    }
    let Some(desired) = desired else {
        let step = Step::RegisterTaskDefinition(spec.task_definition.clone());
        return progressing(
            report,
            Some(step),
            "RegisteringTaskDefinition",
            format!("registering a revision of {}", spec.task_definition.family),
        );
    };
    let Some(service) = service else {
        let step = Step::CreateService(CreateServiceInput {
            cluster: spec.cluster.clone(),
            service_name: spec.service_name.clone(),
            task_definition: desired.clone(),
            desired_count: spec.desired_count,
            config: render::with_engine(&spec.config, observed.engine.as_ref()),
            deployment_controller: observed
                .engine
                .as_ref()
                .and_then(|e| e.deployment_controller()),
            tags: spec.tags.clone(),
            client_token: Some(spec.content_hash.clone()),
        });
        return progressing(
            report,
            Some(step),
            "Creating",
            format!(
                "creating ECS service {} on {}",
                spec.service_name,
                short_arn(&desired)
            ),
        );
    };

    report.deployment =
        tracked_deployment(service, prev, &desired, observed.deployment_end.as_ref());
    let mut update = UpdateServiceInput {
        cluster: spec.cluster.clone(),
        service: spec.service_name.clone(),
        ..UpdateServiceInput::default()
    };
    let mut why = Vec::new();
    if observed.rollout.is_none()
        && !hash_failed
        && service.task_definition.as_deref() != Some(desired.as_str())
    {
        if service.deployment_controller == DeploymentController::CodeDeploy {
            // ECS refuses the call: only a CodeDeploy deployment changes the revision.
            let message = format!(
                "ECS service {} uses the CODE_DEPLOY deployment controller and no BlueGreenRollout releases it, so {} cannot be deployed: create a BlueGreenRollout with strategy.codeDeploy for this EcsService, or delete and re-create it to use rolling updates",
                spec.service_name,
                short_arn(&desired)
            );
            return stalled(report, "NoCodeDeployRollout", message);
        }
        update.task_definition = Some(desired.clone());
        why.push(format!("taskDefinition {}", short_arn(&desired)));
    }
    // An engine owns some fields: its own are compared too, and with CODE_DEPLOY the
    // network, load balancers and platform version only change through CodeDeploy.
    let desired_config = match &observed.engine {
        Some(engine) => engine.updatable(&spec.config),
        None => spec.config.clone(),
    };
    let mut drift = render::config_drift(&desired_config, &service.config);
    if let Some(engine) = &observed.engine {
        drift.extend(engine.drift(&service.config));
    }
    if !drift.is_empty() {
        if let (Some(rollout), Some(release)) = (&observed.rollout, &observed.release_in_flight) {
            // A configuration change makes ECS start a deployment of its own, which would
            // replace the release at its gate: it waits until the release has ended.
            let fields: Vec<String> = drift.iter().map(|f| f.to_string()).collect();
            report.requeue = Requeue::Wait;
            return progressing(
                report,
                None,
                "WaitingForRelease",
                format!(
                    "holding the change of {} until BlueGreenRollout {rollout} has finished releasing {}",
                    fields.join(", "),
                    short_arn(release)
                ),
            );
        }
        update.config = Some(desired_config);
        why.extend(drift.iter().map(|f| f.to_string()));
    }
    let count_owned_elsewhere = observed.autoscaled || observed.scalable_target_left.is_some();
    if !count_owned_elsewhere && service.desired_count != spec.desired_count {
        update.desired_count = Some(spec.desired_count);
        why.push(format!(
            "desiredCount {} → {}",
            service.desired_count, spec.desired_count
        ));
    }
    if !why.is_empty() {
        let message = format!("updating ECS service: {}", why.join(", "));
        return progressing(
            report,
            Some(Step::UpdateService { input: update, why }),
            "Updating",
            message,
        );
    }

    if hash_failed {
        let reason = report
            .deployment
            .as_ref()
            .and_then(|d| d.reason.clone())
            .unwrap_or_else(|| "the deployment failed".into());
        let live = service
            .task_definition
            .as_deref()
            .map(short_arn)
            .unwrap_or("nothing");
        let message = format!(
            "revision {} failed: {}; the service runs {live}. Change the spec to roll out again.",
            short_arn(&desired),
            reason.trim_end_matches('.')
        );
        report.conditions = vec![
            Desired::no(condition::READY, "DeploymentFailed", message.clone()),
            Desired::no(
                condition::RECONCILING,
                "DeploymentFailed",
                "nothing to do until the spec changes",
            ),
            Desired::yes(condition::STALLED, "DeploymentFailed", message.clone()),
            Desired::yes(condition::DEGRADED, "DeploymentFailed", message),
        ];
        settle_after_failure(service, &mut report);
        return Plan { step: None, report };
    }
    if let (Some(rollout), Some(failure)) = (&observed.rollout, &observed.rollout_failure) {
        let live = service
            .task_definition
            .as_deref()
            .map(short_arn)
            .unwrap_or("nothing");
        let message = format!(
            "BlueGreenRollout {rollout} rolled back {}: {failure}; the service runs {live}. Change the spec or retry the rollout.",
            short_arn(&desired)
        );
        report.conditions = vec![
            Desired::no(condition::READY, "RolloutFailed", message.clone()),
            Desired::no(condition::RECONCILING, "RolloutFailed", ""),
            Desired::yes(condition::STALLED, "RolloutFailed", message.clone()),
            Desired::yes(condition::DEGRADED, "RolloutFailed", message),
        ];
        settle_after_failure(service, &mut report);
        return Plan { step: None, report };
    }
    if let Some(rollout) = &observed.rollout
        && service.task_definition.as_deref() != Some(desired.as_str())
    {
        report.requeue = Requeue::Poll;
        return progressing(
            report,
            None,
            "WaitingForRollout",
            format!(
                "BlueGreenRollout {rollout} releases {}",
                short_arn(&desired)
            ),
        );
    }
    let primary = service.primary_deployment();
    if settled_revision(service).is_none() {
        report.requeue = Requeue::Poll;
        let message = match primary {
            Some(d) => format!(
                "{} of {} tasks running on {}",
                d.running_count,
                d.desired_count,
                short_arn(&d.task_definition)
            ),
            None => "waiting for ECS to start the deployment".into(),
        };
        return progressing(report, None, "DeploymentInProgress", message);
    }

    report.last_good_task_definition_arn = Some(desired.clone());
    let step = stale_revisions(spec, prev, observed, &desired).map(Step::DeregisterTaskDefinitions);
    let mut message = format!(
        "{} tasks running on {}",
        service.running_count,
        short_arn(&desired)
    );
    if let Some(target) = &observed.scalable_target_left {
        message.push_str(&format!(
            "; desiredCount is left to Application Auto Scaling, which still has scalable target {target} for the service (a ScalingPolicy deleted with deletionPolicy Retain leaves it): deregister it for spec.desiredCount to apply"
        ));
    }
    report.conditions = ready_conditions("Deployed", message);
    Plan { step, report }
}

fn plan_observe_only(spec: &ValidatedSpec, observed: &Observed, mut report: Report) -> Plan {
    let Some(service) = observed.service.as_ref() else {
        return stalled(
            report,
            "NotFound",
            format!(
                "ECS service {} does not exist in cluster {}; managementPolicy ObserveOnly never creates it",
                spec.service_name, spec.cluster
            ),
        );
    };
    let mut drift: Vec<String> = Vec::new();
    if observed.live_content_hash.as_deref() != Some(spec.content_hash.as_str()) {
        drift.push("taskDefinition".into());
    }
    drift.extend(
        render::config_drift(&spec.config, &service.config)
            .iter()
            .map(|f| f.to_string()),
    );
    if !observed.autoscaled && service.desired_count != spec.desired_count {
        drift.push("desiredCount".into());
    }
    let settled = service.deployments.len() == 1;
    let mut conditions = if settled {
        ready_conditions(
            "Observed",
            format!(
                "{} tasks running; ObserveOnly: the operator never writes",
                service.running_count
            ),
        )
    } else {
        report.requeue = Requeue::Poll;
        vec![
            Desired::no(
                condition::READY,
                "DeploymentInProgress",
                "an ECS deployment is in progress",
            ),
            Desired::yes(
                condition::RECONCILING,
                "DeploymentInProgress",
                "an ECS deployment is in progress",
            ),
            Desired::no(condition::STALLED, "DeploymentInProgress", ""),
        ]
    };
    conditions.push(if drift.is_empty() {
        Desired::no(condition::DRIFTED, "InSync", "AWS matches the spec")
    } else {
        Desired::yes(
            condition::DRIFTED,
            "DriftDetected",
            format!("AWS differs from the spec in: {}", drift.join(", ")),
        )
    });
    report.conditions = conditions;
    Plan { step: None, report }
}

/// Revisions to deregister once the desired revision is deployed: the operator's own, beyond
/// the newest `revisionHistoryLimit`, never the live, desired, last good or deploying ones.
fn stale_revisions(
    spec: &ValidatedSpec,
    prev: &EcsServiceStatus,
    observed: &Observed,
    desired: &str,
) -> Option<Vec<String>> {
    let revisions = observed.family_revisions.as_ref()?;
    let service = observed.service.as_ref()?;
    let mut protected: Vec<&str> = vec![desired];
    protected.extend(service.task_definition.as_deref());
    protected.extend(prev.last_good_task_definition_arn.as_deref());
    protected.extend(
        service
            .deployments
            .iter()
            .map(|d| d.task_definition.as_str()),
    );
    let mut owned: Vec<_> = revisions
        .iter()
        .filter(|r| {
            r.owner.as_deref() == Some(spec.owner.as_str()) && !protected.contains(&r.arn.as_str())
        })
        .collect();
    owned.sort_by_key(|r| std::cmp::Reverse(r.revision));
    let stale: Vec<String> = owned
        .into_iter()
        .skip(spec.revision_history_limit)
        .map(|r| r.arn.clone())
        .collect();
    (!stale.is_empty()).then_some(stale)
}

/// After a failed release the service rolls back: poll while it has more than one deployment,
/// and record the revision it settled on as the last good one. Status then follows what AWS says, so a lost
/// status write before the failure leaves the same record as one that landed.
fn settle_after_failure(service: &Service, report: &mut Report) {
    if let Some(live) = settled_revision(service) {
        report.last_good_task_definition_arn = Some(live.to_string());
    }
    report.requeue = if service.deployments.len() > 1 {
        Requeue::Poll
    } else {
        Requeue::Idle
    };
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "plan_engine_tests.rs"]
mod engine_tests;

#[cfg(test)]
#[path = "plan_unseen_tests.rs"]
mod unseen_tests;
