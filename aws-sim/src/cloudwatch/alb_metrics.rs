//! The ALB metrics the simulated traffic leaves behind, per (load balancer, target group) pair:
//! one-minute buckets for the last [`RETENTION_SECS`] (what GetMetricData reads) and totals
//! since the simulation began (what the Prometheus exposition shows). Filled by
//! `cloudwatch::recording`; knows nothing of how the traffic is made.

use std::collections::BTreeMap;

use crate::elb::answers::{Counts, Flow, MICRO};
use crate::time::Secs;

/// Seconds per bucket.
pub(crate) const MINUTE: Secs = 60;
/// How far back minute buckets are kept (older ones only count in the totals).
pub(crate) const RETENTION_SECS: Secs = 3 * 3600;

/// The start of the minute `t` falls in.
pub(crate) fn minute_of(t: Secs) -> Secs {
    t.div_euclid(MINUTE) * MINUTE
}

/// One minute of one pair's traffic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MinuteBucket {
    /// What happened within the minute (so far).
    pub within: Counts,
    /// The pair's totals since the beginning at the end of what `within` holds.
    pub total_at_end: Counts,
}

impl MinuteBucket {
    /// A count of the minute in whole requests: the whole requests the running total passed
    /// during the minute, so the minutes of a pair always add up to its whole total.
    pub fn whole(&self, field: impl Fn(&Counts) -> u64) -> u64 {
        let end = field(&self.total_at_end);
        let start = end - field(&self.within);
        end / MICRO - start / MICRO
    }
}

/// The recorded traffic of one (load balancer, target group) pair.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PairMetrics {
    /// Minute buckets by start time, the last [`RETENTION_SECS`] only.
    pub minutes: BTreeMap<Secs, MinuteBucket>,
    /// Everything since the simulation began.
    pub total: Counts,
}

/// Every pair's recorded traffic.
#[derive(Debug, Clone, Default)]
pub(crate) struct AlbMetrics {
    /// (load balancer ARN, target group ARN) → its traffic.
    pairs: BTreeMap<(String, String), PairMetrics>,
}

impl AlbMetrics {
    /// Adds `flow` at its per-second rate over `[from, until)`; minutes that are already past
    /// the retention at `until` only count in the totals.
    pub fn record(&mut self, flow: &Flow, from: Secs, until: Secs) {
        if until <= from {
            return;
        }
        let key = (
            flow.load_balancer_arn.clone(),
            flow.target_group_arn.clone(),
        );
        let pair = self.pairs.entry(key).or_default();
        let rate = flow.per_sec;
        let secs = |a: Secs, b: Secs| u64::try_from(b - a).unwrap_or(0);
        let mut t = from;
        let kept_from = minute_of(until - RETENTION_SECS);
        if t < kept_from {
            pair.total.add(rate.times(secs(t, kept_from)));
            t = kept_from;
        }
        while t < until {
            let minute = minute_of(t);
            let end = (minute + MINUTE).min(until);
            let counts = rate.times(secs(t, end));
            pair.total.add(counts);
            let bucket = pair.minutes.entry(minute).or_default();
            bucket.within.add(counts);
            bucket.total_at_end = pair.total;
            t = end;
        }
    }

    /// Forgets the minute buckets older than [`RETENTION_SECS`] before `now`.
    pub fn prune(&mut self, now: Secs) {
        let kept_from = minute_of(now - RETENTION_SECS);
        for pair in self.pairs.values_mut() {
            pair.minutes = pair.minutes.split_off(&kept_from);
        }
    }

    /// Every pair with its traffic, by load balancer then target group ARN.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str, &PairMetrics)> {
        self.pairs
            .iter()
            .map(|((lb, tg), metrics)| (lb.as_str(), tg.as_str(), metrics))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(requests_per_sec: u64) -> Flow {
        Flow {
            load_balancer_arn: "lb".to_owned(),
            target_group_arn: "tg".to_owned(),
            per_sec: Counts {
                requests: requests_per_sec,
                ..Counts::default()
            },
        }
    }

    #[test]
    fn one_long_stretch_and_many_short_ones_record_the_same() {
        let (mut once, mut often) = (AlbMetrics::default(), AlbMetrics::default());
        once.record(&flow(333_333), 30, 330);
        for t in (30..330).step_by(7) {
            often.record(&flow(333_333), t, (t + 7).min(330));
        }
        assert_eq!(once.pairs, often.pairs);
        let (_, _, pair) = once.pairs().next().unwrap();
        let whole: u64 = pair.minutes.values().map(|b| b.whole(|c| c.requests)).sum();
        assert_eq!(whole, pair.total.requests / MICRO);
        assert_eq!(
            pair.minutes.keys().copied().collect::<Vec<_>>(),
            [0, 60, 120, 180, 240, 300]
        );
    }

    #[test]
    fn old_minutes_are_forgotten_but_stay_in_the_totals() {
        let mut m = AlbMetrics::default();
        m.record(&flow(MICRO), 0, 4 * 3600);
        m.prune(4 * 3600);
        let (_, _, pair) = m.pairs().next().unwrap();
        assert_eq!(pair.minutes.len(), 180);
        assert_eq!(pair.total.requests, 4 * 3600 * MICRO);
        assert_eq!(pair.minutes.keys().next(), Some(&3600));
    }
}
