//! Which AWS account and region an object reaches, decided before any AWS call of a reconcile:
//! its namespace's AwsAccountBinding (or the operator's own identity where the administrator
//! allows it), the binding's allowed regions, the account its resources are recorded in, and
//! the role assumed there. Any refusal is Stalled with no AWS call in the target account.

pub mod resolve;

use std::sync::Arc;

use crds::AwsAccountBinding;
use crds::common::CONFIRM_ACCOUNT_ANNOTATION;
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use kube::runtime::controller::Action;

use self::resolve::{Move, Target, UnboundNamespaces, binding_of, check_move, recorded, target};
use crate::controllers::Context;
use crate::controllers::ownership::Refusal;
use crate::controllers::runtime::events::publish;
use crate::controllers::runtime::refuse::{Recheck, park, refuse};
use crate::controllers::runtime::{ManagedKind, ObjectStatus, ReconcileError, finalizer, status};
use aws::AwsError;
use aws::accounts::AwsClients;

/// How a reconcile goes on after choosing the object's account.
pub enum Reach {
    /// Act with these clients (credentials checked, account recorded).
    Clients(Arc<AwsClients>),
    /// The object is refused (Stalled) or waits (Reconciling), its status written; return
    /// this action.
    Refused(Action),
}

/// The account and region `obj` acts in, without IO: its namespace's binding, the region it
/// names (`None`: the binding's default, or the operator's), and its recorded account.
pub fn decide<K: ManagedKind>(
    ctx: &Context,
    obj: &K,
    region: Option<&str>,
) -> Result<(Target, Move), Refusal> {
    let namespace = obj.namespace().unwrap_or_default();
    let bindings = ctx.stores.bindings.state();
    let binding = binding_of(&bindings, &namespace, ctx.unbound)?;
    let target = target(&binding, &namespace, region, ctx.aws.default_region())?;
    // Only the operator's own finalizer says the object acted; another tool's says nothing.
    let has_finalizer = finalizer::has(obj);
    let status_account = obj.current_status().and_then(ObjectStatus::aws_account);
    let object = format!(
        "-n {namespace} {}/{}",
        K::kind(&()).to_lowercase(),
        obj.name_any()
    );
    let confirmation = obj
        .annotations()
        .get(CONFIRM_ACCOUNT_ANNOTATION)
        .map(String::as_str);
    let deleting = obj.meta().deletion_timestamp.is_some();
    let recorded = recorded(status_account, has_finalizer);
    match check_move(
        &object,
        recorded.as_deref(),
        &target,
        confirmation,
        deleting,
    ) {
        Move::Refused(refusal) => Err(refusal),
        verdict => Ok((target, verdict)),
    }
}

/// Chooses `obj`'s account and region (see [`decide`]), makes sure the account's credentials
/// work (assumes the binding's role), and records the account in the status before the
/// object's first AWS call there.
pub async fn reach<K: ManagedKind>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
    region: Option<&str>,
) -> Result<Reach, ReconcileError> {
    let (target, verdict) = match decide(ctx, obj, region) {
        Ok(decided) => decided,
        Err(refusal) => return refused(ctx, api, obj, &refusal).await,
    };
    let aws = match ctx.aws.connect(&target.identity, &target.region).await {
        Ok(aws) => aws,
        Err(e) if e.kind.is_retryable() => return Err(ReconcileError::Observe(e)),
        Err(e) => return refused(ctx, api, obj, &assume_role_refused(&target, &e)).await,
    };
    let deleting = obj.meta().deletion_timestamp.is_some();
    if verdict == Move::Record && target.binding.is_none() && ctx.unbound == UnboundNamespaces::Auto
    {
        // The operator's own account is recorded for good only if no binding exists: a binding
        // applied together with the object may not have reached the cache yet, so ask the API
        // server (once per object, only while no binding is cached).
        let listed = Api::<AwsAccountBinding>::all(ctx.client.clone())
            .list_metadata(&ListParams::default().limit(1))
            .await
            .map_err(ReconcileError::Kube)?;
        if !listed.items.is_empty() {
            let message = "an AwsAccountBinding exists that the operator's cache does not show yet; waiting for it before choosing this object's account";
            return park(ctx, api, obj, "WaitingForAccountBindings", message)
                .await
                .map(Reach::Refused);
        }
    }
    match verdict {
        Move::Stay | Move::Refused(_) => {}
        Move::Record if deleting => {}
        Move::Record => record(ctx, api, obj, target.account()).await?,
        Move::Confirmed { from } => {
            record(ctx, api, obj, target.account()).await?;
            let note = format!(
                "moved from account {from} to account {} as confirmed by {CONFIRM_ACCOUNT_ANNOTATION}; what is in {from} was left as it is",
                target.account()
            );
            tracing::info!(object = %crate::controllers::runtime::object_key(obj), %note, "account moved");
            publish(ctx, obj, false, "AccountMoved", note).await;
        }
    }
    Ok(Reach::Clients(aws))
}

