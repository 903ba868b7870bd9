//! What the account records as simulated time passes: the ALB traffic of each stretch of time
//! between two events that could change it (into `cloudwatch::alb_metrics`), and each loaded ECS
//! service's utilisation at the start of every minute (into `cloudwatch::metrics`).
//!
//! `World::advance` cuts time at every event of a service behind a load balancer or with a
//! simulated load (tasks healthy, stopped, failed; a blue/green run's traffic shift) and at
//! every API call. Between two cuts routing and task health are constant, so a stretch's traffic
//! is its start's rates times its length: whether the operator calls once an hour or every
//! second, the same events cut time at the same moments and the recorded metrics are the same.

use crate::cloudwatch::alb_metrics::{MINUTE, RETENTION_SECS, minute_of};
use crate::ecs::engine::next_event;
use crate::time::Secs;
use crate::world::World;

impl World {
    /// Records the metrics of `[from, until)`, a stretch in which no service the metrics depend
    /// on has an event: the traffic at `from`'s rates, the utilisation at each minute start.
    pub(crate) fn record_metrics(&mut self, from: Secs, until: Secs) {
        if until <= from {
            return;
        }
        for flow in self.traffic_flows(from) {
            self.alb_metrics.record(&flow, from, until);
        }
        self.alb_metrics.prune(until);
        self.sample_utilisation(from, until);
    }

    /// Samples every loaded service's utilisation at the minute starts in `[from, until)`
    /// (the retained ones only).
    fn sample_utilisation(&mut self, from: Secs, until: Secs) {
        let first = minute_of(from.max(until - RETENTION_SECS) + MINUTE - 1);
        let loaded: Vec<(String, String)> = self
            .metrics
            .loaded_services()
            .map(|(c, s)| (c.to_owned(), s.to_owned()))
            .collect();
        for (cluster, service) in loaded {
            let Some(svc) = self
                .ecs
                .clusters
                .get(&cluster)
                .and_then(|c| c.services.get(&service))
            else {
                continue;
            };
            for minute in (first..until).step_by(MINUTE as usize) {
                let running = svc.tasks.iter().filter(|t| t.is_running(minute)).count();
                let running = i32::try_from(running).unwrap_or(i32::MAX);
                if let Some(u) = self.metrics.utilisation(&cluster, &service, running) {
                    self.metrics.record_sample(&cluster, &service, minute, u);
                }
            }
        }
        self.metrics.prune(until);
    }

    /// The next event of a service the metrics depend on (one whose tasks sit behind a target
    /// group, that holds listener weights, or has a simulated load); services are advanced to
    /// `advanced_to`, so it is later than that.
    pub(crate) fn metrics_wake(&self) -> Option<Secs> {
        self.ecs
            .clusters
            .iter()
            .flat_map(|(cluster, c)| {
                c.services
                    .iter()
                    .map(move |(name, svc)| (cluster, name, svc))
            })
            .filter(|(cluster, name, svc)| {
                svc.bluegreen.is_some()
                    || !svc.config.load_balancers.is_empty()
                    || self.metrics.has_load(cluster, name)
            })
            .filter_map(|(_, _, svc)| next_event(svc))
            .min()
    }
}
