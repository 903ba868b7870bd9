//! Clients per account × region: the limited `EcsApi` and the batched service reader, created
//! on first use from a factory (SDK adapters in clusters, the simulator in the sandbox).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::autoscaling::AutoScalingApi;
use crate::autoscaling::reader::ScalableTargetReader;
use crate::clock::SharedClock;
use crate::cloudwatch::CloudWatchApi;
use crate::codedeploy::CodeDeployApi;
use crate::ecs::EcsApi;
use crate::ecs::reader::ServiceReader;
use crate::elb::ElbApi;
use crate::limited::{AlwaysOpen, CallGuard, Limited, MutationGate};
use crate::limiter::Limiter;
use crate::metrics::CallMetrics;
use crate::probe::TestTrafficProbe;

/// The raw (unlimited) clients of one region, as the factory builds them.
#[derive(Clone)]
pub struct RegionServices {
    /// ECS.
    pub ecs: Arc<dyn EcsApi>,
    /// Application Auto Scaling.
    pub autoscaling: Arc<dyn AutoScalingApi>,
    /// CodeDeploy.
    pub codedeploy: Arc<dyn CodeDeployApi>,
    /// ELBv2 (reads).
    pub elb: Arc<dyn ElbApi>,
    /// CloudWatch.
    pub cloudwatch: Arc<dyn CloudWatchApi>,
    /// HTTP checks through load balancer listeners.
    pub probe: Arc<dyn TestTrafficProbe>,
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
    /// Application Auto Scaling, metered.
    pub autoscaling: Arc<dyn AutoScalingApi>,
    /// Batched DescribeScalableTargets.
    pub scalable_targets: Arc<ScalableTargetReader>,
    /// CodeDeploy, rate limited and metered.
    pub codedeploy: Arc<dyn CodeDeployApi>,
    /// ELBv2 reads, metered.
    pub elb: Arc<dyn ElbApi>,
    /// CloudWatch, metered.
    pub cloudwatch: Arc<dyn CloudWatchApi>,
    /// HTTP checks through load balancer listeners.
    pub probe: Arc<dyn TestTrafficProbe>,
}

/// Every account × region the operator talks to (one account today: the credentials chain's).
pub struct AwsAccounts {
    default_region: String,
    factory: ServicesFactory,
    clock: SharedClock,
    metrics: Arc<dyn CallMetrics>,
    gate: Arc<dyn MutationGate>,
    batch_window: Duration,
    regions: Mutex<HashMap<String, Arc<AwsClients>>>,
}

impl AwsAccounts {
    /// Accounts over `factory`; objects without a region use `default_region`.
    pub fn new(
        default_region: impl Into<String>,
        factory: ServicesFactory,
        clock: SharedClock,
        metrics: Arc<dyn CallMetrics>,
    ) -> Self {
        Self {
            default_region: default_region.into(),
            factory,
            clock,
            metrics,
            gate: Arc::new(AlwaysOpen),
            batch_window: Duration::from_millis(15),
            regions: Mutex::new(HashMap::new()),
        }
    }

    /// The same accounts, every AWS mutation asking `gate` first (leader fencing).
    pub fn with_mutation_gate(mut self, gate: Arc<dyn MutationGate>) -> Self {
        self.gate = gate;
        self
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
                let guard = CallGuard::new(
                    Arc::new(Limiter::new(self.clock.clone())),
                    self.metrics.clone(),
                    self.gate.clone(),
                );
                let ecs: Arc<dyn EcsApi> = Arc::new(Limited::new(raw.ecs, guard.clone()));
                let codedeploy: Arc<dyn CodeDeployApi> =
                    Arc::new(Limited::new(raw.codedeploy, guard.clone()));
                let elb: Arc<dyn ElbApi> = Arc::new(Limited::new(raw.elb, guard.clone()));
                let cloudwatch: Arc<dyn CloudWatchApi> =
                    Arc::new(Limited::new(raw.cloudwatch, guard.clone()));
                let autoscaling: Arc<dyn AutoScalingApi> =
                    Arc::new(Limited::new(raw.autoscaling, guard));
                Arc::new(AwsClients {
                    region: region.clone(),
                    scalable_targets: ScalableTargetReader::new(
                        autoscaling.clone(),
                        self.batch_window,
                    ),
                    autoscaling,
                    codedeploy,
                    elb,
                    cloudwatch,
                    probe: raw.probe,
                    services: ServiceReader::new(
                        ecs.clone(),
                        self.batch_window,
                        self.clock.clone(),
                    ),
                    ecs,
                })
            })
            .clone()
    }
}
