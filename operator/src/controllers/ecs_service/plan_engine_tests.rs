//! Plan tests of an EcsService released by a BlueGreenRollout: created with the engine's
//! controller or strategy, engine-owned fields kept without a fight, CODE_DEPLOY updates that
//! never send the revision, network or load balancers, and the rollout's failures reported.

use super::*;
use crate::controllers::blue_green_rollout::engine::EngineSettings;
use crate::controllers::ecs_service::observe::Dependency;
use crate::controllers::ecs_service::validate::validate;
use aws::ecs::{Deployment, Service, ServiceConfig};
use crds::EcsService;

const TD1: &str = "arn:aws:ecs:eu-west-1:123456789012:task-definition/auth:1";
const TD2: &str = "arn:aws:ecs:eu-west-1:123456789012:task-definition/auth:2";

fn spec(extra: &str) -> ValidatedSpec {
    let yaml = format!(
        r#"
apiVersion: ecs-operator.dev/v1alpha1
kind: EcsService
metadata: {{name: auth, namespace: shop, generation: 1}}
spec:
  cluster: event-booking
  desiredCount: 2
  launchType: FARGATE
  networkConfiguration:
    awsvpcConfiguration: {{subnets: [subnet-a, subnet-b], securityGroups: [sg-1]}}
  taskDefinition:
    cpu: "512"
    memory: "1024"
    networkMode: awsvpc
    containerDefinitions:
      - name: app
        image: registry/auth:1.0
        portMappings: [{{containerPort: 8080}}]
{extra}
"#
    );
    let obj: EcsService = serde_saphyr::from_str(&yaml).expect("fixture parses");
    validate(&obj).expect("fixture is valid")
}

fn settled(spec: &ValidatedSpec, td: &str) -> Observed {
    let service = Service {
        service_arn: "arn:aws:ecs:eu-west-1:123456789012:service/event-booking/auth".into(),
        service_name: "auth".into(),
        status: "ACTIVE".into(),
        task_definition: Some(td.into()),
        desired_count: 2,
        running_count: 2,
        config: ServiceConfig {
            ..spec.config.clone()
        },
        deployment_controller: "ECS".into(),
        deployments: vec![Deployment {
            id: "ecs-svc/1".into(),
            status: "PRIMARY".into(),
            task_definition: td.into(),
            desired_count: 2,
            running_count: 2,
            rollout_state: Some("COMPLETED".into()),
            ..Deployment::default()
        }],
        tags: vec![Tag {
            key: OWNER_TAG.into(),
            value: "shop/auth".into(),
        }],
        ..Service::default()
    };
    Observed {
        service: Some(service),
        desired_revision: Some(td.into()),
        ..Observed::default()
    }
}

fn cond<'a>(plan: &'a Plan, type_: &str) -> &'a Desired {
    plan.report
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .unwrap_or_else(|| panic!("no {type_} in {:?}", plan.report.conditions))
}

/// The settings of an ECS-native BLUE_GREEN rollout with a PAUSE gate.
fn ecs_native_engine() -> EngineSettings {
    use aws::ecs::{AdvancedConfiguration, DeploymentConfiguration, LifecycleHook};
    EngineSettings::EcsNative {
        deployment: Box::new(DeploymentConfiguration {
            strategy: Some("BLUE_GREEN".into()),
            bake_time_in_minutes: Some(5),
            lifecycle_hooks: vec![LifecycleHook {
                target_type: "PAUSE".into(),
                lifecycle_stages: vec!["POST_TEST_TRAFFIC_SHIFT".into()],
                ..LifecycleHook::default()
            }],
            ..DeploymentConfiguration::default()
        }),
        advanced: AdvancedConfiguration {
            alternate_target_group_arn: "tg-green".into(),
            production_listener_rule: "rule-prod".into(),
            test_listener_rule: Some("rule-test".into()),
            role_arn: "role".into(),
        },
    }
}

const LB: &str =
    "  loadBalancers: [{targetGroupArn: tg-blue, containerName: app, containerPort: 8080}]";

#[test]
fn a_service_released_by_code_deploy_is_created_with_the_code_deploy_controller() {
    let s = spec(LB);
    let observed = Observed {
        desired_revision: Some(TD1.into()),
        rollout: Some("auth".into()),
        engine: Some(EngineSettings::CodeDeploy),
        ..Observed::default()
    };
    let p = plan(&s, &EcsServiceStatus::default(), &observed);
    let Some(Step::CreateService(input)) = &p.step else {
        panic!("{:?}", p.step)
    };
    assert_eq!(
        input.deployment_controller,
        Some(aws::ecs::DeploymentController::CodeDeploy)
    );
    let dc = input.config.deployment_configuration.as_ref().unwrap();
    assert_eq!(
        dc.deployment_circuit_breaker, None,
        "the circuit breaker is ROLLING's"
    );
    assert_eq!(input.config.load_balancers.len(), 1);
}

