//! Service deployments and revisions of rolling deployments: consistent with Service.deployments,
//! through rollbacks, StopServiceDeployment and ContinueServiceDeployment.

use super::*;
use crate::ecs::api::{CONTINUE_SERVICE_DEPLOYMENT, STOP_SERVICE_DEPLOYMENT};
use aws::ecs::ServiceDeployment;

fn deployments(sim: &SimAws, name: &str) -> Vec<ServiceDeployment> {
    sim.with_world(|w, _| {
        let arns = w.ecs_list_service_deployments(CLUSTER, name).unwrap();
        w.ecs_describe_service_deployments(&arns).unwrap()
    })
}

fn revision_td(sim: &SimAws, arn: &str) -> String {
    sim.with_world(|w, _| w.ecs_describe_service_revisions(&[arn.to_owned()]).unwrap())
        .pop()
        .expect("revision exists")
        .task_definition
}

#[test]
fn each_deployment_is_a_service_deployment_with_a_revision() {
    let sim = sim();
    let created = create(&sim, "auth", "registry/auth:1", 2);
    let sds = deployments(&sim, "auth");
    assert_eq!(sds.len(), 1);
    let sd = &sds[0];
    assert!(
        sd.service_deployment_arn.starts_with(
            "arn:aws:ecs:eu-west-1:123456789012:service-deployment/event-booking/auth/"
        )
    );
    assert_eq!(sd.status.as_str(), "IN_PROGRESS");
    assert_eq!(sd.service_arn, created.service_arn);
    let target = sd.target_service_revision_arn.clone().unwrap();
    assert!(
        target
            .starts_with("arn:aws:ecs:eu-west-1:123456789012:service-revision/event-booking/auth/")
    );
    assert_eq!(
        revision_td(&sim, &target),
        created.task_definition.clone().unwrap()
    );
    run_until(&sim, "auth", 120, completed);
    let sd = &deployments(&sim, "auth")[0];
    assert_eq!(sd.status.as_str(), "SUCCESSFUL");
    assert!(sd.finished_at.is_some());

    let updated = deploy_image(&sim, "auth", "registry/auth:2");
    let sds = deployments(&sim, "auth");
    assert_eq!(sds.len(), 2, "newest first");
    assert_eq!(sds[0].status.as_str(), "IN_PROGRESS");
    assert_eq!(sds[0].source_service_revision_arns, vec![target]);
    let new_target = sds[0].target_service_revision_arn.clone().unwrap();
    assert_eq!(
        revision_td(&sim, &new_target),
        updated.task_definition.unwrap()
    );
}

#[test]
fn a_circuit_breaker_rollback_is_one_service_deployment() {
    let sim = sim();
    create(&sim, "ticket", "registry/ticket:1", 2);
    run_until(&sim, "ticket", 120, completed);
    deploy_image(&sim, "ticket", "registry/ticket:2-unhealthy");
    run_until(&sim, "ticket", 600, |s| s.deployments.len() == 3);
    let sd = &deployments(&sim, "ticket")[0];
    assert_eq!(sd.status.as_str(), "ROLLBACK_IN_PROGRESS");
    assert_eq!(
        sd.rollback_reason.as_deref(),
        Some("ECS deployment circuit breaker: tasks failed to start.")
    );
    run_until(&sim, "ticket", 300, completed);
    let sds = deployments(&sim, "ticket");
    assert_eq!(sds.len(), 2);
    assert_eq!(sds[0].status.as_str(), "ROLLBACK_SUCCESSFUL");
}

#[test]
fn stop_service_deployment_rolls_back_or_aborts() {
    let sim = sim();
    create(&sim, "payment", "registry/payment:1", 2);
    run_until(&sim, "payment", 120, completed);
    let good_td = peek(&sim, "payment").task_definition;
    deploy_image(&sim, "payment", "registry/payment:2");
    let arn = deployments(&sim, "payment")[0]
        .service_deployment_arn
        .clone();
    sim.call_now(&STOP_SERVICE_DEPLOYMENT, |w, now| {
        w.ecs_stop_service_deployment(now, &arn, "ROLLBACK")
    })
    .unwrap();
    assert_eq!(
        deployments(&sim, "payment")[0].status,
        "ROLLBACK_IN_PROGRESS".into()
    );
    run_until(&sim, "payment", 300, completed);
    assert_eq!(peek(&sim, "payment").task_definition, good_td);
    assert_eq!(
        deployments(&sim, "payment")[0].status,
        "ROLLBACK_SUCCESSFUL".into()
    );
    let again = sim.call_now(&STOP_SERVICE_DEPLOYMENT, |w, now| {
        w.ecs_stop_service_deployment(now, &arn, "ROLLBACK")
    });
    assert_eq!(again.unwrap_err().code, "ConflictException");

    deploy_image(&sim, "payment", "registry/payment:3");
    let arn = deployments(&sim, "payment")[0]
        .service_deployment_arn
        .clone();
    sim.call_now(&STOP_SERVICE_DEPLOYMENT, |w, now| {
        w.ecs_stop_service_deployment(now, &arn, "ABORT")
    })
    .unwrap();
    assert_eq!(deployments(&sim, "payment")[0].status.as_str(), "STOPPED");
    assert_eq!(
        primary(&peek(&sim, "payment"))
            .rollout_state
            .as_ref()
            .map(|s| s.as_str()),
        Some("FAILED")
    );

    let bad = sim.call_now(&STOP_SERVICE_DEPLOYMENT, |w, now| {
        w.ecs_stop_service_deployment(now, &arn, "PAUSE")
    });
    assert_eq!(bad.unwrap_err().code, "InvalidParameterException");
    let unknown = format!("{}x", arn.trim_end_matches(|c: char| c != '/'));
    let missing = sim.call_now(&STOP_SERVICE_DEPLOYMENT, |w, now| {
        w.ecs_stop_service_deployment(now, &unknown, "ABORT")
    });
    assert_eq!(
        missing.unwrap_err().code,
        "ServiceDeploymentNotFoundException"
    );
}

#[test]
fn rolling_deployments_have_no_hooks_to_continue() {
    let sim = sim();
    create(&sim, "event", "registry/event:1", 1);
    let arn = deployments(&sim, "event")[0].service_deployment_arn.clone();
    let err = sim
        .call_now(&CONTINUE_SERVICE_DEPLOYMENT, |w, now| {
            w.ecs_continue_service_deployment(now, &arn, "hook-1", "CONTINUE")
        })
        .unwrap_err();
    assert_eq!(err.code, "InvalidParameterException");
    let too_many: Vec<String> = (0..21).map(|i| format!("{arn}{i}")).collect();
    let err = sim
        .with_world(|w, _| w.ecs_describe_service_deployments(&too_many))
        .unwrap_err();
    assert_eq!(err.code, "InvalidParameterException");
    let unknown = sim
        .with_world(|w, _| w.ecs_describe_service_deployments(&[format!("{arn}x")]))
        .unwrap();
    assert!(unknown.is_empty(), "unknown ARNs are failures, not results");
}
