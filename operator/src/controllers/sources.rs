//! One watch per kind for the whole operator: it fills the kind's store and feeds the changed
//! objects to every controller that reacts to the kind, so the cluster is watched once per kind
//! rather than once per controller, and every cached object is kept without its managedFields.

use std::fmt::Debug;

use futures::StreamExt;
use futures::channel::mpsc;
use kube::Resource;
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};

use super::index::{Index, KeyOf};
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

/// Changed objects of one kind, as a controller's trigger stream.
pub type Feed<K> = mpsc::UnboundedReceiver<Result<K, watcher::Error>>;

/// The annotation `kubectl apply` (client-side) leaves on objects; no controller reads it.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Drops what no controller reads (managedFields, kubectl's last-applied copy of the object),
/// which is most of a small object's size.
pub fn slim<K: Resource>(obj: &mut K) {
    let meta = obj.meta_mut();
    meta.managed_fields = None;
    if let Some(annotations) = meta.annotations.as_mut() {
        annotations.remove(LAST_APPLIED);
    }
}

/// A kind's watch and who it feeds, before it runs.
pub struct Source<K>
where
    K: Resource<DynamicType = ()> + Clone + 'static,
{
    api: Api<K>,
    config: watcher::Config,
    store: Store<K>,
    writer: reflector::store::Writer<K>,
    /// Feeds of created and updated objects (the controller of the kind).
    applied: Vec<mpsc::UnboundedSender<Result<K, watcher::Error>>>,
    /// Feeds of created, updated and deleted objects (controllers of other kinds).
    touched: Vec<mpsc::UnboundedSender<Result<K, watcher::Error>>>,
    /// Indexes kept with the store.
    indexes: Vec<Index<K>>,
}

impl<K> Source<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    /// A watch of `api` with `config` (namespace and label selector of the operator's scope).
    pub fn new(api: Api<K>, config: watcher::Config) -> Self {
        let (store, writer) = reflector::store();
        Self {
            api,
            config,
            store,
            writer,
            applied: Vec::new(),
            touched: Vec::new(),
            indexes: Vec::new(),
        }
    }

    /// An index of the kind's objects under `key_of`, kept by this watch with the store.
    pub fn index(&mut self, key_of: KeyOf<K>) -> Index<K> {
        let index = Index::new(key_of);
        self.indexes.push(index.clone());
        index
    }

    /// The kind's cache, filled by this watch.
    pub fn store(&self) -> Store<K> {
        self.store.clone()
    }

    /// Objects as they are created or updated: the trigger of the kind's own controller.
    pub fn applied(&mut self) -> Feed<K> {
        let (tx, rx) = mpsc::unbounded();
        self.applied.push(tx);
        rx
    }

    /// Objects as they are created, updated or deleted: for a controller that maps them to
    /// objects of its own kind.
    pub fn touched(&mut self) -> Feed<K> {
        let (tx, rx) = mpsc::unbounded();
        self.touched.push(tx);
        rx
    }

    /// Runs the watch until `token` is cancelled.
    pub fn spawn(self, token: &CancellationToken) -> tokio::task::JoinHandle<()> {
        let token = token.clone();
        let Self {
            api,
            config,
            writer,
            applied,
            touched,
            indexes,
            ..
        } = self;
        let mut events = watcher(api, config)
            .default_backoff()
            .modify(slim::<K>)
            .reflect(writer)
            .boxed();
        tokio::spawn(async move {
            loop {
                let event = tokio::select! {
                    event = events.next() => event,
                    () = token.cancelled() => None,
                };
                if let Some(Ok(event)) = &event {
                    for index in &indexes {
                        index.apply(event);
                    }
                }
                match event {
                    None => break,
                    Some(Err(error)) => {
                        tracing::warn!(%error, "watch failed; retrying with backoff")
                    }
                    Some(Ok(watcher::Event::Apply(obj) | watcher::Event::InitApply(obj))) => {
                        for feed in applied.iter().chain(&touched) {
                            let _ = feed.unbounded_send(Ok(obj.clone()));
                        }
                    }
                    Some(Ok(watcher::Event::Delete(obj))) => {
                        for feed in &touched {
                            let _ = feed.unbounded_send(Ok(obj.clone()));
                        }
                    }
                    Some(Ok(watcher::Event::Init | watcher::Event::InitDone)) => {}
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crds::EcsService;

    #[test]
    fn slim_keeps_everything_but_managed_fields_and_the_last_applied_copy() {
        let mut obj: EcsService = serde_json::from_value(serde_json::json!({
            "apiVersion": "ecs-operator.dev/v1alpha1",
            "kind": "EcsService",
            "metadata": {
                "name": "auth",
                "namespace": "shop",
                "annotations": {
                    LAST_APPLIED: "{\"spec\":{}}",
                    "ecs-operator.dev/retry-requested-at": "2026-01-01T00:00:00Z"
                },
                "managedFields": [{"manager": "kubectl", "operation": "Apply"}]
            },
            "spec": {
                "cluster": "shop",
                "taskDefinition": {"containerDefinitions": [{"name": "app", "image": "app:1"}]}
            }
        }))
        .expect("an EcsService");
        let before = obj.clone();
        slim(&mut obj);
        assert_eq!(obj.metadata.managed_fields, None);
        let annotations = obj.metadata.annotations.clone().unwrap_or_default();
        assert!(!annotations.contains_key(LAST_APPLIED));
        assert!(annotations.contains_key("ecs-operator.dev/retry-requested-at"));
        assert_eq!(obj.spec, before.spec);
        assert_eq!(obj.metadata.name, before.metadata.name);
    }
}
