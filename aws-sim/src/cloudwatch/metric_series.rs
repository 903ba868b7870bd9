//! The datapoints of one metric and statistic over a GetMetricData window, from what the account
//! recorded: one datapoint per period that has data (a period without requests, or without
//! samples, has none), timestamped with the period's start.
//!
//! | namespace | metric | dimensions | per minute | unit |
//! |---|---|---|---|---|
//! | `AWS/ApplicationELB` | `RequestCount`, `HTTPCode_Target_2XX_Count`, `HTTPCode_Target_5XX_Count`, `HTTPCode_ELB_5XX_Count` | `TargetGroup` (`targetgroup/<name>/<id>`), `TargetGroup` + `LoadBalancer` (`app/<name>/<id>`), or `LoadBalancer` | one sample: the minute's whole count | Count |
//! | `AWS/ApplicationELB` | `TargetResponseTime` | the same | every target answer, at its latency | Seconds |
//! | `AWS/ECS` | `CPUUtilization`, `MemoryUtilization` | `ClusterName` + `ServiceName` | one sample at the minute's start | Percent |
//!
//! Statistics over a period's samples: `Sum`, `SampleCount`, `Average`, `Minimum`, `Maximum`,
//! and percentiles `pNN` (the smallest sample at or above that share of the samples). A count
//! metric has a datapoint, zero included, in every period its target group received requests;
//! AWS leaves zero counts out, so a rate like `5xx / requests` needs no `FILL` here. Any other
//! metric, dimension set or unit has no datapoints, as an unknown metric has in CloudWatch.

use std::collections::BTreeMap;

use crate::cloudwatch::alb_metrics::MINUTE;
use crate::cloudwatch::math::Series;
use crate::elb::answers::{Counts, MICRO, latency_distribution};
use crate::time::Secs;
use crate::world::World;
use aws::cloudwatch::{Dimension, MetricStat};

/// A GetMetricData window in simulated seconds: `[start, end)`, start rounded down to the minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    /// First second (a minute start).
    pub start: Secs,
    /// First second after the window.
    pub end: Secs,
}

/// A statistic of a period's samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Statistic {
    /// Sum of the samples.
    Sum,
    /// How many samples.
    SampleCount,
    /// Their mean.
    Average,
    /// The smallest.
    Minimum,
    /// The largest.
    Maximum,
    /// The smallest sample at or above this percentage of them (`p99` → 99.0).
    Percentile(f64),
}

impl Statistic {
    /// The statistic named `stat` (`Sum`, `p99`, `p99.9` …), if the simulator knows it.
    pub fn parse(stat: &str) -> Option<Statistic> {
        Some(match stat {
            "Sum" => Statistic::Sum,
            "SampleCount" => Statistic::SampleCount,
            "Average" => Statistic::Average,
            "Minimum" => Statistic::Minimum,
            "Maximum" => Statistic::Maximum,
            _ => {
                let p: f64 = stat.strip_prefix('p')?.parse().ok()?;
                if !(p > 0.0 && p <= 100.0) {
                    return None;
                }
                Statistic::Percentile(p)
            }
        })
    }

    /// The statistic of weighted samples `(value, weight)`; `None` without any weight.
    fn of(self, samples: &[(f64, f64)]) -> Option<f64> {
        let count: f64 = samples.iter().map(|(_, w)| w).sum();
        if count <= 0.0 {
            return None;
        }
        let sum: f64 = samples.iter().map(|(v, w)| v * w).sum();
        let values = samples.iter().filter(|(_, w)| *w > 0.0).map(|(v, _)| *v);
        Some(match self {
            Statistic::Sum => sum,
            Statistic::SampleCount => count,
            Statistic::Average => sum / count,
            Statistic::Minimum => values.fold(f64::INFINITY, f64::min),
            Statistic::Maximum => values.fold(f64::NEG_INFINITY, f64::max),
            Statistic::Percentile(p) => {
                let mut sorted: Vec<(f64, f64)> = samples.to_vec();
                sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
                let wanted = count * p / 100.0;
                let mut seen = 0.0;
                sorted
                    .iter()
                    .find(|(_, w)| {
                        seen += w;
                        seen >= wanted * (1.0 - 1e-12)
                    })
                    .or(sorted.last())
                    .map(|(v, _)| *v)?
            }
        })
    }
}

