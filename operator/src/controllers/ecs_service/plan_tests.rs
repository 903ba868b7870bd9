//! Table-driven tests of the EcsService plan: every spec change → step, every deployment
//! outcome → conditions, ownership, dependsOn, observe-only.

use super::*;
use crate::controllers::ecs_service::observe::{Dependency, RevisionInfo};
use crate::controllers::ecs_service::validate::validate;
use aws::ecs::{Deployment, Service, ServiceConfig};
use crds::EcsService;
use crds::ecs_service::DeploymentStatus;

pub(super) const TD1: &str = "arn:aws:ecs:eu-west-1:123456789012:task-definition/auth:1";
pub(super) const TD2: &str = "arn:aws:ecs:eu-west-1:123456789012:task-definition/auth:2";

fn object(extra: &str) -> EcsService {
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
    serde_saphyr::from_str(&yaml).expect("fixture parses")
}

pub(super) fn spec(extra: &str) -> ValidatedSpec {
    validate(&object(extra)).expect("fixture is valid")
}

fn deployment(id: &str, status: &str, td: &str, state: &str) -> Deployment {
    Deployment {
        id: id.into(),
        status: status.into(),
        task_definition: td.into(),
        desired_count: 2,
        running_count: 2,
        rollout_state: Some(state.into()),
        ..Deployment::default()
    }
}

fn service(spec: &ValidatedSpec, td: &str, deployments: Vec<Deployment>) -> Service {
    Service {
        service_arn: "arn:aws:ecs:eu-west-1:123456789012:service/event-booking/auth".into(),
        service_name: "auth".into(),
        status: "ACTIVE".into(),
        task_definition: Some(td.into()),
        desired_count: 2,
        running_count: 2,
        config: spec.config.clone(),
        deployment_controller: "ECS".into(),
        deployments,
        tags: vec![Tag {
            key: OWNER_TAG.into(),
            value: "shop/auth".into(),
        }],
        ..Service::default()
    }
}

pub(super) fn settled(spec: &ValidatedSpec, td: &str) -> Observed {
    Observed {
        service: Some(service(
            spec,
            td,
            vec![deployment("ecs-svc/1", "PRIMARY", td, "COMPLETED")],
        )),
        desired_revision: Some(td.into()),
        ..Observed::default()
    }
}

pub(super) fn cond<'a>(plan: &'a Plan, type_: &str) -> &'a Desired {
    plan.report
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .unwrap_or_else(|| panic!("no {type_} in {:?}", plan.report.conditions))
}

