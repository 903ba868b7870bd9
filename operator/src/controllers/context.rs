//! The state every reconcile shares: clients, clock, event recorder, metrics, backoff,
//! settings and read-only stores of the kinds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crds::common::RELEASE_GROUP_LABEL;
use crds::{
    AwsAccountBinding, BlueGreenRollout, EcsService, NotificationPolicy, ReleaseGroup,
    ScalingPolicy,
};
use kube::runtime::events::Recorder;
use kube::runtime::reflector::{ObjectRef, Store};

use super::accounts::resolve::UnboundNamespaces;
use super::index::Index;
use super::references::known::KnownReferences;
use super::runtime::backoff::Backoff;
use crate::metrics::Metrics;
use aws::accounts::AwsAccounts;
use aws::clock::SharedClock;
use aws::ecs::TaskDefinition;

/// Timing knobs, in the clock's time (the simulator's clock may run faster than the wall).
#[derive(Debug, Clone)]
pub struct Settings {
    /// How often every object is looked at again when nothing happens.
    pub resync: Duration,
    /// How often a deployment in progress is checked.
    pub poll: Duration,
    /// How often an object waiting for another object checks again.
    pub wait_poll: Duration,
    /// Every object in dry-run: observed and planned, no AWS mutation (`--dry-run`).
    pub dry_run: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            resync: Duration::from_secs(300),
            poll: Duration::from_secs(15),
            wait_poll: Duration::from_secs(10),
            dry_run: false,
        }
    }
}

/// Read-only caches of the operator's kinds, fed by reflectors, with the indexes the
/// reconciles look related objects up in.
#[derive(Clone)]
pub struct Stores {
    /// EcsServices.
    pub services: Store<EcsService>,
    /// BlueGreenRollouts.
    pub rollouts: Store<BlueGreenRollout>,
    /// ScalingPolicies.
    pub scaling: Store<ScalingPolicy>,
    /// AwsAccountBindings (cluster-scoped).
    pub bindings: Store<AwsAccountBinding>,
    /// ReleaseGroups.
    pub release_groups: Store<ReleaseGroup>,
    /// EcsServices by [`service_cluster_key`].
    pub services_by_cluster: Index<EcsService>,
    /// BlueGreenRollouts by [`rollout_service_key`].
    pub rollouts_by_service: Index<BlueGreenRollout>,
    /// ScalingPolicies by [`scaling_service_key`].
    pub scaling_by_service: Index<ScalingPolicy>,
    /// EcsServices by [`service_group_key`].
    pub services_by_group: Index<EcsService>,
    /// NotificationPolicies.
    pub notification_policies: Store<NotificationPolicy>,
}

/// `<namespace>/<group>` of the ReleaseGroup an EcsService's label names, if any.
pub fn service_group_key(s: &EcsService) -> Option<String> {
    let group = s.metadata.labels.as_ref()?.get(RELEASE_GROUP_LABEL)?;
    Some(format!(
        "{}/{group}",
        s.metadata.namespace.as_deref().unwrap_or_default()
    ))
}

/// `<region>/<cluster>` of an EcsService (the region empty for the account's default).
pub fn service_cluster_key(s: &EcsService) -> Option<String> {
    Some(cluster_key(s.spec.region.as_deref(), &s.spec.cluster))
}

fn cluster_key(region: Option<&str>, cluster: &str) -> String {
    format!("{}/{cluster}", region.unwrap_or_default())
}

/// `<namespace>/<service>` of the EcsService a BlueGreenRollout names.
pub fn rollout_service_key(r: &BlueGreenRollout) -> Option<String> {
    Some(format!(
        "{}/{}",
        r.metadata.namespace.as_deref().unwrap_or_default(),
        r.spec.service_ref.name
    ))
}

/// `<namespace>/<service>` of the EcsService a ScalingPolicy names.
pub fn scaling_service_key(p: &ScalingPolicy) -> Option<String> {
    Some(format!(
        "{}/{}",
        p.metadata.namespace.as_deref().unwrap_or_default(),
        p.spec.service_ref.name
    ))
}

impl Stores {
    /// The EcsService `name` in `namespace`.
    pub fn service(&self, namespace: &str, name: &str) -> Option<Arc<EcsService>> {
        self.services.get(&ObjectRef::new(name).within(namespace))
    }

    /// ECS service names of every EcsService in `cluster` and `region` whose resources are
    /// recorded in `account` (for read-ahead: one DescribeServices reads its neighbours in the
    /// same account, never names from another account).
    pub fn service_names_in(
        &self,
        account: &str,
        cluster: &str,
        region: Option<&str>,
    ) -> Arc<Vec<String>> {
        let mut names: Vec<String> = self
            .services_by_cluster
            .get(&self.services, &cluster_key(region, cluster))
            .iter()
            .filter(|s| {
                s.spec.cluster == cluster
                    && s.spec.region.as_deref() == region
                    && s.status.as_ref().and_then(|st| st.aws_account.as_deref()) == Some(account)
            })
            .map(|s| s.service_name().to_string())
            .collect();
        names.sort();
        Arc::new(names)
    }

