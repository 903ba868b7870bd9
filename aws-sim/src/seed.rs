//! The seed of the simulated account: what exists before the operator makes its first call
//! (account, region, clusters, network, IAM roles, secrets and parameters, load balancers,
//! alarms), read from a YAML
//! file people edit. Parsing and validation only; the state lives in `world`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Everything that exists in the simulated account before the operator runs. Field names are
/// the AWS API member names (camelCase) so a seed reads like `aws … describe-*` output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SimSeed {
    /// 12-digit AWS account id.
    pub account_id: String,
    /// Region, e.g. `eu-west-1`.
    pub region: String,
    /// ECS cluster names (each with FARGATE and FARGATE_SPOT capacity providers).
    #[serde(default)]
    pub clusters: Vec<String>,
    /// VPCs.
    #[serde(default)]
    pub vpcs: Vec<SeedVpc>,
    /// Subnets.
    #[serde(default)]
    pub subnets: Vec<SeedSubnet>,
    /// Security groups.
    #[serde(default)]
    pub security_groups: Vec<SeedSecurityGroup>,
    /// IAM roles (ARN `arn:aws:iam::ACCOUNT:role/NAME`).
    #[serde(default)]
    pub iam_roles: Vec<SeedRole>,
    /// Secrets Manager secrets (ARN `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX`,
    /// the six characters AWS appends derived from the name). Metadata only: no values.
    #[serde(default)]
    pub secrets: Vec<SeedSecret>,
    /// Systems Manager Parameter Store parameters. Names only: no values.
    #[serde(default)]
    pub parameters: Vec<SeedParameter>,
    /// ELBv2 target groups.
    #[serde(default)]
    pub target_groups: Vec<SeedTargetGroup>,
    /// Application load balancers with their listeners and rules.
    #[serde(default)]
    pub load_balancers: Vec<SeedLoadBalancer>,
    /// CloudWatch alarms.
    #[serde(default)]
    pub alarms: Vec<SeedAlarm>,
    /// SNS topic names (ARN `arn:aws:sns:REGION:ACCOUNT:NAME`; a name ending in `.fifo` is a
    /// FIFO topic).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sns_topics: Vec<String>,
    /// More regions in which the account holds the same resources (clusters, network, roles,
    /// load balancers, alarms): each region is a world of its own, with its own token buckets,
    /// and its ARNs name its region. Calls for a region the seed does not list reach the
    /// seed's own `region`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_regions: Vec<String>,
    /// Other simulated accounts, each a seed of its own (without `otherAccounts`), reached by
    /// assuming one of their roles whose `trustPolicy` lets the operator in. The first account
    /// (this seed) is the operator's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_accounts: Vec<SimSeed>,
}

/// A VPC.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedVpc {
    /// `vpc-…` id.
    pub vpc_id: String,
    /// IPv4 CIDR block.
    pub cidr_block: String,
}

/// A subnet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSubnet {
    /// `subnet-…` id.
    pub subnet_id: String,
    /// The VPC it belongs to.
    pub vpc_id: String,
    /// Availability zone, e.g. `eu-west-1a`.
    pub availability_zone: String,
    /// IPv4 CIDR block.
    pub cidr_block: String,
}

/// A security group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSecurityGroup {
    /// `sg-…` id.
    pub group_id: String,
    /// Name.
    pub group_name: String,
    /// The VPC it belongs to.
    pub vpc_id: String,
}

/// An IAM role.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedRole {
    /// Role name; the ARN is derived.
    pub role_name: String,
    /// Whether (and how) the operator may assume the role with STS AssumeRole; without one,
    /// AssumeRole on it is denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_policy: Option<SeedTrust>,
}

/// The part of a role's trust policy that concerns the operator: it may assume the role.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedTrust {
    /// The external id the trust policy requires (condition `sts:ExternalId`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

/// A Secrets Manager secret.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSecret {
    /// Secret name (1–512 of `A-Z a-z 0-9 / _ + = . @ -`, e.g. `event-booking/auth/db`); the
    /// ARN is derived.
    pub name: String,
}

/// A Systems Manager parameter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedParameter {
    /// Parameter name as SSM stores it: `plain`, or a hierarchy with its leading `/`
    /// (`/event-booking/db/url`).
    pub name: String,
}

