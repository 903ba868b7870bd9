//! What a reconcile records: the memory survives the trip through the status in every release
//! state, a new generation forgets a failure, what the next observation may skip, the ids of
//! the release's deployment and of the CodeDeploy resources the rollout created, and when it
//! is looked at again.

use std::time::Duration;

use crds::rollout::{BlueGreenRolloutStatus, CodeDeployStatus, ReleaseState};
use jiff::Timestamp;

use super::*;
use crate::controllers::Settings;
use crate::controllers::blue_green_rollout::machine::{
    self, EngineView, Event, Reason, Transition,
};
use crate::controllers::blue_green_rollout::observe::Setup;
use crate::controllers::blue_green_rollout::plan::{Wake, wake};
use crate::controllers::blue_green_rollout::validate::tests::{
    TG_GREEN, code_deploy, ecs_native, rollout, service,
};
use crate::controllers::blue_green_rollout::validate::validate;
use crate::controllers::runtime::Requeue;

const TD1: &str = "arn:aws:ecs:eu-west-1:123456789012:task-definition/auth:1";
const TD2: &str = "arn:aws:ecs:eu-west-1:123456789012:task-definition/auth:2";

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_770_000_000 + secs).unwrap()
}

fn rev(arn: &str, hash: &str) -> Revision {
    Revision {
        task_definition_arn: arn.to_owned(),
        content_hash: Some(hash.to_owned()),
    }
}

fn cd_spec() -> ValidatedSpec {
    let r = rollout("auth", &code_deploy(("auth-blue", "auth-green")), "");
    validate(&r, Some(&service()), &[]).unwrap()
}

fn native_spec() -> ValidatedSpec {
    let r = rollout("auth", &ecs_native(TG_GREEN), "");
    validate(&r, Some(&service()), &[]).unwrap()
}

fn release(state: ReleaseState) -> Release {
    Release {
        state,
        target: rev(TD2, "h2"),
        started_at: at(0),
        state_since: at(10),
        progressed_at: at(20),
        step: Some("POST_TEST_TRAFFIC_SHIFT".into()),
        rollback: state == ReleaseState::Starting,
        promoted: true,
        full: state == ReleaseState::Baking,
        bake_skipped: state == ReleaseState::Baking,
        abort_reason: (state == ReleaseState::Aborting).then(|| "alarm x is in ALARM".into()),
        superseded: state == ReleaseState::Aborting,
        stop_sent: state == ReleaseState::Aborting,
        checks: vec![
            CheckProgress {
                passed: 2,
                last_checked_at: Some(at(30)),
                last_result: Some("200".into()),
            },
            CheckProgress::default(),
        ],
        pause_reason: None,
    }
}

fn memory_with(release: Option<Release>) -> Memory {
    Memory {
        stable: Some(rev(TD1, "h1")),
        previous_stable: Some("arn:aws:ecs:eu-west-1:123456789012:task-definition/auth:0".into()),
        bad_hash: Some("h9".into()),
        failure: Some("HTTP check /health failed".into()),
        aborted_at: Some(at(-100)),
        release,
        analysis: Vec::new(),
    }
}

#[test]
fn the_memory_comes_back_from_the_status_in_every_release_state() {
    let states = [
        None,
        Some(ReleaseState::Starting),
        Some(ReleaseState::Deploying),
        Some(ReleaseState::Verifying),
        Some(ReleaseState::Paused),
        Some(ReleaseState::Promoting),
        Some(ReleaseState::Baking),
        Some(ReleaseState::Aborting),
    ];
    let paths = ["/api/auth/health".to_owned(), "/api/auth/ready".to_owned()];
    for state in states {
        let memory = memory_with(state.map(release));
        let mut status = BlueGreenRolloutStatus::default();
        store(&mut status, &memory, &paths);
        // Through JSON, as the API server keeps it.
        let status: BlueGreenRolloutStatus =
            serde_json::from_value(serde_json::to_value(&status).unwrap()).unwrap();
        assert_eq!(stored(&status), memory, "{state:?}");
        if state == Some(ReleaseState::Paused) {
            assert_eq!(status.pause_conditions.len(), 1);
        }
    }
}

#[test]
fn a_new_generation_forgets_the_failure_and_keeps_the_rest() {
    let mut status = BlueGreenRolloutStatus {
        observed_generation: Some(3),
        ..Default::default()
    };
    store(&mut status, &memory_with(None), &[]);
    let same = memory(&status, Some(3));
    assert_eq!(same.bad_hash.as_deref(), Some("h9"));
    let changed = memory(&status, Some(4));
    assert_eq!((changed.bad_hash, changed.failure), (None, None));
    assert_eq!(changed.stable, same.stable);
    // A first reconcile has no generation to compare with.
    status.observed_generation = None;
    assert!(memory(&status, Some(1)).bad_hash.is_some());
}