    /// BlueGreenRollouts in `namespace` that reference the EcsService `service`.
    pub fn rollouts_for(&self, namespace: &str, service: &str) -> Vec<Arc<BlueGreenRollout>> {
        let mut found: Vec<_> = self
            .rollouts_by_service
            .get(&self.rollouts, &format!("{namespace}/{service}"))
            .into_iter()
            .filter(|r| {
                r.metadata.namespace.as_deref() == Some(namespace)
                    && r.spec.service_ref.name == service
                    && r.metadata.deletion_timestamp.is_none()
            })
            .collect();
        // Oldest first; creation timestamps have whole seconds, so the name breaks ties.
        found.sort_by(|a, b| {
            (&a.metadata.creation_timestamp, &a.metadata.name)
                .cmp(&(&b.metadata.creation_timestamp, &b.metadata.name))
        });
        found
    }

    /// The ReleaseGroup `name` in `namespace`.
    pub fn release_group(&self, namespace: &str, name: &str) -> Option<Arc<ReleaseGroup>> {
        self.release_groups
            .get(&ObjectRef::new(name).within(namespace))
    }

    /// The EcsServices of `namespace` whose label names the ReleaseGroup `group`, by name.
    pub fn members_of(&self, namespace: &str, group: &str) -> Vec<Arc<EcsService>> {
        let key = format!("{namespace}/{group}");
        let mut found: Vec<_> = self
            .services_by_group
            .get(&self.services, &key)
            .into_iter()
            .filter(|s| service_group_key(s).as_deref() == Some(key.as_str()))
            .collect();
        found.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        found
    }

    /// ScalingPolicies in `namespace` that reference the EcsService `service`, oldest first.
    pub fn scaling_for(&self, namespace: &str, service: &str) -> Vec<Arc<ScalingPolicy>> {
        let mut found: Vec<_> = self
            .scaling_by_service
            .get(&self.scaling, &format!("{namespace}/{service}"))
            .into_iter()
            .filter(|p| {
                p.metadata.namespace.as_deref() == Some(namespace)
                    && p.spec.service_ref.name == service
                    && p.metadata.deletion_timestamp.is_none()
            })
            .collect();
        // Oldest first; the name breaks ties, so the order does not depend on the index's.
        found.sort_by(|a, b| {
            (&a.metadata.creation_timestamp, &a.metadata.name)
                .cmp(&(&b.metadata.creation_timestamp, &b.metadata.name))
        });
        found
    }
}

/// Task definition revisions already described: their content and tags never change, so each
/// is read from AWS once per process.
#[derive(Default)]
pub struct TaskDefinitionCache {
    revisions: Mutex<HashMap<String, TaskDefinition>>,
}

impl TaskDefinitionCache {
    /// A cached revision.
    pub fn get(&self, arn: &str) -> Option<TaskDefinition> {
        self.revisions.lock().expect("cache lock").get(arn).cloned()
    }

    /// Remembers a revision.
    pub fn put(&self, td: TaskDefinition) {
        self.revisions
            .lock()
            .expect("cache lock")
            .insert(td.task_definition_arn.clone(), td);
    }

    /// Forgets a revision (after deregistering it).
    pub fn forget(&self, arn: &str) {
        self.revisions.lock().expect("cache lock").remove(arn);
    }
}

/// The versions of each object this process wrote, so that every write carries the right
/// resourceVersion precondition (optimistic concurrency: a write computed from an old object —
/// a cache behind its own writes, or a request of a crashed process landing late — is refused
/// by the API server instead of overwriting newer state), and a reconcile that starts from an
/// object version this process has already written over waits for the newer one.
#[derive(Default)]
pub struct WrittenVersions {
    chains: Mutex<HashMap<String, Chain>>,
}

/// The versions one object went through by this process's writes, oldest first: the version
/// the first write started from, then what each write returned.
#[derive(Debug, Default)]
struct Chain {
    versions: Vec<String>,
}

impl WrittenVersions {
    fn key<K: kube::Resource<DynamicType = ()>>(obj: &K) -> String {
        let meta = obj.meta();
        format!(
            "{}/{}/{}",
            K::kind(&()),
            meta.namespace.as_deref().unwrap_or_default(),
            meta.name.as_deref().unwrap_or_default()
        )
    }

