//! CodeDeploy ECS blue/green: the application and deployment group checks, one active
//! deployment per group, the ready wait answered with ContinueDeployment, the termination wait,
//! StopDeployment with rollback, alarms, custom canary configs, and the ELB and CloudWatch reads.

use super::*;
use aws::ErrorKind;
use aws::cloudwatch::{CloudWatchApi, PutMetricAlarmInput};
use aws::codedeploy::{
    AlarmSettings, AutoRollback, CodeDeployApi, CreateDeploymentInput, DeploymentConfigSpec,
    DeploymentGroupSpec, DeploymentInfo, EcsServiceRef, ReadyOption, TargetGroupPair,
    TrafficRoutingConfig,
};
use aws::elb::ElbApi;

const APP: &str = "event-booking-auth";
const GROUP: &str = "auth";

fn group_spec(sim: &SimAws, config_name: &str) -> DeploymentGroupSpec {
    DeploymentGroupSpec {
        application_name: APP.to_owned(),
        deployment_group_name: GROUP.to_owned(),
        service_role_arn: sim.role_arn("AWSCodeDeployRoleForECS").unwrap(),
        deployment_config_name: config_name.to_owned(),
        ecs_service: EcsServiceRef {
            cluster_name: CLUSTER.to_owned(),
            service_name: "auth".to_owned(),
        },
        target_group_pair: TargetGroupPair {
            target_groups: vec!["auth-blue".to_owned(), "auth-green".to_owned()],
            prod_listener_arns: vec![sim.listener_arn("event-booking-alb", 443).unwrap()],
            test_listener_arns: vec![sim.listener_arn("event-booking-alb", 8443).unwrap()],
        },
        ready_option: ReadyOption {
            action_on_timeout: "STOP_DEPLOYMENT".to_owned(),
            wait_time_in_minutes: 30,
        },
        termination_wait_time_in_minutes: 5,
        auto_rollback: AutoRollback {
            enabled: true,
            events: vec![
                "DEPLOYMENT_FAILURE".to_owned(),
                "DEPLOYMENT_STOP_ON_ALARM".to_owned(),
                "DEPLOYMENT_STOP_ON_REQUEST".to_owned(),
            ],
        },
        alarms: AlarmSettings {
            enabled: true,
            ignore_poll_alarm_failure: false,
            alarms: vec!["auth-5xx-high".to_owned()],
        },
    }
}

/// A CODE_DEPLOY auth service on revision 1, its application and group.
async fn setup(sim: &SimAws, config_name: &str) {
    let td = register(sim, td_input("auth", "registry/auth:1"));
    let input = CreateServiceInput {
        deployment_controller: Some(aws::ecs::DeploymentController::CodeDeploy),
        ..create_input(sim, "auth", &td, 2)
    };
    try_create(sim, input).expect("create service");
    run_until(sim, "auth", 120, completed);
    sim.create_application(APP, Vec::new()).await.unwrap();
    sim.create_deployment_group(group_spec(sim, config_name), Vec::new())
        .await
        .unwrap();
}

fn app_spec(td: &str) -> String {
    format!(
        "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: \"{td}\"\n        LoadBalancerInfo:\n          ContainerName: app\n          ContainerPort: 8080\n"
    )
}

async fn deploy(sim: &SimAws, image: &str) -> Result<String, aws::AwsError> {
    let td = register(sim, td_input("auth", image));
    sim.create_deployment(CreateDeploymentInput {
        application_name: APP.to_owned(),
        deployment_group_name: GROUP.to_owned(),
        app_spec_content: app_spec(&td),
        description: None,
    })
    .await
}

/// Polls every 2 simulated seconds (CodeDeploy's bucket refills 0.7 tokens a second) for up
/// to `limit` seconds.
async fn until(sim: &SimAws, id: &str, limit: u64, done: impl Fn(&DeploymentInfo) -> bool) {
    for _ in 0..=limit.div_ceil(2) {
        if done(&sim.get_deployment(id).await.unwrap()) {
            return;
        }
        advance(sim, 2);
    }
    panic!("not reached: {:#?}", sim.get_deployment(id).await.unwrap());
}

async fn prod_green_percent(sim: &SimAws) -> (i32, i32) {
    let listener = sim.listener_arn("event-booking-alb", 443).unwrap();
    let rules = sim.describe_listener_rules(&listener).await.unwrap();
    let green = sim.target_group_arn("auth-green").unwrap();
    let path_rule = rules.iter().find(|r| r.priority == "10").unwrap();
    let default = rules.iter().find(|r| r.is_default).unwrap();
    (path_rule.percent_to(&green), default.percent_to(&green))
}

