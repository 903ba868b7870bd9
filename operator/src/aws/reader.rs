//! The shared DescribeServices reader: lookups of one account × region × cluster are merged
//! into calls of up to 10 names (`include: TAGS`). A call with room left also fetches other
//! services of the cluster (the caller names them) that were not read for the longest time and
//! keeps their answers for one use within a short time-to-live, so a resync of N services costs
//! ⌈N / 10⌉ calls per cluster however its reconciles interleave.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::oneshot;

use super::ecs::{DESCRIBE_SERVICES_BATCH, EcsApi, ServiceLookup};
use super::error::AwsResult;
use crate::clock::SharedClock;

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
    prefetched: HashMap<String, (Timestamp, ServiceLookup)>,
    /// When each name was last read.
    last_read: HashMap<String, Timestamp>,
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
            if let Some((at, lookup)) = state.prefetched.remove(name)
                && now.duration_since(at).unsigned_abs() <= PREFETCH_TTL
            {
                return Ok(lookup);
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
            Err(super::AwsError::new(
                super::ErrorKind::Transient,
                "ReaderClosed",
                "the batched reader dropped the request",
            ))
        })
    }

    /// Drops a prefetched answer (after the operator changed that service).
    pub fn forget(&self, cluster: &str, name: &str) {
        if let Some(state) = self.clusters.lock().expect("reader lock").get_mut(cluster) {
            state.prefetched.remove(name);
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
                    .is_none_or(|(at, _)| now.duration_since(*at).unsigned_abs() > PREFETCH_TTL)
            })
            .map(|n| (n, state.last_read.get(n).copied()))
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
        {
            // Marked read when the call leaves, so concurrent calls do not read them ahead too.
            let now = self.clock.now();
            let mut clusters = self.clusters.lock().expect("reader lock");
            let state = clusters.entry(cluster.to_string()).or_default();
            for name in &names {
                state.last_read.insert(name.clone(), now);
            }
        }
        let result = self.api.describe_services(cluster, &names).await;
        let now = self.clock.now();
        match result {
            Ok(mut results) => {
                let prefetched = results.split_off(batch.len().min(results.len()));
                {
                    let mut clusters = self.clusters.lock().expect("reader lock");
                    let state = clusters.entry(cluster.to_string()).or_default();
                    for (name, lookup) in extra.into_iter().zip(prefetched) {
                        state.prefetched.insert(name, (now, lookup));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::sim::{SimAws, SimSeed};
    use crate::clock::SimClock;

    #[tokio::test]
    async fn concurrent_lookups_share_calls_of_ten() {
        let clock = Arc::new(SimClock::new(jiff::Timestamp::UNIX_EPOCH, 0.0));
        let sim = SimAws::new(
            clock.clone(),
            SimSeed::minimal("123456789012", "eu-west-1", &["a", "b"]),
        );
        let reader = ServiceReader::new(
            Arc::new(sim.clone()),
            Duration::from_millis(20),
            clock.clone(),
        );
        let mut lookups = Vec::new();
        for i in 0..25 {
            for cluster in ["a", "b"] {
                let reader = reader.clone();
                lookups.push(tokio::spawn(async move {
                    reader
                        .describe(cluster, &format!("svc-{i}"), Arc::default())
                        .await
                }));
            }
        }
        // The same name asked twice at once is looked up once.
        let dup = {
            let reader = reader.clone();
            tokio::spawn(async move { reader.describe("a", "svc-0", Arc::default()).await })
        };
        for lookup in lookups {
            assert_eq!(lookup.await.unwrap().unwrap(), ServiceLookup::Missing);
        }
        assert_eq!(dup.await.unwrap().unwrap(), ServiceLookup::Missing);
        // 25 names per cluster: 3 calls each.
        assert_eq!(sim.call_count("ecs:DescribeServices"), 6);
    }

    #[tokio::test]
    async fn an_error_reaches_every_waiter() {
        let clock = Arc::new(SimClock::new(jiff::Timestamp::UNIX_EPOCH, 0.0));
        let sim = SimAws::new(
            clock.clone(),
            SimSeed::minimal("123456789012", "eu-west-1", &["a"]),
        );
        sim.inject_fault(crate::aws::sim::SimFault {
            operation: "ecs:DescribeServices".into(),
            count: 1,
            error: crate::aws::AwsError::new(
                crate::aws::ErrorKind::Transient,
                "ServerException",
                "boom",
            ),
        });
        let reader = ServiceReader::new(
            Arc::new(sim.clone()),
            Duration::from_millis(20),
            clock.clone(),
        );
        let (a, b) = tokio::join!(
            reader.describe("a", "x", Arc::default()),
            reader.describe("a", "y", Arc::default())
        );
        assert_eq!(a.unwrap_err().code, "ServerException");
        assert_eq!(b.unwrap_err().code, "ServerException");
        assert_eq!(sim.call_count("ecs:DescribeServices"), 1);
    }

    #[tokio::test]
    async fn lookups_one_at_a_time_cost_one_call_per_ten_services() {
        let clock = Arc::new(SimClock::new(jiff::Timestamp::UNIX_EPOCH, 0.0));
        let sim = SimAws::new(
            clock.clone(),
            SimSeed::minimal("123456789012", "eu-west-1", &["a"]),
        );
        let reader = ServiceReader::new(
            Arc::new(sim.clone()),
            Duration::from_millis(1),
            clock.clone(),
        );
        let names: Arc<Vec<String>> = Arc::new((0..35).map(|i| format!("svc-{i}")).collect());
        for name in names.iter() {
            reader.describe("a", name, names.clone()).await.unwrap();
        }
        assert_eq!(sim.call_count("ecs:DescribeServices"), 4);
        // The last call had room and read svc-0..4 ahead: one use each, then AWS again.
        reader.describe("a", "svc-1", names.clone()).await.unwrap();
        assert_eq!(sim.call_count("ecs:DescribeServices"), 4);
        reader.describe("a", "svc-1", names.clone()).await.unwrap();
        assert_eq!(sim.call_count("ecs:DescribeServices"), 5);
        // A read-ahead answer expires: after the time-to-live a lookup goes to AWS.
        clock.advance(Duration::from_secs(60));
        reader.describe("a", "svc-3", names.clone()).await.unwrap();
        assert_eq!(sim.call_count("ecs:DescribeServices"), 6);
    }
}
