//! Checks a BlueGreenRollout against what the CRD schema and CEL cannot see — the EcsService it
//! names exists, no older rollout releases the same service, the target groups and listener
//! rules belong to that service, gates have a test listener — and turns it into a
//! `ValidatedSpec`. Pure: the referenced objects come from the stores.

use std::sync::Arc;

use crds::rollout::{EcsNativeStrategy, ReadyAction};
use crds::{BlueGreenRollout, EcsService};

use super::analysis::{self, MetricPlan};
use super::engine::{self, EngineSettings};
use super::machine::{CheckSpec, Gates};
use crate::controllers::ownership::{self, ServiceAccess};
use aws::codedeploy::{DeploymentConfigSpec, DeploymentGroupSpec, Tag};
use aws::elb::{listener_of_rule, target_group_name};
use crds::common::OWNER_TAG;

/// Default HTTP check interval (seconds) and count.
const CHECK_INTERVAL_SECS: i64 = 10;
const CHECK_COUNT: i32 = 3;

/// Why a rollout cannot be acted on: a PascalCase reason and a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    /// Condition reason.
    pub reason: &'static str,
    /// What is wrong and what to do.
    pub message: String,
    /// Whether what is missing is expected to appear by itself (an object applied in the same
    /// GitOps sync): the rollout waits, Reconciling, instead of stalling.
    pub waits: bool,
}

fn invalid(reason: &'static str, message: impl Into<String>) -> Invalid {
    Invalid {
        reason,
        message: message.into(),
        waits: false,
    }
}

/// The ECS service a rollout releases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceTarget {
    /// EcsService object name.
    pub object: String,
    /// The EcsService's owner tag value: the tag its ECS service must carry.
    pub owner: String,
    /// The EcsService adopts an untagged ECS service (the rollout waits for it to).
    pub adopts: bool,
    /// Cluster.
    pub cluster: String,
    /// ECS service name.
    pub service_name: String,
    /// Region.
    pub region: Option<String>,
    /// The service's (blue) target group.
    pub target_group_arn: String,
    /// Container behind the load balancer.
    pub container_name: String,
    /// Its port.
    pub container_port: i32,
}

/// The CodeDeploy resources of a rollout.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeDeployPlan {
    /// Application name.
    pub application_name: String,
    /// The deployment group as it must be.
    pub group: DeploymentGroupSpec,
    /// A custom deployment config to create, if the strategy asks for one.
    pub config: Option<DeploymentConfigSpec>,
    /// Tags for what the operator creates.
    pub tags: Vec<Tag>,
}

/// The engine of a rollout.
#[derive(Debug, Clone, PartialEq)]
pub enum Engine {
    /// CodeDeploy.
    CodeDeploy(Box<CodeDeployPlan>),
    /// ECS-native.
    EcsNative,
}

/// A BlueGreenRollout that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedSpec {
    /// `<namespace>/<name>`.
    pub owner: String,
    /// The service.
    pub service: ServiceTarget,
    /// The engine.
    pub engine: Engine,
    /// What the engine needs of the ECS service.
    pub settings: EngineSettings,
    /// Operator-side gates.
    pub gates: Gates,
    /// Alarms watched during releases.
    pub alarm_names: Vec<String>,
    /// Listener the HTTP checks go through.
    pub test_listener_arn: Option<String>,
    /// The production rule (ECS-native) or listener (CodeDeploy) the weights are read from.
    pub production_route: String,
    /// Metric analysis, in the order of `gates.metrics`.
    pub metrics: Vec<MetricPlan>,
}

