//! The shared DescribeScalableTargets reader: concurrent lookups of one account × region are
//! merged into calls of up to 50 resource ids, so a resync of N ScalingPolicies costs ⌈N / 50⌉
//! calls instead of N.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::autoscaling::{AutoScalingApi, DESCRIBE_SCALABLE_TARGETS_BATCH, ScalableTarget};
use crate::error::{AwsError, AwsResult, ErrorKind};

type Waiter = oneshot::Sender<AwsResult<Option<ScalableTarget>>>;

#[derive(Default)]
struct Pending {
    /// Resource ids waiting for the next call, in arrival order, each with everyone asking.
    ids: Vec<(String, Vec<Waiter>)>,
    /// Whether a flush is already scheduled.
    scheduled: bool,
}

/// Batches DescribeScalableTargets lookups.
pub struct ScalableTargetReader {
    api: Arc<dyn AutoScalingApi>,
    window: Duration,
    pending: Mutex<Pending>,
}

impl ScalableTargetReader {
    /// A reader over `api` that waits at most `window` (wall time) to fill a batch.
    pub fn new(api: Arc<dyn AutoScalingApi>, window: Duration) -> Arc<Self> {
        Arc::new(Self {
            api,
            window,
            pending: Mutex::new(Pending::default()),
        })
    }

    /// Looks one scalable target up (`None`: not registered), sharing the call with concurrent
    /// lookups.
    pub async fn describe(
        self: &Arc<Self>,
        resource_id: &str,
    ) -> AwsResult<Option<ScalableTarget>> {
        let (tx, rx) = oneshot::channel();
        let full_batch = {
            let mut pending = self.pending.lock().expect("reader lock");
            match pending.ids.iter_mut().find(|(id, _)| id == resource_id) {
                Some((_, waiters)) => waiters.push(tx),
                None => pending.ids.push((resource_id.to_owned(), vec![tx])),
            }
            if pending.ids.len() >= DESCRIBE_SCALABLE_TARGETS_BATCH {
                Some(std::mem::take(&mut pending.ids))
            } else {
                if !pending.scheduled {
                    pending.scheduled = true;
                    let reader = Arc::clone(self);
                    tokio::spawn(async move {
                        tokio::time::sleep(reader.window).await;
                        reader.flush_scheduled().await;
                    });
                }
                None
            }
        };
        if let Some(batch) = full_batch {
            let reader = Arc::clone(self);
            tokio::spawn(async move { reader.call(batch).await });
        }
        rx.await.unwrap_or_else(|_| {
            Err(AwsError::new(
                ErrorKind::Transient,
                "ReaderClosed",
                "the batched reader dropped the request",
            ))
        })
    }

    async fn flush_scheduled(&self) {
        let batch = {
            let mut pending = self.pending.lock().expect("reader lock");
            pending.scheduled = false;
            std::mem::take(&mut pending.ids)
        };
        if !batch.is_empty() {
            self.call(batch).await;
        }
    }

    async fn call(&self, batch: Vec<(String, Vec<Waiter>)>) {
        let ids: Vec<String> = batch.iter().map(|(id, _)| id.clone()).collect();
        let result = self.api.describe_scalable_targets(&ids).await;
        for (id, waiters) in batch {
            let answer = match &result {
                Ok(targets) => Ok(targets.iter().find(|t| t.resource_id == id).cloned()),
                Err(e) => Err(e.clone()),
            };
            for waiter in waiters {
                let _ = waiter.send(answer.clone());
            }
        }
    }
}
