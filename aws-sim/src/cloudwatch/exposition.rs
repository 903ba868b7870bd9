//! The simulated traffic in the Prometheus text format 0.0.4 (`SimAws::prometheus_exposition`),
//! for metric analysis against Prometheus: the totals since the simulation began that
//! `cloudwatch::alb_metrics` keeps, so every counter only grows. Whole requests (the running
//! totals rounded down); histogram buckets from the latency shape of `elb::traffic`.
//!
//! | series | labels |
//! |---|---|
//! | `sim_alb_requests_total` (counter) | `load_balancer` (`app/<name>/<id>`), `target_group` (name) |
//! | `sim_alb_target_responses_total` (counter) | `target_group`, `code` (`2xx`, `5xx`) |
//! | `sim_alb_elb_5xx_total` (counter) | `target_group` |
//! | `sim_alb_target_response_time_seconds` (histogram: `_bucket{le}`, `_sum`, `_count`) | `target_group` |

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::account::SimAws;
use crate::cloudwatch::metric_series::dimension_value;
use crate::elb::answers::{Counts, LATENCY_SHAPE_MS, MICRO, SLOW_FACTOR};
use crate::world::World;

/// The histogram's upper bounds in milliseconds (Prometheus's default buckets).
const BUCKETS_MS: [u32; 11] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/// The Content-Type of the exposition.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Answers (per thousand) of the latency shape scaled by `factor` at or below `le_ms`.
fn per_mille_within(factor: u32, le_ms: u32) -> u128 {
    LATENCY_SHAPE_MS
        .iter()
        .filter(|(ms, _)| ms * factor <= le_ms)
        .map(|(_, n)| u128::from(*n))
        .sum()
}

/// Mean latency of the shape scaled by `factor`, in seconds.
fn mean_seconds(factor: u32) -> f64 {
    let ms: u32 = LATENCY_SHAPE_MS.iter().map(|(ms, n)| ms * factor * n).sum();
    f64::from(ms) / 1000.0 / 1000.0
}

/// Whole requests of a micro-request count.
fn whole(micro: u64) -> u64 {
    micro / MICRO
}

impl World {
    /// The exposition of the totals recorded so far.
    fn prometheus_exposition(&self) -> String {
        let tg_name = |arn: &str| {
            self.elb
                .target_group(arn)
                .map_or_else(|| crate::arn::name_from_arn(arn), |tg| tg.name.as_str())
                .to_owned()
        };
        let mut by_group: BTreeMap<String, Counts> = BTreeMap::new();
        let mut requests = Vec::new();
        for (lb, tg, pair) in self.alb_metrics.pairs() {
            let name = tg_name(tg);
            requests.push((dimension_value(lb).to_owned(), name.clone(), pair.total));
            by_group.entry(name).or_default().add(pair.total);
        }
        requests.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        family(
            "sim_alb_requests_total",
            "counter",
            "Requests the simulated load balancers routed to each target group.",
        );
        for (lb, tg, total) in &requests {
            let _ = writeln!(
                out,
                "sim_alb_requests_total{{load_balancer=\"{}\",target_group=\"{}\"}} {}",
                escape(lb),
                escape(tg),
                whole(total.requests)
            );
        }
        write_group_counters(&mut out, &by_group);
        write_histogram(&mut out, &by_group);
        out
    }
}

/// The per-target-group counters: target answers by code and the load balancer's own 503s.
fn write_group_counters(out: &mut String, by_group: &BTreeMap<String, Counts>) {
    let _ = writeln!(
        out,
        "# HELP sim_alb_target_responses_total Answers of the targets of each target group, by status class.\n\
         # TYPE sim_alb_target_responses_total counter"
    );
    for (tg, c) in by_group {
        for (code, n) in [("2xx", c.target_2xx), ("5xx", c.target_5xx)] {
            let _ = writeln!(
                out,
                "sim_alb_target_responses_total{{target_group=\"{}\",code=\"{code}\"}} {}",
                escape(tg),
                whole(n)
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP sim_alb_elb_5xx_total 503s the load balancer answered itself for want of a healthy target.\n\
         # TYPE sim_alb_elb_5xx_total counter"
    );
    for (tg, c) in by_group {
        let _ = writeln!(
            out,
            "sim_alb_elb_5xx_total{{target_group=\"{}\"}} {}",
            escape(tg),
            whole(c.elb_5xx)
        );
    }
}

/// The latency histogram of each target group's target answers.
fn write_histogram(out: &mut String, by_group: &BTreeMap<String, Counts>) {
    let name = "sim_alb_target_response_time_seconds";
    let _ = writeln!(
        out,
        "# HELP {name} How long the targets of each target group took to answer.\n# TYPE {name} histogram"
    );
    for (tg, c) in by_group {
        let tg = escape(tg);
        let (fast, slow) = (u128::from(c.fast), u128::from(c.slow));
        let within = |le_ms: u32| {
            let per_mille =
                fast * per_mille_within(1, le_ms) + slow * per_mille_within(SLOW_FACTOR, le_ms);
            per_mille / (1000 * u128::from(MICRO))
        };
        for le_ms in BUCKETS_MS {
            let le = f64::from(le_ms) / 1000.0;
            let _ = writeln!(
                out,
                "{name}_bucket{{target_group=\"{tg}\",le=\"{le}\"}} {}",
                within(le_ms)
            );
        }
        let count = whole(c.fast + c.slow);
        let micro = MICRO as f64;
        let sum = c.fast as f64 / micro * mean_seconds(1)
            + c.slow as f64 / micro * mean_seconds(SLOW_FACTOR);
        let _ = writeln!(
            out,
            "{name}_bucket{{target_group=\"{tg}\",le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(out, "{name}_sum{{target_group=\"{tg}\"}} {sum}");
        let _ = writeln!(out, "{name}_count{{target_group=\"{tg}\"}} {count}");
    }
}

impl SimAws {
    /// The simulated ALB traffic since the simulation began, in the Prometheus text format
    /// 0.0.4 (`sim_alb_requests_total`, `sim_alb_target_responses_total`,
    /// `sim_alb_elb_5xx_total`, `sim_alb_target_response_time_seconds`), the world advanced to
    /// now first. Not counted as a call.
    pub fn prometheus_exposition(&self) -> String {
        self.with_world(|w, _| w.prometheus_exposition())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_the_latency_shape() {
        assert_eq!(per_mille_within(1, 5), 0);
        assert_eq!(per_mille_within(1, 50), 830);
        assert_eq!(per_mille_within(1, 100), 980);
        assert_eq!(per_mille_within(1, 250), 1000);
        assert_eq!(per_mille_within(SLOW_FACTOR, 100), 485);
        assert!((mean_seconds(1) - 0.040).abs() < 1e-12);
        assert!((mean_seconds(SLOW_FACTOR) - 0.120).abs() < 1e-12);
        assert_eq!(escape("a\"b\\c"), "a\\\"b\\\\c");
    }
}
