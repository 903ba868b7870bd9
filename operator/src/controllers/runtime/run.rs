//! The run loop of every controller: objects of its own kind from their watch, objects of
//! other kinds mapped to the ones they affect, a periodic resync of every object, bounded
//! concurrency, and a graceful stop.

use std::future::Future;
use std::sync::Arc;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;

use super::reconcile::error_policy;
use super::{ManagedKind, ReconcileError};
use crate::controllers::Context;

/// References to objects of the controller's kind that something else affects.
pub type Triggers<K> = BoxStream<'static, ObjectRef<K>>;

/// Maps a feed of another kind's objects to the objects of `K` each one affects.
pub fn triggers<K, O, I>(
    feed: impl Stream<Item = Result<O, watcher::Error>> + Send + 'static,
    affected: impl Fn(O) -> I + Send + 'static,
) -> Triggers<K>
where
    K: ManagedKind,
    O: Send + 'static,
    I: IntoIterator<Item = ObjectRef<K>> + Send + 'static,
    I::IntoIter: Send + 'static,
{
    feed.filter_map(|o| futures::future::ready(o.ok()))
        .flat_map(move |o| futures::stream::iter(affected(o)))
        .boxed()
}

/// How one controller runs.
pub struct Runner<K: ManagedKind> {
    /// The kind's own changed objects.
    pub own: BoxStream<'static, Result<K, watcher::Error>>,
    /// The kind's cache.
    pub store: Store<K>,
    /// What other kinds' changes trigger.
    pub triggers: Vec<Triggers<K>>,
    /// Concurrent reconciles.
    pub concurrency: u16,
}

/// Runs a controller until `shutdown` resolves.
pub async fn run<K, R, Fut>(
    ctx: Arc<Context>,
    runner: Runner<K>,
    reconcile: R,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) where
    K: ManagedKind,
    R: FnMut(Arc<K>, Arc<Context>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Action, ReconcileError>> + Send + 'static,
{
    let Runner {
        own,
        store,
        mut triggers,
        concurrency,
    } = runner;
    triggers.push(resync_ticks(store.clone(), ctx.wall(ctx.settings.resync)));
    Controller::for_stream(own, store)
        .reconcile_on(futures::stream::select_all(triggers))
        .with_config(ControllerConfig::default().concurrency(concurrency))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy::<K>, ctx)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, controller = K::CONTROLLER, "controller event");
            }
        })
        .await;
}

/// Every object of the cache once per `period`, sorted by [`ManagedKind::resync_group`] so the
/// reads of one cluster go out together and share their batched calls.
fn resync_ticks<K: ManagedKind>(store: Store<K>, period: std::time::Duration) -> Triggers<K> {
    futures::stream::unfold((), move |()| async move {
        tokio::time::sleep(period).await;
        Some(((), ()))
    })
    .flat_map(move |()| futures::stream::iter(resync_order(store.state())))
    .boxed()
}

/// The objects as references, grouped and then by namespace and name.
fn resync_order<K: ManagedKind>(objects: Vec<Arc<K>>) -> Vec<ObjectRef<K>> {
    let mut keyed: Vec<(String, ObjectRef<K>)> = objects
        .iter()
        .map(|o| (o.resync_group(), ObjectRef::from_obj(o.as_ref())))
        .collect();
    keyed.sort_by(|(ga, a), (gb, b)| (ga, &a.namespace, &a.name).cmp(&(gb, &b.namespace, &b.name)));
    keyed.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crds::EcsService;

    fn service(namespace: &str, name: &str, cluster: &str) -> Arc<EcsService> {
        let json = serde_json::json!({
            "apiVersion": "ecs-operator.dev/v1alpha1",
            "kind": "EcsService",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "cluster": cluster,
                "desiredCount": 1,
                "taskDefinition": {"containerDefinitions": [{"name": "app", "image": "app:1"}]}
            }
        });
        Arc::new(serde_json::from_value(json).expect("fixture parses"))
    }

    #[test]
    fn a_resync_takes_the_services_of_one_cluster_together() {
        let objects = vec![
            service("shop", "a", "blue"),
            service("shop", "b", "red"),
            service("books", "c", "blue"),
            service("shop", "d", "blue"),
            service("shop", "e", "red"),
        ];
        let order: Vec<String> = resync_order(objects)
            .into_iter()
            .map(|r| format!("{}/{}", r.namespace.unwrap_or_default(), r.name))
            .collect();
        assert_eq!(order, ["books/c", "shop/a", "shop/d", "shop/b", "shop/e"]);
    }
}
