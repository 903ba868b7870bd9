//! The reads that check what a spec names (`impl LookupApi for SimAws`), on the seeded state:
//! ECS DescribeClusters, EC2 DescribeSubnets and DescribeSecurityGroups filtered by id, IAM
//! GetRole, Secrets Manager DescribeSecret and SSM DescribeParameters filtered by name. As in
//! AWS, what does not exist is left out of the answer (or is `None` where AWS answers
//! NoSuchEntity / ResourceNotFoundException); only a malformed request fails.

use std::collections::BTreeSet;

use async_trait::async_trait;

use crate::account::SimAws;
use crate::ecs::errors::invalid_parameter;
use crate::gate::Operation;
use crate::world::World;
use aws::error::{AwsError, AwsResult};
use aws::lookup::{Cluster, LookupApi, Role, Secret, SecurityGroup, Subnet};

const fn read(key: &'static str) -> Operation {
    Operation {
        key,
        mutating: false,
    }
}

/// ecs:DescribeClusters.
const DESCRIBE_CLUSTERS: Operation = read("ecs:DescribeClusters");
/// ec2:DescribeSubnets.
const DESCRIBE_SUBNETS: Operation = read("ec2:DescribeSubnets");
/// ec2:DescribeSecurityGroups.
const DESCRIBE_SECURITY_GROUPS: Operation = read("ec2:DescribeSecurityGroups");
/// iam:GetRole.
const GET_ROLE: Operation = read("iam:GetRole");
/// secretsmanager:DescribeSecret.
const DESCRIBE_SECRET: Operation = read("secretsmanager:DescribeSecret");
/// ssm:DescribeParameters.
const DESCRIBE_PARAMETERS: Operation = read("ssm:DescribeParameters");

/// Most clusters one DescribeClusters call names.
const MAX_CLUSTERS: usize = 100;
/// Most values one EC2 filter carries.
const MAX_FILTER_VALUES: usize = 200;
/// Most values one SSM parameter filter carries.
const MAX_PARAMETER_FILTER_VALUES: usize = 50;
/// Longest IAM role name.
const MAX_ROLE_NAME: usize = 64;
/// Longest Secrets Manager SecretId.
const MAX_SECRET_ID: usize = 2048;

/// EC2's answer to a filter with too many values.
fn filter_limit_exceeded() -> AwsError {
    AwsError::from_code(
        "FilterLimitExceeded",
        format!(
            "The maximum number of filter values specified on a single call is {MAX_FILTER_VALUES}"
        ),
        Some(400),
    )
}

/// A constraint violation in a JSON-protocol request (`ValidationException` for Secrets Manager
/// and SSM, `ValidationError` for IAM), worded as AWS words it.
fn validation(code: &str, value: &str, member: &str, constraint: &str) -> AwsError {
    AwsError::from_code(
        code,
        format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
        ),
        Some(400),
    )
}

