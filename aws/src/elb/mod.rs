//! The `ElbApi` trait: the Elastic Load Balancing v2 reads a BlueGreenRollout needs (target
//! groups by name, listeners, rules with their forward weights, load balancer DNS names), with
//! the operator's own types. Never writes: listener weights belong to CodeDeploy or ECS.
//! Implemented by `elb_sdk` and the simulator. No SDK types.

pub mod sdk;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::AwsResult;

/// A target group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetGroup {
    /// ARN.
    pub target_group_arn: String,
    /// Name.
    pub target_group_name: String,
    /// Load balancers that forward to it.
    #[serde(default)]
    pub load_balancer_arns: Vec<String>,
    /// Port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    /// HTTP, HTTPS, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// A listener.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Listener {
    /// ARN.
    pub listener_arn: String,
    /// Its load balancer.
    pub load_balancer_arn: String,
    /// Port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    /// HTTP or HTTPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// A target group of a forward action, with its weight.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WeightedTargetGroup {
    /// Target group ARN.
    pub target_group_arn: String,
    /// Weight (0–999; absent means 1).
    pub weight: i32,
}

/// A listener rule (the default action is the rule with `is_default`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// ARN.
    pub rule_arn: String,
    /// `default` or the priority number.
    pub priority: String,
    /// Whether it is the listener's default action.
    pub is_default: bool,
    /// Path patterns of its conditions.
    #[serde(default)]
    pub path_patterns: Vec<String>,
    /// Forward action target groups.
    #[serde(default)]
    pub forward: Vec<WeightedTargetGroup>,
}

impl Rule {
    /// Percent of the rule's forward weight that goes to `target_group_arn` (0 when absent).
    pub fn percent_to(&self, target_group_arn: &str) -> i32 {
        let total: i64 = self
            .forward
            .iter()
            .map(|t| i64::from(t.weight.max(0)))
            .sum();
        if total == 0 {
            return 0;
        }
        let to: i64 = self
            .forward
            .iter()
            .filter(|t| t.target_group_arn == target_group_arn)
            .map(|t| i64::from(t.weight.max(0)))
            .sum();
        i32::try_from(to * 100 / total).unwrap_or(0)
    }

    /// Whether the rule forwards to any of `target_group_arns`.
    pub fn forwards_to_any(&self, target_group_arns: &[&str]) -> bool {
        self.forward
            .iter()
            .any(|t| target_group_arns.contains(&t.target_group_arn.as_str()))
    }
}

/// A load balancer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancer {
    /// ARN.
    pub load_balancer_arn: String,
    /// Name.
    pub load_balancer_name: String,
    /// DNS name.
    pub dns_name: String,
}

/// The ELBv2 reads the operator uses.
#[async_trait]
pub trait ElbApi: Send + Sync {
    /// DescribeTargetGroups by name; an unknown name is an error (TargetGroupNotFound).
    async fn describe_target_groups(&self, names: &[String]) -> AwsResult<Vec<TargetGroup>>;
    /// DescribeListeners by ARN.
    async fn describe_listeners(&self, arns: &[String]) -> AwsResult<Vec<Listener>>;
    /// DescribeRules of a listener (all pages), the default rule included.
    async fn describe_listener_rules(&self, listener_arn: &str) -> AwsResult<Vec<Rule>>;
    /// DescribeRules by rule ARN.
    async fn describe_rules(&self, rule_arns: &[String]) -> AwsResult<Vec<Rule>>;
    /// DescribeLoadBalancers by ARN.
    async fn describe_load_balancers(&self, arns: &[String]) -> AwsResult<Vec<LoadBalancer>>;
}

/// The listener ARN a rule ARN belongs to
/// (`…:listener-rule/app/LB/LBID/LISTENERID/RULEID` → `…:listener/app/LB/LBID/LISTENERID`).
pub fn listener_of_rule(rule_arn: &str) -> Option<String> {
    let (head, tail) = rule_arn.split_once(":listener-rule/")?;
    let (listener_path, _rule_id) = tail.rsplit_once('/')?;
    Some(format!("{head}:listener/{listener_path}"))
}

/// The target group name inside a target group ARN (`…:targetgroup/NAME/ID` → `NAME`).
pub fn target_group_name(target_group_arn: &str) -> Option<&str> {
    let (_, tail) = target_group_arn.split_once(":targetgroup/")?;
    tail.split('/').next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_are_taken_apart() {
        let rule = "arn:aws:elasticloadbalancing:eu-west-1:1:listener-rule/app/alb/aaaa/bbbb/cccc";
        assert_eq!(
            listener_of_rule(rule).as_deref(),
            Some("arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/alb/aaaa/bbbb")
        );
        assert_eq!(listener_of_rule("arn:x:listener/app/alb/a/b"), None);
        let tg = "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/auth-blue/0123";
        assert_eq!(target_group_name(tg), Some("auth-blue"));
        assert_eq!(target_group_name("auth-blue"), None);
    }

    #[test]
    fn weights_become_percents() {
        let rule = Rule {
            forward: vec![
                WeightedTargetGroup {
                    target_group_arn: "blue".into(),
                    weight: 90,
                },
                WeightedTargetGroup {
                    target_group_arn: "green".into(),
                    weight: 10,
                },
            ],
            ..Rule::default()
        };
        assert_eq!(rule.percent_to("green"), 10);
        assert_eq!(rule.percent_to("other"), 0);
        assert!(rule.forwards_to_any(&["x", "blue"]));
        assert_eq!(Rule::default().percent_to("blue"), 0);
    }
}
