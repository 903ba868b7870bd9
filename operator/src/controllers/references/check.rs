//! The lookups behind reference verification: one batched read per kind of reference (every
//! subnet of a spec in one DescribeSubnets), skipping targets found recently, through the
//! object's limited clients. Reads only.

use std::collections::{BTreeMap, BTreeSet};

use aws::accounts::AwsClients;
use aws::{AwsError, AwsResult, ErrorKind};
use jiff::Timestamp;

use super::known::KnownReferences;
use super::model::{Finding, Reference, Target, Verification};

/// What the lookups of one verification found.
#[derive(Default)]
struct Lookups {
    found: BTreeSet<Target>,
    problems: BTreeMap<Target, String>,
    skipped: Vec<String>,
}

impl Lookups {
    /// Records the answer to one target's lookup.
    fn answer(&mut self, target: &Target, problem: Option<String>) {
        match problem {
            None => {
                self.found.insert(target.clone());
            }
            Some(problem) => {
                self.problems.insert(target.clone(), problem);
            }
        }
    }

    /// A lookup the operator may not make: what it could not check, and why; other errors
    /// end the verification (the reconcile is retried and reports AWS's answer).
    fn denied(&mut self, what: &str, e: AwsError) -> AwsResult<()> {
        if e.kind != ErrorKind::AccessDenied {
            return Err(e);
        }
        self.skipped
            .push(format!("{what}: {} ({})", e.code, e.message));
        Ok(())
    }
}

/// Verifies `refs` in the object's account and region.
pub async fn verify(
    refs: &[Reference],
    aws: &AwsClients,
    known: &KnownReferences,
    now: Timestamp,
) -> AwsResult<Verification> {
    let region = aws.region.as_str();
    let pending: BTreeSet<&Target> = refs
        .iter()
        .map(|r| &r.target)
        .filter(|t| !matches!(t, Target::ElsewhereSecret { .. }))
        .filter(|t| !known.is_found(&aws.account, region, t, now))
        .collect();
    let mut lookups = Lookups::default();
    clusters(&pending, aws, &mut lookups).await?;
    network(&pending, aws, &mut lookups).await?;
    roles(&pending, aws, &mut lookups).await?;
    secrets(&pending, aws, &mut lookups).await?;
    load_balancing(&pending, aws, &mut lookups).await?;
    alarms(&pending, aws, &mut lookups).await?;

    let mut verification = Verification {
        checked: refs.len(),
        skipped: lookups.skipped,
        ..Verification::default()
    };
    for r in refs {
        if let Target::ElsewhereSecret {
            value_from,
            region: other,
        } = &r.target
        {
            verification.skipped.push(format!(
                "{}: {value_from} is in {other}, looked up from {region} only",
                r.field
            ));
            continue;
        }
        if let Some(problem) = lookups.problems.get(&r.target) {
            verification.findings.push(Finding {
                field: r.field.clone(),
                problem: problem.clone(),
            });
        } else if lookups.found.contains(&r.target) {
            known.found(&aws.account, region, &r.target, now);
        }
    }
    Ok(verification)
}

/// The distinct values of the pending targets `pick` selects.
fn pick<'a>(
    pending: &BTreeSet<&'a Target>,
    pick: impl Fn(&'a Target) -> Option<&'a String>,
) -> Vec<String> {
    pending.iter().filter_map(|t| pick(t)).cloned().collect()
}

async fn clusters(
    pending: &BTreeSet<&Target>,
    aws: &AwsClients,
    out: &mut Lookups,
) -> AwsResult<()> {
    let names = pick(pending, |t| match t {
        Target::Cluster(n) => Some(n),
        _ => None,
    });
    if names.is_empty() {
        return Ok(());
    }
    let found = match aws.lookup.describe_clusters(&names).await {
        Ok(found) => found,
        Err(e) => return out.denied("ECS clusters", e),
    };
    for name in names {
        let cluster = found
            .iter()
            .find(|c| c.cluster_name == name || c.cluster_arn == name);
        let problem = match cluster {
            Some(c) if c.status == "ACTIVE" => None,
            Some(c) => Some(format!("ECS cluster {name} is {}, not ACTIVE", c.status)),
            None => Some(format!(
                "ECS cluster {name} does not exist in {}",
                aws.region
            )),
        };
        out.answer(&Target::Cluster(name), problem);
    }
    Ok(())
}

