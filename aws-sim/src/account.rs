//! The simulated account as the AWS layer's callers see it: `SimAws`, one shared `World` behind
//! a lock, and the call path every API operation takes (latency, then the gate — call counts,
//! injected faults, token buckets — then the world advanced to now). The API trait impls call
//! `SimAws::call`; reads and changes outside the API are `inspect` and `setup`.

pub(crate) mod inspect;
pub(crate) mod inventory;
mod setup;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use jiff::Timestamp;

use crate::gate::{Gate, Operation, SimFault};
use crate::kill::{KillMode, KillPoint, Killer};
use crate::scope;
use crate::seed::SimSeed;
use crate::time::Secs;
use crate::world::World;
use aws::clock::{Clock, SimClock};
use aws::error::AwsResult;

/// The simulated AWS account. Cheap to clone: clones share one account.
#[derive(Debug, Clone)]
pub struct SimAws {
    inner: Arc<Shared>,
}

/// What the clones of one account share: its clock, its locked state, and whether a kill
/// point struck.
#[derive(Debug)]
struct Shared {
    clock: Arc<SimClock>,
    state: Mutex<State>,
    struck: tokio::sync::watch::Sender<bool>,
}

/// The account's state: the world, the gate in front of it, the mutation log and kill point.
#[derive(Debug)]
struct State {
    world: World,
    gate: Gate,
    killer: Killer,
}

/// How a call went through the account.
enum Passage<T> {
    /// It was answered.
    Answered(AwsResult<T>),
    /// A kill point struck it: its caller never hears back.
    Struck,
}

impl SimAws {
    /// A new account seeded with `seed`, living on `clock`.
    pub fn new(clock: Arc<SimClock>, seed: SimSeed) -> SimAws {
        let now = clock.now().as_second();
        let state = State {
            world: scope::enter(|| World::new(&seed, now)),
            gate: Gate::default(),
            killer: Killer::default(),
        };
        SimAws {
            inner: Arc::new(Shared {
                clock,
                state: Mutex::new(state),
                struck: tokio::sync::watch::channel(false).0,
            }),
        }
    }

    /// The account's state, locked; a panic while it was held leaves it usable.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs an API operation: latency, gate (count, fault, throttle), advance, operation.
    pub(crate) async fn call<T: Clone, F>(&self, op: &Operation, f: F) -> AwsResult<T>
    where
        F: FnOnce(&mut World, Secs) -> AwsResult<T>,
    {
        let latency = self.lock().gate.latency;
        if !latency.is_zero() {
            // Latency is simulated time, like everything else the account does.
            tokio::time::sleep(self.clock().to_wall(latency)).await;
        }
        match self.pass(op, f) {
            Passage::Answered(result) => scope::hand_over(result),
            Passage::Struck => {
                self.inner.struck.send_replace(true);
                // The caller died at this call: it never returns.
                std::future::pending().await
            }
        }
    }

    /// An API operation without the latency: gate, advance, operation (sync; tests use it).
    #[cfg(test)]
    pub(crate) fn call_now<T, F>(&self, op: &Operation, f: F) -> AwsResult<T>
    where
        F: FnOnce(&mut World, Secs) -> AwsResult<T>,
    {
        match self.pass(op, f) {
            Passage::Answered(result) => result,
            Passage::Struck => panic!("a kill point struck a synchronous call"),
        }
    }

    /// The call through the kill point, the gate and the world.
    fn pass<T, F>(&self, op: &Operation, f: F) -> Passage<T>
    where
        F: FnOnce(&mut World, Secs) -> AwsResult<T>,
    {
        scope::operation(op.key);
        scope::enter(|| self.pass_inside(op, f))
    }

