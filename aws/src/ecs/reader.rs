//! The shared DescribeServices reader: lookups of one account × region × cluster are merged
//! into calls of up to 10 names (`include: TAGS`). A call with room left also fetches other
//! services of the cluster (the caller names them) that were not read for the longest time and
//! keeps their answers for one use within a short time-to-live, so a resync of N services costs
//! ⌈N / 10⌉ calls per cluster however its reconciles interleave.
//!
//! Reads are monotonic per service: an answer is never handed out once an answer from a later
//! call was, nor once the operator changed the service after its call left. Without that, a
//! read-ahead still in flight while a deployment started would show the service as it was
//! before, and the deployment would look gone.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::oneshot;

use crate::clock::SharedClock;
use crate::ecs::{DESCRIBE_SERVICES_BATCH, EcsApi, ServiceLookup};
use crate::error::AwsResult;

type Waiter = oneshot::Sender<AwsResult<ServiceLookup>>;

/// How long a prefetched answer may be used (clock time).
const PREFETCH_TTL: Duration = Duration::from_secs(5);

#[derive(Default)]
struct ClusterState {
    /// Names waiting for the next call, in arrival order, each with everyone asking for it.
    pending: Vec<(String, Vec<Waiter>)>,
    /// Whether a flush is already scheduled.
    scheduled: bool,
    /// Other services of the cluster, as the last caller named them.
    neighbours: Arc<Vec<String>>,
    /// Answers fetched ahead of their lookup: used once, within the time-to-live.
    prefetched: HashMap<String, Prefetched>,
    /// What is known of each name's reads.
    reads: HashMap<String, Reads>,
    /// Calls issued so far for this cluster (each call's number is its place in that order).
    issued: u64,
}

/// An answer read ahead of its lookup.
struct Prefetched {
    /// When it arrived.
    at: Timestamp,
    /// The number of the call that read it.
    call: u64,
    lookup: ServiceLookup,
}

/// One name's reads.
#[derive(Default, Clone, Copy)]
struct Reads {
    /// When a call last asked for it.
    last_read: Option<Timestamp>,
    /// Answers of this call and older ones are out of date: a newer answer was handed out, or
    /// the operator changed the service after they were asked.
    stale_up_to: u64,
}

impl ClusterState {
    fn stale_up_to(&self, name: &str) -> u64 {
        self.reads.get(name).map_or(0, |r| r.stale_up_to)
    }

    fn mark_stale_up_to(&mut self, name: &str, call: u64) {
        let reads = self.reads.entry(name.to_string()).or_default();
        reads.stale_up_to = reads.stale_up_to.max(call);
    }
}

/// Batches DescribeServices lookups per cluster.
pub struct ServiceReader {
    api: Arc<dyn EcsApi>,
    window: Duration,
    clock: SharedClock,
    clusters: Mutex<HashMap<String, ClusterState>>,
}

impl ServiceReader {
    /// A reader over `api` that waits at most `window` (wall time) to fill a batch.
    pub fn new(api: Arc<dyn EcsApi>, window: Duration, clock: SharedClock) -> Arc<Self> {
        Arc::new(Self {
            api,
            window,
            clock,
            clusters: Mutex::new(HashMap::new()),
        })
    }