async fn network(
    pending: &BTreeSet<&Target>,
    aws: &AwsClients,
    out: &mut Lookups,
) -> AwsResult<()> {
    let subnets = pick(pending, |t| match t {
        Target::Subnet(id) => Some(id),
        _ => None,
    });
    if !subnets.is_empty() {
        match aws.lookup.describe_subnets(&subnets).await {
            Ok(found) => {
                for id in subnets {
                    let exists = found.iter().any(|s| s.subnet_id == id);
                    let problem =
                        (!exists).then(|| format!("subnet {id} does not exist in {}", aws.region));
                    out.answer(&Target::Subnet(id), problem);
                }
            }
            Err(e) => out.denied("subnets", e)?,
        }
    }
    let groups = pick(pending, |t| match t {
        Target::SecurityGroup(id) => Some(id),
        _ => None,
    });
    if !groups.is_empty() {
        match aws.lookup.describe_security_groups(&groups).await {
            Ok(found) => {
                for id in groups {
                    let exists = found.iter().any(|g| g.group_id == id);
                    let problem = (!exists)
                        .then(|| format!("security group {id} does not exist in {}", aws.region));
                    out.answer(&Target::SecurityGroup(id), problem);
                }
            }
            Err(e) => out.denied("security groups", e)?,
        }
    }
    Ok(())
}

async fn roles(pending: &BTreeSet<&Target>, aws: &AwsClients, out: &mut Lookups) -> AwsResult<()> {
    let arns = pick(pending, |t| match t {
        Target::Role(arn) => Some(arn),
        _ => None,
    });
    for arn in arns {
        let Some(name) = aws::lookup::role_name(&arn) else {
            let problem = format!("{arn} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)");
            out.answer(&Target::Role(arn), Some(problem));
            continue;
        };
        match aws.lookup.get_role(name).await {
            Ok(role) => {
                let problem = role
                    .is_none()
                    .then(|| format!("IAM role {name} does not exist ({arn})"));
                out.answer(&Target::Role(arn), problem);
            }
            // One refusal answers for every role: IAM grants GetRole or not.
            Err(e) => return out.denied("IAM roles", e),
        }
    }
    Ok(())
}

async fn secrets(
    pending: &BTreeSet<&Target>,
    aws: &AwsClients,
    out: &mut Lookups,
) -> AwsResult<()> {
    let ids = pick(pending, |t| match t {
        Target::Secret(id) => Some(id),
        _ => None,
    });
    for id in ids {
        match aws.lookup.describe_secret(&id).await {
            Ok(secret) => {
                let problem = match secret {
                    None => Some(format!(
                        "Secrets Manager secret {id} does not exist in {}",
                        aws.region
                    )),
                    Some(s) if s.deleted_date.is_some() => Some(format!(
                        "Secrets Manager secret {id} is scheduled for deletion: restore it or name another"
                    )),
                    Some(_) => None,
                };
                out.answer(&Target::Secret(id), problem);
            }
            Err(e) => {
                out.denied("Secrets Manager secrets", e)?;
                break;
            }
        }
    }
    let names = pick(pending, |t| match t {
        Target::Parameter(n) => Some(n),
        _ => None,
    });
    if !names.is_empty() {
        let mut found = Vec::new();
        for chunk in names.chunks(aws::lookup::PARAMETER_BATCH) {
            match aws.lookup.describe_parameters(chunk).await {
                Ok(more) => found.extend(more),
                Err(e) => return out.denied("SSM parameters", e),
            }
        }
        for name in names {
            let problem = (!found.contains(&name))
                .then(|| format!("SSM parameter {name} does not exist in {}", aws.region));
            out.answer(&Target::Parameter(name), problem);
        }
    }
    Ok(())
}

