//! The state every reconcile shares: clients, clock, event recorder, metrics, backoff,
//! settings and read-only stores of the three kinds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crds::{BlueGreenRollout, EcsService, ScalingPolicy};
use kube::runtime::events::Recorder;
use kube::runtime::reflector::{ObjectRef, Store};

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
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            resync: Duration::from_secs(300),
            poll: Duration::from_secs(15),
            wait_poll: Duration::from_secs(10),
        }
    }
}

/// Read-only caches of the operator's kinds, fed by reflectors.
#[derive(Clone)]
pub struct Stores {
    /// EcsServices.
    pub services: Store<EcsService>,
    /// BlueGreenRollouts.
    pub rollouts: Store<BlueGreenRollout>,
    /// ScalingPolicies.
    pub scaling: Store<ScalingPolicy>,
}

impl Stores {
    /// The EcsService `name` in `namespace`.
    pub fn service(&self, namespace: &str, name: &str) -> Option<Arc<EcsService>> {
        self.services.get(&ObjectRef::new(name).within(namespace))
    }

    /// ECS service names of every EcsService in `cluster` and `region` (for read-ahead).
    pub fn service_names_in(&self, cluster: &str, region: Option<&str>) -> Arc<Vec<String>> {
        Arc::new(
            self.services
                .state()
                .iter()
                .filter(|s| s.spec.cluster == cluster && s.spec.region.as_deref() == region)
                .map(|s| s.service_name().to_string())
                .collect(),
        )
    }

    /// BlueGreenRollouts in `namespace` that reference the EcsService `service`.
    pub fn rollouts_for(&self, namespace: &str, service: &str) -> Vec<Arc<BlueGreenRollout>> {
        let mut found: Vec<_> = self
            .rollouts
            .state()
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

    /// ScalingPolicies in `namespace` that reference the EcsService `service`, oldest first.
    pub fn scaling_for(&self, namespace: &str, service: &str) -> Vec<Arc<ScalingPolicy>> {
        let mut found: Vec<_> = self
            .scaling
            .state()
            .into_iter()
            .filter(|p| {
                p.metadata.namespace.as_deref() == Some(namespace)
                    && p.spec.service_ref.name == service
                    && p.metadata.deletion_timestamp.is_none()
            })
            .collect();
        found.sort_by(|a, b| {
            a.metadata
                .creation_timestamp
                .cmp(&b.metadata.creation_timestamp)
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

/// The resourceVersion each object had when this process last wrote to it. A reconcile that
/// starts from that same version again acts on a cache that has not seen its own write yet
/// (the watch is behind): it waits for the newer object instead of writing a status computed
/// from the old one over the new.
#[derive(Default)]
pub struct WrittenVersions {
    base: Mutex<HashMap<String, String>>,
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

    /// This process wrote to `obj` (as it was, at its resourceVersion).
    pub fn wrote<K: kube::Resource<DynamicType = ()>>(&self, obj: &K) {
        if let Some(rv) = obj.meta().resource_version.clone() {
            self.base
                .lock()
                .expect("written lock")
                .insert(Self::key(obj), rv);
        }
    }

    /// Whether `obj` is the version this process already wrote over.
    pub fn is_stale<K: kube::Resource<DynamicType = ()>>(&self, obj: &K) -> bool {
        let key = Self::key(obj);
        let mut base = self.base.lock().expect("written lock");
        match (base.get(&key), obj.meta().resource_version.as_ref()) {
            (Some(written), Some(rv)) if written == rv => true,
            (Some(_), _) => {
                base.remove(&key);
                false
            }
            (None, _) => false,
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
}

impl Context {
    /// Converts a duration of the clock's time into a tokio wait.
    pub fn wall(&self, d: Duration) -> Duration {
        self.clock.to_wall(d)
    }
}
