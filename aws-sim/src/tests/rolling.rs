//! Rolling deployments: maximumPercent / minimumHealthyPercent at every second, the circuit
//! breaker with and without rollback, alarms, grace period, what triggers a new deployment.

use super::*;
use crate::ALARM_ALARM;
use aws::ecs::DeploymentAlarms;

fn set_percents(sim: &SimAws, name: &str, min: i32, max: i32) {
    let mut cfg = peek(sim, name).config;
    let dc = cfg.deployment_configuration.as_mut().unwrap();
    dc.minimum_healthy_percent = Some(min);
    dc.maximum_percent = Some(max);
    update(
        sim,
        UpdateServiceInput {
            cluster: CLUSTER.to_owned(),
            service: name.to_owned(),
            config: Some(cfg),
            ..UpdateServiceInput::default()
        },
    )
    .unwrap();
}

/// Deploys a new image to a steady service of 4 and checks both limits every second.
fn rolling_respects_limits(min_pct: i32, max_pct: i32) {
    let sim = sim();
    create(&sim, "auth", "registry/auth:1.0", 4);
    run_until(&sim, "auth", 120, completed);
    set_percents(&sim, "auth", min_pct, max_pct);
    assert_eq!(
        peek(&sim, "auth").deployments.len(),
        1,
        "a percent change is no new deployment"
    );

    let svc = deploy_image(&sim, "auth", "registry/auth:2.0");
    let new_td = primary(&svc).task_definition.clone();
    assert!(new_td.ends_with("task-definition/auth:2"), "{new_td}");
    let (max_total, min_healthy) = (
        (4 * max_pct / 100) as usize,
        (4 * min_pct + 99) as usize / 100,
    );
    let mut saw_two_deployments = false;
    for second in 0..=900 {
        let t = tasks(&sim, "auth");
        assert!(
            t.total <= max_total,
            "{second}s: {} tasks > max {max_total}",
            t.total
        );
        assert!(
            t.healthy >= min_healthy,
            "{second}s: {} healthy < min {min_healthy}",
            t.healthy
        );
        let svc = peek(&sim, "auth");
        saw_two_deployments |= svc.deployments.len() == 2;
        if completed(&svc) {
            assert_eq!(svc.deployments.len(), 1, "old deployment INACTIVE and gone");
            assert_eq!(svc.task_definition.as_deref(), Some(new_td.as_str()));
            assert_eq!((svc.running_count, svc.pending_count), (4, 0));
            assert!(
                saw_two_deployments,
                "PRIMARY and ACTIVE coexisted during the rollout"
            );
            return;
        }
        advance(&sim, 1);
    }
    panic!(
        "rollout {min_pct}/{max_pct} did not complete: {:#?}",
        peek(&sim, "auth")
    );
}

#[test]
fn rolling_min_100_max_200() {
    rolling_respects_limits(100, 200);
}

#[test]
fn rolling_min_50_max_200() {
    rolling_respects_limits(50, 200);
}

#[test]
fn rolling_min_100_max_150() {
    rolling_respects_limits(100, 150);
}

#[test]
fn rolling_min_50_max_100() {
    rolling_respects_limits(50, 100);
}

#[test]
fn unhealthy_image_trips_the_circuit_breaker_and_rolls_back() {
    let sim = sim();
    create(&sim, "ticket", "registry/ticket:1.0", 2);
    run_until(&sim, "ticket", 120, completed);
    let good = peek(&sim, "ticket");
    let good_td = good.task_definition.clone().unwrap();
    let good_id = primary(&good).id.clone();

    let svc = deploy_image(&sim, "ticket", "registry/ticket:2.0-unhealthy");
    let bad_id = primary(&svc).id.clone();
    run_until(&sim, "ticket", 600, |s| {
        s.deployments
            .iter()
            .any(|d| d.rollout_state.as_ref().map(|s| s.as_str()) == Some("FAILED"))
    });
    let svc = peek(&sim, "ticket");
    let failed = svc.deployments.iter().find(|d| d.id == bad_id).unwrap();
    assert_eq!(
        failed.status.as_str(),
        "ACTIVE",
        "the failed deployment is replaced by the rollback"
    );
    assert_eq!(
        failed.rollout_state_reason.as_deref(),
        Some("ECS deployment circuit breaker: tasks failed to start.")
    );
    assert!(
        failed.failed_tasks >= 3,
        "threshold is max(3, ceil(0.5 × 2))"
    );
    let rollback = primary(&svc);
    assert_eq!(rollback.task_definition, good_td);
    assert_eq!(
        rollback.rollout_state.as_ref().map(|s| s.as_str()),
        Some("IN_PROGRESS")
    );
    assert_eq!(
        rollback.rollout_state_reason.as_deref(),
        Some(&*format!(
            "ECS deployment circuit breaker: rolling back to deploymentId {good_id}."
        ))
    );
    assert!(
        svc.running_count >= 2,
        "the old tasks kept serving (minimumHealthyPercent 100)"
    );

    run_until(&sim, "ticket", 300, completed);
    let svc = peek(&sim, "ticket");
    assert_eq!(svc.task_definition.as_deref(), Some(good_td.as_str()));
    assert_eq!((svc.deployments.len(), svc.running_count), (1, 2));
}

