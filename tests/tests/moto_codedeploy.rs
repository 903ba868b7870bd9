//! Wire-level checks of `SdkCodeDeploy` and `SdkElb` against moto: every request the adapters
//! build for the calls moto implements is well formed and every answer parses into the
//! operator's types (CreateApplication, GetApplication, Create/GetDeploymentGroup,
//! CreateDeployment, GetDeployment, ListDeployments; ELBv2 DescribeTargetGroups, Listeners,
//! Rules, LoadBalancers). Behaviour — deployments progressing — is the simulator's business.

use std::time::Duration;

use aws::codedeploy::sdk::SdkCodeDeploy;
use aws::codedeploy::{
    AlarmSettings, AutoRollback, CodeDeployApi, CreateDeploymentInput, DeploymentGroupSpec,
    EcsServiceRef, ReadyOption, Tag, TargetGroupPair,
};
use aws::elb::sdk::SdkElb;
use aws::elb::{ElbApi, listener_of_rule};
use aws::{AwsResult, ErrorKind};
use aws_sdk_elasticloadbalancingv2 as elbv2;
use e2e_tests::moto::{Moto, MotoNetwork};

/// Longest any single adapter call may take here.
const CALL_DEADLINE: Duration = Duration::from_secs(20);

async fn call<T>(f: impl Future<Output = AwsResult<T>>) -> AwsResult<T> {
    tokio::time::timeout(CALL_DEADLINE, f)
        .await
        .expect("the adapter call finished before the deadline")
}

/// A load balancer with production and test listeners and a path rule, and a blue/green
/// target group pair, made through the raw ELBv2 client.
struct Alb {
    prod_listener: String,
    test_listener: String,
    rule: String,
    blue: String,
    green: String,
    dns_name: String,
}

async fn alb(raw: &elbv2::Client, network: &MotoNetwork, prefix: &str) -> Alb {
    use elbv2::types::{Action, ActionTypeEnum, ProtocolEnum, RuleCondition, TargetTypeEnum};
    let lb = raw
        .create_load_balancer()
        .name(format!("{prefix}-alb"))
        .set_subnets(Some(network.subnet_ids.clone()))
        .send()
        .await
        .expect("moto creates the load balancer");
    let lb = lb.load_balancers.unwrap().remove(0);
    let mut tgs = Vec::new();
    for color in ["blue", "green"] {
        let out = raw
            .create_target_group()
            .name(format!("{prefix}-{color}"))
            .protocol(ProtocolEnum::Http)
            .port(8080)
            .vpc_id(&network.vpc_id)
            .target_type(TargetTypeEnum::Ip)
            .send()
            .await
            .expect("moto creates the target group");
        tgs.push(
            out.target_groups
                .unwrap()
                .remove(0)
                .target_group_arn
                .unwrap(),
        );
    }
    let forward = |tg: &str| {
        Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(tg)
            .build()
    };
    let mut listeners = Vec::new();
    for port in [80, 8080] {
        let out = raw
            .create_listener()
            .load_balancer_arn(lb.load_balancer_arn.clone().unwrap())
            .protocol(ProtocolEnum::Http)
            .port(port)
            .default_actions(forward(&tgs[0]))
            .send()
            .await
            .expect("moto creates the listener");
        listeners.push(out.listeners.unwrap().remove(0).listener_arn.unwrap());
    }
    let rule = raw
        .create_rule()
        .listener_arn(&listeners[0])
        .priority(10)
        .conditions(
            RuleCondition::builder()
                .field("path-pattern")
                .values("/api/auth/*")
                .build(),
        )
        .actions(forward(&tgs[0]))
        .send()
        .await
        .expect("moto creates the rule");
    Alb {
        prod_listener: listeners[0].clone(),
        test_listener: listeners[1].clone(),
        rule: rule.rules.unwrap().remove(0).rule_arn.unwrap(),
        blue: tgs[0].clone(),
        green: tgs[1].clone(),
        dns_name: lb.dns_name.unwrap_or_default(),
    }
}

fn group(prefix: &str, alb: &Alb) -> DeploymentGroupSpec {
    DeploymentGroupSpec {
        application_name: format!("{prefix}-app"),
        deployment_group_name: prefix.to_owned(),
        service_role_arn: "arn:aws:iam::123456789012:role/AWSCodeDeployRoleForECS".to_owned(),
        deployment_config_name: "CodeDeployDefault.ECSAllAtOnce".to_owned(),
        ecs_service: EcsServiceRef {
            cluster_name: "cluster".to_owned(),
            service_name: prefix.to_owned(),
        },
        target_group_pair: TargetGroupPair {
            target_groups: vec![format!("{prefix}-blue"), format!("{prefix}-green")],
            prod_listener_arns: vec![alb.prod_listener.clone()],
            test_listener_arns: vec![alb.test_listener.clone()],
        },
        ready_option: ReadyOption {
            action_on_timeout: "STOP_DEPLOYMENT".to_owned(),
            wait_time_in_minutes: 60,
        },
        termination_wait_time_in_minutes: 5,
        auto_rollback: AutoRollback {
            enabled: true,
            events: vec![
                "DEPLOYMENT_FAILURE".to_owned(),
                "DEPLOYMENT_STOP_ON_ALARM".to_owned(),
            ],
        },
        alarms: AlarmSettings {
            enabled: true,
            ignore_poll_alarm_failure: false,
            alarms: vec!["auth-5xx-high".to_owned()],
        },
    }
}