/// Validates `rollout` against its EcsService and the other rollouts of the namespace.
pub fn validate(
    rollout: &BlueGreenRollout,
    service: Option<&EcsService>,
    rollouts_for_service: &[Arc<BlueGreenRollout>],
) -> Result<ValidatedSpec, Invalid> {
    let spec = &rollout.spec;
    let namespace = rollout.metadata.namespace.clone().unwrap_or_default();
    let name = rollout.metadata.name.clone().unwrap_or_default();
    let service_ref = &spec.service_ref.name;
    if let Some(first) = rollouts_for_service.first()
        && first.metadata.name.as_deref() != Some(name.as_str())
    {
        return Err(invalid(
            "DuplicateRollout",
            format!(
                "EcsService {service_ref} is already released by BlueGreenRollout {}; one rollout per service — delete this one or the other",
                first.metadata.name.as_deref().unwrap_or("?")
            ),
        ));
    }
    // The spec's own expressions first: a bad condition is refused whatever else is missing.
    let metrics = spec
        .analysis
        .iter()
        .flat_map(|a| a.metrics.iter())
        .enumerate()
        .map(|(i, m)| analysis::plan(i, m).map_err(|message| invalid("InvalidAnalysis", message)))
        .collect::<Result<Vec<_>, _>>()?;
    let requester = format!("BlueGreenRollout {namespace}/{name}");
    let service = match (
        ownership::service_access(&requester, service_ref, service, None),
        service,
    ) {
        (ServiceAccess::Granted, Some(service)) => service,
        (ServiceAccess::Refused(r), _) => return Err(invalid(r.reason, r.message)),
        (ServiceAccess::Wait(message), _) => {
            return Err(Invalid {
                waits: true,
                ..invalid("WaitingForService", message)
            });
        }
        (ServiceAccess::Granted, None) => {
            return Err(Invalid {
                waits: true,
                ..invalid(
                    "WaitingForService",
                    format!("waiting for EcsService {service_ref} to exist"),
                )
            });
        }
    };
    let Some(lb) = service.spec.load_balancers.iter().flatten().next() else {
        return Err(invalid(
            "NoLoadBalancer",
            format!(
                "EcsService {service_ref} has no loadBalancers; blue/green needs its first loadBalancers[] entry with a targetGroupArn"
            ),
        ));
    };
    let Some(target_group_arn) = lb.target_group_arn.clone() else {
        return Err(invalid(
            "NoLoadBalancer",
            format!("EcsService {service_ref} loadBalancers[0] has no targetGroupArn"),
        ));
    };
    let target = ServiceTarget {
        object: service_ref.clone(),
        owner: ownership::owner_of(service),
        adopts: service.spec.adoption_policy == crds::common::AdoptionPolicy::Adopt,
        cluster: service.spec.cluster.clone(),
        service_name: service.service_name().to_owned(),
        region: service.spec.region.clone(),
        target_group_arn: target_group_arn.clone(),
        container_name: lb.container_name.clone(),
        container_port: lb.container_port,
    };
    let settings = engine::service_settings(rollout).ok_or_else(|| {
        invalid(
            "InvalidStrategy",
            "set exactly one of spec.strategy.codeDeploy or spec.strategy.ecsNative",
        )
    })?;
    let mut gates = gates(rollout)?;
    gates.metrics = metrics.iter().map(|m| m.spec.clone()).collect();
    if let Some((i, m)) = gates.metrics.iter().enumerate().find(|(_, m)| {
        !m.dry_run && m.initial_delay_secs + m.interval_secs >= gates.progress_deadline_secs
    }) {
        return Err(invalid(
            "InvalidAnalysis",
            format!(
                "spec.analysis.metrics[{i}] ({}): initialDelaySeconds + intervalSeconds ({}s) must be below progressDeadlineSeconds ({}s), or the release is aborted for no progress before it is measured",
                m.name,
                m.initial_delay_secs + m.interval_secs,
                gates.progress_deadline_secs
            ),
        ));
    }
    let owner = format!("{namespace}/{name}");
    let (engine, test_listener_arn, production_route) = match (
        &spec.strategy.code_deploy,
        &spec.strategy.ecs_native,
    ) {
        (Some(cd), None) => {
            let tg_name = target_group_name(&target_group_arn).unwrap_or_default();
            let pair = &cd.target_group_pair_info.target_groups;
            if pair.len() != 2 || pair[0].name == pair[1].name {
                return Err(invalid(
                    "InvalidTargetGroups",
                    "spec.strategy.codeDeploy.targetGroupPairInfo.targetGroups needs two different target groups",
                ));
            }
            if pair[0].name != tg_name {
                let hint = if pair[1].name == tg_name {
                    "; swap the two entries".to_owned()
                } else {
                    String::new()
                };
                return Err(invalid(
                    "TargetGroupMismatch",
                    format!(
                        "targetGroups[0] is {} but EcsService {service_ref} registers its tasks with target group {tg_name}{hint}",
                        pair[0].name
                    ),
                ));
            }
            let explicit_continue = cd
                .deployment_ready_option
                .as_ref()
                .and_then(|r| r.action_on_timeout)
                == Some(ReadyAction::ContinueDeployment);
            if explicit_continue && engine::has_gates(spec) {
                return Err(invalid(
                    "GatesNeedReadyWait",
                    "deploymentReadyOption.actionOnTimeout CONTINUE_DEPLOYMENT would shift production before the HTTP checks or promotion; remove it or the gates",
                ));
            }
            let application_name = cd
                .application_name
                .clone()
                .unwrap_or_else(|| format!("{namespace}-{}", target.service_name));
            let group_name = cd
                .deployment_group_name
                .clone()
                .unwrap_or_else(|| target.service_name.clone());
            let group = engine::deployment_group(
                spec,
                cd,
                (&application_name, &group_name),
                (&target.cluster, &target.service_name),
            );
            let test = group.target_group_pair.test_listener_arns.first().cloned();
            let prod = group
                .target_group_pair
                .prod_listener_arns
                .first()
                .cloned()
                .unwrap_or_default();
            let plan = CodeDeployPlan {
                application_name,
                config: engine::deployment_config(cd).1,
                group,
                tags: vec![Tag {
                    key: OWNER_TAG.to_owned(),
                    value: owner.clone(),
                }],
            };
            (Engine::CodeDeploy(Box::new(plan)), test, prod)
        }
        (None, Some(native)) => {
            check_native(native, &target_group_arn, service_ref)?;
            let a = &native.advanced_configuration;
            let test = a.test_listener_rule.as_deref().and_then(listener_of_rule);
            (Engine::EcsNative, test, a.production_listener_rule.clone())
        }
        _ => unreachable!("service_settings checked the strategy"),
    };
    if !gates.checks.is_empty() && test_listener_arn.is_none() {
        return Err(invalid(
            "NoTestListener",
            "analysis.httpChecks go through the test listener: set codeDeploy.targetGroupPairInfo.testTrafficRoute or ecsNative.advancedConfiguration.testListenerRule",
        ));
    }
    Ok(ValidatedSpec {
        owner,
        service: target,
        engine,
        settings,
        gates,
        alarm_names: spec
            .analysis
            .as_ref()
            .map(|a| a.alarm_names.clone())
            .unwrap_or_default(),
        test_listener_arn,
        production_route,
        metrics,
    })
}