/// An ALB metric of a target group.
#[derive(Debug, Clone, Copy)]
enum AlbMetric {
    /// A count (`RequestCount`, `HTTPCode_*`): which field of the recorded counts.
    Count(fn(&Counts) -> u64),
    /// `TargetResponseTime`.
    ResponseTime,
}

impl AlbMetric {
    fn parse(name: &str) -> Option<AlbMetric> {
        Some(match name {
            "RequestCount" => AlbMetric::Count(|c| c.requests),
            "HTTPCode_Target_2XX_Count" => AlbMetric::Count(|c| c.target_2xx),
            "HTTPCode_Target_5XX_Count" => AlbMetric::Count(|c| c.target_5xx),
            "HTTPCode_ELB_5XX_Count" => AlbMetric::Count(|c| c.elb_5xx),
            "TargetResponseTime" => AlbMetric::ResponseTime,
            _ => return None,
        })
    }

    fn unit(self) -> &'static str {
        match self {
            AlbMetric::Count(_) => "Count",
            AlbMetric::ResponseTime => "Seconds",
        }
    }
}

/// What one minute of the matching pairs adds up to.
#[derive(Debug, Clone, Copy, Default)]
struct MinuteSum {
    /// The count metric's whole count.
    whole: u64,
    /// Requests, fast and slow answers (micro-requests).
    counts: Counts,
}

/// The value of the dimension `name`, when it is there exactly once.
fn dimension<'a>(dims: &'a [Dimension], name: &str) -> Option<&'a str> {
    let mut values = dims.iter().filter(|d| d.name == name);
    let first = values.next()?;
    values.next().is_none().then_some(first.value.as_str())
}

/// The ARN suffix CloudWatch names a resource by: `targetgroup/<name>/<id>` of a target group
/// ARN, `app/<name>/<id>` of a load balancer ARN.
pub(crate) fn dimension_value(arn: &str) -> &str {
    let resource = arn.rsplit(':').next().unwrap_or(arn);
    resource.strip_prefix("loadbalancer/").unwrap_or(resource)
}

impl World {
    /// The datapoints of `stat` with `statistic` over `window`, by period start.
    pub(crate) fn metric_series(
        &self,
        stat: &MetricStat,
        statistic: Statistic,
        window: Window,
    ) -> Series {
        let period = Secs::from(stat.period).max(MINUTE);
        let metric = &stat.metric;
        let periods = match metric.namespace.as_str() {
            "AWS/ApplicationELB" => self.alb_periods(stat, window, period),
            "AWS/ECS" => self.ecs_periods(stat, window, period),
            _ => BTreeMap::new(),
        };
        periods
            .into_iter()
            .filter_map(|(t, samples)| Some((t, statistic.of(&samples)?)))
            .collect()
    }