#[tokio::test]
async fn elb_reads_parse_listeners_rules_and_weights() {
    let moto = Moto::shared().await;
    let config = moto.sdk_config().await;
    let raw = elbv2::Client::new(&config);
    let network = moto.create_network().await;
    let alb = alb(&raw, &network, "elbreads").await;
    let elb = SdkElb::new(&config);

    let tgs = call(
        elb.describe_target_groups(&["elbreads-blue".to_owned(), "elbreads-green".to_owned()]),
    )
    .await
    .unwrap();
    assert_eq!(tgs.len(), 2);
    assert_eq!(tgs[0].target_group_arn, alb.blue);
    assert_eq!(tgs[1].target_group_arn, alb.green);
    let missing = call(elb.describe_target_groups(&["nope".to_owned()]))
        .await
        .unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound);

    let listeners = call(elb.describe_listeners(std::slice::from_ref(&alb.prod_listener)))
        .await
        .unwrap();
    assert_eq!(listeners[0].port, Some(80));
    assert_eq!(listeners[0].protocol.as_deref(), Some("HTTP"));
    let lbs = call(elb.describe_load_balancers(&[listeners[0].load_balancer_arn.clone()]))
        .await
        .unwrap();
    assert_eq!(lbs[0].dns_name, alb.dns_name);

    let rules = call(elb.describe_listener_rules(&alb.prod_listener))
        .await
        .unwrap();
    let path_rule = rules
        .iter()
        .find(|r| r.rule_arn == alb.rule)
        .expect("the path rule");
    assert_eq!(path_rule.path_patterns, ["/api/auth/*"]);
    assert_eq!(path_rule.percent_to(&alb.blue), 100);
    assert!(rules.iter().any(|r| r.is_default));
    let by_arn = call(elb.describe_rules(std::slice::from_ref(&alb.rule)))
        .await
        .unwrap();
    assert_eq!(by_arn[0].forward[0].target_group_arn, alb.blue);
    assert_eq!(
        listener_of_rule(&alb.rule).as_deref(),
        Some(alb.prod_listener.as_str())
    );
}

#[tokio::test]
async fn code_deploy_application_group_and_deployment_round_trip() {
    let moto = Moto::shared().await;
    let config = moto.sdk_config().await;
    let raw = elbv2::Client::new(&config);
    let network = moto.create_network().await;
    let alb = alb(&raw, &network, "cdwire").await;
    let cd = SdkCodeDeploy::new(&config);
    let tags = vec![Tag {
        key: "ecs-operator.dev/owner".to_owned(),
        value: "default/cdwire".to_owned(),
    }];

    let missing = call(cd.get_application("cdwire-app")).await.unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound);
    let id = call(cd.create_application("cdwire-app", tags.clone()))
        .await
        .unwrap();
    assert!(!id.is_empty());
    let app = call(cd.get_application("cdwire-app")).await.unwrap();
    assert_eq!(
        (app.application_name.as_str(), app.compute_platform.as_str()),
        ("cdwire-app", "ECS")
    );
    let again = call(cd.create_application("cdwire-app", tags.clone()))
        .await
        .unwrap_err();
    assert_eq!(again.kind, ErrorKind::Conflict);

    let spec = group("cdwire", &alb);
    let no_group = call(cd.get_deployment_group("cdwire-app", "cdwire"))
        .await
        .unwrap_err();
    assert_eq!(no_group.kind, ErrorKind::NotFound);
    call(cd.create_deployment_group(spec.clone(), tags))
        .await
        .unwrap();
    let read = call(cd.get_deployment_group("cdwire-app", "cdwire"))
        .await
        .unwrap();
    assert_eq!(read.spec.ecs_service, spec.ecs_service);
    assert_eq!(read.spec.target_group_pair, spec.target_group_pair);
    assert_eq!(
        read.spec.deployment_config_name,
        spec.deployment_config_name
    );
    assert_eq!(read.spec.service_role_arn, spec.service_role_arn);
    let groups = call(cd.list_deployment_groups("cdwire-app")).await.unwrap();
    assert_eq!(groups, ["cdwire"]);

    let app_spec = ecs_operator::controllers::blue_green_rollout::engine::app_spec(
        "arn:aws:ecs:us-east-1:123456789012:task-definition/cdwire:2",
        "app",
        8080,
    );
    let deployment = call(cd.create_deployment(CreateDeploymentInput {
        application_name: "cdwire-app".to_owned(),
        deployment_group_name: "cdwire".to_owned(),
        app_spec_content: app_spec.clone(),
        description: Some("ecs-operator: default/cdwire releases cdwire:2".to_owned()),
    }))
    .await
    .unwrap();
    let info = call(cd.get_deployment(&deployment)).await.unwrap();
    assert_eq!(info.deployment_id, deployment);
    assert_eq!(info.application_name, "cdwire-app");
    assert_eq!(info.deployment_group_name, "cdwire");
    assert!(!info.status.as_str().is_empty());
    let listed = call(cd.list_deployments("cdwire-app", "cdwire", &[], None))
        .await
        .unwrap();
    assert!(listed.contains(&deployment), "{listed:?}");
    let missing = call(cd.get_deployment("d-NOSUCH123")).await.unwrap_err();
    assert_ne!(missing.kind, ErrorKind::Throttled);
}
