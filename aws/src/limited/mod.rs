//! What every AWS call of the controllers goes through: `Limited<dyn XxxApi>` wraps a raw client
//! (SDK adapter or simulator) so each call first waits for a token of its category in the limits
//! table (`crate::limits`), then is counted in the metrics and, when it fails, names the
//! operation in its error. The controllers only ever see these wrappers.

mod autoscaling;
mod cloudwatch;
mod codedeploy;
mod ecs;
mod elb;

use std::sync::Arc;

use crate::error::AwsResult;
use crate::limiter::Limiter;
use crate::limits::category_of;
use crate::metrics::CallMetrics;

/// The limiter of one account × region and the metrics every call is reported to.
#[derive(Clone)]
pub struct CallGuard {
    limiter: Arc<Limiter>,
    metrics: Arc<dyn CallMetrics>,
}

impl CallGuard {
    /// A guard over `limiter` (the one of the account × region) reporting to `metrics`.
    pub fn new(limiter: Arc<Limiter>, metrics: Arc<dyn CallMetrics>) -> Self {
        Self { limiter, metrics }
    }

    /// Runs `fut`, the call of `action` on `service`: waits for its bucket's token (when it has
    /// one), counts the outcome, and names the operation in a failure.
    pub async fn call<T>(
        &self,
        service: &'static str,
        action: &'static str,
        fut: impl std::future::Future<Output = AwsResult<T>>,
    ) -> AwsResult<T> {
        if let Some(category) = category_of(service, action) {
            self.limiter.acquire(category).await;
        }
        let result = fut.await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.kind.as_str(),
        };
        self.metrics.aws_request(service, action, outcome);
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
