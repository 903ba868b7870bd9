//! Never act on a cold cache: the controllers start only once the watch of every kind has
//! listed everything. While they have not, the operator is not ready, says which caches
//! are missing in the log every few seconds (a missing RBAC rule or an uninstalled CRD keeps a
//! watch failing), and exports `ecs_operator_cache_synced{kind}`.

use std::time::Duration;

use futures::FutureExt;
use tokio_util::sync::CancellationToken;

use crds::{
    AwsAccountBinding, BlueGreenRollout, EcsService, NotificationPolicy, ReleaseGroup,
    ScalingPolicy,
};
use kube::Resource as _;

use super::Stores;
use crate::metrics::Metrics;

/// How often the wait says what it still waits for.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// The kinds whose cache has not listed everything yet.
pub fn unsynced(stores: &Stores) -> Vec<String> {
    let mut missing = Vec::new();
    if stores.services.wait_until_ready().now_or_never().is_none() {
        missing.push(EcsService::kind(&()).into_owned());
    }
    if stores.rollouts.wait_until_ready().now_or_never().is_none() {
        missing.push(BlueGreenRollout::kind(&()).into_owned());
    }
    if stores.scaling.wait_until_ready().now_or_never().is_none() {
        missing.push(ScalingPolicy::kind(&()).into_owned());
    }
    // A cold binding cache would read as "no binding": the operator's own account.
    if stores.bindings.wait_until_ready().now_or_never().is_none() {
        missing.push(AwsAccountBinding::kind(&()).into_owned());
    }
    if stores
        .release_groups
        .wait_until_ready()
        .now_or_never()
        .is_none()
    {
        missing.push(ReleaseGroup::kind(&()).into_owned());
    }
    if stores
        .notification_policies
        .wait_until_ready()
        .now_or_never()
        .is_none()
    {
        missing.push(NotificationPolicy::kind(&()).into_owned());
    }
    missing
}

/// Waits until every cache is filled; false when `token` is cancelled first.
pub async fn wait_until_synced(
    stores: &Stores,
    metrics: &Metrics,
    token: &CancellationToken,
) -> bool {
    let all = [
        EcsService::kind(&()),
        BlueGreenRollout::kind(&()),
        ScalingPolicy::kind(&()),
        AwsAccountBinding::kind(&()),
        ReleaseGroup::kind(&()),
        NotificationPolicy::kind(&()),
    ];
    loop {
        let missing = unsynced(stores);
        for kind in &all {
            metrics.set_cache_synced(kind, !missing.iter().any(|m| m == kind));
        }
        if missing.is_empty() {
            return true;
        }
        let filled = async {
            let _ = tokio::join!(
                stores.services.wait_until_ready(),
                stores.rollouts.wait_until_ready(),
                stores.scaling.wait_until_ready(),
                stores.bindings.wait_until_ready(),
                stores.release_groups.wait_until_ready(),
                stores.notification_policies.wait_until_ready(),
            );
        };
        tokio::select! {
            () = filled => {}
            () = tokio::time::sleep(REPORT_EVERY) => {
                tracing::warn!(
                    caches = %missing.join(", "),
                    "controllers wait for their caches to fill: the watch of these kinds has not listed yet (is the CRD installed and does RBAC allow list and watch?)"
                );
            }
            () = token.cancelled() => return false,
        }
    }
}
