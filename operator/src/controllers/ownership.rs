//! Who owns which AWS resource, decided in one place. Every controller asks here before it
//! mutates AWS, and deletion asks the same questions before it deletes.
//!
//! | AWS resource | owner | how it is recognised |
//! |---|---|---|
//! | ECS service | the EcsService that created or adopted it | owner tag on the service |
//! | task definition revisions | the EcsService that registered them | owner tag on each revision |
//! | `desiredCount` | the EcsService spec, or Application Auto Scaling while a scalable target exists for the service | the ScalingPolicy store, confirmed in AWS before a write |
//! | scalable target, its policies and scheduled actions | the ScalingPolicy | owner tag on the target |
//! | step policies' CloudWatch alarms | the ScalingPolicy | owner tag on the alarm and its name |
//! | CodeDeploy application, deployment group, custom deployment config | the BlueGreenRollout that created them | owner tag, and the rollout's status (intent recorded before the create call) |
//! | which revision serves, the deployment controller and strategy | the BlueGreenRollout when one exists, else the EcsService | the stores |
//!
//! A ScalingPolicy or BlueGreenRollout never acts on its own authority: it acts on the ECS
//! service of an EcsService only while that EcsService is `Manage`, not refused, and the ECS
//! service carries that EcsService's owner tag in AWS ([`service_access`]).

use crds::EcsService;
use crds::common::{AdoptionPolicy, ManagementPolicy, OWNER_TAG, condition};
use kube::Resource;

use aws::ecs::Service;

/// The owner tag value of an object: `<namespace>/<name>`.
pub fn owner_of<K: Resource>(obj: &K) -> String {
    format!(
        "{}/{}",
        obj.meta().namespace.as_deref().unwrap_or_default(),
        obj.meta().name.as_deref().unwrap_or_default()
    )
}

/// Whose an existing AWS resource is, as `owner` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Tagged for `owner`.
    Ours,
    /// No owner tag: created outside the operator.
    Untagged,
    /// Tagged for another object (named).
    Theirs(String),
}

/// Reads an owner tag value.
pub fn claim(tag: Option<&str>, owner: &str) -> Claim {
    match tag {
        Some(t) if t == owner => Claim::Ours,
        Some(other) => Claim::Theirs(other.to_owned()),
        None => Claim::Untagged,
    }
}

/// Why an object may not act: a PascalCase reason and a message naming the owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Condition reason.
    pub reason: &'static str,
    /// What is in the way and what to do.
    pub message: String,
}

/// What an object may do with a resource that already exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It is the object's own.
    Act,
    /// It is nobody's and the object may take it over (tag it first).
    Adopt,
    /// Hands off.
    Refuse(Refusal),
}

/// The verdict on an existing resource described as `what` (e.g. "ECS service auth in cluster
/// shop"), tagged `tag`, for `owner` with `adoption`. `remedy` says what else the user can
/// change (e.g. "choose another serviceName").
pub fn existing(
    what: &str,
    tag: Option<&str>,
    owner: &str,
    adoption: AdoptionPolicy,
    remedy: &str,
) -> Verdict {
    match claim(tag, owner) {
        Claim::Ours => Verdict::Act,
        Claim::Untagged if adoption == AdoptionPolicy::Adopt => Verdict::Adopt,
        Claim::Untagged => Verdict::Refuse(Refusal {
            reason: "AlreadyExists",
            message: format!(
                "{what} already exists and is not managed by ecs-operator; set spec.adoptionPolicy: Adopt to take it over, or {remedy}"
            ),
        }),
        Claim::Theirs(other) => Verdict::Refuse(Refusal {
            reason: "OwnedByAnotherObject",
            message: format!(
                "{what} belongs to {other}; ecs-operator never takes over another object's resources: {remedy}"
            ),
        }),
    }
}

/// Whether a ScalingPolicy or BlueGreenRollout may act on the ECS service of an EcsService.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceAccess {
    /// The EcsService manages the ECS service and owns it in AWS.
    Granted,
    /// Not yet: the EcsService or its ECS service does not exist (yet), or is being adopted.
    Wait(String),
    /// Hands off, until a person changes something.
    Refused(Refusal),
}

/// Reasons an EcsService is refused with: it does not own its ECS service.
const REFUSED_SERVICE_REASONS: [&str; 2] = ["OwnedByAnotherObject", "AlreadyExists"];

/// Decides whether `requester` (e.g. "ScalingPolicy shop/auth") may act on the ECS service of
/// `ecs_service` (from the store). `aws_service` is what DescribeServices said: `None` before
/// it was read (decided from the store alone, so a refusal costs no AWS call), `Some(None)` when
/// the service does not exist.
pub fn service_access(
    requester: &str,
    service_ref: &str,
    ecs_service: Option<&EcsService>,
    aws_service: Option<Option<&Service>>,
) -> ServiceAccess {
    let Some(svc) = ecs_service else {
        return ServiceAccess::Wait(format!(
            "waiting for EcsService {service_ref} to exist in this namespace (spec.serviceRef.name)"
        ));
    };
    let name = svc.service_name();
    if svc.spec.management_policy == ManagementPolicy::ObserveOnly {
        return ServiceAccess::Refused(Refusal {
            reason: "ServiceObserveOnly",
            message: format!(
                "EcsService {service_ref} is ObserveOnly, so ecs-operator never writes to ECS service {name}; {requester} acts only on a service its EcsService manages: set the EcsService's managementPolicy to Manage, or delete {requester}"
            ),
        });
    }
    if let Some(c) = refused(svc) {
        return ServiceAccess::Refused(Refusal {
            reason: "ServiceRefused",
            message: format!(
                "EcsService {service_ref} is refused ({}: {}); {requester} never acts on a service its EcsService does not own",
                c.reason, c.message
            ),
        });
    }
    let Some(aws_service) = aws_service else {
        return ServiceAccess::Granted;
    };
    let Some(service) = aws_service else {
        return ServiceAccess::Wait(format!(
            "waiting for EcsService {service_ref} to create ECS service {name}"
        ));
    };
    let owner = owner_of(svc);
    match claim(service.tag(OWNER_TAG), &owner) {
        Claim::Ours => ServiceAccess::Granted,
        Claim::Untagged if svc.spec.adoption_policy == AdoptionPolicy::Adopt => {
            ServiceAccess::Wait(format!(
                "waiting for EcsService {service_ref} to adopt ECS service {name}"
            ))
        }
        Claim::Untagged => ServiceAccess::Refused(Refusal {
            reason: "ServiceNotOwned",
            message: format!(
                "ECS service {name} is not managed by ecs-operator (no owner tag) and EcsService {service_ref} does not adopt it; {requester} never acts on it"
            ),
        }),
        Claim::Theirs(other) => ServiceAccess::Refused(Refusal {
            reason: "OwnedByAnotherObject",
            message: format!(
                "ECS service {name} belongs to {other}, not to EcsService {owner}; {requester} never acts on another object's service"
            ),
        }),
    }
}

/// The EcsService's Stalled condition, when it is refused for its current generation.
fn refused(svc: &EcsService) -> Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
    let status = svc.status.as_ref()?;
    status.conditions.iter().find(|c| {
        c.type_ == condition::STALLED
            && c.status == "True"
            && REFUSED_SERVICE_REASONS.contains(&c.reason.as_str())
    })
}

#[cfg(test)]
#[path = "ownership_tests.rs"]
mod tests;