pub(super) fn status_with_deployment(id: &str, td: &str) -> EcsServiceStatus {
    EcsServiceStatus {
        content_hash: None,
        desired_task_definition_arn: Some(td.into()),
        deployment: Some(DeploymentStatus {
            id: id.into(),
            task_definition_arn: Some(td.into()),
            rollout_state: Some("IN_PROGRESS".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn a_new_object_registers_then_creates() {
    let s = spec("");
    let p = plan(&s, &EcsServiceStatus::default(), &Observed::default());
    assert!(matches!(p.step, Some(Step::RegisterTaskDefinition(ref td)) if td.family == "auth"));
    assert!(cond(&p, "Reconciling").status);
    assert_eq!(p.report.requeue, Requeue::Soon);

    let observed = Observed {
        desired_revision: Some(TD1.into()),
        ..Observed::default()
    };
    let p = plan(&s, &EcsServiceStatus::default(), &observed);
    let Some(Step::CreateService(input)) = &p.step else {
        panic!("{:?}", p.step)
    };
    assert_eq!(input.task_definition, TD1);
    assert_eq!(input.desired_count, 2);
    assert!(
        input
            .tags
            .iter()
            .any(|t| t.key == OWNER_TAG && t.value == "shop/auth")
    );
    assert!(!cond(&p, "Ready").status);
}

#[test]
fn ready_only_when_the_deployment_completed() {
    let s = spec("");
    let mut observed = settled(&s, TD1);
    observed.service.as_mut().unwrap().deployments[0].rollout_state = Some("IN_PROGRESS".into());
    let p = plan(&s, &EcsServiceStatus::default(), &observed);
    assert!(p.step.is_none());
    assert_eq!(cond(&p, "Ready").reason, "DeploymentInProgress");
    assert_eq!(p.report.requeue, Requeue::Poll);

    let p = plan(&s, &EcsServiceStatus::default(), &settled(&s, TD1));
    assert!(p.step.is_none());
    assert!(cond(&p, "Ready").status);
    assert!(!cond(&p, "Stalled").status);
    assert_eq!(p.report.last_good_task_definition_arn.as_deref(), Some(TD1));
    assert_eq!(p.report.requeue, Requeue::Idle);
}

#[test]
fn two_deployments_are_not_settled() {
    let s = spec("");
    let mut observed = settled(&s, TD2);
    observed
        .service
        .as_mut()
        .unwrap()
        .deployments
        .push(deployment("ecs-svc/0", "ACTIVE", TD1, "COMPLETED"));
    let p = plan(&s, &EcsServiceStatus::default(), &observed);
    assert!(!cond(&p, "Ready").status);
    assert_eq!(cond(&p, "Reconciling").reason, "DeploymentInProgress");
}

#[test]
fn spec_changes_become_one_update() {
    let s = spec("");
    type Change = Box<dyn Fn(&mut Observed)>;
    let cases: Vec<(&str, Change, Vec<&str>)> = vec![
        (
            "new revision",
            Box::new(|o: &mut Observed| o.desired_revision = Some(TD2.into())),
            vec!["taskDefinition"],
        ),
        (
            "count drift",
            Box::new(|o: &mut Observed| o.service.as_mut().unwrap().desired_count = 5),
            vec!["desiredCount"],
        ),
        (
            "subnet drift",
            Box::new(|o: &mut Observed| {
                let cfg = &mut o.service.as_mut().unwrap().config;
                cfg.network_configuration
                    .as_mut()
                    .unwrap()
                    .awsvpc_configuration
                    .subnets = vec!["subnet-z".into()];
            }),
            vec!["networkConfiguration"],
        ),
        (
            "grace drift",
            Box::new(|o: &mut Observed| {
                o.service
                    .as_mut()
                    .unwrap()
                    .config
                    .deployment_configuration
                    .as_mut()
                    .unwrap()
                    .minimum_healthy_percent = Some(50);
            }),
            vec!["deploymentConfiguration"],
        ),
    ];
    for (name, change, expected) in cases {
        let mut observed = settled(&s, TD1);
        change(&mut observed);
        let p = plan(&s, &EcsServiceStatus::default(), &observed);
        let Some(Step::UpdateService { input, why }) = &p.step else {
            panic!("{name}: {:?}", p.step)
        };
        for field in &expected {
            assert!(why.iter().any(|w| w.starts_with(field)), "{name}: {why:?}");
        }
        assert_eq!(
            input.task_definition.is_some(),
            expected.contains(&"taskDefinition"),
            "{name}"
        );
        assert_eq!(
            input.desired_count.is_some(),
            expected.contains(&"desiredCount"),
            "{name}"
        );
        assert_eq!(
            input.config.is_some(),
            expected
                .iter()
                .any(|f| f.starts_with("network") || f.starts_with("deployment")),
            "{name}"
        );
    }
}

#[test]
fn unowned_fields_are_never_corrected() {
    let s = spec("");
    let mut observed = settled(&s, TD1);
    let cfg = &mut observed.service.as_mut().unwrap().config;
    cfg.platform_version = Some("1.4.0".into());
    cfg.health_check_grace_period_seconds = Some(30);
    cfg.propagate_tags = Some("SERVICE".into());
    let p = plan(&s, &EcsServiceStatus::default(), &observed);
    assert!(p.step.is_none(), "{:?}", p.step);
}

#[test]
fn aws_defaults_are_not_drift() {
    let s = spec("");
    let mut live = s.config.clone();
    let net = live.network_configuration.as_mut().unwrap();
    net.awsvpc_configuration.subnets.reverse();
    net.awsvpc_configuration.assign_public_ip = None;
    let mut observed = settled(&s, TD1);
    observed.service.as_mut().unwrap().config = live;
    assert!(
        plan(&s, &EcsServiceStatus::default(), &observed)
            .step
            .is_none()
    );
}

#[test]
fn autoscaled_count_is_left_alone() {
    let s = spec("");
    let mut observed = settled(&s, TD1);
    observed.autoscaled = true;
    observed.service.as_mut().unwrap().desired_count = 7;
    assert!(
        plan(&s, &EcsServiceStatus::default(), &observed)
            .step
            .is_none()
    );
}

#[test]
fn a_scalable_target_left_behind_keeps_the_count_and_the_status_says_so() {
    let s = spec("");
    let mut observed = settled(&s, TD1);
    observed.service.as_mut().unwrap().desired_count = 7;
    observed.scalable_target_left = Some("arn:aws:application-autoscaling:target/1".into());
    let p = plan(&s, &EcsServiceStatus::default(), &observed);
    assert_eq!(
        p.step, None,
        "no UpdateService fights Application Auto Scaling"
    );
    let ready = p
        .report
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert!(ready.status);
    assert!(
        ready.message.contains("left to Application Auto Scaling"),
        "{}",
        ready.message
    );
    assert!(ready.message.contains("target/1"), "{}", ready.message);
}

#[test]
fn ownership_rules() {
    let s = spec("");
    let mut observed = settled(&s, TD1);
    observed.service.as_mut().unwrap().tags = vec![Tag {
        key: OWNER_TAG.into(),
        value: "other/auth".into(),
    }];
    let p = plan(&s, &EcsServiceStatus::default(), &observed);
    assert!(p.step.is_none());
    assert!(cond(&p, "Stalled").status);
    assert_eq!(cond(&p, "Stalled").reason, "OwnedByAnotherObject");

    observed.service.as_mut().unwrap().tags.clear();
    let p = plan(&s, &EcsServiceStatus::default(), &observed);
    assert!(p.step.is_none());
    assert_eq!(cond(&p, "Stalled").reason, "AlreadyExists");
    assert!(
        cond(&p, "Stalled")
            .message
            .contains("adoptionPolicy: Adopt")
    );

    let adopt = spec("  adoptionPolicy: Adopt");
    let p = plan(&adopt, &EcsServiceStatus::default(), &observed);
    assert!(
        matches!(&p.step, Some(Step::AdoptService { tags, .. }) if tags[0].value == "shop/auth")
    );

    // A service owned by someone else is refused even with Adopt.
    observed.service.as_mut().unwrap().tags = vec![Tag {
        key: OWNER_TAG.into(),
        value: "other/auth".into(),
    }];
    let p = plan(&adopt, &EcsServiceStatus::default(), &observed);
    assert!(p.step.is_none());
    assert_eq!(cond(&p, "Stalled").reason, "OwnedByAnotherObject");
}

#[test]
fn depends_on_blocks_only_new_revisions() {
    let s = spec("  dependsOn: [event]");
    let waiting = vec![Dependency {
        name: "event".into(),
        ready: false,
    }];
    let observed = Observed {
        dependencies: waiting.clone(),
        ..Observed::default()
    };
    let p = plan(&s, &EcsServiceStatus::default(), &observed);
    assert!(p.step.is_none());
    assert_eq!(cond(&p, "Reconciling").reason, "WaitingForDependencies");
    assert!(cond(&p, "Reconciling").message.contains("event"));
    assert_eq!(p.report.requeue, Requeue::Wait);

    // Already running the desired revision: a count correction goes ahead.
    let mut observed = settled(&s, TD1);
    observed.dependencies = waiting.clone();
    observed.service.as_mut().unwrap().desired_count = 1;
    assert!(matches!(
        plan(&s, &EcsServiceStatus::default(), &observed).step,
        Some(Step::UpdateService { .. })
    ));

    let mut observed = settled(&s, TD1);
    observed.dependencies = vec![Dependency {
        name: "event".into(),
        ready: true,
    }];
    observed.desired_revision = Some(TD2.into());
    assert!(matches!(
        plan(&s, &EcsServiceStatus::default(), &observed).step,
        Some(Step::UpdateService { .. })
    ));
}

#[test]
fn a_failed_deployment_is_degraded_and_not_retried() {
    let s = spec("");
    let prev = status_with_deployment("ecs-svc/2", TD2);
    // Circuit breaker fired: our deployment FAILED, ECS rolls back to TD1.
    let mut observed = settled(&s, TD1);
    observed.desired_revision = Some(TD2.into());
    let svc = observed.service.as_mut().unwrap();
    svc.deployments = vec![
        deployment("ecs-svc/3", "PRIMARY", TD1, "IN_PROGRESS"),
        Deployment {
            rollout_state_reason: Some(
                "ECS deployment circuit breaker: tasks failed to start.".into(),
            ),
            ..deployment("ecs-svc/2", "ACTIVE", TD2, "FAILED")
        },
    ];
    let p = plan(&s, &prev, &observed);
    assert!(
        p.step.is_none(),
        "must not retry the failed revision: {:?}",
        p.step
    );
    assert_eq!(
        p.report.failed_content_hash.as_deref(),
        Some(s.content_hash.as_str())
    );
    assert!(cond(&p, "Degraded").status);
    assert!(cond(&p, "Stalled").status);
    assert!(cond(&p, "Stalled").message.contains("circuit breaker"));

    // Later: ECS dropped the failed deployment; still no retry, still Degraded.
    let prev = EcsServiceStatus {
        failed_content_hash: p.report.failed_content_hash.clone(),
        ..prev
    };
    let mut observed = settled(&s, TD1);
    observed.desired_revision = Some(TD2.into());
    let p = plan(&s, &prev, &observed);
    assert!(p.step.is_none());
    assert!(cond(&p, "Degraded").status);
    assert_eq!(
        p.report
            .deployment
            .as_ref()
            .and_then(|d| d.rollout_state.as_deref()),
        Some("FAILED")
    );

    // A spec change (new hash) rolls out again.
    let s2 = spec("  deploymentConfiguration: {minimumHealthyPercent: 50}");
    let mut changed = s2.clone();
    changed.content_hash = "different".into();
    let p = plan(
        &changed,
        &prev,
        &Observed {
            desired_revision: Some("arn:...:auth:3".into()),
            ..settled(&s, TD1)
        },
    );
    assert!(
        matches!(&p.step, Some(Step::UpdateService { input, .. }) if input.task_definition.is_some())
    );
}

#[test]
fn a_rollout_owns_the_revision() {
    let s = spec("");
    let mut observed = settled(&s, TD1);
    observed.desired_revision = Some(TD2.into());
    observed.rollout = Some("auth".into());
    let p = plan(&s, &EcsServiceStatus::default(), &observed);
    assert!(p.step.is_none());
    assert_eq!(cond(&p, "Reconciling").reason, "WaitingForRollout");
}

#[test]
fn a_failed_rollout_records_the_revision_the_service_settled_back_on() {
    let s = spec("");
    // A lost status write may leave :1 or :2 as the last good revision; AWS decides.
    for prev_good in [TD1, TD2] {
        let prev = EcsServiceStatus {
            last_good_task_definition_arn: Some(prev_good.into()),
            ..EcsServiceStatus::default()
        };
        let mut observed = settled(&s, TD1);
        observed.desired_revision = Some(TD2.into());
        observed.rollout = Some("auth".into());
        observed.rollout_failure = Some("rolled back by request".into());
        observed.service.as_mut().unwrap().deployments = vec![
            deployment("ecs-svc/2", "PRIMARY", TD1, "IN_PROGRESS"),
            deployment("ecs-svc/1", "ACTIVE", TD2, "COMPLETED"),
        ];
        let p = plan(&s, &prev, &observed);
        assert!(p.step.is_none());
        assert_eq!(cond(&p, "Stalled").reason, "RolloutFailed");
        assert_eq!(p.report.requeue, Requeue::Poll, "rolling back: watched");
        assert_eq!(
            p.report.last_good_task_definition_arn.as_deref(),
            Some(prev_good)
        );

        observed.service.as_mut().unwrap().deployments =
            vec![deployment("ecs-svc/2", "PRIMARY", TD1, "COMPLETED")];
        let p = plan(&s, &prev, &observed);
        assert_eq!(p.report.requeue, Requeue::Idle);
        assert_eq!(p.report.last_good_task_definition_arn.as_deref(), Some(TD1));
    }
}

#[test]
fn old_revisions_are_collected_after_a_deployment() {
    let s = spec("  revisionHistoryLimit: 1");
    let td = |n: i32| format!("arn:aws:ecs:eu-west-1:123456789012:task-definition/auth:{n}");
    let mut observed = settled(&s, &td(5));
    observed.family_revisions = Some(
        (1..=5)
            .rev()
            .map(|n| RevisionInfo {
                arn: td(n),
                revision: n,
                owner: Some(if n == 2 {
                    "someone/else".into()
                } else {
                    "shop/auth".into()
                }),
            })
            .collect(),
    );
    let prev = EcsServiceStatus {
        last_good_task_definition_arn: Some(td(4)),
        ..Default::default()
    };
    let p = plan(&s, &prev, &observed);
    // 5 live+desired, 4 last good: protected; 3 kept (limit 1); 2 not ours; 1 goes.
    assert_eq!(p.step, Some(Step::DeregisterTaskDefinitions(vec![td(1)])));
    assert!(cond(&p, "Ready").status);
}

#[test]
fn observe_only_never_writes_and_reports_drift() {
    let s = spec("  managementPolicy: ObserveOnly");
    let p = plan(&s, &EcsServiceStatus::default(), &Observed::default());
    assert!(p.step.is_none());
    assert_eq!(cond(&p, "Stalled").reason, "NotFound");

    let mut observed = settled(&s, TD1);
    observed.live_content_hash = Some(s.content_hash.clone());
    let p = plan(&s, &EcsServiceStatus::default(), &observed);
    assert!(p.step.is_none());
    assert!(!cond(&p, "Drifted").status);
    assert!(cond(&p, "Ready").status);

    observed.live_content_hash = Some("other".into());
    observed.service.as_mut().unwrap().desired_count = 9;
    observed.service.as_mut().unwrap().config = ServiceConfig::default();
    let p = plan(&s, &EcsServiceStatus::default(), &observed);
    assert!(p.step.is_none());
    let drifted = cond(&p, "Drifted");
    assert!(drifted.status);
    for f in ["taskDefinition", "desiredCount", "networkConfiguration"] {
        assert!(drifted.message.contains(f), "{f} in {}", drifted.message);
    }
}

#[test]
fn a_draining_service_is_waited_for() {
    let s = spec("");
    let mut observed = settled(&s, TD1);
    observed.service.as_mut().unwrap().status = "DRAINING".into();
    let p = plan(&s, &EcsServiceStatus::default(), &observed);
    assert!(p.step.is_none());
    assert_eq!(cond(&p, "Reconciling").reason, "WaitingForDeletion");
}