#[test]
fn code_deploy_updates_never_send_network_load_balancers_or_the_revision() {
    let s = spec(LB);
    let mut observed = settled(&s, TD1);
    observed.desired_revision = Some(TD2.into());
    observed.rollout = Some("auth".into());
    observed.engine = Some(EngineSettings::CodeDeploy);
    let svc = observed.service.as_mut().unwrap();
    svc.deployment_controller = "CODE_DEPLOY".into();
    svc.desired_count = 5;
    svc.config.network_configuration = None;
    svc.config.load_balancers.clear();
    let p = plan(&s, &EcsServiceStatus::default(), &observed);
    let Some(Step::UpdateService { input, why }) = &p.step else {
        panic!("{:?}", p.step)
    };
    assert_eq!(input.task_definition, None);
    assert_eq!(input.desired_count, Some(2));
    assert!(
        why.iter()
            .all(|w| !w.contains("network") && !w.contains("loadBalancers")),
        "{why:?}"
    );
    if let Some(config) = &input.config {
        assert!(config.network_configuration.is_none() && config.load_balancers.is_empty());
    }
}

#[test]
fn ecs_native_settings_go_into_create_and_are_kept_without_fighting_them() {
    let s = spec(LB);
    let engine = ecs_native_engine();
    let observed = Observed {
        desired_revision: Some(TD1.into()),
        rollout: Some("auth".into()),
        engine: Some(engine.clone()),
        ..Observed::default()
    };
    let p = plan(&s, &EcsServiceStatus::default(), &observed);
    let Some(Step::CreateService(input)) = &p.step else {
        panic!("{:?}", p.step)
    };
    assert_eq!(input.deployment_controller, None);
    let dc = input.config.deployment_configuration.as_ref().unwrap();
    assert_eq!(dc.strategy.as_deref(), Some("BLUE_GREEN"));
    assert_eq!(dc.lifecycle_hooks.len(), 1);
    assert!(
        input.config.load_balancers[0]
            .advanced_configuration
            .is_some()
    );

    // Live as created: nothing to do.
    let mut observed = settled(&s, TD1);
    observed.rollout = Some("auth".into());
    observed.engine = Some(engine.clone());
    observed.service.as_mut().unwrap().config = input.config.clone();
    let p = plan(&s, &EcsServiceStatus::default(), &observed);
    assert_eq!(p.step, None);
    // Someone removed the strategy: it is put back, with the spec's own fields.
    let svc = observed.service.as_mut().unwrap();
    svc.config
        .deployment_configuration
        .as_mut()
        .unwrap()
        .strategy = Some("ROLLING".into());
    let p = plan(&s, &EcsServiceStatus::default(), &observed);
    let Some(Step::UpdateService { input, why }) = &p.step else {
        panic!("{:?}", p.step)
    };
    assert!(why.iter().any(|w| w.contains("strategy")), "{why:?}");
    let dc = input
        .config
        .as_ref()
        .unwrap()
        .deployment_configuration
        .as_ref()
        .unwrap();
    assert_eq!(dc.strategy.as_deref(), Some("BLUE_GREEN"));
    assert_eq!(input.task_definition, None);
}

#[test]
fn a_revision_the_rollout_rolled_back_is_degraded_here_too() {
    let s = spec(LB);
    let mut observed = settled(&s, TD1);
    observed.desired_revision = Some(TD2.into());
    observed.rollout = Some("auth".into());
    observed.rollout_failure = Some("HTTP check /health failed".into());
    let p = plan(&s, &EcsServiceStatus::default(), &observed);
    assert_eq!(p.step, None);
    assert!(cond(&p, "Degraded").status && cond(&p, "Stalled").status);
    assert!(
        cond(&p, "Ready")
            .message
            .contains("HTTP check /health failed")
    );
    assert_eq!(p.report.failed_content_hash, None);
    // A dependency that stops being Ready afterwards (it rolled back too) does not turn the
    // failure into a wait.
    observed.dependencies = vec![Dependency {
        name: "ticket".into(),
        ready: false,
    }];
    let p = plan(&s, &EcsServiceStatus::default(), &observed);
    assert_eq!(cond(&p, "Degraded").reason, "RolloutFailed");
}

#[test]
fn a_code_deploy_service_without_a_rollout_stalls_instead_of_calling_ecs() {
    let s = spec(LB);
    let mut observed = settled(&s, TD1);
    observed.desired_revision = Some(TD2.into());
    observed.service.as_mut().unwrap().deployment_controller = "CODE_DEPLOY".into();
    let p = plan(&s, &EcsServiceStatus::default(), &observed);
    assert_eq!(p.step, None, "no UpdateService ECS would refuse");
    let stalled = p
        .report
        .conditions
        .iter()
        .find(|c| c.type_ == condition::STALLED)
        .expect("a Stalled condition");
    assert_eq!(stalled.reason, "NoCodeDeployRollout");
    assert!(stalled.message.contains("create a BlueGreenRollout"));
}
