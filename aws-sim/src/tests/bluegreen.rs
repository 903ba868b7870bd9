//! ECS-native blue/green, canary and linear deployments: stages in order, PAUSE hooks answered
//! or timing out, listener weights, bake time, rollbacks by request and by alarm, and what the
//! HTTP probe sees through the test listener.

use super::*;
use aws::ecs::{
    AdvancedConfiguration, CanaryConfiguration, DeploymentAlarms, EcsApi, LifecycleHook,
    ServiceDeployment,
};
use aws::elb::{ElbApi, Rule};
use aws::probe::TestTrafficProbe;

const PROD_LISTENER_PORT: i32 = 443;
const TEST_LISTENER_PORT: i32 = 8443;

/// The auth service configured for ECS-native blue/green behind rule 10 of both listeners.
fn bluegreen_config(sim: &SimAws, strategy: &str, bake_minutes: i32) -> ServiceConfig {
    let mut config = config(sim, "auth");
    let rule = |port| {
        sim.listener_rule_arn("event-booking-alb", port, 10)
            .expect("seeded rule")
    };
    config.load_balancers[0].advanced_configuration = Some(AdvancedConfiguration {
        alternate_target_group_arn: sim.target_group_arn("auth-green").unwrap(),
        production_listener_rule: rule(PROD_LISTENER_PORT),
        test_listener_rule: Some(rule(TEST_LISTENER_PORT)),
        role_arn: sim
            .role_arn("ecsInfrastructureRoleForLoadBalancers")
            .unwrap(),
    });
    let dc = config.deployment_configuration.as_mut().unwrap();
    dc.strategy = Some(strategy.to_owned());
    dc.deployment_circuit_breaker = None;
    dc.bake_time_in_minutes = Some(bake_minutes);
    dc.lifecycle_hooks = vec![LifecycleHook {
        target_type: "PAUSE".to_owned(),
        lifecycle_stages: vec!["POST_TEST_TRAFFIC_SHIFT".to_owned()],
        timeout_in_minutes: Some(30),
        timeout_action: Some("ROLLBACK".to_owned()),
        ..LifecycleHook::default()
    }];
    config
}

fn create_bluegreen(sim: &SimAws, config: ServiceConfig) {
    let td = register(sim, td_input("auth", "registry/auth:1"));
    let input = CreateServiceInput {
        config,
        ..create_input(sim, "auth", &td, 2)
    };
    try_create(sim, input).expect("create service");
    run_until(sim, "auth", 120, completed);
}

async fn newest(sim: &SimAws) -> ServiceDeployment {
    let arns = sim.list_service_deployments(CLUSTER, "auth").await.unwrap();
    sim.describe_service_deployments(&arns[..1])
        .await
        .unwrap()
        .remove(0)
}

async fn advance_until(sim: &SimAws, limit: u64, done: impl Fn(&ServiceDeployment) -> bool) {
    for _ in 0..=limit {
        if done(&newest(sim).await) {
            return;
        }
        advance(sim, 1);
    }
    panic!("not reached within {limit} s: {:#?}", newest(sim).await);
}

fn at_gate(sd: &ServiceDeployment) -> bool {
    sd.lifecycle_stage.as_deref() == Some("POST_TEST_TRAFFIC_SHIFT")
        && sd
            .lifecycle_hook_details
            .iter()
            .any(|h| h.status.as_str() == "AWAITING_ACTION" && h.target_type == "PAUSE")
}

async fn prod_rule(sim: &SimAws) -> Rule {
    let arn = sim
        .listener_rule_arn("event-booking-alb", PROD_LISTENER_PORT, 10)
        .unwrap();
    sim.describe_rules(&[arn]).await.unwrap().remove(0)
}

async fn green_percent(sim: &SimAws) -> i32 {
    prod_rule(sim)
        .await
        .percent_to(&sim.target_group_arn("auth-green").unwrap())
}