/// Target groups (by ARN or by name), listeners and listener rules. ELBv2 answers a batch
/// with one missing member as an error for all, so a NotFound batch is asked again one by one.
async fn load_balancing(
    pending: &BTreeSet<&Target>,
    aws: &AwsClients,
    out: &mut Lookups,
) -> AwsResult<()> {
    let mut names: BTreeSet<String> = BTreeSet::new();
    for t in pending {
        match t {
            Target::TargetGroupNamed(n) => {
                names.insert(n.clone());
            }
            Target::TargetGroup(arn) => {
                if let Some(n) = aws::elb::target_group_name(arn) {
                    names.insert(n.to_string());
                } else {
                    let problem = format!("{arn} is not a target group ARN");
                    out.answer(t, Some(problem));
                }
            }
            _ => {}
        }
    }
    let names: Vec<String> = names.into_iter().collect();
    let groups = one_by_one_on_not_found(&names, |batch| async move {
        aws.elb.describe_target_groups(&batch).await
    })
    .await;
    match groups {
        Ok(groups) => {
            for t in pending {
                let problem = match t {
                    Target::TargetGroupNamed(n) => {
                        (!groups.iter().any(|g| &g.target_group_name == n))
                            .then(|| format!("target group {n} does not exist in {}", aws.region))
                    }
                    Target::TargetGroup(arn) if aws::elb::target_group_name(arn).is_some() => {
                        (!groups.iter().any(|g| &g.target_group_arn == arn))
                            .then(|| format!("target group {arn} does not exist"))
                    }
                    _ => continue,
                };
                out.answer(t, problem);
            }
        }
        Err(e) => out.denied("target groups", e)?,
    }

    let listeners = pick(pending, |t| match t {
        Target::Listener(arn) => Some(arn),
        _ => None,
    });
    match one_by_one_on_not_found(&listeners, |batch| async move {
        aws.elb.describe_listeners(&batch).await
    })
    .await
    {
        Ok(found) => {
            for arn in listeners {
                let problem = (!found.iter().any(|l| l.listener_arn == arn))
                    .then(|| format!("listener {arn} does not exist"));
                out.answer(&Target::Listener(arn), problem);
            }
        }
        Err(e) => out.denied("listeners", e)?,
    }

    let rules: Vec<(&String, &Vec<String>, &Target)> = pending
        .iter()
        .filter_map(|t| match t {
            Target::ListenerRule { arn, target_groups } => Some((arn, target_groups, *t)),
            _ => None,
        })
        .collect();
    let arns: Vec<String> = rules
        .iter()
        .map(|(a, _, _)| (*a).clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    match one_by_one_on_not_found(&arns, |batch| async move {
        aws.elb.describe_rules(&batch).await
    })
    .await
    {
        Ok(found) => {
            for (arn, target_groups, target) in rules {
                let problem = match found.iter().find(|r| &r.rule_arn == arn) {
                    None => Some(format!("listener rule {arn} does not exist")),
                    Some(rule) => target_groups
                        .iter()
                        .find(|tg| !rule.forward.iter().any(|f| &f.target_group_arn == *tg))
                        .map(|tg| {
                            format!(
                                "listener rule {arn} does not forward to target group {tg}: ECS blue/green needs both target groups of the pair in the rule's forward action (a weight of 0 is fine), or it rolls the deployment back"
                            )
                        }),
                };
                out.answer(target, problem);
            }
        }
        Err(e) => out.denied("listener rules", e)?,
    }
    Ok(())
}

/// Calls `describe` with all of `keys`; when AWS answers NotFound (one missing key fails the
/// whole batch), again with each key alone, keeping what is found.
async fn one_by_one_on_not_found<T, F, Fut>(keys: &[String], describe: F) -> AwsResult<Vec<T>>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: std::future::Future<Output = AwsResult<Vec<T>>>,
{
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    match describe(keys.to_vec()).await {
        Err(e) if e.kind == ErrorKind::NotFound && keys.len() > 1 => {}
        Err(e) if e.kind == ErrorKind::NotFound => return Ok(Vec::new()),
        other => return other,
    }
    let mut found = Vec::new();
    for key in keys {
        match describe(vec![key.clone()]).await {
            Ok(more) => found.extend(more),
            Err(e) if e.kind == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

async fn alarms(pending: &BTreeSet<&Target>, aws: &AwsClients, out: &mut Lookups) -> AwsResult<()> {
    let names = pick(pending, |t| match t {
        Target::Alarm(n) => Some(n),
        _ => None,
    });
    if names.is_empty() {
        return Ok(());
    }
    match aws.cloudwatch.describe_alarms(&names).await {
        Ok(found) => {
            for name in names {
                let problem = (!found.iter().any(|a| a.alarm_name == name))
                    .then(|| format!("CloudWatch alarm {name} does not exist in {}", aws.region));
                out.answer(&Target::Alarm(name), problem);
            }
            Ok(())
        }
        Err(e) => out.denied("CloudWatch alarms", e),
    }
}
