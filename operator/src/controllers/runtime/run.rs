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
    let resync = ctx.wall(ctx.settings.resync);
    let ticks = futures::stream::unfold((), move |()| async move {
        tokio::time::sleep(resync).await;
        Some(((), ()))
    });
    let Runner {
        own,
        store,
        triggers,
        concurrency,
    } = runner;
    Controller::for_stream(own, store)
        .reconcile_on(futures::stream::select_all(triggers))
        .reconcile_all_on(ticks)
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