async fn probe_test(sim: &SimAws) -> Option<u16> {
    let listener = sim
        .listener_arn("event-booking-alb", TEST_LISTENER_PORT)
        .unwrap();
    sim.probe(&listener, "/api/auth/actuator/health")
        .await
        .status
}

#[tokio::test]
async fn blue_green_pauses_on_test_traffic_then_shifts_bakes_and_cleans_up() {
    let sim = sim();
    create_bluegreen(&sim, bluegreen_config(&sim, "BLUE_GREEN", 5));
    assert_eq!(green_percent(&sim).await, 0);
    deploy_image(&sim, "auth", "registry/auth:2");
    advance_until(&sim, 120, at_gate).await;
    // Green answers on the test listener; production is still all blue.
    assert_eq!(probe_test(&sim).await, Some(200));
    assert_eq!(green_percent(&sim).await, 0);
    assert_eq!(tasks(&sim, "auth").healthy, 4, "blue and green both run");

    let sd = newest(&sim).await;
    let hook = sd.lifecycle_hook_details[0].hook_id.clone();
    sim.continue_service_deployment(&sd.service_deployment_arn, &hook, "CONTINUE")
        .await
        .unwrap();
    advance_until(&sim, 5, |sd| {
        sd.lifecycle_stage.as_deref() == Some("BAKE_TIME")
    })
    .await;
    assert_eq!(green_percent(&sim).await, 100);
    assert_eq!(tasks(&sim, "auth").healthy, 4, "blue bakes next to green");
    advance_until(&sim, 5 * 60 + 60, |sd| sd.status.as_str() == "SUCCESSFUL").await;
    let svc = peek(&sim, "auth");
    assert_eq!(svc.deployments.len(), 1);
    assert!(svc.task_definition.as_deref().unwrap().ends_with("auth:2"));
    assert_eq!(green_percent(&sim).await, 100);
    assert_eq!(tasks(&sim, "auth").total, 2);

    // The next deployment goes the other way: green serves, blue is the new target.
    deploy_image(&sim, "auth", "registry/auth:3");
    advance_until(&sim, 120, at_gate).await;
    assert_eq!(green_percent(&sim).await, 100, "production stays on green");
}

#[tokio::test]
async fn a_stop_request_during_bake_time_rolls_back_at_once() {
    let sim = sim();
    create_bluegreen(&sim, bluegreen_config(&sim, "BLUE_GREEN", 10));
    deploy_image(&sim, "auth", "registry/auth:2");
    advance_until(&sim, 120, at_gate).await;
    let sd = newest(&sim).await;
    let hook = sd.lifecycle_hook_details[0].hook_id.clone();
    sim.continue_service_deployment(&sd.service_deployment_arn, &hook, "CONTINUE")
        .await
        .unwrap();
    advance_until(&sim, 5, |sd| {
        sd.lifecycle_stage.as_deref() == Some("BAKE_TIME")
    })
    .await;
    sim.stop_service_deployment(&sd.service_deployment_arn, "ROLLBACK")
        .await
        .unwrap();
    assert_eq!(
        green_percent(&sim).await,
        0,
        "traffic is back on blue at once"
    );
    assert_eq!(newest(&sim).await.status.as_str(), "ROLLBACK_IN_PROGRESS");
    advance_until(&sim, 60, |sd| sd.status.as_str() == "ROLLBACK_SUCCESSFUL").await;
    let svc = peek(&sim, "auth");
    assert_eq!(svc.deployments.len(), 1);
    assert!(svc.task_definition.as_deref().unwrap().ends_with("auth:1"));
    // A finished deployment cannot be stopped again.
    let err = sim
        .stop_service_deployment(&sd.service_deployment_arn, "ROLLBACK")
        .await
        .unwrap_err();
    assert_eq!(err.kind, aws::ErrorKind::Conflict);
}

