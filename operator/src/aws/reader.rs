//! The shared DescribeServices reader: concurrent lookups of one account × region × cluster are
//! merged into calls of up to 10 names (`include: TAGS`), so a resync of N services costs
//! ⌈N / 10⌉ calls per cluster instead of N.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use super::ecs::{DESCRIBE_SERVICES_BATCH, EcsApi, ServiceLookup};
use super::error::AwsResult;

type Waiter = oneshot::Sender<AwsResult<ServiceLookup>>;

#[derive(Default)]
struct Pending {
    /// Names waiting for the next call, in arrival order, each with everyone asking for it.
    names: Vec<(String, Vec<Waiter>)>,
    /// Whether a flush is already scheduled.
    scheduled: bool,
}

/// Batches DescribeServices lookups per cluster.
pub struct ServiceReader {
    api: Arc<dyn EcsApi>,
    window: Duration,
    pending: Mutex<HashMap<String, Pending>>,
}

impl ServiceReader {
    /// A reader over `api` that waits at most `window` (wall time) to fill a batch.
    pub fn new(api: Arc<dyn EcsApi>, window: Duration) -> Arc<Self> {
        Arc::new(Self {
            api,
            window,
            pending: Mutex::new(HashMap::new()),
        })
    }

    /// Looks one service up, sharing the call with concurrent lookups in the same cluster.
    pub async fn describe(self: &Arc<Self>, cluster: &str, name: &str) -> AwsResult<ServiceLookup> {
        let (tx, rx) = oneshot::channel();
        let full_batch = {
            let mut pending = self.pending.lock().expect("reader lock");
            let entry = pending.entry(cluster.to_string()).or_default();
            match entry.names.iter_mut().find(|(n, _)| n == name) {
                Some((_, waiters)) => waiters.push(tx),
                None => entry.names.push((name.to_string(), vec![tx])),
            }
            if entry.names.len() >= DESCRIBE_SERVICES_BATCH {
                Some(std::mem::take(&mut entry.names))
            } else {
                if !entry.scheduled {
                    entry.scheduled = true;
                    let reader = Arc::clone(self);
                    let cluster = cluster.to_string();
                    tokio::spawn(async move {
                        tokio::time::sleep(reader.window).await;
                        reader.flush_scheduled(&cluster).await;
                    });
                }
                None
            }
        };
        if let Some(batch) = full_batch {
            let reader = Arc::clone(self);
            let cluster = cluster.to_string();
            tokio::spawn(async move { reader.call(&cluster, batch).await });
        }
        rx.await.unwrap_or_else(|_| {
            Err(super::AwsError::new(
                super::ErrorKind::Transient,
                "ReaderClosed",
                "the batched reader dropped the request",
            ))
        })
    }

    async fn flush_scheduled(&self, cluster: &str) {
        let batch = {
            let mut pending = self.pending.lock().expect("reader lock");
            let Some(entry) = pending.get_mut(cluster) else {
                return;
            };
            entry.scheduled = false;
            std::mem::take(&mut entry.names)
        };
        if !batch.is_empty() {
            self.call(cluster, batch).await;
        }
    }

    async fn call(&self, cluster: &str, batch: Vec<(String, Vec<Waiter>)>) {
        let names: Vec<String> = batch.iter().map(|(n, _)| n.clone()).collect();
        match self.api.describe_services(cluster, &names).await {
            Ok(results) => {
                for ((_, waiters), result) in batch.into_iter().zip(results) {
                    for waiter in waiters {
                        let _ = waiter.send(Ok(result.clone()));
                    }
                }
            }
            Err(error) => {
                for (_, waiters) in batch {
                    for waiter in waiters {
                        let _ = waiter.send(Err(error.clone()));
                    }
                }
            }
        }
    }
}
