//! Starts everything the controllers need — reflectors for the stores, the shared context —
//! and runs every controller until shutdown. Used by `ecs-operator run` and `local`.

use std::sync::Arc;
use std::time::Duration;

use crds::{BlueGreenRollout, EcsService, ScalingPolicy};
use futures::StreamExt;
use kube::api::Api;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use tokio_util::sync::CancellationToken;

use crate::aws::accounts::AwsAccounts;
use crate::clock::SharedClock;
use crate::controllers::backoff::Backoff;
use crate::controllers::context::TaskDefinitionCache;
use crate::controllers::{
    Context, Settings, Stores, blue_green_rollout, ecs_service, scaling_policy,
};
use crate::metrics::Metrics;

/// Which objects this operator instance manages.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Only this namespace (all namespaces when `None`).
    pub namespace: Option<String>,
    /// Only objects matching this label selector.
    pub label_selector: Option<String>,
}

/// How the controllers run.
#[derive(Debug, Clone)]
pub struct ManagerConfig {
    /// Timing knobs.
    pub settings: Settings,
    /// Concurrent reconciles per controller.
    pub concurrency: u16,
    /// Objects to manage.
    pub scope: Scope,
    /// Name in events.
    pub reporter: String,
}

impl Default for ManagerConfig {
    fn default() -> Self {
        Self {
            settings: Settings::default(),
            concurrency: 32,
            scope: Scope::default(),
            reporter: "ecs-operator".into(),
        }
    }
}

fn api<K>(client: &kube::Client, scope: &Scope) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    match &scope.namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

fn watcher_config(scope: &Scope) -> watcher::Config {
    let config = watcher::Config::default();
    match &scope.label_selector {
        Some(selector) => config.labels(selector),
        None => config,
    }
}

fn start_store<K>(
    api: Api<K>,
    config: watcher::Config,
    token: &CancellationToken,
) -> (Store<K>, tokio::task::JoinHandle<()>)
where
    K: kube::Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let (store, writer) = reflector::store();
    let token = token.clone();
    let stream = watcher(api, config)
        .default_backoff()
        .reflect(writer)
        .for_each(|_| futures::future::ready(()));
    let task = tokio::spawn(async move {
        tokio::select! {
            () = stream => {}
            () = token.cancelled() => {}
        }
    });
    (store, task)
}

/// Runs every controller until `token` is cancelled.
pub async fn run(
    client: kube::Client,
    aws: Arc<AwsAccounts>,
    clock: SharedClock,
    metrics: Arc<Metrics>,
    config: ManagerConfig,
    token: CancellationToken,
) {
    let wc = watcher_config(&config.scope);
    let (services, t1) = start_store(
        api::<EcsService>(&client, &config.scope),
        wc.clone(),
        &token,
    );
    let (rollouts, t2) = start_store(
        api::<BlueGreenRollout>(&client, &config.scope),
        wc.clone(),
        &token,
    );
    let (scaling, t3) = start_store(
        api::<ScalingPolicy>(&client, &config.scope),
        wc.clone(),
        &token,
    );
    for store in [services.clone()] {
        let _ = tokio::time::timeout(Duration::from_secs(30), store.wait_until_ready()).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(30), rollouts.wait_until_ready()).await;
    let _ = tokio::time::timeout(Duration::from_secs(30), scaling.wait_until_ready()).await;
    let reporter = Reporter {
        controller: config.reporter.clone(),
        instance: std::env::var("POD_NAME").ok(),
    };
    let ctx = Arc::new(Context {
        recorder: Recorder::new(client.clone(), reporter),
        client: client.clone(),
        aws,
        clock,
        metrics,
        backoff: Backoff::new(Duration::from_secs(1), Duration::from_secs(300)),
        settings: config.settings.clone(),
        task_definitions: TaskDefinitionCache::default(),
        stores: Stores {
            services,
            rollouts,
            scaling,
        },
    });
    let shutdown = token.clone().cancelled_owned();
    let services = ecs_service::run(
        ctx.clone(),
        api::<EcsService>(&client, &config.scope),
        api::<BlueGreenRollout>(&client, &config.scope),
        api::<ScalingPolicy>(&client, &config.scope),
        wc.clone(),
        config.concurrency,
        shutdown,
    );
    let rollouts = blue_green_rollout::run(
        ctx.clone(),
        api::<BlueGreenRollout>(&client, &config.scope),
        api::<EcsService>(&client, &config.scope),
        wc.clone(),
        config.concurrency,
        token.clone().cancelled_owned(),
    );
    let scaling = scaling_policy::run(
        ctx,
        api::<ScalingPolicy>(&client, &config.scope),
        api::<EcsService>(&client, &config.scope),
        api::<BlueGreenRollout>(&client, &config.scope),
        wc,
        config.concurrency,
        token.clone().cancelled_owned(),
    );
    tokio::join!(services, rollouts, scaling);
    token.cancel();
    for t in [t1, t2, t3] {
        let _ = t.await;
    }
}