    /// Looks one service up, sharing the call with other lookups in the same cluster.
    /// `neighbours` are other services of the cluster the operator manages: a call with room
    /// left reads some of them ahead of their own lookups.
    pub async fn describe(
        self: &Arc<Self>,
        cluster: &str,
        name: &str,
        neighbours: Arc<Vec<String>>,
    ) -> AwsResult<ServiceLookup> {
        let (tx, rx) = oneshot::channel();
        let full_batch = {
            let now = self.clock.now();
            let mut clusters = self.clusters.lock().expect("reader lock");
            let state = clusters.entry(cluster.to_string()).or_default();
            if !neighbours.is_empty() {
                state.neighbours = neighbours;
            }
            if let Some(ahead) = state.prefetched.remove(name)
                && now.duration_since(ahead.at).unsigned_abs() <= PREFETCH_TTL
                && ahead.call > state.stale_up_to(name)
            {
                state.mark_stale_up_to(name, ahead.call);
                return Ok(ahead.lookup);
            }
            match state.pending.iter_mut().find(|(n, _)| n == name) {
                Some((_, waiters)) => waiters.push(tx),
                None => state.pending.push((name.to_string(), vec![tx])),
            }
            if state.pending.len() >= DESCRIBE_SERVICES_BATCH {
                Some(std::mem::take(&mut state.pending))
            } else {
                if !state.scheduled {
                    state.scheduled = true;
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
            Err(crate::AwsError::new(
                crate::ErrorKind::Transient,
                "ReaderClosed",
                "the batched reader dropped the request",
            ))
        })
    }

    /// Drops what was read of a service so far, answers still in flight included: call it
    /// once the operator changed that service (and before, for reads that start meanwhile).
    pub fn forget(&self, cluster: &str, name: &str) {
        if let Some(state) = self.clusters.lock().expect("reader lock").get_mut(cluster) {
            state.prefetched.remove(name);
            let issued = state.issued;
            state.mark_stale_up_to(name, issued);
        }
    }

    async fn flush_scheduled(&self, cluster: &str) {
        let batch = {
            let mut clusters = self.clusters.lock().expect("reader lock");
            let Some(state) = clusters.get_mut(cluster) else {
                return;
            };
            state.scheduled = false;
            std::mem::take(&mut state.pending)
        };
        if !batch.is_empty() {
            self.call(cluster, batch).await;
        }
    }

    /// Names to read ahead: neighbours not in the batch and not freshly prefetched, least
    /// recently read first.
    fn fill(&self, cluster: &str, batch: &[(String, Vec<Waiter>)]) -> Vec<String> {
        let room = DESCRIBE_SERVICES_BATCH.saturating_sub(batch.len());
        if room == 0 {
            return Vec::new();
        }
        let now = self.clock.now();
        let clusters = self.clusters.lock().expect("reader lock");
        let Some(state) = clusters.get(cluster) else {
            return Vec::new();
        };
        // Names in this batch or waiting for the next one are read anyway.
        let asked: HashSet<&str> = batch
            .iter()
            .chain(state.pending.iter())
            .map(|(n, _)| n.as_str())
            .collect();
        let mut candidates: Vec<(&String, Option<Timestamp>)> = state
            .neighbours
            .iter()
            .filter(|n| !asked.contains(n.as_str()))
            .filter(|n| {
                state
                    .prefetched
                    .get(n.as_str())
                    .is_none_or(|p| now.duration_since(p.at).unsigned_abs() > PREFETCH_TTL)
            })
            .map(|n| (n, state.reads.get(n).and_then(|r| r.last_read)))
            .collect();
        candidates.sort_by_key(|(_, read)| *read);
        candidates
            .into_iter()
            .take(room)
            .map(|(n, _)| n.clone())
            .collect()
    }

    async fn call(&self, cluster: &str, batch: Vec<(String, Vec<Waiter>)>) {
        let extra = self.fill(cluster, &batch);
        let mut names: Vec<String> = batch.iter().map(|(n, _)| n.clone()).collect();
        names.extend(extra.iter().cloned());
        let call = {
            // Marked read when the call leaves, so concurrent calls do not read them ahead too.
            let now = self.clock.now();
            let mut clusters = self.clusters.lock().expect("reader lock");
            let state = clusters.entry(cluster.to_string()).or_default();
            for name in &names {
                state.reads.entry(name.clone()).or_default().last_read = Some(now);
            }
            state.issued += 1;
            state.issued
        };
        let result = self.api.describe_services(cluster, &names).await;
        let now = self.clock.now();
        match result {
            Ok(mut results) => {
                let prefetched = results.split_off(batch.len().min(results.len()));
                {
                    let mut clusters = self.clusters.lock().expect("reader lock");
                    let state = clusters.entry(cluster.to_string()).or_default();
                    // The callers see this call's answers: older ones are out of date for them.
                    for (name, _) in &batch {
                        state.mark_stale_up_to(name, call);
                        if state.prefetched.get(name).is_some_and(|p| p.call <= call) {
                            state.prefetched.remove(name);
                        }
                    }
                    for (name, lookup) in extra.into_iter().zip(prefetched) {
                        let newer_known = state.stale_up_to(&name) >= call
                            || state.prefetched.get(&name).is_some_and(|p| p.call > call);
                        if !newer_known {
                            state.prefetched.insert(
                                name,
                                Prefetched {
                                    at: now,
                                    call,
                                    lookup,
                                },
                            );
                        }
                    }
                }
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