#[test]
fn circuit_breaker_without_rollback_leaves_the_failed_deployment() {
    let sim = sim();
    create(&sim, "payment", "registry/payment:1.0", 2);
    run_until(&sim, "payment", 120, completed);
    let mut cfg = peek(&sim, "payment").config;
    cfg.deployment_configuration
        .as_mut()
        .unwrap()
        .deployment_circuit_breaker = Some(CircuitBreaker {
        enable: true,
        rollback: false,
    });
    let td = register(&sim, td_input("payment", "registry/payment:2.0-unhealthy"));
    update(
        &sim,
        UpdateServiceInput {
            cluster: CLUSTER.to_owned(),
            service: "payment".to_owned(),
            task_definition: Some(td.clone()),
            config: Some(cfg),
            ..UpdateServiceInput::default()
        },
    )
    .unwrap();
    run_until(&sim, "payment", 600, |s| {
        primary(s).rollout_state.as_ref().map(|s| s.as_str()) == Some("FAILED")
    });
    advance(&sim, 600);
    let svc = peek(&sim, "payment");
    assert_eq!(primary(&svc).task_definition, td);
    assert_eq!(svc.deployments.len(), 2);
    assert_eq!(
        (primary(&svc).running_count, primary(&svc).pending_count),
        (0, 0),
        "no more launches"
    );
    assert_eq!(svc.running_count, 2, "the old deployment keeps running");
}

#[test]
fn without_circuit_breaker_failures_pile_up_and_old_tasks_stay() {
    let sim = sim();
    create(&sim, "event", "registry/event:1.0", 2);
    run_until(&sim, "event", 120, completed);
    let mut cfg = peek(&sim, "event").config;
    cfg.deployment_configuration
        .as_mut()
        .unwrap()
        .deployment_circuit_breaker = Some(CircuitBreaker::default());
    let td = register(&sim, td_input("event", "registry/event:2.0-unhealthy"));
    update(
        &sim,
        UpdateServiceInput {
            cluster: CLUSTER.to_owned(),
            service: "event".to_owned(),
            task_definition: Some(td),
            config: Some(cfg),
            ..UpdateServiceInput::default()
        },
    )
    .unwrap();
    advance(&sim, 1800);
    let svc = peek(&sim, "event");
    assert_eq!(
        primary(&svc).rollout_state.as_ref().map(|s| s.as_str()),
        Some("IN_PROGRESS")
    );
    assert!(
        primary(&svc).failed_tasks > 20,
        "{}",
        primary(&svc).failed_tasks
    );
    assert_eq!(
        tasks(&sim, "event").healthy,
        2,
        "minimumHealthyPercent 100 keeps the old tasks"
    );
}

#[test]
fn grace_period_delays_unhealthy_verdicts() {
    let sim = sim();
    let td = register(&sim, td_input("auth", "registry/auth:1.0-unhealthy"));
    let mut input = create_input(&sim, "auth", &td, 1);
    input.config.health_check_grace_period_seconds = Some(120);
    try_create(&sim, input).unwrap();
    let first_failure = run_until(&sim, "auth", 600, |s| primary(s).failed_tasks > 0);
    assert_eq!(
        first_failure, 120,
        "no task is stopped for health before the grace period ends"
    );
}

#[test]
fn alarm_in_alarm_state_fails_and_rolls_back() {
    let sim = sim();
    let td = register(&sim, td_input("auth", "registry/auth:1.0"));
    let mut input = create_input(&sim, "auth", &td, 2);
    input
        .config
        .deployment_configuration
        .as_mut()
        .unwrap()
        .alarms = Some(DeploymentAlarms {
        alarm_names: vec!["auth-5xx-high".to_owned()],
        enable: true,
        rollback: true,
    });
    try_create(&sim, input).unwrap();
    run_until(&sim, "auth", 120, completed);
    deploy_image(&sim, "auth", "registry/auth:2.0");
    advance(&sim, 5);
    assert!(sim.set_alarm_state("auth-5xx-high", ALARM_ALARM));
    let svc = peek(&sim, "auth");
    let failed = &svc.deployments[1];
    assert_eq!(
        failed.rollout_state.as_ref().map(|s| s.as_str()),
        Some("FAILED")
    );
    assert!(
        failed
            .rollout_state_reason
            .as_deref()
            .unwrap()
            .contains("auth-5xx-high")
    );
    assert!(svc.task_definition.as_deref().unwrap().ends_with("auth:1"));
    assert!(!sim.set_alarm_state("no-such-alarm", ALARM_ALARM));
}

#[test]
fn force_and_network_changes_start_deployments_desired_count_does_not() {
    let sim = sim();
    create(&sim, "notification", "registry/notification:1.0", 1);
    run_until(&sim, "notification", 120, completed);
    let base = UpdateServiceInput {
        cluster: CLUSTER.to_owned(),
        service: "notification".to_owned(),
        ..UpdateServiceInput::default()
    };
    let same_td = peek(&sim, "notification").task_definition;
    let svc = update(
        &sim,
        UpdateServiceInput {
            task_definition: same_td,
            ..base.clone()
        },
    )
    .unwrap();
    assert_eq!(
        svc.deployments.len(),
        1,
        "the same task definition is no change"
    );

    let svc = update(
        &sim,
        UpdateServiceInput {
            force_new_deployment: true,
            ..base.clone()
        },
    )
    .unwrap();
    assert_eq!(svc.deployments.len(), 2);
    run_until(&sim, "notification", 300, completed);

    let mut cfg = peek(&sim, "notification").config;
    cfg.network_configuration
        .as_mut()
        .unwrap()
        .awsvpc_configuration
        .subnets
        .pop();
    let svc = update(
        &sim,
        UpdateServiceInput {
            config: Some(cfg),
            ..base.clone()
        },
    )
    .unwrap();
    assert_eq!(
        svc.deployments.len(),
        2,
        "a network change replaces the tasks"
    );
    run_until(&sim, "notification", 300, completed);

    let mut cfg = peek(&sim, "notification").config;
    cfg.enable_execute_command = true;
    let svc = update(
        &sim,
        UpdateServiceInput {
            config: Some(cfg),
            desired_count: Some(2),
            ..base
        },
    )
    .unwrap();
    assert_eq!(svc.deployments.len(), 1);
}
