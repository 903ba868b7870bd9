//! Plan tests of a deployment ECS dropped before the status saw it end: judged by how its
//! service deployment ended, never by the last reason ECS gave while it ran.

use super::tests::{TD1, TD2, cond, settled, spec, status_with_deployment};
use super::*;
use crate::controllers::ecs_service::deployment::{DeploymentEnd, vanished};

#[test]
fn a_deployment_dropped_before_it_was_seen_ending_is_judged_by_its_service_deployment() {
    let s = spec("");
    // The status last saw ecs-svc/2 in progress; ECS has since rolled it back and dropped it.
    let mut prev = status_with_deployment("ecs-svc/2", TD2);
    prev.deployment.as_mut().unwrap().reason = Some("ECS deployment ecs-svc/2 in progress.".into());
    let mut observed = settled(&s, TD1);
    observed.desired_revision = Some(TD2.into());
    assert!(vanished(observed.service.as_ref().unwrap(), &prev, TD2));

    let reason = "ECS deployment circuit breaker: tasks failed to start.";
    observed.deployment_end = Some(DeploymentEnd::RolledBack(reason.into()));
    let p = plan(&s, &prev, &observed);
    assert!(p.step.is_none(), "{:?}", p.step);
    let stalled = cond(&p, "Stalled");
    assert!(stalled.status);
    assert!(
        stalled.message.contains("circuit breaker"),
        "{}",
        stalled.message
    );
    assert!(
        !stalled.message.contains("in progress"),
        "{}",
        stalled.message
    );
    let recorded = p.report.deployment.clone().unwrap();
    assert_eq!(recorded.rollout_state.as_deref(), Some("FAILED"));
    assert_eq!(recorded.reason.as_deref(), Some(reason));
    // Recorded: the next reconcile asks ECS no more.
    let prev = EcsServiceStatus {
        deployment: Some(recorded),
        failed_content_hash: p.report.failed_content_hash.clone(),
        ..prev
    };
    assert!(!vanished(observed.service.as_ref().unwrap(), &prev, TD2));

    // Replaced by an UpdateService from outside: not a failure, the spec's revision goes out again.
    let prev = status_with_deployment("ecs-svc/2", TD2);
    observed.deployment_end = Some(DeploymentEnd::Replaced);
    let p = plan(&s, &prev, &observed);
    assert!(p.report.failed_content_hash.is_none());
    assert!(
        matches!(&p.step, Some(Step::UpdateService { input, .. }) if input.task_definition.as_deref() == Some(TD2)),
        "{:?}",
        p.step
    );
}
