//! Table-driven tests of the rollout plan: the CodeDeploy setup order, what blocks a release
//! (missing service, wrong controller, ECS-native settings not applied yet, a group taken by
//! another service) and how each machine action becomes the engine's call.

use super::*;
use crate::controllers::blue_green_rollout::machine::{EngineView, Release};
use crate::controllers::blue_green_rollout::observe::Setup;
use crate::controllers::blue_green_rollout::validate::tests::{
    TG_GREEN, code_deploy, ecs_native, rollout, service,
};
use crate::controllers::blue_green_rollout::validate::validate;
use aws::codedeploy::{ApplicationInfo, DeploymentGroupInfo};
use aws::ecs::Service;

const TD1: &str = "arn:aws:ecs:eu-west-1:123456789012:task-definition/auth:1";
const TD2: &str = "arn:aws:ecs:eu-west-1:123456789012:task-definition/auth:2";

fn now() -> jiff::Timestamp {
    "2026-03-02T10:00:00Z".parse().unwrap()
}

fn cd_spec() -> ValidatedSpec {
    let r = rollout("auth", &code_deploy(("auth-blue", "auth-green")), "");
    validate(&r, Some(&service()), &[]).unwrap()
}

fn native_spec() -> ValidatedSpec {
    let r = rollout("auth", &ecs_native(TG_GREEN), "");
    validate(&r, Some(&service()), &[]).unwrap()
}

fn live(controller: &str, spec: &ValidatedSpec) -> Service {
    let mut config = aws::ecs::ServiceConfig {
        load_balancers: vec![aws::ecs::LoadBalancer {
            target_group_arn: Some(spec.service.target_group_arn.clone()),
            container_name: "app".into(),
            container_port: 8080,
            ..Default::default()
        }],
        ..Default::default()
    };
    spec.settings.apply(&mut config);
    Service {
        service_name: "auth".into(),
        status: "ACTIVE".into(),
        deployment_controller: controller.into(),
        task_definition: Some(TD1.into()),
        config,
        tags: vec![aws::ecs::Tag {
            key: crds::common::OWNER_TAG.into(),
            value: spec.service.owner.clone(),
        }],
        ..Service::default()
    }
}

fn synced_setup(spec: &ValidatedSpec) -> Setup {
    let Engine::CodeDeploy(cd) = &spec.engine else {
        panic!("CodeDeploy")
    };
    Setup {
        read: true,
        config_exists: None,
        application: Some(ApplicationInfo::default()),
        group: Some(DeploymentGroupInfo {
            deployment_group_id: "g".into(),
            spec: cd.group.clone(),
        }),
    }
}

fn observed(service: Option<Service>, setup: Setup, engine: EngineView) -> Observed {
    Observed {
        service,
        setup,
        engine,
        deployment: Some("d-123".into()),
        production_rule: None,
        stable_target_group: None,
        alarms_firing: Vec::new(),
        alarms_missing: Vec::new(),
        probes: Vec::new(),
        measurements: Vec::new(),
        stray_gate: None,
    }
}

fn desired() -> Option<Revision> {
    Some(Revision {
        task_definition_arn: TD2.into(),
        content_hash: Some("h2".into()),
    })
}

fn stable_memory() -> Memory {
    Memory {
        stable: Some(Revision {
            task_definition_arn: TD1.into(),
            content_hash: Some("h1".into()),
        }),
        ..Memory::default()
    }
}

fn releasing(state: ReleaseState) -> Memory {
    let mut m = stable_memory();
    m.release = Some(Release {
        state,
        target: desired().unwrap(),
        started_at: now(),
        state_since: now(),
        progressed_at: now(),
        step: None,
        rollback: false,
        promoted: false,
        full: false,
        bake_skipped: false,
        abort_reason: None,
        superseded: false,
        stop_sent: false,
        checks: Vec::new(),
        pause_reason: None,
    });
    m
}