#[test]
fn the_known_ids_are_the_release_ones_and_sync_holds_for_one_generation() {
    let spec = cd_spec();
    let hash = plan::code_deploy_hash(&spec);
    let mut status = BlueGreenRolloutStatus {
        observed_generation: Some(2),
        deployment_id: Some("d-1".into()),
        code_deploy: Some(CodeDeployStatus {
            synced_hash: hash,
            ..Default::default()
        }),
        ..Default::default()
    };
    let k = known(&spec, &status, Some(2));
    assert!(k.synced);
    assert_eq!(
        k.deployment, None,
        "no release: the last deployment is not looked at"
    );
    assert!(!known(&spec, &status, Some(3)).synced);
    store(
        &mut status,
        &memory_with(Some(release(ReleaseState::Deploying))),
        &[],
    );
    assert_eq!(known(&spec, &status, Some(2)).deployment, Some("d-1"));
    assert!(!known(&native_spec(), &status, Some(2)).synced);
}

fn observed(deployment: Option<&str>) -> Observed {
    Observed {
        service: None,
        setup: Setup::default(),
        engine: EngineView::None,
        deployment: deployment.map(str::to_owned),
        production_rule: None,
        stable_target_group: Some("tg-blue".into()),
        alarms_firing: Vec::new(),
        alarms_missing: Vec::new(),
        probes: Vec::new(),
        measurements: Vec::new(),
        stray_gate: None,
    }
}

fn plan_with(step: Option<Step>, transition: Option<Transition>) -> Plan {
    Plan {
        step,
        transition,
        waiting: None,
        stalled: None,
        synced_hash: None,
    }
}

fn transition(memory: Memory, reasons: &[Reason]) -> Transition {
    Transition {
        memory,
        action: None,
        events: reasons
            .iter()
            .map(|r| Event {
                reason: *r,
                message: String::new(),
                warning: false,
            })
            .collect(),
        handled: Vec::new(),
        next_check: None,
    }
}

#[test]
fn a_started_release_forgets_the_last_deployment_and_records_the_new_one() {
    let spec = cd_spec();
    let in_flight = memory_with(Some(release(ReleaseState::Starting)));
    let mut status = BlueGreenRolloutStatus {
        deployment_id: Some("d-old".into()),
        ..Default::default()
    };
    let started = plan_with(
        None,
        Some(transition(in_flight.clone(), &[Reason::ReleaseStarted])),
    );
    record_ids(
        &mut status,
        &spec,
        &started,
        &observed(None),
        None,
        &in_flight,
    );
    assert_eq!(status.deployment_id, None);
    let created = plan_with(None, Some(transition(in_flight.clone(), &[])));
    record_ids(
        &mut status,
        &spec,
        &created,
        &observed(None),
        Some("d-new"),
        &in_flight,
    );
    assert_eq!(status.deployment_id.as_deref(), Some("d-new"));
    // Without a release nothing is recorded: the id stays for the record.
    let idle = memory_with(None);
    record_ids(
        &mut status,
        &spec,
        &created,
        &observed(Some("d-x")),
        None,
        &idle,
    );
    assert_eq!(status.deployment_id.as_deref(), Some("d-new"));
    // ECS-native keeps its ARN in its own field.
    let mut native = BlueGreenRolloutStatus::default();
    record_ids(
        &mut native,
        &native_spec(),
        &created,
        &observed(Some("arn:sd")),
        None,
        &in_flight,
    );
    assert_eq!(native.service_deployment_arn.as_deref(), Some("arn:sd"));
    assert_eq!(native.deployment_id, None);
}

#[test]
fn what_the_rollout_created_is_remembered_while_the_names_stay() {
    let spec = cd_spec();
    let Engine::CodeDeploy(cd) = &spec.engine else {
        panic!("CodeDeploy")
    };
    let idle = memory_with(None);
    let mut status = BlueGreenRolloutStatus::default();
    let create_app = plan_with(
        Some(Step::CreateApplication {
            name: cd.application_name.clone(),
            tags: Vec::new(),
        }),
        None,
    );
    record_ids(
        &mut status,
        &spec,
        &create_app,
        &observed(None),
        None,
        &idle,
    );
    let cds = status.code_deploy.clone().unwrap();
    assert!(cds.created_application && !cds.created_deployment_group);
    assert_eq!(
        cds.synced_hash, None,
        "a setup step leaves the resources unsynced"
    );
    let nothing = plan_with(None, None);
    record_ids(&mut status, &spec, &nothing, &observed(None), None, &idle);
    assert!(status.code_deploy.as_ref().unwrap().created_application);
    // Renamed in the spec: the old application is no longer this rollout's to delete.
    status.code_deploy.as_mut().unwrap().application_name = "another".into();
    record_ids(&mut status, &spec, &nothing, &observed(None), None, &idle);
    assert!(!status.code_deploy.as_ref().unwrap().created_application);
}