    /// The samples of an ALB metric by period start.
    fn alb_periods(
        &self,
        stat: &MetricStat,
        window: Window,
        period: Secs,
    ) -> BTreeMap<Secs, Vec<(f64, f64)>> {
        let dims = &stat.metric.dimensions;
        let Some(metric) = AlbMetric::parse(&stat.metric.metric_name) else {
            return BTreeMap::new();
        };
        let (tg, lb) = (
            dimension(dims, "TargetGroup"),
            dimension(dims, "LoadBalancer"),
        );
        let known = usize::from(tg.is_some()) + usize::from(lb.is_some());
        if known == 0
            || known != dims.len()
            || stat.unit.as_deref().is_some_and(|u| u != metric.unit())
        {
            return BTreeMap::new();
        }
        let mut minutes: BTreeMap<Secs, MinuteSum> = BTreeMap::new();
        let pairs = self.alb_metrics.pairs().filter(|(lb_arn, tg_arn, _)| {
            tg.is_none_or(|v| dimension_value(tg_arn) == v)
                && lb.is_none_or(|v| dimension_value(lb_arn) == v)
        });
        for (_, _, pair) in pairs {
            for (minute, bucket) in pair.minutes.range(window.start..window.end) {
                let sum = minutes.entry(*minute).or_default();
                sum.counts.add(bucket.within);
                if let AlbMetric::Count(field) = metric {
                    sum.whole += bucket.whole(field);
                }
            }
        }
        let mut periods: BTreeMap<Secs, Vec<MinuteSum>> = BTreeMap::new();
        for (minute, sum) in minutes.into_iter().filter(|(_, s)| s.counts.requests > 0) {
            let start = window.start + (minute - window.start) / period * period;
            periods.entry(start).or_default().push(sum);
        }
        periods
            .into_iter()
            .map(|(start, sums)| {
                let samples = match metric {
                    AlbMetric::Count(_) => sums.iter().map(|s| (s.whole as f64, 1.0)).collect(),
                    AlbMetric::ResponseTime => {
                        let (fast, slow) = sums
                            .iter()
                            .fold((0, 0), |(f, s), m| (f + m.counts.fast, s + m.counts.slow));
                        let micro = MICRO as f64;
                        latency_distribution(fast as f64 / micro, slow as f64 / micro)
                    }
                };
                (start, samples)
            })
            .collect()
    }

    /// The samples of an ECS service metric by period start.
    fn ecs_periods(
        &self,
        stat: &MetricStat,
        window: Window,
        period: Secs,
    ) -> BTreeMap<Secs, Vec<(f64, f64)>> {
        let dims = &stat.metric.dimensions;
        let read: fn(&crate::cloudwatch::metrics::Utilisation) -> f64 =
            match stat.metric.metric_name.as_str() {
                "CPUUtilization" => |u| u.cpu,
                "MemoryUtilization" => |u| u.memory,
                _ => return BTreeMap::new(),
            };
        let (Some(cluster), Some(service)) = (
            dimension(dims, "ClusterName"),
            dimension(dims, "ServiceName"),
        ) else {
            return BTreeMap::new();
        };
        if dims.len() != 2 || stat.unit.as_deref().is_some_and(|u| u != "Percent") {
            return BTreeMap::new();
        }
        let cluster = self.cluster_name(cluster).unwrap_or(cluster);
        let mut periods: BTreeMap<Secs, Vec<(f64, f64)>> = BTreeMap::new();
        for (minute, u) in self.metrics.samples(cluster, service) {
            if minute < window.start || minute >= window.end {
                continue;
            }
            let start = window.start + (minute - window.start) / period * period;
            periods.entry(start).or_default().push((read(&u), 1.0));
        }
        periods
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_of_weighted_samples() {
        let samples = [(0.01, 1.0), (0.02, 2.0), (0.04, 1.0)];
        let of = |s: &str| Statistic::parse(s).unwrap().of(&samples).unwrap();
        assert!((of("Sum") - 0.09).abs() < 1e-12);
        assert_eq!(of("SampleCount"), 4.0);
        assert!((of("Average") - 0.0225).abs() < 1e-12);
        assert_eq!((of("Minimum"), of("Maximum")), (0.01, 0.04));
        assert_eq!(
            (of("p25"), of("p50"), of("p75"), of("p100")),
            (0.01, 0.02, 0.02, 0.04)
        );
        assert_eq!(Statistic::Sum.of(&[]), None);
        for bad in ["sum", "p0", "p101", "pNaN", "tm99", "IQM"] {
            assert_eq!(Statistic::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn dimension_values_are_the_arn_suffixes() {
        let tg = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/auth-blue/0123";
        let lb = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/alb/4567";
        assert_eq!(dimension_value(tg), "targetgroup/auth-blue/0123");
        assert_eq!(dimension_value(lb), "app/alb/4567");
    }
}
