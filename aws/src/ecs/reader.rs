//! The shared DescribeServices reader: lookups of one account × region × cluster are merged
//! into calls of up to 10 names (`include: TAGS`). A call with room left also fetches other
//! services of the cluster (the caller names them) that were not read for the longest time, so
//! a resync of N services costs ⌈N / 10⌉ calls per cluster however its reconciles interleave.
//!
//! Every answer is kept for a short time-to-live and handed to each asker (a controller) at
//! most once: the ScalingPolicy and BlueGreenRollout of a service read what its EcsService's
//! lookup just fetched, and an asker that looks again gets a newer answer from AWS.
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

/// Who asks for a service (a controller's name): each answer reaches each asker once.
pub type Asker = &'static str;

type Waiter = (Asker, oneshot::Sender<AwsResult<ServiceLookup>>);

/// How long an answer may be handed out after it arrived (clock time).
const ANSWER_TTL: Duration = Duration::from_secs(5);

#[derive(Default)]
struct ClusterState {
    /// Names waiting for the next call, in arrival order, each with everyone asking for it.
    pending: Vec<(String, Vec<Waiter>)>,
    /// Whether a flush is already scheduled.
    scheduled: bool,
    /// Other services of the cluster, as the last caller named them.
    neighbours: Arc<Vec<String>>,
    /// Who named them: answers are read ahead for that asker's lookups.
    neighbours_of: Option<Asker>,
    /// The newest answer for each name, within the time-to-live.
    answers: HashMap<String, Answer>,
    /// What is known of each name's reads.
    reads: HashMap<String, Reads>,
    /// Calls issued so far for this cluster (each call's number is its place in that order).
    issued: u64,
}

/// An answer, and who had it.
struct Answer {
    /// When it arrived.
    at: Timestamp,
    /// The number of the call that read it.
    call: u64,
    lookup: ServiceLookup,
    /// The askers it was handed to.
    handed_to: Vec<Asker>,
}

/// One name's reads.
#[derive(Default, Clone, Copy)]
struct Reads {
    /// When a call last asked for it.
    last_read: Option<Timestamp>,
    /// The newest call whose answer was handed out: older answers never are again.
    newest_handed: u64,
    /// Answers of this call and older ones are out of date: the operator changed the service
    /// after they were asked.
    changed_after: u64,
}

impl Reads {
    /// Whether an answer of call `call` may still be handed out.
    fn current(&self, call: u64) -> bool {
        call > self.changed_after && call >= self.newest_handed
    }
}

impl ClusterState {
    fn reads(&self, name: &str) -> Reads {
        self.reads.get(name).copied().unwrap_or_default()
    }

    fn reads_mut(&mut self, name: &str) -> &mut Reads {
        self.reads.entry(name.to_string()).or_default()
    }

    /// The kept answer for `name` that `asker` has not had yet, marked as handed to it.
    fn take_answer(&mut self, name: &str, asker: Asker, now: Timestamp) -> Option<ServiceLookup> {
        let reads = self.reads(name);
        let answer = self.answers.get_mut(name)?;
        let usable = fresh(answer.at, now)
            && reads.current(answer.call)
            && !answer.handed_to.contains(&asker);
        if !usable {
            return None;
        }
        answer.handed_to.push(asker);
        let (call, lookup) = (answer.call, answer.lookup.clone());
        let reads = self.reads_mut(name);
        reads.newest_handed = reads.newest_handed.max(call);
        Some(lookup)
    }

    /// Keeps the answer of call `call` for `name`, unless a newer one is known.
    fn keep(&mut self, name: String, answer: Answer) {
        let current = self.reads(&name).current(answer.call);
        if !answer.handed_to.is_empty() {
            let reads = self.reads_mut(&name);
            reads.newest_handed = reads.newest_handed.max(answer.call);
        }
        let newer_kept = (self.answers.get(&name)).is_some_and(|a| a.call > answer.call);
        if current && !newer_kept {
            self.answers.insert(name, answer);
        }
    }
}

fn fresh(at: Timestamp, now: Timestamp) -> bool {
    now.duration_since(at).unsigned_abs() <= ANSWER_TTL
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

    /// Looks one service up for `asker`, sharing the call with other lookups in the same
    /// cluster, or answering from what another asker's lookup fetched just before.
    /// `neighbours` are other services of the cluster the operator manages: a call with room
    /// left reads some of them ahead of their own lookups.
    pub async fn describe(
        self: &Arc<Self>,
        cluster: &str,
        name: &str,
        neighbours: Arc<Vec<String>>,
        asker: Asker,
    ) -> AwsResult<ServiceLookup> {
        let (tx, rx) = oneshot::channel();
        let full_batch = {
            let now = self.clock.now();
            let mut clusters = self.clusters.lock().expect("reader lock");
            let state = clusters.entry(cluster.to_string()).or_default();
            if !neighbours.is_empty() {
                state.neighbours = neighbours;
                state.neighbours_of = Some(asker);
            }
            if let Some(lookup) = state.take_answer(name, asker, now) {
                return Ok(lookup);
            }
            match state.pending.iter_mut().find(|(n, _)| n == name) {
                Some((_, waiters)) => waiters.push((asker, tx)),
                None => state.pending.push((name.to_string(), vec![(asker, tx)])),
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
    /// once the operator changed that service (its reply lost or not).
    pub fn forget(&self, cluster: &str, name: &str) {
        if let Some(state) = self.clusters.lock().expect("reader lock").get_mut(cluster) {
            state.answers.remove(name);
            let issued = state.issued;
            state.reads_mut(name).changed_after = issued;
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

    /// Names to read ahead: neighbours not in the batch and without a fresh answer their asker
    /// has not had yet, least recently read first.
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
                (state.answers.get(n.as_str())).is_none_or(|a| {
                    !fresh(a.at, now)
                        || state
                            .neighbours_of
                            .is_some_and(|o| a.handed_to.contains(&o))
                })
            })
            .map(|n| (n, state.reads(n).last_read))
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
                state.reads_mut(name).last_read = Some(now);
            }
            state.issued += 1;
            state.issued
        };
        let result = self.api.describe_services(cluster, &names).await;
        let now = self.clock.now();
        match result {
            Ok(mut results) => {
                let ahead = results.split_off(batch.len().min(results.len()));
                {
                    let mut clusters = self.clusters.lock().expect("reader lock");
                    let state = clusters.entry(cluster.to_string()).or_default();
                    state.answers.retain(|_, a| fresh(a.at, now));
                    let asked = batch.iter().map(|(name, waiters)| {
                        let handed_to = waiters.iter().map(|(asker, _)| *asker).collect();
                        (name.clone(), handed_to)
                    });
                    let read_ahead = extra.into_iter().map(|name| (name, Vec::new()));
                    let answers = results.iter().chain(ahead.iter());
                    for ((name, handed_to), lookup) in asked.chain(read_ahead).zip(answers) {
                        let answer = Answer {
                            at: now,
                            call,
                            lookup: lookup.clone(),
                            handed_to,
                        };
                        state.keep(name, answer);
                    }
                }
                for ((_, waiters), result) in batch.into_iter().zip(results) {
                    for (_, waiter) in waiters {
                        let _ = waiter.send(Ok(result.clone()));
                    }
                }
            }
            Err(error) => {
                for (_, waiters) in batch {
                    for (_, waiter) in waiters {
                        let _ = waiter.send(Err(error.clone()));
                    }
                }
            }
        }
    }
}
