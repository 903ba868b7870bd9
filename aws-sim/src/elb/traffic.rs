//! Simulated client traffic through the load balancers: what each (load balancer, target group)
//! pair receives per second, and how the tasks behind the target group answer, at one moment.
//! Deterministic (no randomness): an error rate is a share of every second's requests. Pure
//! reads of the world; `cloudwatch::recording` integrates the rates over time.
//!
//! | what | rate or answer |
//! |---|---|
//! | each non-default rule of a production listener | [`PRODUCTION_RULE_RPS`] requests per second |
//! | each non-default rule of a test listener (one an ECS service names a `testListenerRule` on, or a CodeDeploy deployment group names as its test listener) | [`TEST_RULE_RPS`] |
//! | each listener's default rule (unmatched paths) | [`DEFAULT_RULE_RPS`] |
//! | a rule's forward action | splits the rule's requests by weight (the effective weights, those of a blue/green run that holds the rule) |
//! | a target group without healthy tasks (nothing running, an `unhealthy` image) | the load balancer answers 503 to all: `HTTPCode_ELB_5XX_Count` |
//! | a target group with healthy tasks | requests spread evenly over them; each answers by its essential containers' image tags |
//! | image tag containing `smokefail` | 500 to every request |
//! | image tag containing `errors` | 5xx to [`ERRORS_IMAGE_PPM`] per million (3 %), 2xx otherwise |
//! | any other image | 5xx to [`HEALTHY_IMAGE_PPM`] per million (0.1 %) |
//! | latency of a target's answer | [`LATENCY_SHAPE_MS`]: 40 ms on average, p50 40 ms, p90 70 ms, p99 120 ms, at most 150 ms |
//! | image tag containing `slow` | every latency × [`SLOW_FACTOR`] (120 ms on average) |
//!
//! Counts are in micro-requests ([`MICRO`] to a request), so fractional shares add up exactly
//! and integrating over one long stretch or many short ones gives the same sums.

use std::collections::{BTreeMap, BTreeSet};

use super::answers::{
    Counts, DEFAULT_RULE_RPS, ERRORS_IMAGE_PPM, Flow, HEALTHY_IMAGE_PPM, MICRO,
    PRODUCTION_RULE_RPS, SMOKE_FAIL_IMAGE_PPM, TEST_RULE_RPS,
};
use crate::ecs::blue_green::start::task_target_group;
use crate::time::Secs;
use crate::world::World;

/// How the healthy tasks behind one target group answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Targets {
    /// Healthy tasks.
    healthy: u64,
    /// Sum of their 5xx rates, per million.
    error_ppm: u64,
    /// How many of them are slow.
    slow: u64,
}

impl Targets {
    /// The answers to `requests` (micro-requests), spread evenly over the healthy tasks.
    fn answer(&self, requests: u64) -> Counts {
        if self.healthy == 0 {
            return Counts {
                requests,
                elb_5xx: requests,
                ..Counts::default()
            };
        }
        let share = |part: u64, whole: u64| {
            u64::try_from(u128::from(requests) * u128::from(part) / u128::from(whole))
                .unwrap_or(u64::MAX)
        };
        let target_5xx = share(self.error_ppm, self.healthy * 1_000_000);
        let slow = share(self.slow, self.healthy);
        Counts {
            requests,
            elb_5xx: 0,
            target_2xx: requests - target_5xx,
            target_5xx,
            fast: requests - slow,
            slow,
        }
    }
}

/// The 5xx rate (per million) of an image with these tags.
fn error_ppm<'a>(mut tags: impl Iterator<Item = &'a str> + Clone) -> u64 {
    if tags.clone().any(|t| t.contains("smokefail")) {
        SMOKE_FAIL_IMAGE_PPM
    } else if tags.any(|t| t.contains("errors")) {
        ERRORS_IMAGE_PPM
    } else {
        HEALTHY_IMAGE_PPM
    }
}

