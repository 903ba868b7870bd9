//! The pure decisions about an object's AWS account: which binding its namespace has, which
//! identity and region that gives it, and whether that is still the account its resources are
//! in. No IO: the callers pass the bindings from the cache and the object's recorded account.

use std::sync::Arc;
use std::time::Duration;

use crds::AwsAccountBinding;
use crds::common::CONFIRM_ACCOUNT_ANNOTATION;
use kube::ResourceExt;

use crate::controllers::ownership::Refusal;
use aws::accounts::{Identity, OPERATOR_ACCOUNT};
use aws::sts::{DEFAULT_SESSION, RoleSession};

/// Who may use the operator's own identity: namespaces no AwsAccountBinding names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum UnboundNamespaces {
    /// Only while no AwsAccountBinding exists at all (a cluster with one account keeps working;
    /// the first binding makes every namespace explicit).
    #[default]
    Auto,
    /// Always: unbound namespaces use the operator's own identity and account.
    OperatorIdentity,
    /// Never: every namespace needs a binding.
    Refuse,
}

/// What a namespace's objects reach.
#[derive(Debug, Clone)]
pub enum Binding {
    /// The operator's own identity.
    Operator,
    /// The account of this binding.
    Bound(Arc<AwsAccountBinding>),
}

/// The account and region one object acts in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Whose credentials.
    pub identity: Identity,
    /// The region.
    pub region: String,
    /// The binding it came from (`None`: the operator's own identity).
    pub binding: Option<String>,
}

impl Target {
    /// The account label (12-digit id, or `operator`).
    pub fn account(&self) -> &str {
        self.identity.account()
    }
}

