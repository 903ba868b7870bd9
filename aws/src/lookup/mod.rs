//! The `LookupApi` trait: the reads that check the things a spec names before the operator acts
//! on them — ECS clusters, EC2 subnets and security groups, IAM roles, Secrets Manager secrets
//! and Systems Manager parameters. Metadata only: no secret value is ever read. Batched where
//! AWS batches (one DescribeSubnets for every subnet of a spec). Implemented by `lookup::sdk`
//! and the simulator. No SDK types.

pub mod sdk;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::AwsResult;

/// Most ids one EC2 Describe call is sent with (the operator's own batch size).
pub const EC2_BATCH: usize = 200;
/// Most names one ECS DescribeClusters call takes.
pub const CLUSTER_BATCH: usize = 100;
/// Most names one SSM DescribeParameters filter takes.
pub const PARAMETER_BATCH: usize = 50;

/// An ECS cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cluster {
    /// Name.
    pub cluster_name: String,
    /// ARN.
    pub cluster_arn: String,
    /// ACTIVE, PROVISIONING, DEPROVISIONING, FAILED or INACTIVE.
    pub status: String,
}

/// An EC2 subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subnet {
    /// Id.
    pub subnet_id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Availability zone.
    pub availability_zone: String,
}

/// An EC2 security group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityGroup {
    /// Id.
    pub group_id: String,
    /// Its VPC.
    pub vpc_id: String,
}

/// An IAM role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    /// Name.
    pub role_name: String,
    /// ARN (with its path).
    pub arn: String,
}

/// A Secrets Manager secret's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    /// Full ARN (with AWS's six-character suffix).
    pub arn: String,
    /// Name.
    pub name: String,
    /// Set when the secret is scheduled for deletion (it cannot be read then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_date: Option<String>,
}

/// Reads of the things a spec names.
#[async_trait]
pub trait LookupApi: Send + Sync {
    /// ECS DescribeClusters: the clusters found among `names` (names or ARNs, ≤ 100); a name
    /// ECS does not know is left out (ECS lists it as a failure, not an error).
    async fn describe_clusters(&self, names: &[String]) -> AwsResult<Vec<Cluster>>;
    /// EC2 DescribeSubnets filtered by `subnet-id`: the subnets found among `ids`. Filtering
    /// (rather than naming the ids) makes a missing id a missing row, not an error for all.
    async fn describe_subnets(&self, ids: &[String]) -> AwsResult<Vec<Subnet>>;
    /// EC2 DescribeSecurityGroups filtered by `group-id`: the groups found among `ids`.
    async fn describe_security_groups(&self, ids: &[String]) -> AwsResult<Vec<SecurityGroup>>;
    /// IAM GetRole: the role, or `None` when IAM answers NoSuchEntity.
    async fn get_role(&self, role_name: &str) -> AwsResult<Option<Role>>;
    /// Secrets Manager DescribeSecret (a name, a full ARN or an ARN without the suffix): the
    /// secret's metadata, or `None` when it does not exist.
    async fn describe_secret(&self, secret_id: &str) -> AwsResult<Option<Secret>>;
    /// SSM DescribeParameters filtered by `Name` equals: the names found among `names`
    /// (≤ 50, each with its leading `/` as SSM stores it).
    async fn describe_parameters(&self, names: &[String]) -> AwsResult<Vec<String>>;
}

/// The resource name of an IAM role ARN (`arn:aws:iam::1:role/path/name` → `name`).
pub fn role_name(role_arn: &str) -> Option<&str> {
    let resource = role_arn.strip_prefix("arn:")?.split(':').nth(4)?;
    let path = resource.strip_prefix("role/")?;
    path.rsplit('/').next().filter(|n| !n.is_empty())
}

/// Where a container secret's `valueFrom` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// A Secrets Manager secret: its id (the ARN up to the name, without a JSON key, version
    /// stage or version id), and the region and account of the ARN.
    SecretsManager {
        /// What DescribeSecret is called with.
        secret_id: String,
        /// The ARN's region.
        region: String,
    },
    /// A Systems Manager parameter: its name as SSM stores it, and the ARN's region when
    /// `valueFrom` is an ARN.
    Parameter {
        /// Parameter name.
        name: String,
        /// The ARN's region, when given as an ARN.
        region: Option<String>,
    },
}

/// Parses `valueFrom` as ECS reads it: a Secrets Manager ARN (optionally followed by
/// `:json-key:version-stage:version-id`), an SSM parameter ARN, or a parameter name.
pub fn secret_source(value_from: &str) -> SecretSource {
    let parts: Vec<&str> = value_from.split(':').collect();
    if parts.len() >= 7 && parts[0] == "arn" && parts[2] == "secretsmanager" && parts[5] == "secret"
    {
        return SecretSource::SecretsManager {
            secret_id: parts[..7].join(":"),
            region: parts[3].to_string(),
        };
    }
    if parts.len() >= 6 && parts[0] == "arn" && parts[2] == "ssm" {
        let resource = parts[5..].join(":");
        let name = resource.strip_prefix("parameter").unwrap_or(&resource);
        let name = match name.strip_prefix('/') {
            // `parameter/name` is the parameter `name`; `parameter/a/b` is `/a/b`.
            Some(rest) if !rest.contains('/') => rest.to_string(),
            _ => name.to_string(),
        };
        return SecretSource::Parameter {
            name,
            region: Some(parts[3].to_string()),
        };
    }
    SecretSource::Parameter {
        name: value_from.to_string(),
        region: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_come_from_the_arn_path() {
        assert_eq!(
            role_name("arn:aws:iam::123456789012:role/ecsTaskExecutionRole"),
            Some("ecsTaskExecutionRole")
        );
        assert_eq!(
            role_name("arn:aws:iam::123456789012:role/service-role/deploy"),
            Some("deploy")
        );
        assert_eq!(role_name("arn:aws:iam::123456789012:user/me"), None);
        assert_eq!(role_name("ecsTaskExecutionRole"), None);
    }

    #[test]
    fn value_from_names_a_secret_or_a_parameter() {
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/db-AbCdEf";
        assert_eq!(
            secret_source(&format!("{arn}:password::")),
            SecretSource::SecretsManager {
                secret_id: arn.into(),
                region: "eu-west-1".into()
            }
        );
        assert_eq!(
            secret_source("arn:aws:ssm:eu-west-1:123456789012:parameter/shop/db/url"),
            SecretSource::Parameter {
                name: "/shop/db/url".into(),
                region: Some("eu-west-1".into())
            }
        );
        assert_eq!(
            secret_source("arn:aws:ssm:eu-west-1:123456789012:parameter/plain"),
            SecretSource::Parameter {
                name: "plain".into(),
                region: Some("eu-west-1".into())
            }
        );
        assert_eq!(
            secret_source("/shop/db/url"),
            SecretSource::Parameter {
                name: "/shop/db/url".into(),
                region: None
            }
        );
    }
}