/// The refusal of a role that cannot be assumed: the binding, the role and AWS's answer.
fn assume_role_refused(target: &Target, e: &AwsError) -> Refusal {
    let role = match &target.identity {
        aws::accounts::Identity::Role(session) => session.role_arn.as_str(),
        aws::accounts::Identity::Operator => "(the operator's own identity)",
    };
    Refusal {
        reason: "AssumeRoleFailed",
        message: format!(
            "cannot assume role {role} of AwsAccountBinding {} (account {}): AssumeRole was refused by AWS: {}; the role's trust policy must let ecs-operator's own role call sts:AssumeRole (and sts:TagSession when the binding has sessionTags), with the binding's externalId when it requires one; nothing was called in account {}",
            target.binding.as_deref().unwrap_or("-"),
            target.account(),
            e.answer(),
            target.account()
        ),
    }
}

async fn refused<K: ManagedKind>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
    refusal: &Refusal,
) -> Result<Reach, ReconcileError> {
    refuse(
        ctx,
        api,
        obj,
        refusal.reason,
        &refusal.message,
        Recheck::AtResync,
    )
    .await
    .map(Reach::Refused)
}

/// Field manager of `status.awsAccount`: its own, so the controllers' status writes (which
/// apply the whole status with their manager) never remove it by leaving it out.
pub const ACCOUNT_FIELD_MANAGER: &str = "ecs-operator-account";

/// Writes the account into the status (before anything is created in it).
async fn record<K: ManagedKind>(
    ctx: &Context,
    api: &Api<K>,
    obj: &K,
    account: &str,
) -> Result<(), ReconcileError> {
    let status = serde_json::json!({"awsAccount": account});
    status::apply(ctx, api, obj, ACCOUNT_FIELD_MANAGER, &status)
        .await
        .map_err(ReconcileError::Kube)
}

/// The objects of `K` a change of `binding` may concern: those of the namespaces it names, and
/// those recorded in its account or in the operator's own (the first binding can end the
/// operator identity's use under `auto`). Bindings change rarely; the rest waits for resync.
pub fn affected<K: ManagedKind>(
    store: &kube::runtime::reflector::Store<K>,
    binding: &crds::AwsAccountBinding,
) -> Vec<kube::runtime::reflector::ObjectRef<K>> {
    store
        .state()
        .iter()
        .filter(|obj| {
            let namespace = obj.namespace().unwrap_or_default();
            let account = obj.current_status().and_then(ObjectStatus::aws_account);
            binding.spec.namespaces.contains(&namespace)
                || account == Some(binding.spec.account_id.as_str())
                || account == Some(aws::accounts::OPERATOR_ACCOUNT)
        })
        .map(|obj| kube::runtime::reflector::ObjectRef::from_obj(obj.as_ref()))
        .collect()
}
