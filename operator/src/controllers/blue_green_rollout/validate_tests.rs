//! Table-driven tests of rollout validation: what passes and how it renders (deployment group,
//! config, test listener), and every bad input with its reason.

use super::*;

pub(crate) const TG_BLUE: &str =
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/auth-blue/aaaa";
pub(crate) const TG_GREEN: &str =
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/auth-green/bbbb";
pub(crate) const PROD: &str =
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/alb/1111/2222";
pub(crate) const TEST_RULE: &str =
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/alb/1111/3333/4444";

pub(crate) fn service() -> EcsService {
    let yaml = format!(
        r#"
apiVersion: ecs-operator.dev/v1alpha1
kind: EcsService
metadata: {{name: auth, namespace: shop, generation: 1}}
spec:
  cluster: event-booking
  launchType: FARGATE
  networkConfiguration: {{awsvpcConfiguration: {{subnets: [s-1]}}}}
  loadBalancers: [{{targetGroupArn: "{TG_BLUE}", containerName: app, containerPort: 8080}}]
  taskDefinition:
    cpu: "256"
    memory: "512"
    networkMode: awsvpc
    containerDefinitions: [{{name: app, image: "img:1", portMappings: [{{containerPort: 8080}}]}}]
"#
    );
    serde_saphyr::from_str(&yaml).expect("service fixture")
}

pub(crate) fn rollout(name: &str, strategy: &str, extra: &str) -> BlueGreenRollout {
    let yaml = format!(
        "apiVersion: ecs-operator.dev/v1alpha1\nkind: BlueGreenRollout\nmetadata: {{name: {name}, namespace: shop, generation: 1}}\nspec:\n  serviceRef: {{name: auth}}\n  strategy:\n{strategy}{extra}"
    );
    serde_saphyr::from_str(&yaml).expect("rollout fixture")
}

pub(crate) fn code_deploy(pair: (&str, &str)) -> String {
    format!(
        "    codeDeploy:\n      serviceRoleArn: arn:aws:iam::123456789012:role/cd\n      targetGroupPairInfo:\n        targetGroups: [{{name: {}}}, {{name: {}}}]\n        prodTrafficRoute: {{listenerArns: [\"{PROD}\"]}}\n        testTrafficRoute: {{listenerArns: [\"{PROD}-test\"]}}\n",
        pair.0, pair.1
    )
}

pub(crate) fn ecs_native(alternate: &str) -> String {
    format!(
        "    ecsNative:\n      strategy: BLUE_GREEN\n      advancedConfiguration:\n        alternateTargetGroupArn: \"{alternate}\"\n        productionListenerRule: \"{TEST_RULE}\"\n        testListenerRule: \"{TEST_RULE}\"\n        roleArn: arn:aws:iam::123456789012:role/ecs\n"
    )
}

fn only(r: &BlueGreenRollout) -> Vec<Arc<BlueGreenRollout>> {
    vec![Arc::new(r.clone())]
}

#[test]
fn a_code_deploy_rollout_renders_its_group_and_gates() {
    let checks = "  analysis:\n    httpChecks: [{path: /api/auth/actuator/health}]\n";
    let r = rollout("auth", &code_deploy(("auth-blue", "auth-green")), checks);
    let v = validate(&r, Some(&service()), &only(&r)).unwrap();
    assert_eq!(v.owner, "shop/auth");
    let Engine::CodeDeploy(cd) = &v.engine else {
        panic!("CodeDeploy")
    };
    assert_eq!(cd.application_name, "shop-auth");
    assert_eq!(cd.group.deployment_group_name, "auth");
    assert_eq!(
        cd.group.deployment_config_name,
        "CodeDeployDefault.ECSAllAtOnce"
    );
    assert_eq!(cd.group.ready_option.action_on_timeout, "STOP_DEPLOYMENT");
    assert_eq!(cd.group.termination_wait_time_in_minutes, 5);
    assert!(cd.group.auto_rollback.enabled);
    assert_eq!(cd.group.auto_rollback.events.len(), 3);
    assert_eq!(
        v.test_listener_arn.as_deref(),
        Some(format!("{PROD}-test").as_str())
    );
    assert_eq!(v.gates.checks[0].expected_status, 200);
    assert_eq!(
        (v.gates.checks[0].interval_secs, v.gates.checks[0].count),
        (10, 3)
    );
    assert_eq!(v.settings, EngineSettings::CodeDeploy);
    // Without gates, CodeDeploy shifts as soon as the replacement is ready.
    let v = validate(
        &rollout("auth", &code_deploy(("auth-blue", "auth-green")), ""),
        Some(&service()),
        &[],
    )
    .unwrap();
    let Engine::CodeDeploy(cd) = &v.engine else {
        panic!("CodeDeploy")
    };
    assert_eq!(
        cd.group.ready_option.action_on_timeout,
        "CONTINUE_DEPLOYMENT"
    );
}

