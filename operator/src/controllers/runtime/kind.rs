//! What the runtime needs to know of a kind: its controller name and its status's kstatus
//! fields (conditions, observed generation, the message rollouts also keep).

use crds::{
    BlueGreenRollout, BlueGreenRolloutStatus, EcsService, EcsServiceStatus, NotificationPolicy,
    NotificationPolicyStatus, ReleaseGroup, ReleaseGroupStatus, ScalingPolicy, ScalingPolicyStatus,
};
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::Resource;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The status of one of the operator's kinds, as far as the runtime writes it.
pub trait ObjectStatus: Clone + Default + PartialEq + Serialize + Send + Sync {
    /// Its conditions.
    fn conditions(&self) -> &[Condition];
    /// Replaces its conditions and the generation they describe.
    fn set_conditions(&mut self, conditions: Vec<Condition>, generation: Option<i64>);
    /// The generation the status describes.
    fn observed_generation(&self) -> Option<i64>;
    /// Sets the one-line message, for kinds whose status keeps one (rollouts).
    fn set_message(&mut self, _message: &str) {}
    /// The AWS account its resources are recorded in.
    fn aws_account(&self) -> Option<&str>;
    /// Records the AWS account its resources are in.
    fn set_aws_account(&mut self, account: &str);
}

/// One of the operator's kinds.
pub trait ManagedKind:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Clone
    + DeserializeOwned
    + Serialize
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
    /// Its status type.
    type Status: ObjectStatus;
    /// The controller's name in metrics and logs.
    const CONTROLLER: &'static str;
    /// The status, when it has one.
    fn current_status(&self) -> Option<&Self::Status>;
    /// What the periodic resync sorts objects by: objects whose AWS reads share a call (one
    /// account, region and cluster) come one after another, so their reads are batched.
    fn resync_group(&self) -> String {
        self.meta().namespace.clone().unwrap_or_default()
    }
}

/// The account methods of a status: kept in its `aws_account` field, or none (kinds that reach
/// no AWS account of their own).
macro_rules! account_methods {
    (field) => {
        fn aws_account(&self) -> Option<&str> {
            self.aws_account.as_deref()
        }
        fn set_aws_account(&mut self, account: &str) {
            self.aws_account = Some(account.to_owned());
        }
    };
    (none) => {
        fn aws_account(&self) -> Option<&str> {
            None
        }
        fn set_aws_account(&mut self, _account: &str) {}
    };
}

macro_rules! managed_kind {
    (@status $status:ty, $account:ident $(, $($message:tt)*)?) => {
        impl ObjectStatus for $status {
            fn conditions(&self) -> &[Condition] {
                &self.conditions
            }
            fn set_conditions(&mut self, conditions: Vec<Condition>, generation: Option<i64>) {
                self.conditions = conditions;
                self.observed_generation = generation;
            }
            fn observed_generation(&self) -> Option<i64> {
                self.observed_generation
            }
            account_methods!($account);
            $($($message)*)?
        }
    };
    (without account: $kind:ty, $status:ty, $controller:literal) => {
        impl ManagedKind for $kind {
            type Status = $status;
            const CONTROLLER: &'static str = $controller;
            fn current_status(&self) -> Option<&$status> {
                self.status.as_ref()
            }
        }
        managed_kind!(@status $status, none);
    };
    ($kind:ty, $status:ty, $controller:literal $(; group = $group:expr)? $(, $($message:tt)*)?) => {
        impl ManagedKind for $kind {
            type Status = $status;
            const CONTROLLER: &'static str = $controller;
            fn current_status(&self) -> Option<&$status> {
                self.status.as_ref()
            }
            $(fn resync_group(&self) -> String {
                let group: fn(&$kind) -> String = $group;
                group(self)
            })?
        }
        managed_kind!(@status $status, field $(, $($message)*)?);
    };
}

managed_kind!(
    EcsService,
    EcsServiceStatus,
    "ecsservice";
    group = |s| format!(
        "{}/{}/{}",
        s.spec.region.as_deref().unwrap_or_default(),
        s.spec.cluster,
        s.metadata.namespace.as_deref().unwrap_or_default()
    )
);
managed_kind!(
    BlueGreenRollout,
    BlueGreenRolloutStatus,
    "bluegreenrollout",
    fn set_message(&mut self, message: &str) {
        self.message = Some(message.to_owned());
    }
);
managed_kind!(
    ScalingPolicy,
    ScalingPolicyStatus,
    "scalingpolicy";
    // `service/<cluster>/<service>` once recorded: the cluster comes first.
    group = |p| p
        .status
        .as_ref()
        .and_then(|s| s.resource_id.clone())
        .unwrap_or_default()
);

// A ReleaseGroup reaches no AWS account of its own: its members act.
managed_kind!(without account: ReleaseGroup, ReleaseGroupStatus, "releasegroup");
// NotificationPolicies create nothing in AWS: no account is recorded (an SNS receiver reaches
// its namespace's account for each delivery).
managed_kind!(without account: NotificationPolicy, NotificationPolicyStatus, "notificationpolicy");

/// `<namespace>/<name>`: the key of an object in logs and in the backoff table.
pub fn object_key<K: Resource>(obj: &K) -> String {
    format!(
        "{}/{}",
        obj.meta().namespace.as_deref().unwrap_or_default(),
        obj.meta().name.as_deref().unwrap_or_default()
    )
}
