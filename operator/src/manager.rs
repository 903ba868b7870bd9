//! Starts everything the controllers need — one watch per kind for the stores and triggers, the
//! shared context — and runs every controller until shutdown. Used by `ecs-operator run` and
//! `local`.

use std::sync::Arc;
use std::time::Duration;

use crds::{
    AwsAccountBinding, BlueGreenRollout, EcsService, NotificationPolicy, ReleaseGroup,
    ScalingPolicy,
};
use kube::api::Api;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::watcher;
use tokio_util::sync::CancellationToken;

use crate::controllers::accounts::resolve::UnboundNamespaces;
use crate::controllers::caches;
use crate::controllers::context::{self, TaskDefinitionCache, WrittenVersions};
use crate::controllers::runtime::backoff::Backoff;
use crate::controllers::sources::Source;
use crate::controllers::{
    Context, Settings, Stores, blue_green_rollout, ecs_service, notification_policy, release_group,
    scaling_policy,
};
use crate::http::Health;
use crate::metrics::Metrics;
use aws::accounts::AwsAccounts;
use aws::clock::SharedClock;

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
    /// Readiness to clear while the caches fill (the process's /readyz), if any.
    pub readiness: Option<Arc<Health>>,
    /// Who may use the operator's own AWS identity (namespaces no AwsAccountBinding names).
    pub unbound: UnboundNamespaces,
    /// Where the preview endpoint finds the controllers' context once they run.
    pub preview: Option<Arc<crate::preview::server::PreviewSlot>>,
    /// The NotificationPolicy (`namespace/name`) that follows every namespace.
    pub cluster_notification_policy: Option<String>,
    /// Posts notifications (the real HTTP client unless a test gives another).
    pub webhooks: Arc<dyn aws::webhook::WebhookApi>,
}

impl Default for ManagerConfig {
    fn default() -> Self {
        Self {
            settings: Settings::default(),
            concurrency: 32,
            scope: Scope::default(),
            reporter: "ecs-operator".into(),
            readiness: None,
            preview: None,
            unbound: UnboundNamespaces::default(),
            cluster_notification_policy: None,
            webhooks: Arc::new(aws::webhook::HttpWebhooks),
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

/// Runs every controller until `token` is cancelled.
pub async fn run(
    client: kube::Client,
    aws: Arc<AwsAccounts>,
    clock: SharedClock,
    metrics: Arc<Metrics>,
    config: ManagerConfig,
    token: CancellationToken,
) {
    // One watch per kind feeds its store and every controller that reacts to the kind.
    let wc = watcher_config(&config.scope);
    let mut services = Source::new(api::<EcsService>(&client, &config.scope), wc.clone());
    let mut rollouts = Source::new(api::<BlueGreenRollout>(&client, &config.scope), wc.clone());
    let mut scaling = Source::new(api::<ScalingPolicy>(&client, &config.scope), wc.clone());
    let mut groups = Source::new(api::<ReleaseGroup>(&client, &config.scope), wc.clone());
    let mut policies = Source::new(api::<NotificationPolicy>(&client, &config.scope), wc);
    // Bindings are cluster-scoped and the administrator's: never narrowed by the scope.
    let mut bindings = Source::new(
        Api::<AwsAccountBinding>::all(client.clone()),
        watcher::Config::default(),
    );
    let stores = Stores {
        services: services.store(),
        rollouts: rollouts.store(),
        scaling: scaling.store(),
        bindings: bindings.store(),
        release_groups: groups.store(),
        services_by_cluster: services.index(context::service_cluster_key),
        rollouts_by_service: rollouts.index(context::rollout_service_key),
        scaling_by_service: scaling.index(context::scaling_service_key),
        services_by_group: services.index(context::service_group_key),
        notification_policies: policies.store(),
    };
    let for_services = ecs_service::Feeds {
        services: services.applied(),
        rollouts: rollouts.touched(),
        scaling: scaling.touched(),
        bindings: bindings.touched(),
        groups: groups.touched(),
    };
    let for_rollouts = (rollouts.applied(), services.touched(), bindings.touched());
    let for_scaling = (
        scaling.applied(),
        services.touched(),
        rollouts.touched(),
        bindings.touched(),
    );
    let for_groups = (groups.applied(), services.touched());
    let for_policies = notification_policy::Feeds {
        policies: policies.applied(),
        rollouts: rollouts.touched(),
        groups: groups.touched(),
        services: services.touched(),
        scaling: scaling.touched(),
    };
    let watches = [
        services.spawn(&token),
        rollouts.spawn(&token),
        scaling.spawn(&token),
        bindings.spawn(&token),
        groups.spawn(&token),
        policies.spawn(&token),
    ];
    // Every controller reads the other kinds' stores, and a cold one would read as "no
    // ScalingPolicy" or "no rollout": nothing starts until every one (bindings too) is filled, however long.
    if let Some(health) = &config.readiness {
        health.set_ready(false);
    }
    if !caches::wait_until_synced(&stores, &metrics, &token).await {
        return;
    }
    if let Some(health) = &config.readiness {
        health.set_ready(true);
    }
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
        stores,
        written: WrittenVersions::default(),
        unbound: config.unbound,
        references: Default::default(),
        webhooks: config.webhooks.clone(),
        cluster_notification_policy: config
            .cluster_notification_policy
            .as_deref()
            .and_then(|r| r.split_once('/'))
            .map(|(ns, name)| kube::runtime::reflector::ObjectRef::new(name).within(ns)),
    });
    if let Some(slot) = &config.preview {
        slot.fill(ctx.clone());
    }
    let shutdown = token.clone().cancelled_owned();
    let services = ecs_service::run(ctx.clone(), for_services, config.concurrency, shutdown);
    let rollouts = blue_green_rollout::run(
        ctx.clone(),
        for_rollouts.0,
        for_rollouts.1,
        for_rollouts.2,
        config.concurrency,
        token.clone().cancelled_owned(),
    );
    let groups = release_group::run(
        ctx.clone(),
        for_groups.0,
        for_groups.1,
        config.concurrency,
        token.clone().cancelled_owned(),
    );
    let policies = notification_policy::run(
        ctx.clone(),
        for_policies,
        config.concurrency,
        token.clone().cancelled_owned(),
    );
    let scaling = scaling_policy::run(
        ctx,
        for_scaling.0,
        for_scaling.1,
        for_scaling.2,
        for_scaling.3,
        config.concurrency,
        token.clone().cancelled_owned(),
    );
    tokio::join!(services, rollouts, scaling, groups, policies);
    token.cancel();
    for watch in watches {
        let _ = watch.await;
    }
}
