//! Simulated CloudWatch service metrics: the CPU and memory load of each ECS service, set by a
//! test or by `ecs-operator local` (`SimAws::set_service_load`). Load is demand: a percentage
//! given at the service's desired count at that moment, spread over however many tasks run
//! afterwards (85 % on 2 tasks is 56.7 % on 3). A service nobody set a load for reports no data
//! (INSUFFICIENT_DATA), so target tracking leaves it alone. The utilisation is also sampled at
//! the start of every minute (by `cloudwatch::recording`) for GetMetricData's `AWS/ECS`
//! `CPUUtilization` and `MemoryUtilization`, kept as long as the ALB minute buckets.

use std::collections::BTreeMap;

use crate::cloudwatch::alb_metrics::{RETENTION_SECS, minute_of};
use crate::time::Secs;

/// Demand of one service, in tasks' worth of work.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Demand {
    /// CPU: 1.0 is one task at 100 %.
    pub cpu: f64,
    /// Memory: 1.0 is one task at 100 %.
    pub memory: f64,
}

/// Average utilisation of a service's running tasks, in percent (0–100).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Utilisation {
    /// ECSServiceAverageCPUUtilization / AWS/ECS CPUUtilization.
    pub cpu: f64,
    /// ECSServiceAverageMemoryUtilization / AWS/ECS MemoryUtilization.
    pub memory: f64,
}

/// Loads by (cluster, service), and the utilisation they caused.
#[derive(Debug, Clone, Default)]
pub(crate) struct MetricsState {
    demand: BTreeMap<(String, String), Demand>,
    /// Utilisation at the start of each minute, by (cluster, service) then minute.
    samples: BTreeMap<(String, String), BTreeMap<Secs, Utilisation>>,
}

impl MetricsState {
    /// Sets the load of a service: `cpu`/`memory` percent as measured on `tasks` tasks.
    pub fn set_load(&mut self, cluster: &str, service: &str, cpu: f64, memory: f64, tasks: i32) {
        let tasks = f64::from(tasks.max(1));
        let demand = Demand {
            cpu: cpu.max(0.0) / 100.0 * tasks,
            memory: memory.max(0.0) / 100.0 * tasks,
        };
        self.demand
            .insert((cluster.to_owned(), service.to_owned()), demand);
    }

    /// Forgets the load of a service (it reports no data again).
    pub fn clear_load(&mut self, cluster: &str, service: &str) {
        self.demand
            .remove(&(cluster.to_owned(), service.to_owned()));
    }

    /// The average utilisation of the service's `running` tasks; `None` without a load or
    /// without running tasks (no datapoints).
    pub fn utilisation(&self, cluster: &str, service: &str, running: i32) -> Option<Utilisation> {
        let demand = self.demand.get(&(cluster.to_owned(), service.to_owned()))?;
        if running <= 0 {
            return None;
        }
        let per_task = |d: f64| (d / f64::from(running) * 100.0).min(100.0);
        Some(Utilisation {
            cpu: per_task(demand.cpu),
            memory: per_task(demand.memory),
        })
    }

    /// The services somebody set a load for, as (cluster, service).
    pub fn loaded_services(&self) -> impl Iterator<Item = (&str, &str)> {
        self.demand.keys().map(|(c, s)| (c.as_str(), s.as_str()))
    }

    /// Whether the service has a load.
    pub fn has_load(&self, cluster: &str, service: &str) -> bool {
        !self.demand.is_empty()
            && self
                .demand
                .contains_key(&(cluster.to_owned(), service.to_owned()))
    }

    /// Keeps the utilisation of the service at the start of `minute`.
    pub fn record_sample(&mut self, cluster: &str, service: &str, minute: Secs, u: Utilisation) {
        self.samples
            .entry((cluster.to_owned(), service.to_owned()))
            .or_default()
            .insert(minute, u);
    }

    /// The utilisation samples of a service by minute (empty without any).
    pub fn samples(
        &self,
        cluster: &str,
        service: &str,
    ) -> impl Iterator<Item = (Secs, Utilisation)> {
        self.samples
            .get(&(cluster.to_owned(), service.to_owned()))
            .into_iter()
            .flat_map(|by_minute| by_minute.iter().map(|(t, u)| (*t, *u)))
    }

    /// Forgets the samples older than the retention before `now`.
    pub fn prune(&mut self, now: Secs) {
        let kept_from = minute_of(now - RETENTION_SECS);
        for by_minute in self.samples.values_mut() {
            *by_minute = by_minute.split_off(&kept_from);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demand_spreads_over_running_tasks_and_saturates() {
        let mut m = MetricsState::default();
        assert_eq!(m.utilisation("c", "s", 2), None);
        m.set_load("c", "s", 90.0, 40.0, 2);
        let u = m.utilisation("c", "s", 3).unwrap();
        assert!((u.cpu - 60.0).abs() < 1e-9 && (u.memory - 80.0 / 3.0).abs() < 1e-9);
        m.set_load("c", "s", 250.0, 10.0, 2);
        assert_eq!(m.utilisation("c", "s", 2).unwrap().cpu, 100.0);
        assert_eq!(m.utilisation("c", "s", 0), None);
        m.clear_load("c", "s");
        assert_eq!(m.utilisation("c", "s", 2), None);
    }
}
