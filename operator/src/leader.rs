//! Leader election on a `coordination.k8s.io/v1` Lease (kube-lease-manager): of the replicas of
//! `ecs-operator run`, only the holder of the Lease runs the controllers. Owns the campaign loop
//! and the hand-over rules; it starts no controller itself (that is `main.rs`'s job).
//!
//! Rules:
//! - a standby keeps campaigning; it takes over when the holder's lease expires (crash) or is
//!   released (clean shutdown), so failover takes at most the lease duration plus about a second;
//! - the leader renews `grace` seconds before expiry; a renewal that fails, or that finds another
//!   holder, ends its leadership for good ([`Leadership::Lost`]): the caller stops reconciling
//!   and exits, and the restarted process campaigns again as a standby. Give the Lease client a
//!   short request timeout so a hung API call cannot outlive the lease;
//! - a clean shutdown releases the lease (only when this process holds it).

use std::sync::Arc;
use std::time::Duration;

use kube_lease_manager::{LeaseCreateMode, LeaseManager, LeaseManagerError, LeaseParams};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Field manager of the operator's writes to the Lease.
pub const LEASE_FIELD_MANAGER: &str = "ecs-operator-leader-election";

/// Where and how to campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderConfig {
    /// Name of the Lease.
    pub lease_name: String,
    /// Namespace of the Lease (the operator's own namespace).
    pub namespace: String,
    /// This process's identity, unique among the replicas (see [`identity`]).
    pub identity: String,
    /// Seconds a lease stays valid after its last renewal.
    pub lease_duration_seconds: u64,
    /// The leader renews this many seconds before the lease expires (also the clock skew
    /// tolerated between nodes). Must be smaller than the duration.
    pub grace_seconds: u64,
}

/// Where this process stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leadership {
    /// Campaigning; another process (or nobody yet) holds the lease.
    Standby,
    /// This process holds the lease and may reconcile.
    Leader,
    /// This process held the lease and no longer does (or cannot prove it): stop reconciling.
    Lost,
}

/// Leader election failed to start or to release.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration cannot work.
    #[error("invalid leader election settings: {0}")]
    Config(String),
    /// The Lease could not be read or created.
    #[error("cannot read or create Lease {namespace}/{name}")]
    Lease {
        /// Namespace of the Lease.
        namespace: String,
        /// Name of the Lease.
        name: String,
        /// What the API server answered.
        #[source]
        source: LeaseManagerError,
    },
    /// Releasing the lease failed (the standby takes over when it expires instead).
    #[error("cannot release the Lease")]
    Release(#[source] LeaseManagerError),
    /// Releasing the lease did not finish in time.
    #[error("releasing the Lease timed out")]
    ReleaseTimeout,
}

