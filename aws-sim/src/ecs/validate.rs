//! The checks CreateService and UpdateService make before changing anything (launch type and
//! task definition compatibility, network, load balancers, deployment configuration), and the
//! defaults AWS fills into a service configuration. Pure: reads state, changes nothing. The tag
//! rules are `ecs::tags`.

use crate::ecs::errors::{
    invalid_parameter, security_group_not_found, subnet_not_found, target_group_not_found,
};
use crate::ecs::task_definitions::TaskDefRecord;
use crate::elb::ElbState;
use crate::network::NetworkState;
use aws::ecs::{CircuitBreaker, DeploymentConfiguration, ServiceConfig};
use aws::error::AwsResult;

/// Fills in what AWS reports for members the caller left out: launchType EC2 when neither a
/// launch type nor a capacity provider strategy is given, platformVersion LATEST on Fargate,
/// assignPublicIp DISABLED, propagateTags NONE, and deploymentConfiguration strategy ROLLING,
/// maximumPercent 200, minimumHealthyPercent 100 and a disabled circuit breaker.
pub(crate) fn fill_defaults(config: &mut ServiceConfig) {
    if config.launch_type.is_none() && config.capacity_provider_strategy.is_empty() {
        config.launch_type = Some("EC2".to_owned());
    }
    if is_fargate(config) && config.platform_version.is_none() {
        config.platform_version = Some("LATEST".to_owned());
    }
    if let Some(net) = &mut config.network_configuration
        && net.awsvpc_configuration.assign_public_ip.is_none()
    {
        net.awsvpc_configuration.assign_public_ip =
            Some(crds::ecs_service::AssignPublicIp::Disabled);
    }
    if config.propagate_tags.is_none() {
        config.propagate_tags = Some("NONE".to_owned());
    }
    let dc = config
        .deployment_configuration
        .get_or_insert_with(DeploymentConfiguration::default);
    dc.strategy.get_or_insert_with(|| "ROLLING".to_owned());
    dc.maximum_percent.get_or_insert(200);
    dc.minimum_healthy_percent.get_or_insert(100);
    dc.deployment_circuit_breaker
        .get_or_insert_with(CircuitBreaker::default);
}

/// Whether the service's tasks run on Fargate (launch type or capacity providers).
pub(crate) fn is_fargate(config: &ServiceConfig) -> bool {
    config.launch_type.as_deref() == Some("FARGATE")
        || config
            .capacity_provider_strategy
            .iter()
            .any(|c| c.capacity_provider.starts_with("FARGATE"))
}

/// Checks a service configuration against the task definition and the account's network and
/// load balancers.
pub(crate) fn validate_service(
    config: &ServiceConfig,
    td: &TaskDefRecord,
    network: &NetworkState,
    elb: &ElbState,
) -> AwsResult<()> {
    validate_launch(config, td)?;
    validate_network(config, td, network)?;
    validate_load_balancers(config, td, elb)?;
    validate_deployment_configuration(config)?;
    if config
        .health_check_grace_period_seconds
        .is_some_and(|g| g < 0)
    {
        return Err(invalid_parameter(
            "healthCheckGracePeriodSeconds must be greater than or equal to 0.",
        ));
    }
    Ok(())
}

fn validate_launch(config: &ServiceConfig, td: &TaskDefRecord) -> AwsResult<()> {
    if config.launch_type.is_some() && !config.capacity_provider_strategy.is_empty() {
        return Err(invalid_parameter(
            "Specifying both a launch type and capacity provider strategy is not supported. \
             Remove one and try again.",
        ));
    }
    if let Some(lt) = &config.launch_type
        && !["EC2", "FARGATE", "EXTERNAL"].contains(&lt.as_str())
    {
        return Err(invalid_parameter(format!("Invalid launch type: {lt}")));
    }
    if let Some(cp) = config
        .capacity_provider_strategy
        .iter()
        .find(|c| !["FARGATE", "FARGATE_SPOT"].contains(&c.capacity_provider.as_str()))
    {
        return Err(invalid_parameter(format!(
            "The specified capacity provider strategy cannot contain a capacity provider that is \
             not associated with the cluster. Associate the capacity provider with the cluster or \
             specify a valid capacity provider and try again. ({})",
            cp.capacity_provider
        )));
    }
    let compat = &td.definition.requires_compatibilities;
    let launch = if is_fargate(config) {
        "FARGATE"
    } else {
        config.launch_type.as_deref().unwrap_or("EC2")
    };
    let supported = if compat.is_empty() {
        launch == "EC2" || launch == "EXTERNAL"
    } else {
        compat.iter().any(|c| c == launch)
    };
    if !supported {
        return Err(invalid_parameter(format!(
            "Task definition does not support launch_type {launch}."
        )));
    }
    Ok(())
}