/// The binding of `namespace` among `bindings` (those being deleted do not count).
pub fn binding_of(
    bindings: &[Arc<AwsAccountBinding>],
    namespace: &str,
    unbound: UnboundNamespaces,
) -> Result<Binding, Refusal> {
    let live: Vec<_> = bindings
        .iter()
        .filter(|b| b.metadata.deletion_timestamp.is_none())
        .collect();
    let mut naming: Vec<_> = live
        .iter()
        .filter(|b| b.spec.namespaces.iter().any(|n| n == namespace))
        .collect();
    naming.sort_by_key(|b| b.name_any());
    match naming.as_slice() {
        [one] => Ok(Binding::Bound((**one).clone())),
        [] => match unbound {
            UnboundNamespaces::OperatorIdentity => Ok(Binding::Operator),
            UnboundNamespaces::Auto if live.is_empty() => Ok(Binding::Operator),
            policy => Err(Refusal {
                reason: "NoAccountBinding",
                message: format!(
                    "namespace {namespace} is not bound to an AWS account: no AwsAccountBinding names it, and {}; a cluster administrator adds {namespace} to an AwsAccountBinding's spec.namespaces",
                    match policy {
                        UnboundNamespaces::Refuse => {
                            "ecs-operator is set never to use its own identity for unbound namespaces (--unbound-namespaces=refuse)"
                        }
                        _ => {
                            "ecs-operator uses its own identity for unbound namespaces only while no AwsAccountBinding exists (--unbound-namespaces=auto)"
                        }
                    }
                ),
            }),
        },
        many => Err(Refusal {
            reason: "AccountBindingConflict",
            message: format!(
                "namespace {namespace} is named by AwsAccountBindings {}; a namespace reaches one account only, so its objects wait until a cluster administrator removes it from all but one",
                many.iter()
                    .map(|b| b.name_any())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        }),
    }
}

/// The RoleSessionName of a binding's sessions (what CloudTrail shows): `ecs-operator-NAME`,
/// cut to STS's 64 characters.
pub fn session_name(binding: &str) -> String {
    let mut name: String = format!("ecs-operator-{binding}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+=,.@-_".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    name.truncate(64);
    name
}

/// The identity and region an object of `namespace` with `spec_region` acts in.
pub fn target(
    binding: &Binding,
    namespace: &str,
    spec_region: Option<&str>,
    operator_region: &str,
) -> Result<Target, Refusal> {
    let Binding::Bound(b) = binding else {
        return Ok(Target {
            identity: Identity::Operator,
            region: spec_region.unwrap_or(operator_region).to_owned(),
            binding: None,
        });
    };
    let name = b.name_any();
    let region = match spec_region.or(b.spec.default_region()) {
        Some(r) => r.to_owned(),
        None => operator_region.to_owned(),
    };
    if !b.spec.regions.contains(&region) {
        return Err(Refusal {
            reason: "RegionNotAllowed",
            message: format!(
                "region {region} is not allowed in namespace {namespace}: AwsAccountBinding {name} (account {}) allows {}; choose one of those in spec.region, or ask a cluster administrator to add {region} to the binding's spec.regions",
                b.spec.account_id,
                b.spec.regions.join(", ")
            ),
        });
    }
    let duration = b
        .spec
        .session_duration_seconds
        .and_then(|s| u64::try_from(s).ok())
        .map_or(DEFAULT_SESSION, Duration::from_secs);
    Ok(Target {
        identity: Identity::Role(RoleSession {
            account_id: b.spec.account_id.clone(),
            role_arn: b.spec.role_arn.clone(),
            external_id: b.spec.external_id.clone(),
            session_name: session_name(&name),
            session_tags: b
                .spec
                .session_tags
                .iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect(),
            duration,
        }),
        region,
        binding: Some(name),
    })
}

/// The account an object's AWS resources are in: the one its status records, else — for an
/// object that already holds a finalizer, so acted before accounts were recorded — the
/// operator's own; `None` for an object that never acted.
pub fn recorded(status_account: Option<&str>, has_finalizer: bool) -> Option<String> {
    match status_account {
        Some(account) => Some(account.to_owned()),
        None if has_finalizer => Some(OPERATOR_ACCOUNT.to_owned()),
        None => None,
    }
}

/// Whether an object may act in `target` given the account it is recorded in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Move {
    /// Same account as recorded.
    Stay,
    /// First time: record the account before acting.
    Record,
    /// A person confirmed the move to the target's account: record it, then act there.
    Confirmed {
        /// The account the object was in.
        from: String,
    },
    /// The namespace points elsewhere now and nobody confirmed: act nowhere.
    Refused(Refusal),
}

/// Decides about an object recorded in `recorded` that would now act in `target`;
/// `confirmation` is its confirm-account annotation; `deleting` words the refusal for an object
/// whose deletion waits; `object` is how kubectl names it (`-n shop ecsservice/auth`).
pub fn check_move(
    object: &str,
    recorded: Option<&str>,
    target: &Target,
    confirmation: Option<&str>,
    deleting: bool,
) -> Move {
    let now = target.account();
    let Some(was) = recorded else {
        return Move::Record;
    };
    if was == now {
        return Move::Stay;
    }
    if confirmation == Some(now) {
        return Move::Confirmed {
            from: was.to_owned(),
        };
    }
    let was_named = if was == OPERATOR_ACCOUNT {
        "ecs-operator's own account".to_owned()
    } else {
        format!("account {was}")
    };
    let via = match &target.binding {
        Some(b) => format!("AwsAccountBinding {b} binds its namespace to account {now}"),
        None => "its namespace now uses ecs-operator's own identity (no binding names it)".into(),
    };
    let what_then = if deleting {
        format!(
            "its deletion waits: restore the binding to clean up in {was_named}, or confirm to abandon what is in {was_named} and clean up in {now}"
        )
    } else {
        format!(
            "nothing is created in {now} meanwhile; confirming moves the object (what is in {was_named} stays there, untouched)"
        )
    };
    Move::Refused(Refusal {
        reason: "AccountChanged",
        message: format!(
            "this object's AWS resources are in {was_named}, but {via}; {what_then}. To confirm: kubectl annotate --overwrite {object} {CONFIRM_ACCOUNT_ANNOTATION}={now}"
        ),
    })
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