#[test]
fn code_deploy_resources_are_created_one_per_reconcile_then_kept_in_sync() {
    let spec = cd_spec();
    let svc = Some(live("CODE_DEPLOY", &spec));
    let mut setup = Setup {
        read: true,
        ..Setup::default()
    };
    let p = plan(
        &spec,
        &stable_memory(),
        &observed(svc.clone(), setup.clone(), EngineView::None),
        desired(),
        vec![],
        now(),
    );
    assert!(matches!(p.step, Some(Step::CreateApplication { .. })));
    assert_eq!(p.transition, None, "the machine waits for the setup");
    setup.application = Some(ApplicationInfo::default());
    let p = plan(
        &spec,
        &stable_memory(),
        &observed(svc.clone(), setup.clone(), EngineView::None),
        desired(),
        vec![],
        now(),
    );
    assert!(matches!(p.step, Some(Step::CreateDeploymentGroup { .. })));
    let mut drifted = synced_setup(&spec);
    drifted
        .group
        .as_mut()
        .unwrap()
        .spec
        .termination_wait_time_in_minutes = 60;
    let p = plan(
        &spec,
        &stable_memory(),
        &observed(svc.clone(), drifted, EngineView::None),
        desired(),
        vec![],
        now(),
    );
    assert!(matches!(p.step, Some(Step::UpdateDeploymentGroup(_))));
    let p = plan(
        &spec,
        &stable_memory(),
        &observed(svc, synced_setup(&spec), EngineView::None),
        desired(),
        vec![],
        now(),
    );
    assert_eq!(p.synced_hash, code_deploy_hash(&spec));
    assert_eq!(p.step, None, "a release is recorded before it is created");
    let t = p.transition.unwrap();
    assert_eq!(t.memory.release.unwrap().state, ReleaseState::Starting);
}

#[test]
fn what_blocks_a_release() {
    let spec = cd_spec();
    // No ECS service yet: wait, nothing starts.
    let p = plan(
        &spec,
        &stable_memory(),
        &observed(None, Setup::default(), EngineView::None),
        desired(),
        vec![],
        now(),
    );
    assert_eq!(p.waiting.as_ref().unwrap().0, "WaitingForService");
    assert_eq!(p.transition.unwrap().memory.release, None);
    // A service created with the ECS controller cannot be deployed by CodeDeploy.
    let p = plan(
        &spec,
        &stable_memory(),
        &observed(Some(live("ECS", &spec)), Setup::default(), EngineView::None),
        desired(),
        vec![],
        now(),
    );
    assert_eq!(p.stalled.as_ref().unwrap().0, "WrongDeploymentController");
    // An ECS service tagged for another object is never released, whatever else holds.
    let mut theirs = live("CODE_DEPLOY", &spec);
    theirs.tags[0].value = "victim/auth".into();
    let p = plan(
        &spec,
        &stable_memory(),
        &observed(Some(theirs.clone()), synced_setup(&spec), EngineView::None),
        desired(),
        vec![Verb::Rollback],
        now(),
    );
    assert_eq!(p.stalled.as_ref().unwrap().0, "OwnedByAnotherObject");
    assert!(p.stalled.as_ref().unwrap().1.contains("victim/auth"));
    assert_eq!((p.step, p.transition), (None, None));
    theirs.tags.clear();
    let p = plan(
        &spec,
        &stable_memory(),
        &observed(Some(theirs), synced_setup(&spec), EngineView::None),
        desired(),
        vec![],
        now(),
    );
    assert_eq!(p.stalled.as_ref().unwrap().0, "ServiceNotOwned");
    // A group of the same name that deploys another service is not taken over.
    let mut taken = synced_setup(&spec);
    taken.group.as_mut().unwrap().spec.ecs_service.service_name = "other".into();
    let p = plan(
        &spec,
        &stable_memory(),
        &observed(Some(live("CODE_DEPLOY", &spec)), taken, EngineView::None),
        desired(),
        vec![],
        now(),
    );
    assert_eq!(p.stalled.as_ref().unwrap().0, "DeploymentGroupTaken");
    assert_eq!(p.step, None);
    // ECS-native settings not applied by the EcsService yet: no release starts ...
    let native = native_spec();
    let mut bare = live("ECS", &native);
    bare.config.deployment_configuration = None;
    let p = plan(
        &native,
        &stable_memory(),
        &observed(Some(bare.clone()), Setup::default(), EngineView::None),
        desired(),
        vec![],
        now(),
    );
    assert_eq!(p.waiting.as_ref().unwrap().0, "WaitingForServiceSettings");
    assert_eq!(p.transition.as_ref().unwrap().memory.release, None);
    // ... but one in flight still finishes (here: aborts with a stop).
    let mut i = observed(
        Some(bare),
        Setup::default(),
        EngineView::AtGate {
            hook_id: Some("h".into()),
        },
    );
    i.deployment = Some("arn:sd".into());
    let p = plan(
        &native,
        &releasing(ReleaseState::Paused),
        &i,
        desired(),
        vec![Verb::Abort],
        now(),
    );
    assert_eq!(
        p.step,
        Some(Step::StopServiceDeployment {
            arn: "arn:sd".into()
        })
    );
    // The EcsService has not published a revision yet.
    let p = plan(
        &native,
        &stable_memory(),
        &observed(
            Some(live("ECS", &native)),
            Setup::default(),
            EngineView::None,
        ),
        None,
        vec![],
        now(),
    );
    assert_eq!(p.waiting.unwrap().0, "WaitingForRevision");
}

