//! ELBv2 reads of the simulated account (`impl ElbApi for SimAws`) and the listener view the
//! blue/green engine and the HTTP probe share: a rule's forward weights are the seeded ones
//! until a blue/green run of some service takes the rule over; from then on they are the run's
//! (and stay where its last run left them).

use async_trait::async_trait;

use crate::account::SimAws;
use crate::arn;
use crate::ecs::blue_green::start::rule_weights;
use crate::elb::{Listener, LoadBalancer, WeightedTarget};
use crate::gate::Operation;
use crate::world::World;
use aws::elb::{
    ElbApi, Listener as ApiListener, LoadBalancer as ApiLoadBalancer, Rule, TargetGroup,
    WeightedTargetGroup,
};
use aws::error::{AwsError, AwsResult};

const fn read(key: &'static str) -> Operation {
    Operation {
        key,
        mutating: false,
    }
}

/// elbv2:DescribeTargetGroups.
const DESCRIBE_TARGET_GROUPS: Operation = read("elbv2:DescribeTargetGroups");
/// elbv2:DescribeListeners.
const DESCRIBE_LISTENERS: Operation = read("elbv2:DescribeListeners");
/// elbv2:DescribeRules.
const DESCRIBE_RULES: Operation = read("elbv2:DescribeRules");
/// elbv2:DescribeLoadBalancers.
const DESCRIBE_LOAD_BALANCERS: Operation = read("elbv2:DescribeLoadBalancers");

fn elb_error(code: &str, message: impl Into<String>) -> AwsError {
    AwsError::from_code(code, message, Some(400))
}

impl World {
    /// A listener and its load balancer by listener ARN.
    pub(crate) fn elb_listener(&self, listener_arn: &str) -> Option<(&LoadBalancer, &Listener)> {
        self.elb.load_balancers.values().find_map(|lb| {
            lb.listeners
                .iter()
                .find(|l| l.arn == listener_arn)
                .map(|l| (lb, l))
        })
    }

    /// The ARN of a listener's default rule.
    pub(crate) fn elb_default_rule_arn(&self, lb: &LoadBalancer, listener: &Listener) -> String {
        arn::listener_rule_arn(&self.region, &self.account_id, &lb.name, listener.port, 0)
    }

    /// The forward weights of `rule_arn` now: those of the newest blue/green run that holds the
    /// rule, else `seeded`.
    pub(crate) fn elb_effective_forward(
        &self,
        rule_arn: &str,
        seeded: &[WeightedTarget],
    ) -> Vec<WeightedTargetGroup> {
        let held = self
            .ecs
            .clusters
            .values()
            .flat_map(|c| c.services.values())
            .filter_map(|svc| {
                let started = svc.bluegreen.as_ref()?.started_at;
                rule_weights(svc, rule_arn).map(|w| (started, w))
            })
            .max_by_key(|(started, _)| *started);
        match held {
            Some((_, (blue, green, percent))) => {
                let mut green_weight = percent.round() as i32;
                if percent > 0.0 && green_weight == 0 {
                    green_weight = 1;
                }
                let green_weight = green_weight.clamp(0, 100);
                vec![
                    WeightedTargetGroup {
                        target_group_arn: blue.to_owned(),
                        weight: 100 - green_weight,
                    },
                    WeightedTargetGroup {
                        target_group_arn: green.to_owned(),
                        weight: green_weight,
                    },
                ]
            }
            None => seeded
                .iter()
                .map(|t| WeightedTargetGroup {
                    target_group_arn: t.target_group_arn.clone(),
                    weight: t.weight,
                })
                .collect(),
        }
    }

    /// The rules of a listener as DescribeRules shows them, priority order, default last.
    pub(crate) fn elb_rules(&self, listener_arn: &str) -> Option<Vec<Rule>> {
        let (lb, listener) = self.elb_listener(listener_arn)?;
        let mut rules: Vec<Rule> = listener
            .rules
            .iter()
            .map(|r| Rule {
                rule_arn: r.arn.clone(),
                priority: r.priority.to_string(),
                is_default: false,
                path_patterns: r.path_patterns.clone(),
                forward: self.elb_effective_forward(&r.arn, &r.forward),
            })
            .collect();
        let default_arn = self.elb_default_rule_arn(lb, listener);
        rules.push(Rule {
            forward: self.elb_effective_forward(&default_arn, &listener.default_forward),
            rule_arn: default_arn,
            priority: "default".to_owned(),
            is_default: true,
            path_patterns: Vec::new(),
        });
        Some(rules)
    }