/// An ELBv2 target group; the ARN is derived from the name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedTargetGroup {
    /// Name (unique in the account and region).
    pub name: String,
    /// Traffic port.
    pub port: i32,
    /// HTTP or HTTPS (default HTTP).
    #[serde(default = "default_protocol")]
    pub protocol: String,
    /// Health check path (default `/`).
    #[serde(default = "default_health_check_path")]
    pub health_check_path: String,
    /// The VPC (default: the first VPC of the seed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// `ip` (default; what awsvpc tasks need) or `instance`.
    #[serde(default = "default_target_type")]
    pub target_type: String,
    /// How long a stopping task stays registered, draining (AWS default 300).
    #[serde(default = "default_deregistration_delay")]
    pub deregistration_delay_seconds: i64,
}

/// An application load balancer; the ARN is derived from the name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedLoadBalancer {
    /// Name.
    pub name: String,
    /// Listeners.
    #[serde(default)]
    pub listeners: Vec<SeedListener>,
}

/// A listener of a load balancer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedListener {
    /// Port.
    pub port: i32,
    /// HTTP or HTTPS.
    pub protocol: String,
    /// Target group (name) the default action forwards to.
    pub default_target_group: String,
    /// Rules.
    #[serde(default)]
    pub rules: Vec<SeedRule>,
}

/// A listener rule forwarding a path pattern to weighted target groups.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedRule {
    /// Priority (1–50000, unique per listener).
    pub priority: i32,
    /// Path pattern, e.g. `/api/auth/*`.
    pub path_pattern: String,
    /// Forward action: target groups and weights.
    pub target_groups: Vec<SeedWeightedTargetGroup>,
}

/// A target group of a forward action, with its weight.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedWeightedTargetGroup {
    /// Target group name.
    pub name: String,
    /// Weight (0–999, default 1).
    #[serde(default = "default_weight")]
    pub weight: i32,
}

/// A CloudWatch alarm.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedAlarm {
    /// Alarm name.
    pub alarm_name: String,
    /// Initial state: OK (default), ALARM or INSUFFICIENT_DATA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_value: Option<String>,
}

fn default_protocol() -> String {
    "HTTP".to_owned()
}
fn default_health_check_path() -> String {
    "/".to_owned()
}
fn default_target_type() -> String {
    "ip".to_owned()
}
fn default_deregistration_delay() -> i64 {
    300
}
fn default_weight() -> i32 {
    1
}

/// Why a seed could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The file could not be read.
    #[error("cannot read seed file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The YAML does not parse into a seed.
    #[error("seed YAML does not parse")]
    Parse {
        /// The parser's error (with line and column).
        source: serde_saphyr::Error,
    },
    /// The seed parses but is inconsistent.
    #[error("invalid seed: {reason}")]
    Invalid {
        /// What is wrong.
        reason: String,
    },
}

/// The event-booking account of `examples/aws-state.yaml`, compiled in.
const EVENT_BOOKING_YAML: &str = include_str!("../../examples/aws-state.yaml");

impl SimSeed {
    /// Parses and validates a seed.
    pub fn from_yaml(yaml: &str) -> Result<SimSeed, SeedError> {
        let seed: SimSeed =
            serde_saphyr::from_str(yaml).map_err(|source| SeedError::Parse { source })?;
        seed.validate()?;
        Ok(seed)
    }

    /// Reads, parses and validates a seed file.
    pub fn load(path: impl AsRef<Path>) -> Result<SimSeed, SeedError> {
        let path = path.as_ref();
        let yaml = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_yaml(&yaml)
    }

    /// The event-booking account (`examples/aws-state.yaml`), for `local` and tests.
    pub fn event_booking() -> SimSeed {
        Self::from_yaml(EVENT_BOOKING_YAML).expect("examples/aws-state.yaml is a valid seed")
    }

    /// The seed of each region the account is in: this one first (its `otherRegions` left
    /// out), then one copy per other region.
    pub fn regional(&self) -> Vec<SimSeed> {
        let mut own = self.clone();
        let others = std::mem::take(&mut own.other_regions);
        let copies: Vec<SimSeed> = others
            .iter()
            .map(|region| SimSeed {
                region: region.clone(),
                other_accounts: Vec::new(),
                ..own.clone()
            })
            .collect();
        std::iter::once(own).chain(copies).collect()
    }

    /// An account with only clusters: no network, roles or load balancers (unit tests of
    /// code that never launches awsvpc tasks).
    pub fn minimal(account_id: &str, region: &str, clusters: &[&str]) -> SimSeed {
        SimSeed {
            account_id: account_id.to_owned(),
            region: region.to_owned(),
            clusters: clusters.iter().map(|c| (*c).to_owned()).collect(),
            ..SimSeed::default()
        }
    }

