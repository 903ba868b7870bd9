//! A member of a rolled-back release: the revision before the release is recorded once, and
//! the member goes back to it (by itself, or through its rollout) and starts nothing new.

use super::*;
use crate::controllers::ecs_service::observe::Observed;
use crate::controllers::ecs_service::plan::plan;
use crate::controllers::ecs_service::plan::{Plan, Step};
use crate::controllers::ecs_service::validate::ValidatedSpec;
use crate::controllers::ecs_service::validate::validate;
use crate::controllers::runtime::Requeue;
use aws::ecs::{Deployment, Service};
use crds::common::OWNER_TAG;
use crds::ecs_service::{EcsServiceStatus, MemberRelease};

const OLD: &str = "arn:aws:ecs:eu-west-1:123456789012:task-definition/auth:1";
const NEW: &str = "arn:aws:ecs:eu-west-1:123456789012:task-definition/auth:2";

fn spec() -> ValidatedSpec {
    let yaml = r#"
apiVersion: ecs-operator.dev/v1alpha1
kind: EcsService
metadata: {name: auth, namespace: shop, generation: 2}
spec:
  cluster: event-booking
  desiredCount: 2
  taskDefinition:
    containerDefinitions: [{name: app, image: "registry/auth:2.0"}]
"#;
    validate(&serde_saphyr::from_str(yaml).expect("fixture parses")).expect("valid")
}

fn service(spec: &ValidatedSpec, deployments: &[&str]) -> Service {
    Service {
        service_arn: "arn:aws:ecs:eu-west-1:123456789012:service/event-booking/auth".into(),
        service_name: "auth".into(),
        status: "ACTIVE".into(),
        task_definition: deployments.first().map(|td| td.to_string()),
        desired_count: 2,
        running_count: 2,
        config: spec.config.clone(),
        deployment_controller: "ECS".into(),
        deployments: deployments
            .iter()
            .enumerate()
            .map(|(i, td)| Deployment {
                id: format!("ecs-svc/{i}"),
                status: if i == 0 { "PRIMARY" } else { "ACTIVE" }.into(),
                task_definition: td.to_string(),
                desired_count: 2,
                running_count: 2,
                rollout_state: Some("COMPLETED".into()),
                ..Deployment::default()
            })
            .collect(),
        tags: vec![aws::ecs::Tag {
            key: OWNER_TAG.into(),
            value: "shop/auth".into(),
        }],
        ..Service::default()
    }
}

fn member(rollback: bool) -> Membership {
    Membership {
        group: "platform".into(),
        release: Some("r2".into()),
        rollback: rollback.then(|| GroupRollback {
            release: "r2".into(),
            failed_member: "payment".into(),
            reason: "smoke test failed".into(),
        }),
    }
}

fn observed(spec: &ValidatedSpec, deployments: &[&str], rollback: bool) -> Observed {
    Observed {
        service: Some(service(spec, deployments)),
        desired_revision: Some(NEW.into()),
        membership: Some(member(rollback)),
        ..Observed::default()
    }
}

fn released_status() -> EcsServiceStatus {
    EcsServiceStatus {
        last_good_task_definition_arn: Some(NEW.into()),
        release: Some(MemberRelease {
            id: "r2".into(),
            previous_task_definition_arn: Some(OLD.into()),
            rollback_to: None,
        }),
        ..EcsServiceStatus::default()
    }
}

fn reason(plan: &Plan, type_: &str) -> (bool, String) {
    let c = (plan.report.conditions.iter())
        .find(|c| c.type_ == type_)
        .expect("condition");
    (c.status, c.reason.clone())
}

