//! ELBv2 state of the simulated account: target groups, load balancers, listeners and rules with
//! their forward weights, as seeded. ECS reads it (target group checks, deregistration delay);
//! the ELBv2 API (`elb_api`) shows the weights blue/green runs hold on top of the seeded ones.

pub(crate) mod answers;
pub(crate) mod api;
pub(crate) mod probe;
pub(crate) mod traffic;

use std::collections::BTreeMap;

use crate::arn;
use crate::seed::SimSeed;

/// A target group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TargetGroup {
    /// ARN.
    pub arn: String,
    /// Name.
    pub name: String,
    /// Port.
    pub port: i32,
    /// HTTP or HTTPS.
    pub protocol: String,
    /// Health check path.
    pub health_check_path: String,
    /// VPC id (empty when the seed has no VPC).
    pub vpc_id: String,
    /// `ip` or `instance`.
    pub target_type: String,
    /// Seconds a deregistered target keeps draining.
    pub deregistration_delay_seconds: i64,
}

/// One target group of a forward action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WeightedTarget {
    /// Target group ARN.
    pub target_group_arn: String,
    /// Weight (0–999).
    pub weight: i32,
}

/// A listener rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListenerRule {
    /// Rule ARN.
    pub arn: String,
    /// Priority.
    pub priority: i32,
    /// Path patterns of the condition.
    pub path_patterns: Vec<String>,
    /// Forward action.
    pub forward: Vec<WeightedTarget>,
}

/// A listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listener {
    /// Listener ARN.
    pub arn: String,
    /// Port.
    pub port: i32,
    /// HTTP or HTTPS.
    pub protocol: String,
    /// Default forward action.
    pub default_forward: Vec<WeightedTarget>,
    /// Rules by priority.
    pub rules: Vec<ListenerRule>,
}

/// An application load balancer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LoadBalancer {
    /// ARN.
    pub arn: String,
    /// Name.
    pub name: String,
    /// Listeners by port.
    pub listeners: Vec<Listener>,
}

/// All ELBv2 resources of the account.
#[derive(Debug, Clone, Default)]
pub(crate) struct ElbState {
    /// Target groups by ARN.
    pub target_groups: BTreeMap<String, TargetGroup>,
    /// Load balancers by ARN.
    pub load_balancers: BTreeMap<String, LoadBalancer>,
}

impl ElbState {
    /// The seeded target groups and load balancers.
    pub fn from_seed(seed: &SimSeed) -> Self {
        let (region, account) = (seed.region.as_str(), seed.account_id.as_str());
        let default_vpc = seed
            .vpcs
            .first()
            .map(|v| v.vpc_id.clone())
            .unwrap_or_default();
        let tg_arn = |name: &str| arn::target_group_arn(region, account, name);
        let target_groups = seed
            .target_groups
            .iter()
            .map(|t| {
                let tg = TargetGroup {
                    arn: tg_arn(&t.name),
                    name: t.name.clone(),
                    port: t.port,
                    protocol: t.protocol.clone(),
                    health_check_path: t.health_check_path.clone(),
                    vpc_id: t.vpc_id.clone().unwrap_or_else(|| default_vpc.clone()),
                    target_type: t.target_type.clone(),
                    deregistration_delay_seconds: t.deregistration_delay_seconds.max(0),
                };
                (tg.arn.clone(), tg)
            })
            .collect();
        let load_balancers = seed
            .load_balancers
            .iter()
            .map(|lb| {
                let listeners = lb
                    .listeners
                    .iter()
                    .map(|l| {
                        let mut rules: Vec<ListenerRule> = l
                            .rules
                            .iter()
                            .map(|r| ListenerRule {
                                arn: arn::listener_rule_arn(
                                    region, account, &lb.name, l.port, r.priority,
                                ),
                                priority: r.priority,
                                path_patterns: vec![r.path_pattern.clone()],
                                forward: r
                                    .target_groups
                                    .iter()
                                    .map(|t| WeightedTarget {
                                        target_group_arn: tg_arn(&t.name),
                                        weight: t.weight,
                                    })
                                    .collect(),
                            })
                            .collect();
                        rules.sort_by_key(|r| r.priority);
                        Listener {
                            arn: arn::listener_arn(region, account, &lb.name, l.port),
                            port: l.port,
                            protocol: l.protocol.clone(),
                            default_forward: vec![WeightedTarget {
                                target_group_arn: tg_arn(&l.default_target_group),
                                weight: 1,
                            }],
                            rules,
                        }
                    })
                    .collect();
                let state = LoadBalancer {
                    arn: arn::load_balancer_arn(region, account, &lb.name),
                    name: lb.name.clone(),
                    listeners,
                };
                (state.arn.clone(), state)
            })
            .collect();
        Self {
            target_groups,
            load_balancers,
        }
    }

    /// The target group with this ARN.
    pub fn target_group(&self, arn: &str) -> Option<&TargetGroup> {
        self.target_groups.get(arn)
    }

    /// ARNs of the load balancers whose listeners or rules forward to the target group.
    pub fn load_balancers_of(&self, target_group_arn: &str) -> Vec<&str> {
        self.load_balancers
            .values()
            .filter(|lb| {
                lb.listeners.iter().any(|l| {
                    let forwards = |f: &[WeightedTarget]| {
                        f.iter().any(|t| t.target_group_arn == target_group_arn)
                    };
                    forwards(&l.default_forward) || l.rules.iter().any(|r| forwards(&r.forward))
                })
            })
            .map(|lb| lb.arn.as_str())
            .collect()
    }

    /// A listener by load balancer name and port.
    pub fn listener(&self, lb_name: &str, port: i32) -> Option<&Listener> {
        self.load_balancers
            .values()
            .find(|lb| lb.name == lb_name)?
            .listeners
            .iter()
            .find(|l| l.port == port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_rules_forward_to_blue_and_hold_green_at_zero() {
        let seed = SimSeed::event_booking();
        let elb = ElbState::from_seed(&seed);
        let prod = elb
            .listener("event-booking-alb", 443)
            .expect("prod listener");
        assert_eq!(prod.rules.len(), 5);
        let auth_blue = arn::target_group_arn(&seed.region, &seed.account_id, "auth-blue");
        assert_eq!(prod.rules[0].forward[0].target_group_arn, auth_blue);
        assert_eq!(prod.rules[0].forward[0].weight, 100);
        assert_eq!(elb.load_balancers_of(&auth_blue).len(), 1);
        let auth_green = arn::target_group_arn(&seed.region, &seed.account_id, "auth-green");
        assert_eq!(prod.rules[0].forward[1].target_group_arn, auth_green);
        assert_eq!(prod.rules[0].forward[1].weight, 0);
        assert_eq!(elb.load_balancers_of(&auth_green).len(), 1);
        assert_eq!(
            elb.target_group(&auth_green)
                .unwrap()
                .deregistration_delay_seconds,
            30
        );
    }
}
