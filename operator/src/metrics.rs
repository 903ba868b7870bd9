//! Prometheus metrics of the operator: reconciles, AWS requests and throttles, rollout phases,
//! leadership. Labels never carry object names, so the series count stays bounded.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

/// Every metric the operator exports, registered in one registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    reconcile_total: Family<Labels, Counter>,
    reconcile_errors_total: Family<Labels, Counter>,
    reconcile_duration_seconds: Family<Labels, Histogram>,
    aws_requests_total: Family<Labels, Counter>,
    aws_throttles_total: Family<Labels, Counter>,
    rollout_phase: Family<Labels, Gauge>,
    cache_synced: Family<Labels, Gauge>,
    notifications_total: Family<Labels, Counter>,
    leader: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("ecs_operator");
        let reconcile_total = Family::<Labels, Counter>::default();
        let reconcile_errors_total = Family::<Labels, Counter>::default();
        let reconcile_duration_seconds = Family::<Labels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 16))
        });
        let aws_requests_total = Family::<Labels, Counter>::default();
        let aws_throttles_total = Family::<Labels, Counter>::default();
        let rollout_phase = Family::<Labels, Gauge>::default();
        let leader = Gauge::default();
        let cache_synced = Family::<Labels, Gauge>::default();
        let notifications_total = Family::<Labels, Counter>::default();
        registry.register(
            "notifications",
            "Notification delivery attempts by receiver type, trigger and outcome (delivered or failed)",
            notifications_total.clone(),
        );
        registry.register(
            "reconcile",
            "Reconciles by controller and result",
            reconcile_total.clone(),
        );
        registry.register(
            "reconcile_errors",
            "Reconcile errors by controller and category",
            reconcile_errors_total.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Reconcile duration by controller",
            reconcile_duration_seconds.clone(),
        );
        registry.register(
            "aws_requests",
            "AWS requests by service, operation and outcome",
            aws_requests_total.clone(),
        );
        registry.register(
            "aws_throttles",
            "AWS requests answered with throttling, by service and operation",
            aws_throttles_total.clone(),
        );
        registry.register(
            "rollout_phase",
            "BlueGreenRollouts per phase",
            rollout_phase.clone(),
        );
        registry.register(
            "cache_synced",
            "1 once the watch of the kind has listed everything: no controller acts before",
            cache_synced.clone(),
        );
        registry.register(
            "leader",
            "1 while this process runs the controllers (holds the Lease, or runs without election)",
            leader.clone(),
        );
        Self {
            registry,
            reconcile_total,
            reconcile_errors_total,
            reconcile_duration_seconds,
            aws_requests_total,
            aws_throttles_total,
            rollout_phase,
            cache_synced,
            notifications_total,
            leader,
        }
    }

    /// Counts one reconcile and its duration.
    pub fn reconciled(&self, controller: &'static str, result: &'static str, seconds: f64) {
        self.reconcile_total
            .get_or_create(&vec![
                ("controller", controller.into()),
                ("result", result.into()),
            ])
            .inc();
        self.reconcile_duration_seconds
            .get_or_create(&vec![("controller", controller.into())])
            .observe(seconds);
    }

    /// Counts one notification delivery attempt.
    pub fn notification(&self, receiver_type: &'static str, trigger: &str, delivered: bool) {
        self.notifications_total
            .get_or_create(&vec![
                ("receiver_type", receiver_type.into()),
                ("trigger", trigger.into()),
                (
                    "outcome",
                    if delivered { "delivered" } else { "failed" }.into(),
                ),
            ])
            .inc();
    }

    /// Counts a reconcile error by category.
    pub fn reconcile_error(&self, controller: &'static str, category: &str) {
        self.reconcile_errors_total
            .get_or_create(&vec![
                ("controller", controller.into()),
                ("category", category.into()),
            ])
            .inc();
    }

    /// Counts an AWS request at `site` (account and region); `outcome` is `ok` or the error
    /// kind.
    pub fn aws_request(
        &self,
        site: &aws::metrics::CallSite,
        service: &'static str,
        operation: &'static str,
        outcome: &str,
    ) {
        self.aws_requests_total
            .get_or_create(&vec![
                ("account", site.account.clone()),
                ("region", site.region.clone()),
                ("service", service.into()),
                ("operation", operation.into()),
                ("outcome", outcome.into()),
            ])
            .inc();
        if outcome == "Throttled" {
            self.aws_throttles_total
                .get_or_create(&vec![
                    ("account", site.account.clone()),
                    ("region", site.region.clone()),
                    ("service", service.into()),
                    ("operation", operation.into()),
                ])
                .inc();
        }
    }

    /// Sets how many rollouts are in each phase.
    pub fn set_rollout_phase(&self, phase: &str, count: i64) {
        self.rollout_phase
            .get_or_create(&vec![("phase", phase.into())])
            .set(count);
    }

    /// Whether the cache of `kind` has listed everything.
    pub fn set_cache_synced(&self, kind: &str, synced: bool) {
        self.cache_synced
            .get_or_create(&vec![("kind", kind.to_owned())])
            .set(i64::from(synced));
    }

    /// Whether this process runs the controllers.
    pub fn set_leader(&self, leading: bool) {
        self.leader.set(i64::from(leading));
    }

    /// The text exposition format of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

impl aws::metrics::CallMetrics for Metrics {
    fn aws_request(
        &self,
        site: &aws::metrics::CallSite,
        service: &'static str,
        operation: &'static str,
        outcome: &str,
    ) {
        Metrics::aws_request(self, site, service, operation, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposes_style_guide_names() {
        let m = Metrics::new();
        m.reconciled("ecsservice", "ok", 0.01);
        m.reconcile_error("ecsservice", "Throttled");
        let site = aws::metrics::CallSite {
            account: "210987654321".into(),
            region: "eu-west-1".into(),
        };
        m.aws_request(&site, "ecs", "UpdateService", "Throttled");
        m.set_rollout_phase("Healthy", 2);
        m.set_leader(true);
        let text = m.encode();
        assert!(text.contains("\necs_operator_leader 1\n"), "{text}");
        for name in [
            "ecs_operator_reconcile_total{",
            "ecs_operator_reconcile_errors_total{",
            "ecs_operator_reconcile_duration_seconds_bucket{",
            "ecs_operator_aws_requests_total{",
            "ecs_operator_aws_throttles_total{",
            "ecs_operator_rollout_phase{",
        ] {
            assert!(text.contains(name), "{name} missing in\n{text}");
        }
        assert!(
            text.contains(r#"account="210987654321",region="eu-west-1",service="ecs""#),
            "AWS calls are labelled by account and region: {text}"
        );
    }
}