#[test]
fn the_release_keeps_the_stable_target_group_it_started_with() {
    let spec = native_spec();
    let in_flight = memory_with(Some(release(ReleaseState::Deploying)));
    let mut status = BlueGreenRolloutStatus::default();
    store(&mut status, &in_flight, &[]);
    let plan = plan_with(None, None);
    record_ids(&mut status, &spec, &plan, &observed(None), None, &in_flight);
    let tg = |s: &BlueGreenRolloutStatus| {
        s.release
            .as_ref()
            .and_then(|r| r.stable_target_group_arn.clone())
    };
    assert_eq!(tg(&status).as_deref(), Some("tg-blue"));
    let mut later = observed(None);
    later.stable_target_group = Some("tg-green".into());
    record_ids(&mut status, &spec, &plan, &later, None, &in_flight);
    assert_eq!(tg(&status).as_deref(), Some("tg-blue"));
}

#[test]
fn wake_follows_the_release() {
    let settings = Settings {
        resync: Duration::from_secs(300),
        poll: Duration::from_secs(15),
        wait_poll: Duration::from_secs(10),
        dry_run: false,
    };
    let idle = memory_with(None);
    let deploying = memory_with(Some(release(ReleaseState::Deploying)));
    let paused = memory_with(Some(release(ReleaseState::Paused)));
    let step = Some(Step::StopDeployment { id: "d".into() });
    let cases = [
        (plan_with(step, None), &idle, Requeue::Soon),
        (
            plan_with(
                None,
                Some(transition(idle.clone(), &[Reason::RolloutCompleted])),
            ),
            &idle,
            Requeue::Soon,
        ),
        (
            plan_with(None, Some(transition(idle.clone(), &[Reason::GateReached]))),
            &deploying,
            Requeue::Poll,
        ),
        (plan_with(None, None), &deploying, Requeue::Poll),
        (plan_with(None, None), &paused, Requeue::Wait),
        (plan_with(None, None), &idle, Requeue::Idle),
    ];
    for (plan, memory, requeue) in cases {
        assert_eq!(wake(&plan, memory).requeue, requeue, "{plan:?}");
    }
    let w = Wake {
        requeue: Requeue::Idle,
        at: None,
    };
    assert_eq!(w.delay(&settings, at(0)), settings.resync);
    let due = Wake {
        requeue: Requeue::Poll,
        at: Some(at(4)),
    };
    assert_eq!(due.delay(&settings, at(0)), Duration::from_secs(4));
    let overdue = Wake {
        at: Some(at(-4)),
        ..due
    };
    assert_eq!(overdue.delay(&settings, at(0)), Duration::from_secs(1));
    let _ = machine::short(TD1);
}

#[test]
fn creating_a_codedeploy_resource_is_recorded_before_the_call() {
    let spec = cd_spec();
    let Engine::CodeDeploy(cd) = &spec.engine else {
        panic!("CodeDeploy")
    };
    let prev = BlueGreenRolloutStatus::default();
    let create_app = Step::CreateApplication {
        name: cd.application_name.clone(),
        tags: Vec::new(),
    };
    let first = intent(&prev, &spec, &create_app).expect("an intent");
    let recorded = first.code_deploy.clone().unwrap();
    assert!(recorded.created_application && !recorded.created_deployment_group);
    assert_eq!(recorded.application_name, cd.application_name);
    assert_eq!(intent(&first, &spec, &create_app), None, "recorded once");
    let create_group = Step::CreateDeploymentGroup {
        spec: Box::new(cd.group.clone()),
        tags: Vec::new(),
    };
    let second = intent(&first, &spec, &create_group).expect("an intent");
    let recorded = second.code_deploy.unwrap();
    assert!(recorded.created_application && recorded.created_deployment_group);
    assert_eq!(
        intent(&prev, &spec, &Step::StopDeployment { id: "d".into() }),
        None
    );
    assert_eq!(intent(&prev, &native_spec(), &create_app), None);
}