#[tokio::test]
async fn a_deployment_waits_ready_then_shifts_and_terminates_the_original() {
    let sim = sim();
    setup(&sim, "CodeDeployDefault.ECSAllAtOnce").await;
    let id = deploy(&sim, "registry/auth:2").await.unwrap();
    assert!(id.starts_with("d-") && id.len() == 11, "{id}");
    let second = deploy(&sim, "registry/auth:3").await.unwrap_err();
    assert_eq!(second.code, "DeploymentLimitExceededException");
    assert_eq!(second.kind, ErrorKind::Conflict);
    let active = sim
        .list_deployments(
            APP,
            GROUP,
            &aws::codedeploy::ACTIVE_DEPLOYMENT_STATUSES,
            None,
        )
        .await
        .unwrap();
    assert_eq!(active, vec![id.clone()]);

    until(&sim, &id, 120, |d| d.status.as_str() == "Ready").await;
    assert_eq!(prod_green_percent(&sim).await, (0, 0));
    let err = sim
        .continue_deployment(&id, "TERMINATION_WAIT")
        .await
        .unwrap_err();
    assert_eq!(err.code, "DeploymentIsNotInReadyStateException");
    sim.continue_deployment(&id, "READY_WAIT").await.unwrap();
    until(&sim, &id, 10, |d| d.instance_termination_wait_time_started).await;
    // CodeDeploy moves every rule of the listener that forwards to the pair.
    assert_eq!(prod_green_percent(&sim).await, (100, 100));
    assert_eq!(
        sim.get_deployment(&id).await.unwrap().status.as_str(),
        "InProgress"
    );
    sim.continue_deployment(&id, "TERMINATION_WAIT")
        .await
        .unwrap();
    until(&sim, &id, 60, |d| d.status.as_str() == "Succeeded").await;
    let svc = peek(&sim, "auth");
    assert!(svc.task_definition.as_deref().unwrap().ends_with("auth:2"));
    assert_eq!(svc.deployments.len(), 1);
    assert!(
        sim.list_deployments(APP, GROUP, &["InProgress".into(), "Ready".into()], None,)
            .await
            .unwrap()
            .is_empty()
    );
    // The next deployment may start now.
    deploy(&sim, "registry/auth:3").await.unwrap();
}

#[tokio::test]
async fn stop_with_rollback_creates_the_rollback_deployment() {
    let sim = sim();
    setup(&sim, "CodeDeployDefault.ECSAllAtOnce").await;
    let id = deploy(&sim, "registry/auth:2").await.unwrap();
    until(&sim, &id, 120, |d| d.status.as_str() == "Ready").await;
    sim.stop_deployment(&id, true).await.unwrap();
    let stopped = sim.get_deployment(&id).await.unwrap();
    assert_eq!(stopped.status.as_str(), "Stopped");
    let rollback = stopped.rollback_deployment_id.expect("rollback deployment");
    until(&sim, &rollback, 60, |d| d.status.as_str() == "Succeeded").await;
    let info = sim.get_deployment(&rollback).await.unwrap();
    assert_eq!(
        info.rollback_triggering_deployment_id.as_deref(),
        Some(id.as_str())
    );
    assert_eq!(info.creator.as_deref(), Some("codeDeployRollback"));
    assert!(
        peek(&sim, "auth")
            .task_definition
            .unwrap()
            .ends_with("auth:1")
    );
    let again = sim.stop_deployment(&id, true).await.unwrap_err();
    assert_eq!(again.code, "DeploymentAlreadyCompletedException");
}

#[tokio::test]
async fn an_alarm_stops_the_deployment_and_rolls_back() {
    let sim = sim();
    setup(&sim, "CodeDeployDefault.ECSAllAtOnce").await;
    let id = deploy(&sim, "registry/auth:2").await.unwrap();
    until(&sim, &id, 120, |d| d.status.as_str() == "Ready").await;
    sim.set_alarm_state("auth-5xx-high", "ALARM");
    let info = sim.get_deployment(&id).await.unwrap();
    assert_eq!(info.status.as_str(), "Stopped");
    assert!(info.error_message.unwrap().contains("auth-5xx-high"));
    assert!(info.rollback_deployment_id.is_some());
}

