//! What every AWS call of the controllers goes through: `Limited<dyn XxxApi>` wraps a raw client
//! (SDK adapter or simulator) so each call first waits for a token of its category in the limits
//! table (`crate::limits`), then is counted in the metrics and, when it fails, names the
//! operation in its error. The controllers only ever see these wrappers.

mod autoscaling;
mod cloudwatch;
mod codedeploy;
mod ecs;
mod elb;
mod lookup;
mod sns;

use std::sync::Arc;

use crate::error::{AwsError, AwsResult, ErrorKind};
use crate::limiter::Limiter;
use crate::limits::category_of;
use crate::metrics::{CallMetrics, CallSite};

/// Asked before every AWS mutation: whether this process may still change AWS (a leader whose
/// lease outlives the call, say). Reads are never gated.
pub trait MutationGate: Send + Sync {
    /// `Err` with the reason when mutations must stop.
    fn may_mutate(&self) -> Result<(), String>;
}

/// A gate that never closes (one process, no leader election).
#[derive(Debug, Default, Clone, Copy)]
pub struct AlwaysOpen;

impl MutationGate for AlwaysOpen {
    fn may_mutate(&self) -> Result<(), String> {
        Ok(())
    }
}

/// The error code of a mutation the gate stopped.
pub const LEASE_LOST: &str = "LeaseLost";

/// Whether an AWS action changes AWS (by the verbs of AWS's action names).
pub fn is_mutation(action: &str) -> bool {
    const VERBS: [&str; 11] = [
        "Create",
        "Update",
        "Delete",
        "Register",
        "Deregister",
        "Put",
        "Stop",
        "Continue",
        "Tag",
        "Untag",
        "Publish",
    ];
    VERBS.iter().any(|v| action.starts_with(v))
}

/// The limiter of one account × region, the metrics every call is reported to, and the gate
/// every mutation passes.
#[derive(Clone)]
pub struct CallGuard {
    site: Arc<CallSite>,
    limiter: Arc<Limiter>,
    metrics: Arc<dyn CallMetrics>,
    gate: Arc<dyn MutationGate>,
}

impl CallGuard {
    /// A guard of the calls to `site` over `limiter` (the one of the account × region)
    /// reporting to `metrics`, every mutation asking `gate` first.
    pub fn new(
        site: CallSite,
        limiter: Arc<Limiter>,
        metrics: Arc<dyn CallMetrics>,
        gate: Arc<dyn MutationGate>,
    ) -> Self {
        Self {
            site: Arc::new(site),
            limiter,
            metrics,
            gate,
        }
    }

    /// Runs `fut`, the call of `action` on `service`: a mutation first asks the gate, then
    /// every call waits for its bucket's token (when it has one), counts the outcome, and names
    /// the operation in a failure.
    pub async fn call<T>(
        &self,
        service: &'static str,
        action: &'static str,
        fut: impl std::future::Future<Output = AwsResult<T>>,
    ) -> AwsResult<T> {
        if is_mutation(action)
            && let Err(why) = self.gate.may_mutate()
        {
            return Err(AwsError::new(ErrorKind::Transient, LEASE_LOST, why).during(action));
        }
        if let Some(category) = category_of(service, action) {
            self.limiter.acquire(category).await;
        }
        let result = fut.await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.kind.as_str(),
        };
        self.metrics
            .aws_request(&self.site, service, action, outcome);
        result.map_err(|e| e.during(action))
    }
}

/// A raw client behind the account's [`CallGuard`].
pub struct Limited<C: ?Sized> {
    inner: Arc<C>,
    guard: CallGuard,
}

impl<C: ?Sized> Limited<C> {
    /// Wraps `inner`.
    pub fn new(inner: Arc<C>, guard: CallGuard) -> Self {
        Self { inner, guard }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_are_told_by_their_verb() {
        for action in [
            "CreateService",
            "UpdateService",
            "RegisterTaskDefinition",
            "PutScalingPolicy",
            "StopServiceDeployment",
            "ContinueDeployment",
            "TagResource",
            "DeregisterScalableTarget",
            "Publish",
        ] {
            assert!(is_mutation(action), "{action}");
        }
        for action in ["DescribeServices", "GetDeployment", "ListTaskDefinitions"] {
            assert!(!is_mutation(action), "{action}");
        }
    }
}
