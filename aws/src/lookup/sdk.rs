//! `SdkLookup`: the [`LookupApi`] adapter over the ECS, EC2, IAM, Secrets Manager and SSM SDK
//! clients. Metadata reads only. Nothing outside `aws/` sees an `aws_sdk_*` type.

use async_trait::async_trait;
use aws_config::SdkConfig;

use crate::error::{AwsResult, ErrorKind};
use crate::lookup::{
    CLUSTER_BATCH, Cluster, EC2_BATCH, LookupApi, PARAMETER_BATCH, Role, Secret, SecurityGroup,
    Subnet,
};
use crate::sdk::aws_error;

/// The lookups through the AWS SDK.
#[derive(Debug, Clone)]
pub struct SdkLookup {
    ecs: aws_sdk_ecs::Client,
    ec2: aws_sdk_ec2::Client,
    iam: aws_sdk_iam::Client,
    secrets: aws_sdk_secretsmanager::Client,
    ssm: aws_sdk_ssm::Client,
}

impl SdkLookup {
    /// An adapter for the account, region and endpoint of `config`.
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            ecs: aws_sdk_ecs::Client::new(config),
            ec2: aws_sdk_ec2::Client::new(config),
            iam: aws_sdk_iam::Client::new(config),
            secrets: aws_sdk_secretsmanager::Client::new(config),
            ssm: aws_sdk_ssm::Client::new(config),
        }
    }
}

/// An EC2 filter `name` = `values`.
fn ec2_filter(name: &str, values: &[String]) -> aws_sdk_ec2::types::Filter {
    aws_sdk_ec2::types::Filter::builder()
        .name(name)
        .set_values(Some(values.to_vec()))
        .build()
}

#[async_trait]
impl LookupApi for SdkLookup {
    async fn describe_clusters(&self, names: &[String]) -> AwsResult<Vec<Cluster>> {
        let mut out = Vec::new();
        for chunk in names.chunks(CLUSTER_BATCH) {
            let answer = self
                .ecs
                .describe_clusters()
                .set_clusters(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(aws_error)?;
            out.extend(
                answer
                    .clusters
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| Cluster {
                        cluster_name: c.cluster_name.unwrap_or_default(),
                        cluster_arn: c.cluster_arn.unwrap_or_default(),
                        status: c.status.unwrap_or_default(),
                    }),
            );
        }
        Ok(out)
    }

    async fn describe_subnets(&self, ids: &[String]) -> AwsResult<Vec<Subnet>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(EC2_BATCH) {
            let mut next: Option<String> = None;
            loop {
                let answer = self
                    .ec2
                    .describe_subnets()
                    .filters(ec2_filter("subnet-id", chunk))
                    .set_next_token(next.take())
                    .send()
                    .await
                    .map_err(aws_error)?;
                out.extend(
                    answer
                        .subnets
                        .unwrap_or_default()
                        .into_iter()
                        .map(|s| Subnet {
                            subnet_id: s.subnet_id.unwrap_or_default(),
                            vpc_id: s.vpc_id.unwrap_or_default(),
                            availability_zone: s.availability_zone.unwrap_or_default(),
                        }),
                );
                match answer.next_token {
                    Some(token) if !token.is_empty() => next = Some(token),
                    _ => break,
                }
            }
        }
        Ok(out)
    }

    async fn describe_security_groups(&self, ids: &[String]) -> AwsResult<Vec<SecurityGroup>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(EC2_BATCH) {
            let mut next: Option<String> = None;
            loop {
                let answer = self
                    .ec2
                    .describe_security_groups()
                    .filters(ec2_filter("group-id", chunk))
                    .set_next_token(next.take())
                    .send()
                    .await
                    .map_err(aws_error)?;
                out.extend(
                    answer
                        .security_groups
                        .unwrap_or_default()
                        .into_iter()
                        .map(|g| SecurityGroup {
                            group_id: g.group_id.unwrap_or_default(),
                            vpc_id: g.vpc_id.unwrap_or_default(),
                        }),
                );
                match answer.next_token {
                    Some(token) if !token.is_empty() => next = Some(token),
                    _ => break,
                }
            }
        }
        Ok(out)
    }

    async fn get_role(&self, role_name: &str) -> AwsResult<Option<Role>> {
        match self.iam.get_role().role_name(role_name).send().await {
            Ok(answer) => Ok(answer.role.map(|r| Role {
                role_name: r.role_name,
                arn: r.arn,
            })),
            Err(e) => match aws_error(e) {
                e if e.kind == ErrorKind::NotFound => Ok(None),
                e => Err(e),
            },
        }
    }

    async fn describe_secret(&self, secret_id: &str) -> AwsResult<Option<Secret>> {
        match self
            .secrets
            .describe_secret()
            .secret_id(secret_id)
            .send()
            .await
        {
            Ok(answer) => Ok(Some(Secret {
                arn: answer.arn.unwrap_or_default(),
                name: answer.name.unwrap_or_default(),
                deleted_date: answer.deleted_date.map(|d| d.to_string()),
            })),
            Err(e) => match aws_error(e) {
                e if e.kind == ErrorKind::NotFound => Ok(None),
                e => Err(e),
            },
        }
    }

    async fn describe_parameters(&self, names: &[String]) -> AwsResult<Vec<String>> {
        let mut out = Vec::new();
        for chunk in names.chunks(PARAMETER_BATCH) {
            let filter = aws_sdk_ssm::types::ParameterStringFilter::builder()
                .key("Name")
                .option("Equals")
                .set_values(Some(chunk.to_vec()))
                .build()
                .map_err(|e| {
                    crate::AwsError::new(ErrorKind::InvalidRequest, "InvalidFilter", e.to_string())
                })?;
            let mut next: Option<String> = None;
            loop {
                let answer = self
                    .ssm
                    .describe_parameters()
                    .parameter_filters(filter.clone())
                    .set_next_token(next.take())
                    .send()
                    .await
                    .map_err(aws_error)?;
                out.extend(
                    answer
                        .parameters
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|p| p.name),
                );
                match answer.next_token {
                    Some(token) if !token.is_empty() => next = Some(token),
                    _ => break,
                }
            }
        }
        Ok(out)
    }
}