#[tokio::test]
async fn canary_shifts_its_percentage_then_the_rest() {
    let sim = sim();
    let mut config = bluegreen_config(&sim, "CANARY", 0);
    let dc = config.deployment_configuration.as_mut().unwrap();
    dc.lifecycle_hooks.clear();
    dc.canary_configuration = Some(CanaryConfiguration {
        canary_percent: 10.0,
        canary_bake_time_in_minutes: 2,
    });
    create_bluegreen(&sim, config);
    deploy_image(&sim, "auth", "registry/auth:2");
    advance_until(&sim, 120, |sd| {
        sd.lifecycle_stage.as_deref() == Some("PRODUCTION_TRAFFIC_SHIFT")
    })
    .await;
    assert_eq!(green_percent(&sim).await, 10);
    advance(&sim, 119);
    assert_eq!(green_percent(&sim).await, 10);
    advance(&sim, 1);
    assert_eq!(green_percent(&sim).await, 100);
    advance_until(&sim, 60, |sd| sd.status.as_str() == "SUCCESSFUL").await;
}

#[tokio::test]
async fn an_alarm_during_the_deployment_rolls_back() {
    let sim = sim();
    let mut config = bluegreen_config(&sim, "BLUE_GREEN", 5);
    config.deployment_configuration.as_mut().unwrap().alarms = Some(DeploymentAlarms {
        alarm_names: vec!["auth-5xx-high".to_owned()],
        enable: true,
        rollback: true,
    });
    create_bluegreen(&sim, config);
    deploy_image(&sim, "auth", "registry/auth:2");
    advance_until(&sim, 120, at_gate).await;
    assert!(sim.set_alarm_state("auth-5xx-high", "ALARM"));
    let sd = newest(&sim).await;
    assert_eq!(sd.status.as_str(), "ROLLBACK_IN_PROGRESS");
    assert!(sd.status_reason.unwrap().contains("auth-5xx-high"));
    advance_until(&sim, 60, |sd| sd.status.as_str() == "ROLLBACK_SUCCESSFUL").await;
}

#[tokio::test]
async fn an_unanswered_pause_hook_times_out_into_a_rollback() {
    let sim = sim();
    create_bluegreen(&sim, bluegreen_config(&sim, "BLUE_GREEN", 5));
    deploy_image(&sim, "auth", "registry/auth:2");
    advance_until(&sim, 120, at_gate).await;
    advance_until(&sim, 30 * 60 + 5, |sd| {
        sd.status.as_str() == "ROLLBACK_IN_PROGRESS"
    })
    .await;
    let sd = newest(&sim).await;
    assert_eq!(sd.lifecycle_hook_details[0].status.as_str(), "TIMED_OUT");
}

#[tokio::test]
async fn the_probe_sees_smoke_failures_and_missing_targets() {
    let sim = sim();
    create_bluegreen(&sim, bluegreen_config(&sim, "BLUE_GREEN", 5));
    assert_eq!(
        probe_test(&sim).await,
        Some(200),
        "blue answers before any run"
    );
    deploy_image(&sim, "auth", "registry/auth:2-smokefail");
    advance_until(&sim, 120, at_gate).await;
    assert_eq!(probe_test(&sim).await, Some(500));
    // Rolling back puts test traffic on blue again.
    let sd = newest(&sim).await;
    let hook = sd.lifecycle_hook_details[0].hook_id.clone();
    sim.continue_service_deployment(&sd.service_deployment_arn, &hook, "ROLLBACK")
        .await
        .unwrap();
    assert_eq!(probe_test(&sim).await, Some(200));
    // A path no rule matches goes to the default action (auth-blue): 200 as well; a listener
    // that does not exist is no answer at all.
    let unknown = sim
        .probe(
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/x/y/z",
            "/",
        )
        .await;
    assert_eq!(unknown.status, None);
    assert!(sim.call_count("probe:HttpGet") >= 4);
}