    /// `pass`, as simulator code.
    fn pass_inside<T, F>(&self, op: &Operation, f: F) -> Passage<T>
    where
        F: FnOnce(&mut World, Secs) -> AwsResult<T>,
    {
        let now = self.inner.clock.now();
        let mut state = self.lock();
        let strike = op.mutating.then(|| state.killer.strikes(op.key)).flatten();
        if strike == Some(KillMode::FailBefore) {
            state.killer.strike();
            return Passage::Struck;
        }
        if let Err(e) = state.gate.admit(op, now.as_millisecond()) {
            return Passage::Answered(Err(e));
        }
        let secs = now.as_second();
        state.world.advance(secs);
        let result = f(&mut state.world, secs);
        if op.mutating && result.is_ok() {
            state.killer.applied(op.key);
            if strike == Some(KillMode::LoseReply) {
                state.killer.strike();
                return Passage::Struck;
            }
        }
        Passage::Answered(result)
    }

    /// Arms a kill point: the named call will not return (see `kill`).
    pub fn arm_kill_point(&self, point: KillPoint) {
        self.lock().killer.arm(point);
        self.inner.struck.send_replace(false);
    }

    /// Waits until the armed kill point has struck.
    pub async fn struck(&self) {
        let mut rx = self.inner.struck.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    /// Whether the armed kill point has struck.
    pub fn has_struck(&self) -> bool {
        self.lock().killer.has_struck()
    }

    /// Every mutation AWS applied so far (`service:Action`), in order.
    pub fn mutation_log(&self) -> Vec<String> {
        self.lock()
            .killer
            .log()
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    }

    /// Runs `f` on the world advanced to now, outside the gate (hooks and peeks).
    pub(crate) fn with_world<T>(&self, f: impl FnOnce(&mut World, Secs) -> T) -> T {
        scope::enter(|| {
            let now = self.inner.clock.now().as_second();
            let mut state = self.lock();
            state.world.advance(now);
            f(&mut state.world, now)
        })
    }

    /// Calls made so far by operation (`ecs:DescribeServices` → 12), including failed ones.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.lock().gate.calls().clone()
    }

    /// Calls of one operation: `ecs:UpdateService`, or a bare action name summed over services.
    pub fn call_count(&self, operation: &str) -> u64 {
        let state = self.lock();
        state
            .gate
            .calls()
            .iter()
            .filter(|(k, _)| {
                k.as_str() == operation
                    || (!operation.contains(':')
                        && k.split_once(':').is_some_and(|(_, a)| a == operation))
            })
            .map(|(_, n)| n)
            .sum()
    }

    /// Forgets the call counts.
    pub fn reset_calls(&self) {
        self.lock().gate.reset_calls();
    }

    /// Sum of mutating ECS calls (Create/Update/DeleteService, Register/DeregisterTaskDefinition,
    /// TagResource, Stop/ContinueServiceDeployment), throttled and failed attempts included.
    pub fn write_calls(&self) -> u64 {
        self.lock().gate.mutating_calls("ecs:")
    }

    /// Sum of mutating calls of one service prefix (`codedeploy:`, `cloudwatch:`, `ecs:`).
    pub fn write_calls_of(&self, prefix: &str) -> u64 {
        self.lock().gate.mutating_calls(prefix)
    }

    /// Sum of mutating Application Auto Scaling calls (failed ones included).
    pub fn autoscaling_write_calls(&self) -> u64 {
        self.lock().gate.mutating_calls("application-autoscaling:")
    }

    /// Makes the next `fault.count` calls of `fault.operation` fail with `fault.error`.
    pub fn inject_fault(&self, fault: SimFault) {
        self.lock().gate.inject(fault);
    }

    /// Latency added to every API call, in simulated time (zero by default).
    pub fn set_latency(&self, latency: Duration) {
        self.lock().gate.latency = latency;
    }

    /// Turns the token buckets on (default) or off.
    pub fn set_throttling(&self, enabled: bool) {
        self.lock().gate.throttle.set_enabled(enabled);
    }

    /// The clock the account lives on.
    pub fn clock(&self) -> Arc<SimClock> {
        self.inner.clock.clone()
    }

    /// The simulated time now.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// Account id.
    pub fn account_id(&self) -> String {
        self.lock().world.account_id.clone()
    }

    /// Region.
    pub fn region(&self) -> String {
        self.lock().world.region.clone()
    }
}
