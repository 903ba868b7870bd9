//! `SdkElb`: the [`ElbApi`] adapter over `aws_sdk_elasticloadbalancingv2`. Reads only; the
//! forward weights of a rule come from its `forwardConfig` (or a plain `targetGroupArn`, weight
//! 1). Nothing outside `aws/` sees an `aws_sdk_*` type.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types as sdk;

use crate::elb::{ElbApi, Listener, LoadBalancer, Rule, TargetGroup, WeightedTargetGroup};
use crate::error::AwsResult;
use crate::sdk::aws_error;

/// Most names or ARNs one Describe call takes.
const DESCRIBE_BATCH: usize = 20;

/// Elastic Load Balancing v2 through the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkElb {
    client: Client,
}

impl SdkElb {
    /// An adapter for the account, region and endpoint of `config`.
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            client: Client::new(config),
        }
    }
}

/// The forward targets of a rule's (or listener's) actions.
fn forward_of(actions: Vec<sdk::Action>) -> Vec<WeightedTargetGroup> {
    let mut out = Vec::new();
    for action in actions {
        if action.r#type != Some(sdk::ActionTypeEnum::Forward) {
            continue;
        }
        let tuples = action
            .forward_config
            .and_then(|f| f.target_groups)
            .unwrap_or_default();
        if tuples.is_empty() {
            if let Some(arn) = action.target_group_arn {
                out.push(WeightedTargetGroup {
                    target_group_arn: arn,
                    weight: 1,
                });
            }
            continue;
        }
        out.extend(tuples.into_iter().filter_map(|t| {
            Some(WeightedTargetGroup {
                target_group_arn: t.target_group_arn?,
                weight: t.weight.unwrap_or(1),
            })
        }));
    }
    out
}

fn rule_from_sdk(r: sdk::Rule) -> Rule {
    let path_patterns = r
        .conditions
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.field.as_deref() == Some("path-pattern"))
        .flat_map(|c| {
            c.path_pattern_config
                .and_then(|p| p.values)
                .or(c.values)
                .unwrap_or_default()
        })
        .collect();
    Rule {
        rule_arn: r.rule_arn.unwrap_or_default(),
        priority: r.priority.unwrap_or_default(),
        is_default: r.is_default.unwrap_or(false),
        path_patterns,
        forward: forward_of(r.actions.unwrap_or_default()),
    }
}

#[async_trait]
impl ElbApi for SdkElb {
    async fn describe_target_groups(&self, names: &[String]) -> AwsResult<Vec<TargetGroup>> {
        let mut out = Vec::new();
        for chunk in names.chunks(DESCRIBE_BATCH) {
            let answer = self
                .client
                .describe_target_groups()
                .set_names(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(aws_error)?;
            out.extend(
                answer
                    .target_groups
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| TargetGroup {
                        target_group_arn: t.target_group_arn.unwrap_or_default(),
                        target_group_name: t.target_group_name.unwrap_or_default(),
                        load_balancer_arns: t.load_balancer_arns.unwrap_or_default(),
                        port: t.port,
                        protocol: t.protocol.map(|p| p.as_str().to_owned()),
                    }),
            );
        }
        Ok(out)
    }

    async fn describe_listeners(&self, arns: &[String]) -> AwsResult<Vec<Listener>> {
        let mut out = Vec::new();
        for chunk in arns.chunks(DESCRIBE_BATCH) {
            let answer = self
                .client
                .describe_listeners()
                .set_listener_arns(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(aws_error)?;
            out.extend(
                answer
                    .listeners
                    .unwrap_or_default()
                    .into_iter()
                    .map(|l| Listener {
                        listener_arn: l.listener_arn.unwrap_or_default(),
                        load_balancer_arn: l.load_balancer_arn.unwrap_or_default(),
                        port: l.port,
                        protocol: l.protocol.map(|p| p.as_str().to_owned()),
                    }),
            );
        }
        Ok(out)
    }

    async fn describe_listener_rules(&self, listener_arn: &str) -> AwsResult<Vec<Rule>> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let answer = self
                .client
                .describe_rules()
                .listener_arn(listener_arn)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(aws_error)?;
            out.extend(
                answer
                    .rules
                    .unwrap_or_default()
                    .into_iter()
                    .map(rule_from_sdk),
            );
            match answer.next_marker {
                Some(m) if !m.is_empty() => marker = Some(m),
                _ => return Ok(out),
            }
        }
    }

    async fn describe_rules(&self, rule_arns: &[String]) -> AwsResult<Vec<Rule>> {
        let mut out = Vec::new();
        for chunk in rule_arns.chunks(DESCRIBE_BATCH) {
            let answer = self
                .client
                .describe_rules()
                .set_rule_arns(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(aws_error)?;
            out.extend(
                answer
                    .rules
                    .unwrap_or_default()
                    .into_iter()
                    .map(rule_from_sdk),
            );
        }
        Ok(out)
    }

    async fn describe_load_balancers(&self, arns: &[String]) -> AwsResult<Vec<LoadBalancer>> {
        let mut out = Vec::new();
        for chunk in arns.chunks(DESCRIBE_BATCH) {
            let answer = self
                .client
                .describe_load_balancers()
                .set_load_balancer_arns(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(aws_error)?;
            out.extend(
                answer
                    .load_balancers
                    .unwrap_or_default()
                    .into_iter()
                    .map(|lb| LoadBalancer {
                        load_balancer_arn: lb.load_balancer_arn.unwrap_or_default(),
                        load_balancer_name: lb.load_balancer_name.unwrap_or_default(),
                        dns_name: lb.dns_name.unwrap_or_default(),
                    }),
            );
        }
        Ok(out)
    }
}
