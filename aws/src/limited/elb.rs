//! `Limited<dyn ElbApi>` (ELBv2 reads publish no rate: only counted).

use async_trait::async_trait;

use super::Limited;
use crate::elb::{ElbApi, Listener, LoadBalancer, Rule, TargetGroup};
use crate::error::AwsResult;

#[async_trait]
impl ElbApi for Limited<dyn ElbApi> {
    async fn describe_target_groups(&self, names: &[String]) -> AwsResult<Vec<TargetGroup>> {
        let fut = self.inner.describe_target_groups(names);
        self.guard.call("elbv2", "DescribeTargetGroups", fut).await
    }
    async fn describe_listeners(&self, arns: &[String]) -> AwsResult<Vec<Listener>> {
        let fut = self.inner.describe_listeners(arns);
        self.guard.call("elbv2", "DescribeListeners", fut).await
    }
    async fn describe_listener_rules(&self, listener_arn: &str) -> AwsResult<Vec<Rule>> {
        let fut = self.inner.describe_listener_rules(listener_arn);
        self.guard.call("elbv2", "DescribeRules", fut).await
    }
    async fn describe_rules(&self, rule_arns: &[String]) -> AwsResult<Vec<Rule>> {
        let fut = self.inner.describe_rules(rule_arns);
        self.guard.call("elbv2", "DescribeRules", fut).await
    }
    async fn describe_load_balancers(&self, arns: &[String]) -> AwsResult<Vec<LoadBalancer>> {
        let fut = self.inner.describe_load_balancers(arns);
        self.guard.call("elbv2", "DescribeLoadBalancers", fut).await
    }
}