/// A unique identity for this process: `<base>_<8 random hex digits>` where base is the pod name
/// (`POD_NAME`), else `HOSTNAME`, else `ecs-operator`. The suffix keeps two processes with the same
/// name (a restarted container, two local runs) from both believing they hold the lease.
pub fn identity() -> String {
    let base = ["POD_NAME", "HOSTNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "ecs-operator".into());
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    format!("{base}_{}", &suffix[..8])
}

/// A running campaign for one Lease.
#[derive(Debug)]
pub struct Elector {
    config: LeaderConfig,
    manager: Arc<LeaseManager>,
    state: watch::Receiver<Leadership>,
    stop: CancellationToken,
    campaign: JoinHandle<()>,
}

impl Elector {
    /// Reads (or creates) the Lease and starts campaigning in the background. Returns once the
    /// API server has answered, so a returned elector is a healthy standby.
    pub async fn start(client: kube::Client, config: LeaderConfig) -> Result<Self, Error> {
        if config.lease_duration_seconds == 0
            || config.grace_seconds == 0
            || config.grace_seconds >= config.lease_duration_seconds
        {
            return Err(Error::Config(format!(
                "need 0 < grace ({}s) < lease duration ({}s)",
                config.grace_seconds, config.lease_duration_seconds
            )));
        }
        let params = LeaseParams::new(
            config.identity.clone(),
            config.lease_duration_seconds,
            config.grace_seconds,
        )
        .with_field_manager(LEASE_FIELD_MANAGER);
        let manager = LeaseManager::new(
            client,
            config.lease_name.clone(),
            config.namespace.clone(),
            params,
            LeaseCreateMode::AutoCreate,
        )
        .await
        .map_err(|source| Error::Lease {
            namespace: config.namespace.clone(),
            name: config.lease_name.clone(),
            source,
        })?;
        let manager = Arc::new(manager);
        let (tx, state) = watch::channel(Leadership::Standby);
        let stop = CancellationToken::new();
        let campaign = tokio::spawn(campaign(manager.clone(), tx, stop.clone()));
        info!(
            lease = %config.lease_name,
            namespace = %config.namespace,
            identity = %config.identity,
            "campaigning for leadership"
        );
        Ok(Self {
            config,
            manager,
            state,
            stop,
            campaign,
        })
    }

    /// Where this process stands now.
    pub fn leadership(&self) -> Leadership {
        *self.state.borrow()
    }

    /// This process's identity (the Lease's `holderIdentity` while it leads).
    pub fn identity(&self) -> &str {
        &self.config.identity
    }

    /// Waits until this process leads ([`Leadership::Leader`]) or can no longer lead
    /// ([`Leadership::Lost`]).
    pub async fn acquired(&mut self) -> Leadership {
        self.wait_for(|l| l != Leadership::Standby).await
    }

    /// Waits until leadership is lost. Never returns while this process leads.
    pub async fn lost(&mut self) {
        self.wait_for(|l| l == Leadership::Lost).await;
    }

    async fn wait_for(&mut self, done: impl Fn(Leadership) -> bool) -> Leadership {
        match self.state.wait_for(|l| done(*l)).await {
            Ok(l) => *l,
            // The campaign ended without saying so (it panicked): leadership is not certain.
            Err(_) => Leadership::Lost,
        }
    }

    /// Stops campaigning and, when this process holds the lease, releases it so a standby can
    /// take over without waiting for the lease to expire. Gives up after `timeout`.
    pub async fn release(self, timeout: Duration) -> Result<(), Error> {
        self.stop.cancel();
        let _ = self.campaign.await;
        if *self.state.borrow() != Leadership::Leader {
            return Ok(());
        }
        match tokio::time::timeout(timeout, self.manager.release()).await {
            Ok(Ok(())) => {
                info!(lease = %self.config.lease_name, "released the lease");
                Ok(())
            }
            Ok(Err(source)) => Err(Error::Release(source)),
            Err(_) => Err(Error::ReleaseTimeout),
        }
    }
}

/// Backoff between failed campaign attempts of a standby.
const RETRY_MIN: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(30);

async fn campaign(
    manager: Arc<LeaseManager>,
    tx: watch::Sender<Leadership>,
    stop: CancellationToken,
) {
    let mut retry = RETRY_MIN;
    loop {
        let changed = tokio::select! {
            () = stop.cancelled() => return,
            changed = manager.changed() => changed,
        };
        let leading = *tx.borrow() == Leadership::Leader;
        match changed {
            Ok(true) => {
                info!("acquired leadership");
                retry = RETRY_MIN;
                tx.send_replace(Leadership::Leader);
            }
            Ok(false) if leading => {
                warn!("another process holds the lease now; stepping down");
                tx.send_replace(Leadership::Lost);
                return;
            }
            Ok(false) => {}
            Err(error) if leading => {
                warn!(%error, "cannot renew the lease; stepping down");
                tx.send_replace(Leadership::Lost);
                return;
            }
            Err(error) => {
                warn!(%error, retry_in = ?retry, "campaign failed; retrying");
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(retry) => {}
                }
                retry = (retry * 2).min(RETRY_MAX);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_unique_and_readable() {
        let a = identity();
        let b = identity();
        assert_ne!(a, b);
        let (base, suffix) = a.rsplit_once('_').expect("base_suffix");
        assert!(!base.is_empty());
        assert_eq!(suffix.len(), 8);
    }

    #[tokio::test]
    async fn a_grace_period_not_shorter_than_the_lease_is_refused_before_any_call() {
        // Nothing listens on port 1: a call would fail differently.
        let client = kube::Client::try_from(kube::Config::new(
            "http://127.0.0.1:1".parse().expect("a URL"),
        ))
        .expect("a client");
        for (duration, grace) in [(10, 10), (10, 11), (0, 0), (10, 0)] {
            let config = LeaderConfig {
                lease_name: "l".into(),
                namespace: "ns".into(),
                identity: identity(),
                lease_duration_seconds: duration,
                grace_seconds: grace,
            };
            let err = Elector::start(client.clone(), config)
                .await
                .expect_err("refused");
            assert!(matches!(err, Error::Config(_)), "{duration}/{grace}: {err}");
        }
    }
}
