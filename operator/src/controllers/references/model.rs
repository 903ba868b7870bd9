//! What reference verification speaks of: a reference (field and target), a finding, the
//! outcome of one verification.

use std::fmt;

use aws::lookup::SecretSource;

/// One thing a spec names, and the field that names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// The field, as a path in the object (`spec.cluster`,
    /// `spec.networkConfiguration.awsvpcConfiguration.subnets[1]`).
    pub field: String,
    /// What it names.
    pub target: Target,
}

/// What a reference names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// An ECS cluster (name or ARN).
    Cluster(String),
    /// An EC2 subnet id.
    Subnet(String),
    /// An EC2 security group id.
    SecurityGroup(String),
    /// An IAM role ARN.
    Role(String),
    /// A Secrets Manager secret id (ARN up to the name).
    Secret(String),
    /// An SSM parameter name.
    Parameter(String),
    /// A target group ARN.
    TargetGroup(String),
    /// A target group of this name (CodeDeploy names them).
    TargetGroupNamed(String),
    /// A listener ARN.
    Listener(String),
    /// A listener rule ARN, and the target groups its forward action must list (both of a
    /// blue/green pair: ECS moves the weights between them).
    ListenerRule {
        /// Rule ARN.
        arn: String,
        /// Target group ARNs the rule must forward to.
        target_groups: Vec<String>,
    },
    /// A CloudWatch alarm name.
    Alarm(String),
    /// Something in another Region than the object's, which its clients cannot look up.
    ElsewhereSecret {
        /// The `valueFrom`.
        value_from: String,
        /// The Region it is in.
        region: String,
    },
}

impl Target {
    /// The target a container secret's `valueFrom` names, seen from the object's `region`.
    pub fn of_secret(value_from: &str, region: &str) -> Target {
        let elsewhere = |r: String| Target::ElsewhereSecret {
            value_from: value_from.to_string(),
            region: r,
        };
        match aws::lookup::secret_source(value_from) {
            SecretSource::SecretsManager {
                secret_id,
                region: r,
            } if r == region => Target::Secret(secret_id),
            SecretSource::SecretsManager { region: r, .. } => elsewhere(r),
            SecretSource::Parameter { name, region: None } => Target::Parameter(name),
            SecretSource::Parameter {
                name,
                region: Some(r),
            } if r == region => Target::Parameter(name),
            SecretSource::Parameter {
                region: Some(r), ..
            } => elsewhere(r),
        }
    }
}

/// A reference that does not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The field.
    pub field: String,
    /// What is wrong, in words a person can act on.
    pub problem: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

/// The outcome of verifying an object's references.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    /// References that do not resolve, in field order.
    pub findings: Vec<Finding>,
    /// Kinds of reference that could not be checked, and why (`IAM roles: iam:GetRole is not
    /// granted`).
    pub skipped: Vec<String>,
    /// How many references were checked.
    pub checked: usize,
}

impl Verification {
    /// Whether every checked reference resolves.
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }

    /// The Stalled message: every finding (at most 10), then what was not checked.
    pub fn message(&self) -> String {
        const SHOWN: usize = 10;
        let mut parts: Vec<String> = self
            .findings
            .iter()
            .take(SHOWN)
            .map(Finding::to_string)
            .collect();
        if self.findings.len() > SHOWN {
            parts.push(format!("and {} more", self.findings.len() - SHOWN));
        }
        let mut message = format!("{}; nothing was changed in AWS", parts.join("; "));
        if !self.skipped.is_empty() {
            message.push_str(&format!(" (not checked: {})", self.skipped.join("; ")));
        }
        message
    }
}
