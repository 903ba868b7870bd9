//! The simulated account as the AWS layer's callers see it: `SimAws`, one shared `World` behind
//! a lock, and the call path every API operation takes (latency, then the gate — call counts,
//! injected faults, token buckets — then the world advanced to now). The API trait impls call
//! `SimAws::call`; reads and changes outside the API are `inspect` and `setup`.

pub(crate) mod inspect;
mod setup;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use jiff::Timestamp;

use crate::gate::{Gate, Operation, SimFault};
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

/// What the clones of one account share: its clock and its locked state.
#[derive(Debug)]
struct Shared {
    clock: Arc<SimClock>,
    state: Mutex<State>,
}

/// The account's state: the world and the gate in front of it.
#[derive(Debug)]
struct State {
    world: World,
    gate: Gate,
}

impl SimAws {
    /// A new account seeded with `seed`, living on `clock`.
    pub fn new(clock: Arc<SimClock>, seed: SimSeed) -> SimAws {
        let now = clock.now().as_second();
        let state = State {
            world: World::new(&seed, now),
            gate: Gate::default(),
        };
        SimAws {
            inner: Arc::new(Shared {
                clock,
                state: Mutex::new(state),
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
    pub(crate) async fn call<T, F>(&self, op: &Operation, f: F) -> AwsResult<T>
    where
        F: FnOnce(&mut World, Secs) -> AwsResult<T>,
    {
        let latency = self.lock().gate.latency;
        if !latency.is_zero() {
            // Latency is simulated time, like everything else the account does.
            tokio::time::sleep(self.clock().to_wall(latency)).await;
        }
        self.call_now(op, f)
    }

    /// An API operation without the latency: gate, advance, operation (sync; tests use it).
    pub(crate) fn call_now<T, F>(&self, op: &Operation, f: F) -> AwsResult<T>
    where
        F: FnOnce(&mut World, Secs) -> AwsResult<T>,
    {
        let now = self.inner.clock.now();
        let mut state = self.lock();
        state.gate.admit(op, now.as_millisecond())?;
        let secs = now.as_second();
        state.world.advance(secs);
        f(&mut state.world, secs)
    }

    /// Runs `f` on the world advanced to now, outside the gate (hooks and peeks).
    pub(crate) fn with_world<T>(&self, f: impl FnOnce(&mut World, Secs) -> T) -> T {
        let now = self.inner.clock.now().as_second();
        let mut state = self.lock();
        state.world.advance(now);
        f(&mut state.world, now)
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