#[test]
fn the_revision_before_the_release_is_taken_once_from_the_last_good_one() {
    let prev = EcsServiceStatus {
        last_good_task_definition_arn: Some(OLD.into()),
        ..EcsServiceStatus::default()
    };
    let first = record(&prev, Some(&member(false)), Some(NEW)).expect("a member");
    assert_eq!(first.previous_task_definition_arn.as_deref(), Some(OLD));
    // Once the new revision is the last good one, the record keeps the earlier one.
    let later = EcsServiceStatus {
        last_good_task_definition_arn: Some(NEW.into()),
        release: Some(first.clone()),
        ..EcsServiceStatus::default()
    };
    assert_eq!(record(&later, Some(&member(false)), Some(NEW)), Some(first));
    // A new release id starts from what is good now.
    let mut next = member(false);
    next.release = Some("r3".into());
    let third = record(&later, Some(&next), Some(NEW)).expect("a member");
    assert_eq!(third.previous_task_definition_arn.as_deref(), Some(NEW));
    assert_eq!(record(&later, None, Some(NEW)), None);
}

#[test]
fn a_released_member_goes_back_with_one_update_and_then_reports_rolled_back() {
    let s = spec();
    let p = plan(&s, &released_status(), &observed(&s, &[NEW], true));
    match &p.step {
        Some(Step::UpdateService { input, .. }) => {
            assert_eq!(input.task_definition.as_deref(), Some(OLD));
            assert!(input.config.is_none() && input.desired_count.is_none());
        }
        other => panic!("expected UpdateService, got {other:?}"),
    }
    assert_eq!(reason(&p, "Reconciling"), (true, ROLLING_BACK.into()));
    // The update landed (or its reply was lost): ECS deploys the old revision; no second call.
    let p = plan(&s, &released_status(), &observed(&s, &[OLD, NEW], true));
    assert_eq!(p.step, None);
    assert_eq!(p.report.requeue, Requeue::Poll);
    let p = plan(&s, &released_status(), &observed(&s, &[OLD], true));
    assert_eq!(p.step, None);
    assert_eq!(reason(&p, "Stalled"), (true, ROLLED_BACK.into()));
    assert_eq!(reason(&p, "Ready"), (false, ROLLED_BACK.into()));
    assert_eq!(p.report.last_good_task_definition_arn.as_deref(), Some(OLD));
}

#[test]
fn a_member_not_started_yet_never_starts() {
    let s = spec();
    let prev = EcsServiceStatus {
        last_good_task_definition_arn: Some(OLD.into()),
        ..EcsServiceStatus::default()
    };
    let mut o = observed(&s, &[OLD], true);
    o.desired_revision = None;
    let p = plan(&s, &prev, &o);
    assert_eq!(p.step, None, "no RegisterTaskDefinition, no UpdateService");
    assert_eq!(reason(&p, "Stalled"), (true, ROLLED_BACK.into()));
    // Without the group's verdict it would register the new revision.
    let p = plan(&s, &prev, &observed_without_revision(&s));
    assert!(matches!(p.step, Some(Step::RegisterTaskDefinition(_))));
}

fn observed_without_revision(s: &ValidatedSpec) -> Observed {
    let mut o = observed(s, &[OLD], false);
    o.desired_revision = None;
    o
}

#[test]
fn a_member_with_a_rollout_has_the_rollout_release_the_old_revision() {
    let s = spec();
    let mut o = observed(&s, &[NEW], true);
    o.rollout = Some("auth".into());
    let p = plan(&s, &released_status(), &o);
    assert_eq!(
        p.step, None,
        "the rollout's engine deploys, not UpdateService"
    );
    let release = p.report.release.as_ref().expect("release kept");
    assert_eq!(release.rollback_to.as_deref(), Some(OLD));
    assert_eq!(reason(&p, "Reconciling"), (true, ROLLING_BACK.into()));
    // Still published once the old revision runs, so the rollout does not release the new one.
    let mut o = observed(&s, &[OLD], true);
    o.rollout = Some("auth".into());
    let p = plan(&s, &released_status(), &o);
    assert_eq!(
        p.report.release.and_then(|r| r.rollback_to).as_deref(),
        Some(OLD)
    );
}

#[test]
fn a_failure_is_remembered_per_release_id() {
    let m = member(false);
    assert_eq!(failure_key("abc", Some(&m)), "abc@r2");
    assert_eq!(failure_key("abc", None), "abc");
    let mut next = m.clone();
    next.release = Some("r3".into());
    assert_ne!(
        failure_key("abc", Some(&m)),
        failure_key("abc", Some(&next))
    );
}
