//! The ownership rules, table-driven: tags, adoption, and when a ScalingPolicy or
//! BlueGreenRollout may act on an EcsService's ECS service.

use super::*;
use aws::ecs::Tag;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

fn ecs_service(policy: &str, adoption: &str, stalled: Option<&str>) -> EcsService {
    let mut svc: EcsService = serde_json::from_value(serde_json::json!({
        "apiVersion": "ecs-operator.dev/v1alpha1",
        "kind": "EcsService",
        "metadata": {"name": "auth", "namespace": "shop", "generation": 1},
        "spec": {
            "cluster": "shop",
            "managementPolicy": policy,
            "adoptionPolicy": adoption,
            "taskDefinition": {"containerDefinitions": [{"name": "app", "image": "app:1"}]}
        }
    }))
    .expect("an EcsService");
    if let Some(reason) = stalled {
        svc.status = Some(crds::EcsServiceStatus {
            conditions: vec![Condition {
                type_: condition::STALLED.into(),
                status: "True".into(),
                reason: reason.into(),
                message: "ECS service auth belongs to victim/auth".into(),
                last_transition_time: Time(jiff::Timestamp::UNIX_EPOCH),
                observed_generation: Some(1),
            }],
            ..Default::default()
        });
    }
    svc
}

fn tagged(owner: Option<&str>) -> Service {
    Service {
        service_name: "auth".into(),
        tags: owner
            .map(|o| {
                vec![Tag {
                    key: OWNER_TAG.into(),
                    value: o.into(),
                }]
            })
            .unwrap_or_default(),
        ..Service::default()
    }
}

#[test]
fn existing_resources_are_ours_adopted_or_refused() {
    let what = "ECS service auth in cluster shop";
    let remedy = "choose another serviceName";
    assert_eq!(
        existing(
            what,
            Some("shop/auth"),
            "shop/auth",
            AdoptionPolicy::Never,
            remedy
        ),
        Verdict::Act
    );
    assert_eq!(
        existing(what, None, "shop/auth", AdoptionPolicy::Adopt, remedy),
        Verdict::Adopt
    );
    let Verdict::Refuse(untagged) =
        existing(what, None, "shop/auth", AdoptionPolicy::Never, remedy)
    else {
        panic!("refused")
    };
    assert_eq!(untagged.reason, "AlreadyExists");
    assert!(untagged.message.contains("adoptionPolicy: Adopt"));
    // Adoption never takes another object's resource.
    let Verdict::Refuse(theirs) = existing(
        what,
        Some("victim/auth"),
        "intruder/auth",
        AdoptionPolicy::Adopt,
        remedy,
    ) else {
        panic!("refused")
    };
    assert_eq!(theirs.reason, "OwnedByAnotherObject");
    assert!(theirs.message.contains("belongs to victim/auth"));
}

#[test]
fn a_policy_or_rollout_acts_only_on_a_managed_owned_service() {
    let req = "ScalingPolicy shop/auth";
    let manage = ecs_service("Manage", "Never", None);
    let ours = tagged(Some("shop/auth"));
    let untagged = tagged(None);
    let theirs = tagged(Some("victim/auth"));
    type Case<'a> = (Option<EcsService>, Option<Option<&'a Service>>, &'a str);
    let cases: Vec<Case> = vec![
        (None, None, "Wait"),
        (Some(manage.clone()), None, "Granted"),
        (Some(manage.clone()), Some(None), "Wait"),
        (Some(manage.clone()), Some(Some(&ours)), "Granted"),
        (
            Some(ecs_service("ObserveOnly", "Never", None)),
            None,
            "ServiceObserveOnly",
        ),
        (
            Some(ecs_service("Manage", "Never", Some("OwnedByAnotherObject"))),
            None,
            "ServiceRefused",
        ),
        (
            Some(ecs_service("Manage", "Never", Some("AlreadyExists"))),
            None,
            "ServiceRefused",
        ),
        (
            Some(manage.clone()),
            Some(Some(&untagged)),
            "ServiceNotOwned",
        ),
        (
            Some(ecs_service("Manage", "Adopt", None)),
            Some(Some(&untagged)),
            "Wait",
        ),
        (
            Some(manage.clone()),
            Some(Some(&theirs)),
            "OwnedByAnotherObject",
        ),
        // A stalled EcsService for another reason (an invalid spec) does not refuse others.
        (
            Some(ecs_service("Manage", "Never", Some("InvalidSpec"))),
            Some(Some(&ours)),
            "Granted",
        ),
    ];
    for (svc, aws_service, want) in cases {
        let got = service_access(req, "auth", svc.as_ref(), aws_service);
        let label = match &got {
            ServiceAccess::Granted => "Granted",
            ServiceAccess::Wait(_) => "Wait",
            ServiceAccess::Refused(r) => r.reason,
        };
        assert_eq!(label, want, "{got:?}");
        if let ServiceAccess::Refused(r) = &got {
            assert!(r.message.contains("auth"), "{}", r.message);
        }
    }
    let ServiceAccess::Refused(r) = service_access(
        req,
        "auth",
        Some(&manage),
        Some(Some(&tagged(Some("victim/auth")))),
    ) else {
        panic!("refused")
    };
    assert!(
        r.message.contains("belongs to victim/auth"),
        "{}",
        r.message
    );
}
