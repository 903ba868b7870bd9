//! Service lifecycle: create → COMPLETED, desiredCount changes, delete → DRAINING → INACTIVE,
//! drift and ownership hooks.

use super::*;
use crate::RUNNING_MIN_SECS;
use crate::ecs::api::{DELETE_SERVICE, DESCRIBE_SERVICES};
use aws::ecs::{ServiceLookup, Tag};

fn delete(sim: &SimAws, name: &str, force: bool) -> AwsResult<Service> {
    sim.call_now(&DELETE_SERVICE, |w, now| {
        w.ecs_delete_service(now, CLUSTER, name, force)
    })
}

fn desired(sim: &SimAws, name: &str, n: i32) -> Service {
    update(
        sim,
        UpdateServiceInput {
            cluster: CLUSTER.to_owned(),
            service: name.to_owned(),
            desired_count: Some(n),
            ..UpdateServiceInput::default()
        },
    )
    .expect("update desiredCount")
}

#[test]
fn create_starts_tasks_that_pass_health_checks_and_complete() {
    let sim = sim();
    let svc = create(&sim, "auth", "registry/auth:1.0", 2);
    assert_eq!(svc.status.as_str(), "ACTIVE");
    assert_eq!(
        svc.service_arn,
        "arn:aws:ecs:eu-west-1:123456789012:service/event-booking/auth"
    );
    assert_eq!(
        (svc.desired_count, svc.running_count, svc.pending_count),
        (2, 0, 2)
    );
    let d = primary(&svc);
    assert_eq!(
        d.rollout_state.as_ref().map(|s| s.as_str()),
        Some("IN_PROGRESS")
    );
    assert!(d.id.starts_with("ecs-svc/"));
    assert_eq!(
        d.rollout_state_reason.as_deref(),
        Some(&*format!("ECS deployment {} in progress.", d.id))
    );
    // AWS fills defaults into the configuration it reports.
    let dc = svc.config.deployment_configuration.as_ref().unwrap();
    assert_eq!(dc.strategy.as_deref(), Some("ROLLING"));
    assert_eq!(svc.config.platform_version.as_deref(), Some("LATEST"));

    advance(&sim, RUNNING_MIN_SECS as u64 - 1);
    let early = peek(&sim, "auth");
    assert_eq!(
        (early.running_count, early.pending_count),
        (0, 2),
        "nothing runs before 10 s"
    );

    let secs = run_until(&sim, "auth", 120, completed) + RUNNING_MIN_SECS as u64 - 1;
    assert!(
        (20..=40).contains(&secs),
        "RUNNING at 10–30 s plus 10 s of target group checks: {secs}"
    );
    let done = peek(&sim, "auth");
    assert_eq!((done.running_count, done.pending_count), (2, 0));
    assert_eq!(done.deployments.len(), 1);
    let d = primary(&done);
    assert_eq!(
        d.rollout_state_reason.as_deref(),
        Some(&*format!("ECS deployment {} completed.", d.id))
    );
}

#[test]
fn desired_count_changes_scale_without_a_new_deployment() {
    let sim = sim();
    create(&sim, "event", "registry/event:1.0", 2);
    run_until(&sim, "event", 120, completed);
    let before = primary(&peek(&sim, "event")).id.clone();

    let svc = desired(&sim, "event", 5);
    assert_eq!(svc.deployments.len(), 1);
    assert_eq!(primary(&svc).id, before);
    assert_eq!(
        (svc.desired_count, svc.running_count, svc.pending_count),
        (5, 2, 3)
    );
    run_until(&sim, "event", 120, |s| s.running_count == 5);
    assert!(
        completed(&peek(&sim, "event")),
        "a scale-out keeps the deployment COMPLETED"
    );

    let svc = desired(&sim, "event", 1);
    assert_eq!(
        (svc.desired_count, svc.running_count),
        (1, 1),
        "scale-in stops tasks at once"
    );
    assert_eq!(primary(&svc).id, before);
    advance(&sim, 60);
    assert_eq!(
        tasks(&sim, "event").total,
        1,
        "stopped tasks are gone after draining"
    );
}

