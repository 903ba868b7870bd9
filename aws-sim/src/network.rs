//! EC2 network and IAM state of the simulated account (VPCs, subnets, security groups, roles),
//! as seeded; read by the ECS validation and task launches, and through the API by `lookup`
//! (DescribeSubnets, DescribeSecurityGroups, GetRole).

use std::collections::BTreeMap;

use crate::arn;
use crate::seed::SimSeed;

/// A subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Subnet {
    /// VPC id.
    pub vpc_id: String,
    /// Availability zone.
    pub availability_zone: String,
    /// CIDR block.
    #[allow(dead_code, reason = "read by the EC2 and ELBv2 API modules to come")]
    pub cidr_block: String,
}

/// A security group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecurityGroup {
    /// Name.
    #[allow(dead_code, reason = "read by the EC2 and ELBv2 API modules to come")]
    pub group_name: String,
    /// VPC id.
    pub vpc_id: String,
}

/// VPCs, subnets and security groups.
#[derive(Debug, Clone, Default)]
pub(crate) struct NetworkState {
    /// VPC id → CIDR block.
    #[allow(dead_code, reason = "read by the EC2 and ELBv2 API modules to come")]
    pub vpcs: BTreeMap<String, String>,
    /// Subnet id → subnet.
    pub subnets: BTreeMap<String, Subnet>,
    /// Group id → group.
    pub security_groups: BTreeMap<String, SecurityGroup>,
}

impl NetworkState {
    /// The seeded network.
    pub fn from_seed(seed: &SimSeed) -> Self {
        Self {
            vpcs: seed
                .vpcs
                .iter()
                .map(|v| (v.vpc_id.clone(), v.cidr_block.clone()))
                .collect(),
            subnets: seed
                .subnets
                .iter()
                .map(|s| {
                    let subnet = Subnet {
                        vpc_id: s.vpc_id.clone(),
                        availability_zone: s.availability_zone.clone(),
                        cidr_block: s.cidr_block.clone(),
                    };
                    (s.subnet_id.clone(), subnet)
                })
                .collect(),
            security_groups: seed
                .security_groups
                .iter()
                .map(|g| {
                    let group = SecurityGroup {
                        group_name: g.group_name.clone(),
                        vpc_id: g.vpc_id.clone(),
                    };
                    (g.group_id.clone(), group)
                })
                .collect(),
        }
    }
}

/// IAM roles by ARN.
#[derive(Debug, Clone, Default)]
pub(crate) struct IamState {
    /// Role ARN → role name.
    pub roles: BTreeMap<String, String>,
}

impl IamState {
    /// The seeded roles.
    pub fn from_seed(seed: &SimSeed) -> Self {
        Self {
            roles: seed
                .iam_roles
                .iter()
                .map(|r| {
                    let arn = arn::role_arn(&seed.account_id, &r.role_name);
                    (arn, r.role_name.clone())
                })
                .collect(),
        }
    }

    /// Whether ECS can assume the role: it exists (a path in the ARN is ignored, as IAM does
    /// for role lookups by name).
    pub fn role_exists(&self, role_arn: &str) -> bool {
        if self.roles.contains_key(role_arn) {
            return true;
        }
        let name = role_arn.rsplit('/').next().unwrap_or(role_arn);
        role_arn.starts_with("arn:aws:iam::") && self.roles.values().any(|n| n == name)
    }
}