fn check_native(
    native: &EcsNativeStrategy,
    service_tg: &str,
    service_ref: &str,
) -> Result<(), Invalid> {
    let a = &native.advanced_configuration;
    if a.alternate_target_group_arn == service_tg {
        return Err(invalid(
            "TargetGroupMismatch",
            format!(
                "advancedConfiguration.alternateTargetGroupArn is EcsService {service_ref}'s own target group; name the other (green) target group"
            ),
        ));
    }
    if !a.production_listener_rule.contains(":listener-rule/") {
        return Err(invalid(
            "InvalidListenerRule",
            format!(
                "advancedConfiguration.productionListenerRule {} is not a listener rule ARN",
                a.production_listener_rule
            ),
        ));
    }
    if let Some(c) = &native.canary_configuration
        && !(0.1..=100.0).contains(&c.canary_percent)
    {
        return Err(invalid(
            "PercentOutOfRange",
            "canaryConfiguration.canaryPercent must be 0.1–100",
        ));
    }
    if let Some(l) = &native.linear_configuration
        && !(3.0..=100.0).contains(&l.step_percent)
    {
        return Err(invalid(
            "PercentOutOfRange",
            "linearConfiguration.stepPercent must be 3–100",
        ));
    }
    Ok(())
}

fn gates(rollout: &BlueGreenRollout) -> Result<Gates, Invalid> {
    let spec = &rollout.spec;
    let deadline = engine::progress_deadline(spec);
    let auto_seconds = spec.auto_promotion_seconds.unwrap_or(0);
    if auto_seconds >= deadline {
        return Err(invalid(
            "InvalidGates",
            format!(
                "autoPromotionSeconds ({auto_seconds}) must be below progressDeadlineSeconds ({deadline})"
            ),
        ));
    }
    let checks = spec
        .analysis
        .iter()
        .flat_map(|a| &a.http_checks)
        .map(|c| CheckSpec {
            path: c.path.clone(),
            expected_status: c.expected_status.unwrap_or(200),
            interval_secs: c.interval_seconds.unwrap_or(CHECK_INTERVAL_SECS).max(1),
            count: c.count.unwrap_or(CHECK_COUNT).max(1),
        })
        .collect::<Vec<_>>();
    if let Some(bad) = checks.iter().find(|c| !c.path.starts_with('/')) {
        return Err(invalid(
            "InvalidGates",
            format!("HTTP check path {:?} must start with /", bad.path),
        ));
    }
    Ok(Gates {
        auto_promotion_enabled: spec.auto_promotion_enabled,
        auto_promotion_seconds: auto_seconds,
        checks,
        metrics: Vec::new(),
        progress_deadline_secs: deadline,
    })
}

#[cfg(test)]
#[path = "validate_tests.rs"]
pub(crate) mod tests;