#[test]
fn delete_needs_force_or_zero_then_drains_to_inactive() {
    let sim = sim();
    create(&sim, "ticket", "registry/ticket:1.0", 2);
    run_until(&sim, "ticket", 120, completed);

    let err = delete(&sim, "ticket", false).unwrap_err();
    assert_eq!(
        err.message,
        "The service cannot be stopped while it is scaled above 0."
    );

    let svc = delete(&sim, "ticket", true).unwrap();
    assert_eq!(
        (svc.status.as_str(), svc.desired_count, svc.running_count),
        ("DRAINING", 0, 0)
    );
    assert_eq!(
        tasks(&sim, "ticket").total,
        2,
        "tasks drain from the target group"
    );
    let err = delete(&sim, "ticket", true).unwrap_err();
    assert_eq!(err.code, "ServiceNotActiveException");

    let secs = run_until(&sim, "ticket", 120, |s| s.status.as_str() == "INACTIVE");
    assert!(
        (30..=31).contains(&secs),
        "the target group's 30 s deregistration delay: {secs}"
    );
    let found = sim
        .call_now(&DESCRIBE_SERVICES, |w, now| {
            w.ecs_describe_services(now, CLUSTER, &["ticket".to_owned(), "nope".to_owned()])
        })
        .unwrap();
    assert!(matches!(&found[0], ServiceLookup::Found(s) if s.status.as_str() == "INACTIVE"));
    assert_eq!(found[1], ServiceLookup::Missing);

    // An INACTIVE name can be created again.
    let again = create(&sim, "ticket", "registry/ticket:1.1", 1);
    assert_eq!(again.status.as_str(), "ACTIVE");
}

#[test]
fn a_service_scaled_to_zero_deletes_without_force() {
    let sim = sim();
    create(&sim, "payment", "registry/payment:1.0", 1);
    run_until(&sim, "payment", 120, completed);
    desired(&sim, "payment", 0);
    let svc = delete(&sim, "payment", false).unwrap();
    assert_eq!(svc.status.as_str(), "DRAINING");
    let secs = run_until(&sim, "payment", 120, |s| s.status.as_str() == "INACTIVE");
    assert!(secs <= crate::DRAIN_MIN_SECS as u64 + 30, "{secs}");
}

#[test]
fn hooks_set_up_drift_and_foreign_services_without_counting_calls() {
    let sim = sim();
    create(&sim, "notification", "registry/notification:1.0", 2);
    run_until(&sim, "notification", 120, completed);
    sim.reset_calls();

    let svc = sim.set_desired_count(CLUSTER, "notification", 4).unwrap();
    assert_eq!(svc.desired_count, 4);
    let owner = Tag {
        key: crds::OWNER_TAG.to_owned(),
        value: "other-team/notification".to_owned(),
    };
    sim.set_service_tags(CLUSTER, "notification", vec![owner.clone()])
        .unwrap();
    assert_eq!(peek(&sim, "notification").tags, vec![owner.clone()]);

    let foreign = sim
        .create_foreign_service(CLUSTER, "legacy", vec![])
        .unwrap();
    assert!(foreign.tags.is_empty());
    assert_eq!(foreign.desired_count, 1);
    run_until(&sim, "legacy", 120, completed);
    assert!(
        sim.calls().is_empty(),
        "hooks are not API calls: {:?}",
        sim.calls()
    );
    assert_eq!(sim.write_calls(), 0);

    let summary = sim.snapshot();
    assert_eq!(summary.len(), 2);
    assert!(
        summary
            .iter()
            .all(|s| s.rollout_state.as_ref().map(|s| s.as_str()) == Some("COMPLETED"))
    );
}

#[test]
fn a_missing_role_fails_tasks_and_trips_the_circuit_breaker() {
    let sim = sim();
    let mut input = td_input("auth", "registry/auth:1.0");
    input.execution_role_arn = Some("arn:aws:iam::123456789012:role/typo".to_owned());
    let td = register(&sim, input);
    try_create(&sim, create_input(&sim, "auth", &td, 2)).unwrap();
    run_until(&sim, "auth", 300, |s| {
        primary(s).rollout_state.as_ref().map(|s| s.as_str()) == Some("FAILED")
    });
    let svc = peek(&sim, "auth");
    assert!(primary(&svc).failed_tasks >= 3);
    assert_eq!(
        svc.running_count, 0,
        "nothing to roll back to: the first deployment failed"
    );
}
