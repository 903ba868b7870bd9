//! `Limited<dyn LookupApi>`: ECS DescribeClusters and EC2 Describe calls draw from their
//! buckets; IAM, Secrets Manager and SSM reads publish no per-action rate and are only counted.

use async_trait::async_trait;

use super::Limited;
use crate::error::AwsResult;
use crate::lookup::{Cluster, LookupApi, Role, Secret, SecurityGroup, Subnet};

#[async_trait]
impl LookupApi for Limited<dyn LookupApi> {
    async fn describe_clusters(&self, names: &[String]) -> AwsResult<Vec<Cluster>> {
        let fut = self.inner.describe_clusters(names);
        self.guard.call("ecs", "DescribeClusters", fut).await
    }
    async fn describe_subnets(&self, ids: &[String]) -> AwsResult<Vec<Subnet>> {
        let fut = self.inner.describe_subnets(ids);
        self.guard.call("ec2", "DescribeSubnets", fut).await
    }
    async fn describe_security_groups(&self, ids: &[String]) -> AwsResult<Vec<SecurityGroup>> {
        let fut = self.inner.describe_security_groups(ids);
        self.guard.call("ec2", "DescribeSecurityGroups", fut).await
    }
    async fn get_role(&self, role_name: &str) -> AwsResult<Option<Role>> {
        let fut = self.inner.get_role(role_name);
        self.guard.call("iam", "GetRole", fut).await
    }
    async fn describe_secret(&self, secret_id: &str) -> AwsResult<Option<Secret>> {
        let fut = self.inner.describe_secret(secret_id);
        self.guard
            .call("secretsmanager", "DescribeSecret", fut)
            .await
    }
    async fn describe_parameters(&self, names: &[String]) -> AwsResult<Vec<String>> {
        let fut = self.inner.describe_parameters(names);
        self.guard.call("ssm", "DescribeParameters", fut).await
    }
}