    /// The resourceVersion a write to `obj` must require: the version this process's last
    /// write produced when `obj` is one this process already wrote over, else `obj`'s own.
    pub fn precondition<K: kube::Resource<DynamicType = ()>>(&self, obj: &K) -> Option<String> {
        let rv = obj.meta().resource_version.clone()?;
        let chains = self.chains.lock().expect("versions lock");
        match chains.get(&Self::key(obj)) {
            Some(chain) if chain.versions.contains(&rv) => chain.versions.last().cloned(),
            _ => Some(rv),
        }
    }

    /// A write to `obj` (as the reconcile saw it) produced `written` (its new resourceVersion).
    pub fn wrote<K: kube::Resource<DynamicType = ()>>(&self, obj: &K, written: Option<String>) {
        let (Some(rv), Some(written)) = (obj.meta().resource_version.clone(), written) else {
            return;
        };
        if written == rv {
            // The server found nothing to change: the object is still at its version.
            return;
        }
        let mut chains = self.chains.lock().expect("versions lock");
        let chain = chains.entry(Self::key(obj)).or_default();
        if !chain.versions.contains(&rv) {
            chain.versions = vec![rv];
        }
        if !chain.versions.contains(&written) {
            chain.versions.push(written);
        }
    }

    /// Whether `obj` is a version this process has already written over.
    pub fn is_stale<K: kube::Resource<DynamicType = ()>>(&self, obj: &K) -> bool {
        let key = Self::key(obj);
        let Some(rv) = obj.meta().resource_version.as_ref() else {
            return false;
        };
        let mut chains = self.chains.lock().expect("versions lock");
        let Some(chain) = chains.get(&key) else {
            return false;
        };
        match chain.versions.iter().position(|v| v == rv) {
            Some(i) if i + 1 < chain.versions.len() => true,
            // Caught up with this process's last write, or at a version someone else made.
            _ => {
                chains.remove(&key);
                false
            }
        }
    }
}

/// Shared by every reconcile of every controller.
pub struct Context {
    /// Kubernetes client.
    pub client: kube::Client,
    /// AWS clients per account × region.
    pub aws: Arc<AwsAccounts>,
    /// Time source for decisions and waits.
    pub clock: SharedClock,
    /// Publishes Kubernetes events.
    pub recorder: Recorder,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Per-object backoff on retryable errors.
    pub backoff: Backoff,
    /// Timing knobs.
    pub settings: Settings,
    /// Described task definition revisions.
    pub task_definitions: TaskDefinitionCache,
    /// Read-only caches of the kinds.
    pub stores: Stores,
    /// Versions this process wrote over (see [`WrittenVersions`]).
    pub written: WrittenVersions,
    /// Who may use the operator's own AWS identity.
    pub unbound: UnboundNamespaces,
    /// Reference lookups that found their target, and generations that passed verification.
    pub references: KnownReferences,
    /// Posts notifications to webhook receivers.
    pub webhooks: Arc<dyn aws::webhook::WebhookApi>,
    /// The NotificationPolicy that follows every namespace (`--cluster-notification-policy`).
    pub cluster_notification_policy: Option<ObjectRef<NotificationPolicy>>,
}

impl Context {
    /// Whether `policy` is the cluster-wide NotificationPolicy.
    pub fn is_cluster_notification_policy(&self, policy: &NotificationPolicy) -> bool {
        self.cluster_notification_policy
            .as_ref()
            .is_some_and(|r| *r == ObjectRef::from_obj(policy))
    }

    /// Converts a duration of the clock's time into a tokio wait.
    pub fn wall(&self, d: Duration) -> Duration {
        self.clock.to_wall(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crds::EcsService;

    fn at(rv: &str) -> EcsService {
        let mut svc = EcsService::new("auth", Default::default());
        svc.metadata.namespace = Some("shop".into());
        svc.metadata.resource_version = Some(rv.into());
        svc
    }

    #[test]
    fn writes_chain_their_preconditions_and_an_old_version_is_stale() {
        let v = WrittenVersions::default();
        assert_eq!(v.precondition(&at("5")).as_deref(), Some("5"));
        // A reconcile of version 5 writes twice: the second write requires the first's result.
        v.wrote(&at("5"), Some("6".into()));
        assert_eq!(v.precondition(&at("5")).as_deref(), Some("6"));
        v.wrote(&at("5"), Some("7".into()));
        assert_eq!(v.precondition(&at("5")).as_deref(), Some("7"));
        // The cache still shows 5 or 6: wait for 7.
        assert!(v.is_stale(&at("5")));
        assert!(v.is_stale(&at("6")));
        // A write the server found nothing to change in leaves the chain as it was.
        v.wrote(&at("7"), Some("7".into()));
        assert!(!v.is_stale(&at("7")), "caught up");
        assert!(!v.is_stale(&at("6")), "forgotten once caught up");
        // Someone else's version is never stale.
        v.wrote(&at("8"), Some("9".into()));
        assert!(!v.is_stale(&at("12")));
        assert_eq!(v.precondition(&at("12")).as_deref(), Some("12"));
    }
}
