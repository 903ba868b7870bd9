//! Clients per account × region: the limited `EcsApi` and the batched service reader, created
//! on first use from a factory (SDK adapters in clusters, the simulator in the sandbox).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::ecs::EcsApi;
use super::limited::LimitedEcs;
use super::limiter::Limiter;
use super::reader::ServiceReader;
use crate::clock::SharedClock;
use crate::metrics::Metrics;

/// The raw (unlimited) clients of one region, as the factory builds them.
#[derive(Clone)]
pub struct RegionServices {
    /// ECS.
    pub ecs: Arc<dyn EcsApi>,
}

/// Builds the raw clients for a region.
pub type ServicesFactory = Arc<dyn Fn(&str) -> RegionServices + Send + Sync>;

/// The clients the controllers use for one account × region.
pub struct AwsClients {
    /// Region.
    pub region: String,
    /// ECS, rate limited and metered.
    pub ecs: Arc<dyn EcsApi>,
    /// Batched DescribeServices.
    pub services: Arc<ServiceReader>,
}

/// Every account × region the operator talks to (one account today: the credentials chain's).
pub struct AwsAccounts {
    default_region: String,
    factory: ServicesFactory,
    clock: SharedClock,
    metrics: Arc<Metrics>,
    batch_window: Duration,
    regions: Mutex<HashMap<String, Arc<AwsClients>>>,
}

impl AwsAccounts {
    /// Accounts over `factory`; objects without a region use `default_region`.
    pub fn new(
        default_region: impl Into<String>,
        factory: ServicesFactory,
        clock: SharedClock,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            default_region: default_region.into(),
            factory,
            clock,
            metrics,
            batch_window: Duration::from_millis(15),
            regions: Mutex::new(HashMap::new()),
        }
    }

    /// The default region.
    pub fn default_region(&self) -> &str {
        &self.default_region
    }

    /// The clients of `region` (or the default region).
    pub fn clients(&self, region: Option<&str>) -> Arc<AwsClients> {
        let region = region.unwrap_or(&self.default_region).to_string();
        let mut regions = self.regions.lock().expect("accounts lock");
        regions
            .entry(region.clone())
            .or_insert_with(|| {
                let raw = (self.factory)(&region);
                let limiter = Arc::new(Limiter::new(self.clock.clone()));
                let ecs: Arc<dyn EcsApi> =
                    Arc::new(LimitedEcs::new(raw.ecs, limiter, self.metrics.clone()));
                Arc::new(AwsClients {
                    region: region.clone(),
                    services: ServiceReader::new(ecs.clone(), self.batch_window),
                    ecs,
                })
            })
            .clone()
    }
}