#[test]
fn machine_actions_become_engine_calls() {
    let cd = cd_spec();
    let native = native_spec();
    let cd_svc = Some(live("CODE_DEPLOY", &cd));
    let native_svc = Some(live("ECS", &native));
    let at_gate = |hook: Option<&str>| EngineView::AtGate {
        hook_id: hook.map(str::to_owned),
    };
    // Starting: CreateDeployment with the AppSpec / UpdateService to the revision.
    let p = plan(
        &cd,
        &releasing(ReleaseState::Starting),
        &observed(cd_svc.clone(), synced_setup(&cd), EngineView::None),
        desired(),
        vec![],
        now(),
    );
    let Some(Step::CreateDeployment(input)) = &p.step else {
        panic!("{:?}", p.step)
    };
    assert!(input.app_spec_content.contains(TD2));
    assert!(
        input.app_spec_content.contains("ContainerName: \"app\"")
            && input.app_spec_content.contains("ContainerPort: 8080")
    );
    let p = plan(
        &native,
        &releasing(ReleaseState::Starting),
        &observed(native_svc.clone(), Setup::default(), EngineView::None),
        desired(),
        vec![],
        now(),
    );
    let Some(Step::UpdateServiceTaskDefinition(update)) = &p.step else {
        panic!("{:?}", p.step)
    };
    assert_eq!(
        (update.task_definition.as_deref(), update.config.is_none()),
        (Some(TD2), true)
    );
    // Promote at the gate: ContinueDeployment(READY_WAIT) / ContinueServiceDeployment(hook).
    let p = plan(
        &cd,
        &releasing(ReleaseState::Paused),
        &observed(cd_svc.clone(), synced_setup(&cd), at_gate(None)),
        desired(),
        vec![Verb::Promote],
        now(),
    );
    assert_eq!(
        p.step,
        Some(Step::ContinueDeployment {
            id: "d-123".into(),
            wait_type: "READY_WAIT"
        })
    );
    let p = plan(
        &native,
        &releasing(ReleaseState::Paused),
        &observed(
            native_svc.clone(),
            Setup::default(),
            at_gate(Some("hook-9")),
        ),
        desired(),
        vec![Verb::Promote],
        now(),
    );
    assert_eq!(
        p.step,
        Some(Step::ContinueServiceDeployment {
            arn: "d-123".into(),
            hook_id: "hook-9".into()
        })
    );
    // promote --full while baking: only CodeDeploy can end the wait early.
    let baking = EngineView::Baking { can_skip: true };
    let p = plan(
        &cd,
        &releasing(ReleaseState::Baking),
        &observed(cd_svc.clone(), synced_setup(&cd), baking),
        desired(),
        vec![Verb::PromoteFull],
        now(),
    );
    assert_eq!(
        p.step,
        Some(Step::ContinueDeployment {
            id: "d-123".into(),
            wait_type: "TERMINATION_WAIT"
        })
    );
    // Abort: StopDeployment with rollback.
    let p = plan(
        &cd,
        &releasing(ReleaseState::Verifying),
        &observed(cd_svc, synced_setup(&cd), at_gate(None)),
        desired(),
        vec![Verb::Abort],
        now(),
    );
    assert_eq!(p.step, Some(Step::StopDeployment { id: "d-123".into() }));
    assert_eq!(p.step.unwrap().name(), "StopDeployment");
}

#[test]
fn the_first_revision_becomes_stable_only_once_its_deployment_completes() {
    let spec = native_spec();
    let mut svc = live("ECS", &spec);
    svc.deployments = vec![aws::ecs::Deployment {
        status: "PRIMARY".into(),
        task_definition: TD1.into(),
        rollout_state: Some("IN_PROGRESS".into()),
        ..Default::default()
    }];
    let first = Some(Revision {
        task_definition_arn: TD1.into(),
        content_hash: Some("h1".into()),
    });
    let p = plan(
        &spec,
        &Memory::default(),
        &observed(Some(svc.clone()), Setup::default(), EngineView::None),
        first.clone(),
        vec![],
        now(),
    );
    assert_eq!(
        p.waiting.as_ref().map(|w| w.0),
        Some("WaitingForInitialDeployment")
    );
    let t = p.transition.expect("the machine steps");
    assert_eq!(
        t.memory.stable, None,
        "nothing serves production for certain"
    );
    assert_eq!(t.action, None);

    svc.deployments[0].rollout_state = Some("COMPLETED".into());
    let p = plan(
        &spec,
        &Memory::default(),
        &observed(Some(svc), Setup::default(), EngineView::None),
        first.clone(),
        vec![],
        now(),
    );
    assert_eq!(p.waiting, None);
    let t = p.transition.expect("the machine steps");
    assert_eq!(t.memory.stable, first, "the completed revision is adopted");
    assert_eq!(t.action, None, "no release of the revision that serves");
}