#[tokio::test]
async fn a_custom_canary_config_shifts_in_two_steps() {
    let sim = sim();
    let name = "ecs-operator.Canary20Percent2Minutes";
    let canary = DeploymentConfigSpec {
        deployment_config_name: name.to_owned(),
        traffic_routing: TrafficRoutingConfig::TimeBasedCanary {
            percentage: 20,
            interval_minutes: 2,
        },
    };
    sim.create_deployment_config(canary.clone()).await.unwrap();
    let dup = sim
        .create_deployment_config(canary.clone())
        .await
        .unwrap_err();
    assert_eq!(dup.kind, ErrorKind::Conflict);
    assert_eq!(sim.get_deployment_config(name).await.unwrap(), canary);
    setup(&sim, name).await;
    let id = deploy(&sim, "registry/auth:2").await.unwrap();
    until(&sim, &id, 120, |d| d.status.as_str() == "Ready").await;
    sim.continue_deployment(&id, "READY_WAIT").await.unwrap();
    assert_eq!(prod_green_percent(&sim).await, (20, 20));
    advance(&sim, 120);
    assert_eq!(prod_green_percent(&sim).await, (100, 100));
}

#[tokio::test]
async fn groups_are_checked_against_the_account() {
    let sim = sim();
    let td = register(&sim, td_input("auth", "registry/auth:1"));
    try_create(&sim, create_input(&sim, "auth", &td, 1)).unwrap();
    sim.create_application(APP, Vec::new()).await.unwrap();
    let app = sim.get_application(APP).await.unwrap();
    assert_eq!(app.compute_platform, "ECS");
    let ecs_controlled = sim
        .create_deployment_group(
            group_spec(&sim, "CodeDeployDefault.ECSAllAtOnce"),
            Vec::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(ecs_controlled.code, "InvalidECSServiceException");
    let missing = sim.get_deployment_group(APP, GROUP).await.unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound);
    let unknown_config = sim.get_deployment_config("nope").await.unwrap_err();
    assert_eq!(unknown_config.kind, ErrorKind::NotFound);
    assert_eq!(sim.write_calls_of("codedeploy:"), 2);
}

#[tokio::test]
async fn target_groups_and_alarms_read_back() {
    let sim = sim();
    let tgs = sim
        .describe_target_groups(&["auth-blue".to_owned(), "auth-green".to_owned()])
        .await
        .unwrap();
    assert_eq!(tgs.len(), 2);
    assert_eq!(tgs[0].load_balancer_arns.len(), 1, "blue is behind the ALB");
    assert_eq!(
        tgs[1].load_balancer_arns.len(),
        1,
        "green is on the same rules, at weight 0"
    );
    let missing = sim.describe_target_groups(&["nope".to_owned()]).await;
    assert_eq!(missing.unwrap_err().kind, ErrorKind::NotFound);
    let listener = sim.listener_arn("event-booking-alb", 8443).unwrap();
    let listeners = sim
        .describe_listeners(std::slice::from_ref(&listener))
        .await
        .unwrap();
    let lbs = sim
        .describe_load_balancers(&[listeners[0].load_balancer_arn.clone()])
        .await
        .unwrap();
    assert!(lbs[0].dns_name.ends_with(".eu-west-1.elb.amazonaws.com"));

    sim.set_alarm_state("auth-latency-high", "ALARM");
    let alarms = sim
        .describe_alarms(&["auth-latency-high".to_owned(), "nope".to_owned()])
        .await
        .unwrap();
    assert_eq!(alarms.len(), 1);
    assert_eq!(alarms[0].state_value, "ALARM");
    let put = PutMetricAlarmInput {
        alarm_name: "auth-cpu-high".to_owned(),
        metric_name: "CPUUtilization".to_owned(),
        namespace: "AWS/ECS".to_owned(),
        statistic: "Average".to_owned(),
        period: 60,
        evaluation_periods: 3,
        threshold: 80.0,
        comparison_operator: "GreaterThanThreshold".to_owned(),
        ..PutMetricAlarmInput::default()
    };
    sim.put_metric_alarm(put).await.unwrap();
    let created = sim
        .describe_alarms(&["auth-cpu-high".to_owned()])
        .await
        .unwrap();
    assert_eq!(created[0].state_value, "INSUFFICIENT_DATA");
    sim.delete_alarms(&["auth-cpu-high".to_owned()])
        .await
        .unwrap();
    assert!(
        sim.describe_alarms(&["auth-cpu-high".to_owned()])
            .await
            .unwrap()
            .is_empty()
    );
}
