//! Secrets Manager secrets and Systems Manager parameters of the simulated account, as seeded:
//! names and ARNs only (the simulation holds no secret or parameter value). Read by `lookup`.

use std::collections::{BTreeMap, BTreeSet};

use crate::arn;
use crate::seed::SimSeed;

/// `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX`: AWS appends a hyphen and six
/// random alphanumeric characters to the name; here they are derived from the name, so a seed
/// always yields the same ARN.
pub(crate) fn secret_arn(region: &str, account: &str, name: &str) -> String {
    let id = arn::alnum_id(&["secret", name]);
    format!(
        "arn:aws:secretsmanager:{region}:{account}:secret:{name}-{}",
        &id[..6]
    )
}

/// Secrets and parameters.
#[derive(Debug, Clone, Default)]
pub(crate) struct SecretsState {
    /// Secret name → full ARN.
    pub secrets: BTreeMap<String, String>,
    /// Parameter names, as SSM stores them (hierarchical ones with their leading `/`).
    pub parameters: BTreeSet<String>,
}

impl SecretsState {
    /// The seeded secrets and parameters.
    pub fn from_seed(seed: &SimSeed) -> Self {
        Self {
            secrets: seed
                .secrets
                .iter()
                .map(|s| {
                    let arn = secret_arn(&seed.region, &seed.account_id, &s.name);
                    (s.name.clone(), arn)
                })
                .collect(),
            parameters: seed.parameters.iter().map(|p| p.name.clone()).collect(),
        }
    }

    /// The secret (name, full ARN) `secret_id` names, as Secrets Manager resolves a SecretId: the
    /// full ARN, an ARN of this account and region without the six-character suffix (a
    /// partial ARN), or the name.
    pub fn secret(&self, region: &str, account: &str, secret_id: &str) -> Option<(&str, &str)> {
        let name = if secret_id.starts_with("arn:") {
            if let Some((name, arn)) = self.secrets.iter().find(|(_, arn)| *arn == secret_id) {
                return Some((name.as_str(), arn.as_str()));
            }
            let prefix = format!("arn:aws:secretsmanager:{region}:{account}:secret:");
            secret_id.strip_prefix(prefix.as_str())?
        } else {
            secret_id
        };
        self.secrets
            .get_key_value(name)
            .map(|(name, arn)| (name.as_str(), arn.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_arns_carry_a_stable_six_character_suffix() {
        let a = secret_arn("eu-west-1", "123456789012", "shop/db");
        assert_eq!(a, secret_arn("eu-west-1", "123456789012", "shop/db"));
        let suffix = a
            .strip_prefix("arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/db-")
            .expect("shaped like a Secrets Manager ARN");
        assert_eq!(suffix.len(), 6);
        assert!(suffix.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, secret_arn("eu-west-1", "123456789012", "shop/cache"));
    }
}
