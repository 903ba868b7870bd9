//! The gate every simulated API call passes before it touches the world: counted by operation,
//! failed on request (fault injection), then throttled by its category's token bucket. Latency
//! is added by `SimAws` before the gate, outside the lock.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::throttle::Throttle;
use aws::error::{AwsError, AwsResult};

/// An API operation of the simulated account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operation {
    /// `service:Action`, e.g. `ecs:DescribeServices` (the key of `SimAws::calls`).
    pub key: &'static str,
    /// Whether it changes AWS state (counted by `write_calls`).
    pub mutating: bool,
}

impl Operation {
    /// The token bucket it draws from, from the AWS layer's limits table (None: not throttled).
    pub fn category(&self) -> Option<aws::limits::Category> {
        let (service, action) = self.key.split_once(':')?;
        aws::limits::category_of(service, action)
    }
}

/// A fault to inject: the next `count` calls of `operation` fail with `error` (before
/// throttling and without touching the world).
#[derive(Debug, Clone, PartialEq)]
pub struct SimFault {
    /// `service:Action` as in `SimAws::calls` (e.g. `ecs:UpdateService`); a bare action name
    /// (`UpdateService`) matches that action of any service.
    pub operation: String,
    /// How many calls fail.
    pub count: usize,
    /// The error they fail with.
    pub error: AwsError,
}

impl SimFault {
    /// A fault for the next `count` calls of `operation`.
    pub fn new(operation: impl Into<String>, count: usize, error: AwsError) -> Self {
        Self {
            operation: operation.into(),
            count,
            error,
        }
    }

    fn matches(&self, key: &str) -> bool {
        if self.operation.contains(':') {
            self.operation == key
        } else {
            key.split_once(':')
                .is_some_and(|(_, action)| action == self.operation)
        }
    }
}

/// Call counters, pending faults, throttling and latency.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    calls: BTreeMap<String, u64>,
    mutating: BTreeSet<&'static str>,
    faults: Vec<SimFault>,
    /// Token buckets.
    pub throttle: Throttle,
    /// Wall-clock latency added to every call.
    pub latency: Duration,
}

impl Gate {
    /// Counts the call, then fails it if a fault is pending or its bucket is empty.
    pub fn admit(&mut self, op: &Operation, now_ms: i64) -> AwsResult<()> {
        *self.calls.entry(op.key.to_owned()).or_default() += 1;
        if op.mutating {
            self.mutating.insert(op.key);
        }
        if let Some(i) = self
            .faults
            .iter()
            .position(|f| f.count > 0 && f.matches(op.key))
        {
            let fault = &mut self.faults[i];
            fault.count -= 1;
            let error = fault.error.clone();
            if fault.count == 0 {
                self.faults.remove(i);
            }
            return Err(error);
        }
        if let Some(category) = op.category()
            && !self.throttle.try_acquire(category, now_ms)
        {
            return Err(AwsError::from_code(
                "ThrottlingException",
                "Rate exceeded",
                Some(400),
            ));
        }
        Ok(())
    }

    /// Queues a fault.
    pub fn inject(&mut self, fault: SimFault) {
        if fault.count > 0 {
            self.faults.push(fault);
        }
    }

    /// Calls by operation key.
    pub fn calls(&self) -> &BTreeMap<String, u64> {
        &self.calls
    }

    /// Forgets the counts.
    pub fn reset_calls(&mut self) {
        self.calls.clear();
    }

    /// Sum of the calls of mutating operations whose key starts with `prefix` (`ecs:`).
    pub fn mutating_calls(&self, prefix: &str) -> u64 {
        self.calls
            .iter()
            .filter(|(k, _)| k.starts_with(prefix) && self.mutating.contains(k.as_str()))
            .map(|(_, n)| n)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws::error::ErrorKind;

    const UPDATE: Operation = Operation {
        key: "ecs:UpdateService",
        mutating: true,
    };
    const DESCRIBE: Operation = Operation {
        key: "probe:HttpGet",
        mutating: false,
    };

    #[test]
    fn faults_fail_the_next_n_calls_then_stop() {
        let mut gate = Gate::default();
        let err = AwsError::from_code("ServerException", "boom", Some(500));
        gate.inject(SimFault::new("UpdateService", 2, err.clone()));
        assert_eq!(gate.admit(&UPDATE, 0), Err(err.clone()));
        assert!(gate.admit(&DESCRIBE, 0).is_ok());
        assert_eq!(gate.admit(&UPDATE, 0), Err(err));
        assert!(gate.admit(&UPDATE, 0).is_ok());
        assert_eq!(gate.calls()["ecs:UpdateService"], 3);
        assert_eq!(gate.mutating_calls("ecs:"), 3);
    }

    #[test]
    fn empty_bucket_answers_throttling_exception() {
        let mut gate = Gate::default();
        for _ in 0..50 {
            gate.admit(&UPDATE, 0).unwrap();
        }
        let err = gate.admit(&UPDATE, 0).unwrap_err();
        assert_eq!(
            (err.kind, err.code.as_str()),
            (ErrorKind::Throttled, "ThrottlingException")
        );
        assert_eq!(err.message, "Rate exceeded");
    }
}