/// Whether an EC2 filter value matches `id`: `*` matches any run of characters, `?` exactly
/// one, `\` escapes the next character.
fn filter_matches(pattern: &str, id: &str) -> bool {
    fn matches(p: &[char], s: &[char]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some(('*', rest)) => (0..=s.len()).any(|i| matches(rest, &s[i..])),
            Some(('?', rest)) => !s.is_empty() && matches(rest, &s[1..]),
            Some(('\\', rest)) if !rest.is_empty() => {
                s.first() == Some(&rest[0]) && matches(&rest[1..], &s[1..])
            }
            Some((c, rest)) => s.first() == Some(c) && matches(rest, &s[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = id.chars().collect();
    matches(&p, &s)
}

/// Whether any of the filter's values matches `id`.
fn filter_any(values: &[String], id: &str) -> bool {
    values.iter().any(|v| filter_matches(v, id))
}

impl World {
    fn lookup_describe_clusters(&self, names: &[String]) -> AwsResult<Vec<Cluster>> {
        if names.len() > MAX_CLUSTERS {
            return Err(invalid_parameter(format!(
                "Clusters can have at most {MAX_CLUSTERS} items."
            )));
        }
        let mut seen = BTreeSet::new();
        Ok(names
            .iter()
            // Names and ARNs of this account and region; anything else is a MISSING failure.
            .filter_map(|n| self.cluster_name(n).filter(|_| !n.is_empty()))
            .filter(|name| seen.insert(*name))
            .map(|name| Cluster {
                cluster_name: name.to_owned(),
                cluster_arn: self.ecs.clusters[name].arn.clone(),
                status: "ACTIVE".to_owned(),
            })
            .collect())
    }

    fn lookup_describe_subnets(&self, ids: &[String]) -> AwsResult<Vec<Subnet>> {
        if ids.len() > MAX_FILTER_VALUES {
            return Err(filter_limit_exceeded());
        }
        Ok(self
            .network
            .subnets
            .iter()
            .filter(|(id, _)| filter_any(ids, id))
            .map(|(id, s)| Subnet {
                subnet_id: id.clone(),
                vpc_id: s.vpc_id.clone(),
                availability_zone: s.availability_zone.clone(),
            })
            .collect())
    }

    fn lookup_describe_security_groups(&self, ids: &[String]) -> AwsResult<Vec<SecurityGroup>> {
        if ids.len() > MAX_FILTER_VALUES {
            return Err(filter_limit_exceeded());
        }
        Ok(self
            .network
            .security_groups
            .iter()
            .filter(|(id, _)| filter_any(ids, id))
            .map(|(id, g)| SecurityGroup {
                group_id: id.clone(),
                vpc_id: g.vpc_id.clone(),
            })
            .collect())
    }

    fn lookup_get_role(&self, role_name: &str) -> AwsResult<Option<Role>> {
        if role_name.is_empty() || role_name.len() > MAX_ROLE_NAME {
            return Err(validation(
                "ValidationError",
                role_name,
                "roleName",
                "Member must have length between 1 and 64",
            ));
        }
        let pattern_ok = role_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
        if !pattern_ok {
            return Err(validation(
                "ValidationError",
                role_name,
                "roleName",
                r"Member must satisfy regular expression pattern: [\w+=,.@-]+",
            ));
        }
        Ok(self
            .iam
            .roles
            .iter()
            .find(|(_, name)| *name == role_name)
            .map(|(arn, name)| Role {
                role_name: name.clone(),
                arn: arn.clone(),
            }))
    }

    fn lookup_describe_secret(&self, secret_id: &str) -> AwsResult<Option<Secret>> {
        if secret_id.is_empty() || secret_id.len() > MAX_SECRET_ID {
            return Err(validation(
                "ValidationException",
                secret_id,
                "secretId",
                "Member must have length between 1 and 2048",
            ));
        }
        Ok(self
            .secrets
            .secret(&self.region, &self.account_id, secret_id)
            .map(|(name, arn)| Secret {
                arn: arn.to_owned(),
                name: name.to_owned(),
                deleted_date: None,
            }))
    }

    fn lookup_describe_parameters(&self, names: &[String]) -> AwsResult<Vec<String>> {
        if names.len() > MAX_PARAMETER_FILTER_VALUES {
            return Err(validation(
                "ValidationException",
                &format!("[{}]", names.join(", ")),
                "parameterFilters.1.member.values",
                "Member must have length less than or equal to 50",
            ));
        }
        let wanted: BTreeSet<&str> = names.iter().map(String::as_str).collect();
        Ok(self
            .secrets
            .parameters
            .iter()
            .filter(|name| wanted.contains(name.as_str()))
            .cloned()
            .collect())
    }
}

#[async_trait]
impl LookupApi for SimAws {
    async fn describe_clusters(&self, names: &[String]) -> AwsResult<Vec<Cluster>> {
        self.call(&DESCRIBE_CLUSTERS, |w, _| w.lookup_describe_clusters(names))
            .await
    }

    async fn describe_subnets(&self, ids: &[String]) -> AwsResult<Vec<Subnet>> {
        self.call(&DESCRIBE_SUBNETS, |w, _| w.lookup_describe_subnets(ids))
            .await
    }

    async fn describe_security_groups(&self, ids: &[String]) -> AwsResult<Vec<SecurityGroup>> {
        self.call(&DESCRIBE_SECURITY_GROUPS, |w, _| {
            w.lookup_describe_security_groups(ids)
        })
        .await
    }

    async fn get_role(&self, role_name: &str) -> AwsResult<Option<Role>> {
        self.call(&GET_ROLE, |w, _| w.lookup_get_role(role_name))
            .await
    }

    async fn describe_secret(&self, secret_id: &str) -> AwsResult<Option<Secret>> {
        self.call(&DESCRIBE_SECRET, |w, _| w.lookup_describe_secret(secret_id))
            .await
    }

    async fn describe_parameters(&self, names: &[String]) -> AwsResult<Vec<String>> {
        self.call(&DESCRIBE_PARAMETERS, |w, _| {
            w.lookup_describe_parameters(names)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec2_filter_values_take_wildcards() {
        assert!(filter_matches("subnet-1", "subnet-1"));
        assert!(!filter_matches("subnet-1", "subnet-10"));
        assert!(filter_matches("subnet-*", "subnet-10"));
        assert!(filter_matches("subnet-?0", "subnet-10"));
        assert!(!filter_matches("subnet-?", "subnet-10"));
        assert!(filter_matches(r"sg-\*", "sg-*"));
        assert!(!filter_matches(r"sg-\*", "sg-1"));
    }
}