    /// Checks references and uniqueness.
    pub fn validate(&self) -> Result<(), SeedError> {
        let invalid = |reason: String| Err(SeedError::Invalid { reason });
        if self.account_id.len() != 12 || !self.account_id.bytes().all(|b| b.is_ascii_digit()) {
            return invalid(format!("accountId {:?} is not 12 digits", self.account_id));
        }
        if self.region.is_empty() {
            return invalid("region is empty".to_owned());
        }
        unique(
            "region",
            std::iter::once(&self.region).chain(self.other_regions.iter()),
        )?;
        if self.other_regions.iter().any(String::is_empty) {
            return invalid("otherRegions lists an empty region".to_owned());
        }
        unique("cluster", self.clusters.iter())?;
        unique("vpcId", self.vpcs.iter().map(|v| &v.vpc_id))?;
        unique("subnetId", self.subnets.iter().map(|s| &s.subnet_id))?;
        unique("groupId", self.security_groups.iter().map(|g| &g.group_id))?;
        unique("roleName", self.iam_roles.iter().map(|r| &r.role_name))?;
        unique("secret name", self.secrets.iter().map(|s| &s.name))?;
        unique("parameter name", self.parameters.iter().map(|p| &p.name))?;
        unique("target group", self.target_groups.iter().map(|t| &t.name))?;
        unique("load balancer", self.load_balancers.iter().map(|l| &l.name))?;
        unique("alarmName", self.alarms.iter().map(|a| &a.alarm_name))?;
        unique("snsTopics", self.sns_topics.iter())?;
        unique(
            "accountId",
            std::iter::once(&self.account_id)
                .chain(self.other_accounts.iter().map(|a| &a.account_id)),
        )?;
        if let Some(t) = self.sns_topics.iter().find(|t| !valid_topic_name(t)) {
            return invalid(format!(
                "SNS topic name {t:?} is not 1-256 of A-Z a-z 0-9 - _ (a FIFO topic's ending in .fifo)"
            ));
        }
        if let Some(s) = self.secrets.iter().find(|s| !valid_secret_name(&s.name)) {
            return invalid(format!(
                "secret name {:?} is not 1-512 of A-Z a-z 0-9 / _ + = . @ -",
                s.name
            ));
        }
        if let Some(p) = self
            .parameters
            .iter()
            .find(|p| !valid_parameter_name(&p.name))
        {
            return invalid(format!(
                "parameter name {:?} is not a Systems Manager parameter name (A-Z a-z 0-9 _ . - /, \
                 a hierarchy starting with /, not prefixed with aws or ssm)",
                p.name
            ));
        }
        for other in &self.other_accounts {
            if !other.other_accounts.is_empty() {
                return invalid(format!(
                    "account {} nests otherAccounts: list every account at the top level",
                    other.account_id
                ));
            }
            other.validate().map_err(|e| SeedError::Invalid {
                reason: format!("account {}: {e}", other.account_id),
            })?;
        }
        let vpcs: BTreeSet<&str> = self.vpcs.iter().map(|v| v.vpc_id.as_str()).collect();
        for s in &self.subnets {
            if !vpcs.contains(s.vpc_id.as_str()) {
                return invalid(format!(
                    "subnet {} names unknown VPC {}",
                    s.subnet_id, s.vpc_id
                ));
            }
        }
        for g in &self.security_groups {
            if !vpcs.contains(g.vpc_id.as_str()) {
                return invalid(format!(
                    "security group {} names unknown VPC {}",
                    g.group_id, g.vpc_id
                ));
            }
        }
        for t in &self.target_groups {
            if let Some(vpc) = &t.vpc_id
                && !vpcs.contains(vpc.as_str())
            {
                return invalid(format!("target group {} names unknown VPC {vpc}", t.name));
            }
        }
        let tgs: BTreeSet<&str> = self.target_groups.iter().map(|t| t.name.as_str()).collect();
        for lb in &self.load_balancers {
            unique("listener port", lb.listeners.iter().map(|l| l.port))?;
            for l in &lb.listeners {
                if !tgs.contains(l.default_target_group.as_str()) {
                    return invalid(format!(
                        "listener {}:{} forwards to unknown target group {}",
                        lb.name, l.port, l.default_target_group
                    ));
                }
                unique("rule priority", l.rules.iter().map(|r| r.priority))?;
                for r in &l.rules {
                    if r.target_groups.is_empty() {
                        return invalid(format!(
                            "rule {} of {}:{} has no target group",
                            r.priority, lb.name, l.port
                        ));
                    }
                    if let Some(tg) = r
                        .target_groups
                        .iter()
                        .find(|t| !tgs.contains(t.name.as_str()))
                    {
                        return invalid(format!(
                            "rule {} of {}:{} forwards to unknown target group {}",
                            r.priority, lb.name, l.port, tg.name
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// An SNS topic name: 1–256 ASCII letters, digits, hyphens and underscores; a FIFO topic's
/// ends in `.fifo`, which counts in the 256.
fn valid_topic_name(name: &str) -> bool {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    (1..=256).contains(&name.len())
        && !base.is_empty()
        && base
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A Secrets Manager secret name: 1–512 characters, ASCII letters, digits and `/_+=.@-`.
fn valid_secret_name(name: &str) -> bool {
    (1..=512).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_+=.@-".contains(&b))
}

/// A Systems Manager parameter name: 1–1011 characters, ASCII letters, digits and `_.-/`; a
/// hierarchy (any `/`) fully qualified with a leading `/`; not prefixed with `aws` or `ssm`
/// (any case).
fn valid_parameter_name(name: &str) -> bool {
    let chars_ok = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_.-/".contains(&b));
    let qualified = !name.contains('/') || name.starts_with('/');
    let first = name.trim_start_matches('/').to_ascii_lowercase();
    let reserved = first.starts_with("aws") || first.starts_with("ssm");
    (1..=1011).contains(&name.len()) && chars_ok && qualified && !reserved
}

fn unique<T: Ord + std::fmt::Display>(
    what: &str,
    items: impl Iterator<Item = T>,
) -> Result<(), SeedError> {
    let mut seen = BTreeSet::new();
    for item in items {
        if seen.contains(&item) {
            return Err(SeedError::Invalid {
                reason: format!("{what} {item} appears twice"),
            });
        }
        seen.insert(item);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_file_parses() {
        let seed = SimSeed::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/aws-state.yaml"
        ))
        .expect("examples/aws-state.yaml parses");
        assert_eq!(seed.account_id, "123456789012");
        assert_eq!(seed.region, "eu-west-1");
        assert_eq!(seed.clusters, ["event-booking"]);
        assert_eq!(seed.subnets.len(), 3);
        assert_eq!(seed.target_groups.len(), 10);
        assert_eq!(seed.alarms.len(), 10);
        assert_eq!(seed.secrets.len(), 5);
        let alb = &seed.load_balancers[0];
        assert_eq!(alb.listeners.len(), 2);
        assert_eq!(alb.listeners[0].rules.len(), 5);
        assert_eq!(seed, SimSeed::event_booking());
    }

    #[test]
    fn typos_and_dangling_references_are_refused() {
        let typo = "accountId: '123456789012'\nregion: eu-west-1\nclustrs: [a]\n";
        assert!(matches!(
            SimSeed::from_yaml(typo),
            Err(SeedError::Parse { .. })
        ));
        let dangling = "accountId: '123456789012'\nregion: eu-west-1\nsubnets:\n  - {subnetId: subnet-1, vpcId: vpc-x, availabilityZone: eu-west-1a, cidrBlock: 10.0.0.0/24}\n";
        let err = SimSeed::from_yaml(dangling).unwrap_err();
        assert!(err.to_string().contains("unknown VPC vpc-x"), "{err}");
        let bad_account = "accountId: '42'\nregion: eu-west-1\n";
        assert!(SimSeed::from_yaml(bad_account).is_err());
    }

    #[test]
    fn secret_and_parameter_names_follow_aws_rules() {
        let seed = |body: &str| {
            SimSeed::from_yaml(&format!(
                "accountId: '123456789012'\nregion: eu-west-1\n{body}"
            ))
        };
        assert!(
            seed("secrets: [{name: shop/db}]\nparameters: [{name: /shop/url}, {name: plain}]\n")
                .is_ok()
        );
        for bad in [
            "secrets: [{name: 'has space'}]\n",
            "secrets: [{name: a}, {name: a}]\n",
            "parameters: [{name: shop/url}]\n",
            "parameters: [{name: /aws/x}]\n",
            "parameters: [{name: SSM-param}]\n",
        ] {
            assert!(matches!(seed(bad), Err(SeedError::Invalid { .. })), "{bad}");
        }
    }

    #[test]
    fn defaults_fill_target_groups() {
        let yaml = "accountId: '123456789012'\nregion: eu-west-1\ntargetGroups:\n  - {name: web, port: 80}\n";
        let seed = SimSeed::from_yaml(yaml).unwrap();
        let tg = &seed.target_groups[0];
        assert_eq!(
            (tg.protocol.as_str(), tg.target_type.as_str()),
            ("HTTP", "ip")
        );
        assert_eq!(tg.deregistration_delay_seconds, 300);
        assert_eq!(tg.health_check_path, "/");
    }
}