impl World {
    /// The traffic of every (load balancer, target group) pair that receives requests at `now`,
    /// by load balancer then target group ARN.
    pub(crate) fn traffic_flows(&self, now: Secs) -> Vec<Flow> {
        let targets = self.targets_by_group(now);
        let test_listeners = self.test_listener_arns();
        let mut requests: BTreeMap<(&str, String), u64> = BTreeMap::new();
        for lb in self.elb.load_balancers.values() {
            for listener in &lb.listeners {
                let test = test_listeners.contains(listener.arn.as_str());
                for rule in self.elb_rules(&listener.arn).unwrap_or_default() {
                    let rps = match (rule.is_default, test) {
                        (true, _) => DEFAULT_RULE_RPS,
                        (false, true) => TEST_RULE_RPS,
                        (false, false) => PRODUCTION_RULE_RPS,
                    };
                    let weights = || {
                        rule.forward
                            .iter()
                            .filter(|t| t.weight > 0)
                            .map(|t| (t, u64::try_from(t.weight).unwrap_or(0)))
                    };
                    let total: u64 = weights().map(|(_, w)| w).sum();
                    for (target, weight) in weights() {
                        let key = (lb.arn.as_str(), target.target_group_arn.clone());
                        *requests.entry(key).or_default() += rps * MICRO * weight / total;
                    }
                }
            }
        }
        requests
            .into_iter()
            .map(|((lb, tg), requests)| Flow {
                load_balancer_arn: lb.to_owned(),
                per_sec: targets
                    .get(&tg)
                    .copied()
                    .unwrap_or_default()
                    .answer(requests),
                target_group_arn: tg,
            })
            .collect()
    }

    /// The healthy tasks behind each target group at `now`.
    fn targets_by_group(&self, now: Secs) -> BTreeMap<String, Targets> {
        let mut by_group: BTreeMap<String, Targets> = BTreeMap::new();
        for svc in self.ecs.clusters.values().flat_map(|c| c.services.values()) {
            for task in svc.tasks.iter().filter(|t| t.is_healthy(now)) {
                let Some(tg) = task_target_group(svc, task) else {
                    continue;
                };
                let tags = self.essential_image_tags(svc, task);
                let slow = tags.clone().any(|t| t.contains("slow"));
                let targets = by_group.entry(tg.to_owned()).or_default();
                targets.healthy += 1;
                targets.error_ppm += error_ppm(tags);
                targets.slow += u64::from(slow);
            }
        }
        by_group
    }

    /// The listeners that carry test traffic: those holding a rule some ECS service names as its
    /// `testListenerRule`, and those CodeDeploy deployment groups name as test listeners.
    fn test_listener_arns(&self) -> BTreeSet<&str> {
        let test_rules: BTreeSet<&str> = self
            .ecs
            .clusters
            .values()
            .flat_map(|c| c.services.values())
            .flat_map(|svc| &svc.config.load_balancers)
            .filter_map(|lb| {
                lb.advanced_configuration
                    .as_ref()?
                    .test_listener_rule
                    .as_deref()
            })
            .collect();
        let mut listeners: BTreeSet<&str> = self
            .codedeploy
            .groups
            .values()
            .flat_map(|g| &g.spec.target_group_pair.test_listener_arns)
            .map(String::as_str)
            .collect();
        for lb in self.elb.load_balancers.values() {
            for listener in &lb.listeners {
                let default_rule = self.elb_default_rule_arn(lb, listener);
                let holds_test_rule = test_rules.contains(default_rule.as_str())
                    || listener
                        .rules
                        .iter()
                        .any(|r| test_rules.contains(r.arn.as_str()));
                if holds_test_rule {
                    listeners.insert(listener.arn.as_str());
                }
            }
        }
        listeners
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elb::answers::LATENCY_SHAPE_MS;

    #[test]
    fn the_latency_shape_has_the_documented_mean_and_percentiles() {
        let total: u32 = LATENCY_SHAPE_MS.iter().map(|(_, n)| n).sum();
        assert_eq!(total, 1000);
        let mean: u32 = LATENCY_SHAPE_MS.iter().map(|(ms, n)| ms * n).sum();
        assert_eq!(mean, 40 * 1000);
        let at = |p: u32| {
            let mut seen = 0;
            LATENCY_SHAPE_MS
                .iter()
                .find(|(_, n)| {
                    seen += n;
                    seen >= p
                })
                .map(|(ms, _)| *ms)
        };
        assert_eq!((at(500), at(900), at(990)), (Some(40), Some(70), Some(120)));
    }

    #[test]
    fn answers_spread_over_the_healthy_tasks() {
        let none = Targets::default().answer(10 * MICRO);
        assert_eq!(
            (none.elb_5xx, none.target_2xx + none.target_5xx),
            (10 * MICRO, 0)
        );
        let mixed = Targets {
            healthy: 2,
            error_ppm: HEALTHY_IMAGE_PPM + SMOKE_FAIL_IMAGE_PPM,
            slow: 1,
        }
        .answer(10 * MICRO);
        assert_eq!(mixed.target_5xx, 5 * MICRO + 5 * MICRO / 1000);
        assert_eq!(mixed.target_2xx + mixed.target_5xx, 10 * MICRO);
        assert_eq!((mixed.fast, mixed.slow), (5 * MICRO, 5 * MICRO));
    }
}
