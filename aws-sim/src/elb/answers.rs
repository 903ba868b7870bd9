//! What the simulated load balancers' traffic is made of, as plain data: the request rates, the
//! answers each kind of image gives, the latency shape, and the counts (in micro-requests) that
//! `traffic` computes and `cloudwatch` records. No world access, so the metric stores below the
//! world can use it.

use std::collections::BTreeMap;

/// Requests per second on each non-default rule of a production listener.
pub const PRODUCTION_RULE_RPS: u64 = 20;
/// Requests per second on each non-default rule of a test listener.
pub const TEST_RULE_RPS: u64 = 2;
/// Requests per second on each listener's default rule.
pub const DEFAULT_RULE_RPS: u64 = 1;
/// 5xx answers per million requests of a healthy image (0.1 %).
pub const HEALTHY_IMAGE_PPM: u64 = 1_000;
/// 5xx answers per million requests of an image whose tag contains `errors` (3 %).
pub const ERRORS_IMAGE_PPM: u64 = 30_000;
/// 5xx answers per million requests of an image whose tag contains `smokefail` (all).
pub const SMOKE_FAIL_IMAGE_PPM: u64 = 1_000_000;
/// How much slower an image whose tag contains `slow` answers.
pub const SLOW_FACTOR: u32 = 3;
/// The latency of a target's answers: (milliseconds, answers per thousand), fastest first.
pub const LATENCY_SHAPE_MS: [(u32, u32); 9] = [
    (10, 85),
    (20, 200),
    (30, 200),
    (40, 215),
    (50, 130),
    (70, 100),
    (90, 50),
    (120, 15),
    (150, 5),
];
/// Micro-requests per request: the unit of [`Counts`].
pub(crate) const MICRO: u64 = 1_000_000;

/// Requests and their answers, in micro-requests (per second as a rate, or summed over time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// Requests routed to the target group (`RequestCount`; those the load balancer answered
    /// for want of a healthy target included).
    pub requests: u64,
    /// 503s of the load balancer itself, for want of a healthy target (`HTTPCode_ELB_5XX_Count`).
    pub elb_5xx: u64,
    /// 2xx answers of targets (`HTTPCode_Target_2XX_Count`).
    pub target_2xx: u64,
    /// 5xx answers of targets (`HTTPCode_Target_5XX_Count`).
    pub target_5xx: u64,
    /// Target answers at the normal latency ([`LATENCY_SHAPE_MS`]).
    pub fast: u64,
    /// Target answers at [`SLOW_FACTOR`] times it.
    pub slow: u64,
}

impl Counts {
    /// These counts (a rate) over `secs` seconds.
    pub fn times(self, secs: u64) -> Counts {
        Counts {
            requests: self.requests * secs,
            elb_5xx: self.elb_5xx * secs,
            target_2xx: self.target_2xx * secs,
            target_5xx: self.target_5xx * secs,
            fast: self.fast * secs,
            slow: self.slow * secs,
        }
    }

    /// Adds `other` to these counts.
    pub fn add(&mut self, other: Counts) {
        self.requests += other.requests;
        self.elb_5xx += other.elb_5xx;
        self.target_2xx += other.target_2xx;
        self.target_5xx += other.target_5xx;
        self.fast += other.fast;
        self.slow += other.slow;
    }
}

/// The traffic of one (load balancer, target group) pair per second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Flow {
    /// Load balancer ARN.
    pub load_balancer_arn: String,
    /// Target group ARN.
    pub target_group_arn: String,
    /// Requests and answers per second.
    pub per_sec: Counts,
}

/// The latency distribution of `fast` and `slow` answers (any unit): (seconds, weight) pairs,
/// fastest first, with equal latencies merged.
pub(crate) fn latency_distribution(fast: f64, slow: f64) -> Vec<(f64, f64)> {
    let mut by_ms: BTreeMap<u32, f64> = BTreeMap::new();
    for (ms, per_mille) in LATENCY_SHAPE_MS {
        let share = f64::from(per_mille) / 1000.0;
        if fast > 0.0 {
            *by_ms.entry(ms).or_default() += fast * share;
        }
        if slow > 0.0 {
            *by_ms.entry(ms * SLOW_FACTOR).or_default() += slow * share;
        }
    }
    by_ms
        .into_iter()
        .map(|(ms, weight)| (f64::from(ms) / 1000.0, weight))
        .collect()
}
