//! Clients per account × region: whose credentials (the operator's own, or a role assumed in a
//! bound account), the limited clients and batched readers of each account × region, and one
//! limiter per account × region (AWS's token buckets are per account and region), created on
//! first use from a factory (SDK adapters in clusters, the simulator in the sandbox).

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
use crate::error::{AwsError, AwsResult, ErrorKind};
use crate::limited::{AlwaysOpen, CallGuard, Limited, MutationGate};
use crate::limiter::Limiter;
use crate::lookup::LookupApi;
use crate::metrics::{CallMetrics, CallSite};
use crate::probe::TestTrafficProbe;
use crate::prometheus::PrometheusApi;
use crate::sns::SnsApi;
use crate::sts::{AssumedCredentials, RoleCredentials, RoleSession, StsApi};

/// The account label of the operator's own identity (in status, metrics and messages).
pub const OPERATOR_ACCOUNT: &str = "operator";

/// Whose credentials an object's calls are made with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    /// The operator's own, from the standard credentials chain (its service account's role).
    Operator,
    /// A role in a bound account, assumed through STS with the operator's own identity.
    Role(RoleSession),
}

impl Identity {
    /// The account: its 12-digit id, or [`OPERATOR_ACCOUNT`].
    pub fn account(&self) -> &str {
        match self {
            Identity::Operator => OPERATOR_ACCOUNT,
            Identity::Role(session) => &session.account_id,
        }
    }
}

/// The raw (unlimited) clients of one account × region, as the factory builds them.
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
    /// PromQL queries (SigV4 signing with this identity's credentials when asked).
    pub prometheus: Arc<dyn PrometheusApi>,
    /// Reads of the things a spec names (clusters, subnets, roles, secrets, …).
    pub lookup: Arc<dyn LookupApi>,
    /// SNS Publish (a NotificationPolicy's `sns` receivers).
    pub sns: Arc<dyn SnsApi>,
}

/// Builds the raw clients of an identity in a region, and STS with the operator's own identity.
pub trait ServicesFactory: Send + Sync {
    /// The clients of `identity` in `region`; a role's calls sign with `credentials`.
    fn services(
        &self,
        identity: &Identity,
        credentials: Option<Arc<RoleCredentials>>,
        region: &str,
    ) -> RegionServices;
    /// STS, called with the operator's own identity.
    fn sts(&self) -> Arc<dyn StsApi>;
}

/// A factory of one account only (the operator's own): tools and tests with one simulated
/// account. Every AssumeRole is denied.
pub struct SingleAccount<F>(pub F);

impl<F> ServicesFactory for SingleAccount<F>
where
    F: Fn(&str) -> RegionServices + Send + Sync,
{
    fn services(
        &self,
        _: &Identity,
        _: Option<Arc<RoleCredentials>>,
        region: &str,
    ) -> RegionServices {
        (self.0)(region)
    }
    fn sts(&self) -> Arc<dyn StsApi> {
        Arc::new(NoOtherAccounts)
    }
}

/// STS of a world with one account: no role can be assumed.
struct NoOtherAccounts;

#[async_trait::async_trait]
impl StsApi for NoOtherAccounts {
    async fn assume_role(&self, session: &RoleSession) -> AwsResult<AssumedCredentials> {
        Err(AwsError::new(
            ErrorKind::AccessDenied,
            "AccessDenied",
            format!(
                "no account other than the operator's own is reachable here: cannot assume {}",
                session.role_arn
            ),
        ))
    }
}

/// STS with every AssumeRole reported to the metrics, under the account whose role it assumes.
struct MeteredSts {
    inner: Arc<dyn StsApi>,
    metrics: Arc<dyn CallMetrics>,
    region: String,
}

#[async_trait::async_trait]
impl StsApi for MeteredSts {
    async fn assume_role(&self, session: &RoleSession) -> AwsResult<AssumedCredentials> {
        let result = self.inner.assume_role(session).await;
        let site = CallSite {
            account: session.account_id.clone(),
            region: self.region.clone(),
        };
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.kind.as_str(),
        };
        self.metrics
            .aws_request(&site, "sts", "AssumeRole", outcome);
        result
    }
}

/// The clients the controllers use for one account × region.
pub struct AwsClients {
    /// Account label (12-digit id, or [`OPERATOR_ACCOUNT`]).
    pub account: String,
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
    /// PromQL queries (SigV4 signing with this identity's credentials when asked).
    pub prometheus: Arc<dyn PrometheusApi>,
    /// Reads of the things a spec names, rate limited and metered.
    pub lookup: Arc<dyn LookupApi>,
    /// SNS Publish, rate limited and metered.
    pub sns: Arc<dyn SnsApi>,
}

