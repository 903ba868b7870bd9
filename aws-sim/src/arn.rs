//! ARNs and identifiers of the simulated account, in the formats AWS uses. Pure functions of
//! their inputs: the same seed and the same calls always give the same ARNs and ids.

use sha2::{Digest, Sha256};

/// `arn:aws:ecs:REGION:ACCOUNT:cluster/NAME`.
pub fn cluster_arn(region: &str, account: &str, cluster: &str) -> String {
    format!("arn:aws:ecs:{region}:{account}:cluster/{cluster}")
}

/// `arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME` (the long ARN format).
pub fn service_arn(region: &str, account: &str, cluster: &str, service: &str) -> String {
    format!("arn:aws:ecs:{region}:{account}:service/{cluster}/{service}")
}

/// `arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION`.
pub fn task_definition_arn(region: &str, account: &str, family: &str, revision: i32) -> String {
    format!("arn:aws:ecs:{region}:{account}:task-definition/{family}:{revision}")
}

/// `arn:aws:ecs:REGION:ACCOUNT:service-deployment/CLUSTER/SERVICE/ID`.
pub fn service_deployment_arn(
    region: &str,
    account: &str,
    cluster: &str,
    service: &str,
    id: &str,
) -> String {
    format!("arn:aws:ecs:{region}:{account}:service-deployment/{cluster}/{service}/{id}")
}

/// `arn:aws:ecs:REGION:ACCOUNT:service-revision/CLUSTER/SERVICE/ID`.
pub fn service_revision_arn(
    region: &str,
    account: &str,
    cluster: &str,
    service: &str,
    id: &str,
) -> String {
    format!("arn:aws:ecs:{region}:{account}:service-revision/{cluster}/{service}/{id}")
}

/// `arn:aws:iam::ACCOUNT:role/NAME` (IAM is global: no region).
pub fn role_arn(account: &str, role: &str) -> String {
    format!("arn:aws:iam::{account}:role/{role}")
}

/// `arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/HEX16`, the hex derived from
/// the name so a seed always yields the same ARN.
pub fn target_group_arn(region: &str, account: &str, name: &str) -> String {
    let hex = hex16(&["targetgroup", name]);
    format!("arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{name}/{hex}")
}

/// `arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/HEX16`.
pub fn load_balancer_arn(region: &str, account: &str, name: &str) -> String {
    let hex = hex16(&["loadbalancer", name]);
    format!("arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/app/{name}/{hex}")
}

/// `arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/LB/LBHEX/HEX16` of the listener
/// on `port`.
pub fn listener_arn(region: &str, account: &str, lb_name: &str, port: i32) -> String {
    let lb_hex = hex16(&["loadbalancer", lb_name]);
    let hex = hex16(&["listener", lb_name, &port.to_string()]);
    format!("arn:aws:elasticloadbalancing:{region}:{account}:listener/app/{lb_name}/{lb_hex}/{hex}")
}

/// `arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener-rule/app/LB/LBHEX/LISTENERHEX/HEX16`
/// of the rule with `priority` on the listener on `port`.
pub fn listener_rule_arn(
    region: &str,
    account: &str,
    lb_name: &str,
    port: i32,
    priority: i32,
) -> String {
    let lb_hex = hex16(&["loadbalancer", lb_name]);
    let port = port.to_string();
    let listener_hex = hex16(&["listener", lb_name, &port]);
    let hex = hex16(&["rule", lb_name, &port, &priority.to_string()]);
    format!(
        "arn:aws:elasticloadbalancing:{region}:{account}:listener-rule/app/{lb_name}/{lb_hex}/{listener_hex}/{hex}"
    )
}

/// `arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME`.
pub fn alarm_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:cloudwatch:{region}:{account}:alarm:{name}")
}

/// `arn:aws:sns:REGION:ACCOUNT:NAME`.
pub fn topic_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:sns:{region}:{account}:{name}")
}

/// The resource name at the end of an ARN (`…/NAME`), or the input when it is not an ARN.
pub fn name_from_arn(name_or_arn: &str) -> &str {
    if name_or_arn.starts_with("arn:") {
        name_or_arn.rsplit('/').next().unwrap_or(name_or_arn)
    } else {
        name_or_arn
    }
}

/// 16 lowercase hex characters derived from `parts` (SHA-256), as ELBv2 ARNs carry.
pub(crate) fn hex16(parts: &[&str]) -> String {
    let digest = Sha256::digest(parts.join("\u{1f}").as_bytes());
    hex::encode(&digest[..8])
}

/// A stable 64-bit hash of `parts` (FNV-1a then a SplitMix64 finaliser): the simulator's only
/// source of "randomness", so runs are reproducible.
pub(crate) fn stable_hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0x1f)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    splitmix(h)
}

/// SplitMix64 finaliser: spreads the bits of `x`.
pub(crate) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// An ECS deployment id, `ecs-svc/` and 19 digits, derived from the service and a sequence.
pub(crate) fn ecs_deployment_id(service_arn: &str, seq: u64) -> String {
    let n = stable_hash(&[service_arn, &seq.to_string(), "deployment"]) % 10_u64.pow(19);
    format!("ecs-svc/{n:019}")
}

/// A 19-digit numeric id (service revisions), derived from `parts`.
pub(crate) fn numeric_id(parts: &[&str]) -> String {
    let n = stable_hash(parts) % 10_u64.pow(19);
    format!("{n:019}")
}

/// A 20-character alphanumeric id (service deployments), derived from `parts`.
pub(crate) fn alnum_id(parts: &[&str]) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut state = stable_hash(parts);
    (0..20)
        .map(|_| {
            state = splitmix(state);
            char::from(ALPHABET[(state % ALPHABET.len() as u64) as usize])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_group_arn_is_stable_and_shaped_like_elbv2() {
        let a = target_group_arn("eu-west-1", "123456789012", "auth-blue");
        let b = target_group_arn("eu-west-1", "123456789012", "auth-blue");
        assert_eq!(a, b);
        let hex = a.rsplit('/').next().unwrap();
        assert_eq!(hex.len(), 16);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(a.starts_with(
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/auth-blue/"
        ));
        assert_ne!(
            a,
            target_group_arn("eu-west-1", "123456789012", "auth-green")
        );
    }

    #[test]
    fn ids_have_aws_shapes() {
        let id = ecs_deployment_id("arn:svc", 1);
        assert_eq!(id.len(), "ecs-svc/".len() + 19);
        assert_ne!(id, ecs_deployment_id("arn:svc", 2));
        assert_eq!(alnum_id(&["x"]).len(), 20);
        assert_eq!(name_from_arn("arn:aws:ecs:r:a:service/c/web"), "web");
        assert_eq!(name_from_arn("web"), "web");
    }
}