    /// Every rule of the account by ARN.
    fn elb_rule(&self, rule_arn: &str) -> Option<Rule> {
        self.elb
            .load_balancers
            .values()
            .flat_map(|lb| lb.listeners.iter())
            .filter_map(|l| self.elb_rules(&l.arn))
            .flatten()
            .find(|r| r.rule_arn == rule_arn)
    }

    fn elb_describe_target_groups(&self, names: &[String]) -> AwsResult<Vec<TargetGroup>> {
        names
            .iter()
            .map(|name| {
                let tg_arn = arn::target_group_arn(&self.region, &self.account_id, name);
                let tg = self.elb.target_group(&tg_arn).ok_or_else(|| {
                    elb_error(
                        "TargetGroupNotFound",
                        format!("One or more target groups not found: {name}"),
                    )
                })?;
                Ok(TargetGroup {
                    target_group_arn: tg.arn.clone(),
                    target_group_name: tg.name.clone(),
                    load_balancer_arns: self
                        .elb
                        .load_balancers_of(&tg.arn)
                        .into_iter()
                        .map(str::to_owned)
                        .collect(),
                    port: Some(tg.port),
                    protocol: Some(tg.protocol.clone()),
                })
            })
            .collect()
    }
}

#[async_trait]
impl ElbApi for SimAws {
    async fn describe_target_groups(&self, names: &[String]) -> AwsResult<Vec<TargetGroup>> {
        self.call(&DESCRIBE_TARGET_GROUPS, |w, _| {
            w.elb_describe_target_groups(names)
        })
        .await
    }

    async fn describe_listeners(&self, arns: &[String]) -> AwsResult<Vec<ApiListener>> {
        self.call(&DESCRIBE_LISTENERS, |w, _| {
            arns.iter()
                .map(|a| {
                    let (lb, l) = w.elb_listener(a).ok_or_else(|| {
                        elb_error("ListenerNotFound", format!("Listener '{a}' not found"))
                    })?;
                    Ok(ApiListener {
                        listener_arn: l.arn.clone(),
                        load_balancer_arn: lb.arn.clone(),
                        port: Some(l.port),
                        protocol: Some(l.protocol.clone()),
                    })
                })
                .collect()
        })
        .await
    }

    async fn describe_listener_rules(&self, listener_arn: &str) -> AwsResult<Vec<Rule>> {
        self.call(&DESCRIBE_RULES, |w, _| {
            w.elb_rules(listener_arn).ok_or_else(|| {
                elb_error(
                    "ListenerNotFound",
                    format!("Listener '{listener_arn}' not found"),
                )
            })
        })
        .await
    }

    async fn describe_rules(&self, rule_arns: &[String]) -> AwsResult<Vec<Rule>> {
        self.call(&DESCRIBE_RULES, |w, _| {
            rule_arns
                .iter()
                .map(|a| {
                    w.elb_rule(a).ok_or_else(|| {
                        elb_error("RuleNotFound", format!("One or more rules not found: {a}"))
                    })
                })
                .collect()
        })
        .await
    }

    async fn describe_load_balancers(&self, arns: &[String]) -> AwsResult<Vec<ApiLoadBalancer>> {
        self.call(&DESCRIBE_LOAD_BALANCERS, |w, _| {
            arns.iter()
                .map(|a| {
                    let lb = w.elb.load_balancers.get(a).ok_or_else(|| {
                        elb_error(
                            "LoadBalancerNotFound",
                            format!("Load balancer '{a}' not found"),
                        )
                    })?;
                    Ok(ApiLoadBalancer {
                        load_balancer_arn: lb.arn.clone(),
                        load_balancer_name: lb.name.clone(),
                        dns_name: format!(
                            "{}-{}.{}.elb.amazonaws.com",
                            lb.name,
                            &arn::hex16(&[&lb.name])[..8],
                            w.region
                        ),
                    })
                })
                .collect()
        })
        .await
    }
}