/// Every account × region the operator talks to.
pub struct AwsAccounts {
    default_region: String,
    factory: Arc<dyn ServicesFactory>,
    sts: Arc<dyn StsApi>,
    clock: SharedClock,
    metrics: Arc<dyn CallMetrics>,
    gate: Arc<dyn MutationGate>,
    batch_window: Duration,
    clients: Mutex<HashMap<(Identity, String), Arc<AwsClients>>>,
    limiters: Mutex<HashMap<CallSite, Arc<Limiter>>>,
    credentials: Mutex<HashMap<RoleSession, Arc<RoleCredentials>>>,
}

impl AwsAccounts {
    /// Accounts over `factory`; objects of the operator's own identity without a region use
    /// `default_region`.
    pub fn new(
        default_region: impl Into<String>,
        factory: Arc<dyn ServicesFactory>,
        clock: SharedClock,
        metrics: Arc<dyn CallMetrics>,
    ) -> Self {
        let default_region = default_region.into();
        let sts = Arc::new(MeteredSts {
            inner: factory.sts(),
            metrics: metrics.clone(),
            region: default_region.clone(),
        });
        Self {
            default_region,
            sts,
            factory,
            clock,
            metrics,
            gate: Arc::new(AlwaysOpen),
            batch_window: Duration::from_millis(15),
            clients: Mutex::new(HashMap::new()),
            limiters: Mutex::new(HashMap::new()),
            credentials: Mutex::new(HashMap::new()),
        }
    }

    /// The same accounts, every AWS mutation asking `gate` first (leader fencing).
    pub fn with_mutation_gate(mut self, gate: Arc<dyn MutationGate>) -> Self {
        self.gate = gate;
        self
    }

    /// The operator's own default region.
    pub fn default_region(&self) -> &str {
        &self.default_region
    }

    /// The clients of `identity` in `region`, after making sure its credentials work: a role is
    /// assumed (or its kept credentials reused) first, so a role that cannot be assumed makes
    /// no call in its account at all.
    pub async fn connect(&self, identity: &Identity, region: &str) -> AwsResult<Arc<AwsClients>> {
        let credentials = match identity {
            Identity::Operator => None,
            Identity::Role(session) => {
                let creds = self.role_credentials(session);
                creds.get().await?;
                Some(creds)
            }
        };
        Ok(self.clients_of(identity, region, credentials))
    }

    /// The credentials of a role session, one cache per session.
    fn role_credentials(&self, session: &RoleSession) -> Arc<RoleCredentials> {
        let mut all = self.credentials.lock().expect("credentials lock");
        all.entry(session.clone())
            .or_insert_with(|| {
                Arc::new(RoleCredentials::new(
                    session.clone(),
                    self.sts.clone(),
                    self.clock.clone(),
                ))
            })
            .clone()
    }

    /// The limiter of an account × region, shared by every identity in that account.
    fn limiter(&self, site: &CallSite) -> Arc<Limiter> {
        let mut limiters = self.limiters.lock().expect("limiters lock");
        limiters
            .entry(site.clone())
            .or_insert_with(|| Arc::new(Limiter::new(self.clock.clone())))
            .clone()
    }

    fn clients_of(
        &self,
        identity: &Identity,
        region: &str,
        credentials: Option<Arc<RoleCredentials>>,
    ) -> Arc<AwsClients> {
        let key = (identity.clone(), region.to_string());
        if let Some(found) = self.clients.lock().expect("clients lock").get(&key) {
            return found.clone();
        }
        let site = CallSite {
            account: identity.account().to_string(),
            region: region.to_string(),
        };
        let raw = self.factory.services(identity, credentials, region);
        let guard = CallGuard::new(
            site.clone(),
            self.limiter(&site),
            self.metrics.clone(),
            self.gate.clone(),
        );
        let ecs: Arc<dyn EcsApi> = Arc::new(Limited::new(raw.ecs, guard.clone()));
        let codedeploy: Arc<dyn CodeDeployApi> =
            Arc::new(Limited::new(raw.codedeploy, guard.clone()));
        let elb: Arc<dyn ElbApi> = Arc::new(Limited::new(raw.elb, guard.clone()));
        let cloudwatch: Arc<dyn CloudWatchApi> =
            Arc::new(Limited::new(raw.cloudwatch, guard.clone()));
        let lookup: Arc<dyn LookupApi> = Arc::new(Limited::new(raw.lookup, guard.clone()));
        let sns: Arc<dyn SnsApi> = Arc::new(Limited::new(raw.sns, guard.clone()));
        let autoscaling: Arc<dyn AutoScalingApi> = Arc::new(Limited::new(raw.autoscaling, guard));
        let built = Arc::new(AwsClients {
            account: site.account,
            region: site.region,
            scalable_targets: ScalableTargetReader::new(autoscaling.clone(), self.batch_window),
            autoscaling,
            codedeploy,
            elb,
            cloudwatch,
            probe: raw.probe,
            prometheus: raw.prometheus,
            lookup,
            sns,
            services: ServiceReader::new(ecs.clone(), self.batch_window, self.clock.clone()),
            ecs,
        });
        self.clients
            .lock()
            .expect("clients lock")
            .entry(key)
            .or_insert(built)
            .clone()
    }
}