fn validate_network(
    config: &ServiceConfig,
    td: &TaskDefRecord,
    network: &NetworkState,
) -> AwsResult<()> {
    let awsvpc = td.definition.network_mode.as_deref() == Some("awsvpc");
    let Some(net) = &config.network_configuration else {
        if awsvpc {
            return Err(invalid_parameter(
                "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
            ));
        }
        return Ok(());
    };
    if !awsvpc {
        return Err(invalid_parameter(
            "Network Configuration is not valid for the given networkMode of this task definition.",
        ));
    }
    let vpc = &net.awsvpc_configuration;
    if vpc.subnets.is_empty() {
        return Err(invalid_parameter("subnets can not be empty."));
    }
    if vpc.subnets.len() > 16 {
        return Err(invalid_parameter("subnets can have at most 16 items."));
    }
    let missing: Vec<&str> = vpc
        .subnets
        .iter()
        .map(String::as_str)
        .filter(|s| !network.subnets.contains_key(*s))
        .collect();
    if !missing.is_empty() {
        return Err(subnet_not_found(&missing));
    }
    let vpc_id = network.subnets[&vpc.subnets[0]].vpc_id.as_str();
    if vpc
        .subnets
        .iter()
        .any(|s| network.subnets[s].vpc_id != vpc_id)
    {
        return Err(invalid_parameter(
            "The subnets provided must all belong to the same VPC.",
        ));
    }
    let groups = vpc.security_groups.as_deref().unwrap_or_default();
    if groups.len() > 5 {
        return Err(invalid_parameter(
            "securityGroups can have at most 5 items.",
        ));
    }
    let missing: Vec<&str> = groups
        .iter()
        .map(String::as_str)
        .filter(|g| !network.security_groups.contains_key(*g))
        .collect();
    if !missing.is_empty() {
        return Err(security_group_not_found(&missing, None));
    }
    let elsewhere: Vec<&str> = groups
        .iter()
        .map(String::as_str)
        .filter(|g| network.security_groups[*g].vpc_id != vpc_id)
        .collect();
    if !elsewhere.is_empty() {
        return Err(security_group_not_found(&elsewhere, Some(vpc_id)));
    }
    Ok(())
}

fn validate_load_balancers(
    config: &ServiceConfig,
    td: &TaskDefRecord,
    elb: &ElbState,
) -> AwsResult<()> {
    if config.load_balancers.len() > 5 {
        return Err(invalid_parameter("loadBalancers can have at most 5 items."));
    }
    for lb in &config.load_balancers {
        let Some(tg_arn) = lb.target_group_arn.as_deref() else {
            return Err(invalid_parameter(
                "Classic Load Balancers are not supported by this account: specify a targetGroupArn.",
            ));
        };
        let tg = elb
            .target_group(tg_arn)
            .ok_or_else(|| target_group_not_found(tg_arn))?;
        if elb.load_balancers_of(tg_arn).is_empty() {
            return Err(invalid_parameter(format!(
                "The target group with targetGroupArn {tg_arn} does not have an associated load balancer."
            )));
        }
        if td.definition.network_mode.as_deref() == Some("awsvpc") && tg.target_type != "ip" {
            return Err(invalid_parameter(format!(
                "The provided target group {tg_arn} has target type {}, which is incompatible with \
                 the awsvpc network mode specified in the task definition.",
                tg.target_type
            )));
        }
        if let Some(alt) = lb
            .advanced_configuration
            .as_ref()
            .map(|a| a.alternate_target_group_arn.as_str())
            && elb.target_group(alt).is_none()
        {
            return Err(target_group_not_found(alt));
        }
        let container = td
            .definition
            .container_definitions
            .iter()
            .find(|c| c.name == lb.container_name)
            .ok_or_else(|| {
                invalid_parameter(format!(
                    "The container {} does not exist in the task definition.",
                    lb.container_name
                ))
            })?;
        let has_port = container
            .port_mappings
            .iter()
            .flatten()
            .any(|p| p.container_port == lb.container_port);
        if !has_port {
            return Err(invalid_parameter(format!(
                "The container {} did not have a container port {} defined.",
                lb.container_name, lb.container_port
            )));
        }
    }
    Ok(())
}

fn validate_deployment_configuration(config: &ServiceConfig) -> AwsResult<()> {
    let Some(dc) = &config.deployment_configuration else {
        return Ok(());
    };
    if let Some(s) = &dc.strategy
        && !["ROLLING", "BLUE_GREEN", "LINEAR", "CANARY"].contains(&s.as_str())
    {
        return Err(invalid_parameter(format!(
            "Invalid deployment strategy: {s}. Valid values are ROLLING, BLUE_GREEN, LINEAR, CANARY."
        )));
    }
    if dc
        .minimum_healthy_percent
        .is_some_and(|m| !(0..=100).contains(&m))
    {
        return Err(invalid_parameter(
            "minimumHealthyPercent must be between 0 and 100.",
        ));
    }
    if dc.maximum_percent.is_some_and(|m| m < 100) {
        return Err(invalid_parameter(
            "maximumPercent must be greater than or equal to 100 for services using the REPLICA scheduling strategy.",
        ));
    }
    if let (Some(min), Some(max)) = (dc.minimum_healthy_percent, dc.maximum_percent)
        && min > max
    {
        return Err(invalid_parameter(
            "minimumHealthyPercent must be less than or equal to maximumPercent.",
        ));
    }
    Ok(())
}

/// Whether a configuration change needs a new deployment (new tasks): network, load balancers,
/// service registries, platform version, launch type or capacity providers.
pub(crate) fn needs_new_deployment(old: &ServiceConfig, new: &ServiceConfig) -> bool {
    old.network_configuration != new.network_configuration
        || old.load_balancers != new.load_balancers
        || old.service_registries != new.service_registries
        || old.platform_version != new.platform_version
        || old.launch_type != new.launch_type
        || old.capacity_provider_strategy != new.capacity_provider_strategy
}

/// Whether a configuration change is one CODE_DEPLOY services refuse (network, load balancers,
/// platform version, launch type, capacity providers).
pub(crate) fn code_deploy_refuses(old: &ServiceConfig, new: &ServiceConfig) -> bool {
    old.network_configuration != new.network_configuration
        || old.load_balancers != new.load_balancers
        || old.platform_version != new.platform_version
        || old.launch_type != new.launch_type
        || old.capacity_provider_strategy != new.capacity_provider_strategy
}
