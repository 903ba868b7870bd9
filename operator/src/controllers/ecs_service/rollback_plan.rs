//! The EcsService plan while its ReleaseGroup has rolled the release back: the revision it ran
//! before the release, and nothing else of the spec until a new release id.

use crds::common::condition;

use super::observe::Observed;
use super::outcome::{Plan, Report, Step, progressing, settled_revision, short_arn, stalled};
use super::release;
use super::validate::ValidatedSpec;
use crate::controllers::conditions::Desired;
use crate::controllers::runtime::Requeue;
use aws::ecs::{DeploymentController, UpdateServiceInput};

/// The plan while the group has rolled this member's release back: back to the revision it ran
/// before the release (through its BlueGreenRollout when it has one), and nothing else of the
/// spec until a new release id.
pub fn plan_rollback(
    spec: &ValidatedSpec,
    observed: &Observed,
    mut report: Report,
    rollback: &release::GroupRollback,
) -> Plan {
    let why = format!(
        "release {} was rolled back because member {} failed: {}",
        rollback.release,
        rollback.failed_member,
        rollback.reason.trim_end_matches('.')
    );
    let target = (report.release.as_ref()).and_then(|r| r.previous_task_definition_arn.clone());
    let Some(service) = observed.service.as_ref() else {
        return rolled_back(report, format!("{why}; the service was not created"));
    };
    let live = service.task_definition.as_deref().map(short_arn);
    let Some(target) = target else {
        return rolled_back(
            report,
            format!(
                "{why}; the service joined the release with no earlier revision and is left on {}",
                live.unwrap_or("nothing")
            ),
        );
    };
    if let (Some(_), Some(r)) = (&observed.rollout, report.release.as_mut()) {
        // Kept for as long as the release stays rolled back: the rollout releases this
        // revision instead of the spec's.
        r.rollback_to = Some(target.clone());
    }
    if service.task_definition.as_deref() != Some(target.as_str()) {
        if let Some(rollout) = &observed.rollout {
            report.requeue = Requeue::Poll;
            let message = format!(
                "{why}; BlueGreenRollout {rollout} releases {} again",
                short_arn(&target)
            );
            return progressing(report, None, release::ROLLING_BACK, message);
        }
        if service.deployment_controller == DeploymentController::CodeDeploy {
            let message = format!(
                "{why}; ECS service {} uses the CODE_DEPLOY deployment controller and no BlueGreenRollout releases it, so it cannot go back to {}",
                spec.service_name,
                short_arn(&target)
            );
            return stalled(report, "NoCodeDeployRollout", message);
        }
        let input = UpdateServiceInput {
            cluster: spec.cluster.clone(),
            service: spec.service_name.clone(),
            task_definition: Some(target.clone()),
            ..UpdateServiceInput::default()
        };
        let step = Step::UpdateService {
            input,
            why: vec![format!(
                "taskDefinition {} (release {} rolled back)",
                short_arn(&target),
                rollback.release
            )],
        };
        let message = format!("{why}; deploying {} again", short_arn(&target));
        return progressing(report, Some(step), release::ROLLING_BACK, message);
    }
    if settled_revision(service).is_none() {
        report.requeue = Requeue::Poll;
        let message = format!("{why}; waiting for {} to settle", short_arn(&target));
        return progressing(report, None, release::ROLLING_BACK, message);
    }
    report.last_good_task_definition_arn = Some(target.clone());
    rolled_back(
        report,
        format!(
            "{why}; the service runs {} as before the release. A new release id rolls out again.",
            short_arn(&target)
        ),
    )
}

fn rolled_back(mut report: Report, message: String) -> Plan {
    report.conditions = vec![
        Desired::no(condition::READY, release::ROLLED_BACK, message.clone()),
        Desired::no(condition::RECONCILING, release::ROLLED_BACK, ""),
        Desired::yes(condition::STALLED, release::ROLLED_BACK, message),
        Desired::no(
            condition::DEGRADED,
            release::ROLLED_BACK,
            "the revision before the release serves",
        ),
    ];
    if report.requeue != Requeue::Poll {
        report.requeue = Requeue::Idle;
    }
    Plan { step: None, report }
}