#[test]
fn custom_traffic_routing_gets_a_config_named_after_it() {
    let routing = "      trafficRouting:\n        type: TimeBasedLinear\n        timeBasedLinear: {linearPercentage: 25, linearInterval: 2}\n";
    let strategy = format!("{}{routing}", code_deploy(("auth-blue", "auth-green")));
    let v = validate(&rollout("auth", &strategy, ""), Some(&service()), &[]).unwrap();
    let Engine::CodeDeploy(cd) = &v.engine else {
        panic!("CodeDeploy")
    };
    let config = cd.config.clone().unwrap();
    assert_eq!(
        config.deployment_config_name,
        "ecs-operator.Linear25PercentEvery2Minutes"
    );
    assert_eq!(
        cd.group.deployment_config_name,
        config.deployment_config_name
    );
}

#[test]
fn an_ecs_native_rollout_tests_through_its_test_rule_listener() {
    let r = rollout(
        "auth",
        &ecs_native(TG_GREEN),
        "  autoPromotionEnabled: false\n",
    );
    let v = validate(&r, Some(&service()), &only(&r)).unwrap();
    assert_eq!(v.engine, Engine::EcsNative);
    assert_eq!(
        v.test_listener_arn.as_deref(),
        Some("arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/alb/1111/3333")
    );
    let EngineSettings::EcsNative {
        deployment,
        advanced,
    } = &v.settings
    else {
        panic!("ECS-native settings")
    };
    assert_eq!(deployment.strategy.as_deref(), Some("BLUE_GREEN"));
    assert_eq!(deployment.bake_time_in_minutes, Some(5));
    let pause = deployment
        .lifecycle_hooks
        .iter()
        .find(|h| h.target_type == "PAUSE")
        .unwrap();
    assert_eq!(pause.lifecycle_stages, ["POST_TEST_TRAFFIC_SHIFT"]);
    assert_eq!(pause.timeout_in_minutes, Some(engine::MANUAL_GATE_MINUTES));
    assert_eq!(advanced.alternate_target_group_arn, TG_GREEN);
}

/// A rollout, its service, the rollouts of that service, the reason and a hint of the message.
type Case = (
    BlueGreenRollout,
    Option<EcsService>,
    Vec<Arc<BlueGreenRollout>>,
    &'static str,
    &'static str,
);

#[test]
fn bad_input_names_what_to_fix() {
    let good = code_deploy(("auth-blue", "auth-green"));
    let older = rollout("auth-first", &good, "");
    let cases: Vec<Case> = vec![
        (rollout("auth", &good, ""), Some(service()), vec![Arc::new(older.clone())], "DuplicateRollout", "auth-first"),
        (rollout("auth", &good, ""), None, vec![], "WaitingForService", "waiting for EcsService auth to exist"),
        (rollout("auth", &code_deploy(("auth-green", "auth-blue")), ""), Some(service()), vec![], "TargetGroupMismatch", "swap"),
        (rollout("auth", &code_deploy(("web-blue", "web-green")), ""), Some(service()), vec![], "TargetGroupMismatch", "auth-blue"),
        (rollout("auth", &code_deploy(("auth-blue", "auth-blue")), ""), Some(service()), vec![], "InvalidTargetGroups", "two different"),
        (rollout("auth", &ecs_native(TG_BLUE), ""), Some(service()), vec![], "TargetGroupMismatch", "alternateTargetGroupArn"),
        (rollout("auth", &ecs_native(TG_GREEN).replace("        testListenerRule: \"", "        x-unused: \""), "  analysis:\n    httpChecks: [{path: /h}]\n"), Some(service()), vec![], "NoTestListener", "testListenerRule"),
        (rollout("auth", &format!("{good}      deploymentReadyOption: {{actionOnTimeout: CONTINUE_DEPLOYMENT}}\n"), "  autoPromotionEnabled: false\n"), Some(service()), vec![], "GatesNeedReadyWait", "CONTINUE_DEPLOYMENT"),
        (rollout("auth", &good, "  autoPromotionSeconds: 900\n  progressDeadlineSeconds: 600\n"), Some(service()), vec![], "InvalidGates", "below progressDeadlineSeconds"),
        (rollout("auth", &ecs_native(TG_GREEN).replace("BLUE_GREEN", "CANARY").replace("      advancedConfiguration", "      canaryConfiguration: {canaryPercent: 120, canaryBakeTimeInMinutes: 1}\n      advancedConfiguration"), ""), Some(service()), vec![], "PercentOutOfRange", "0.1–100"),
    ];
    for (r, svc, others, reason, hint) in cases {
        let err = validate(&r, svc.as_ref(), &others).expect_err(reason);
        assert_eq!(err.reason, reason, "{err}");
        // Only a reference to an object that may still appear waits; the rest stall.
        assert_eq!(err.waits, svc.is_none(), "{reason}");
        assert!(err.message.contains(hint), "{reason}: {}", err.message);
    }
}
