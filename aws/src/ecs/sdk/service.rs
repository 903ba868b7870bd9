//! Service conversions between the operator's types and `aws_sdk_ecs`: the CreateService and
//! UpdateService requests, the service as DescribeServices returns it, its deployments, and the
//! ECS-native service deployments and revisions.
//!
//! Service reads are lossless: AWS's own defaults (propagateTags NONE, a grace period of 0,
//! assignPublicIp DISABLED, the rolling percentages) come back as AWS reports them; the plan's
//! normaliser fills the same defaults into the desired configuration before diffing.

use aws_sdk_ecs::operation::create_service::builders::CreateServiceFluentBuilder;
use aws_sdk_ecs::operation::update_service::builders::UpdateServiceFluentBuilder;
use aws_sdk_ecs::types as sdk;
use aws_smithy_types::error::operation::BuildError;
use crds::ecs_service::AssignPublicIp;
use jiff::Timestamp;

use super::common::{non_empty, tags_from_sdk, tags_to_sdk, timestamp};
use super::deployment_config::{
    deployment_configuration_from_sdk, deployment_configuration_to_sdk,
};
use crate::ecs::{
    AdvancedConfiguration, AwsVpcConfiguration, CapacityProviderStrategyItem, CreateServiceInput,
    Deployment, DeploymentStatus, LifecycleHookDetail, LoadBalancer, NetworkConfiguration,
    RolloutState, Service, ServiceConfig, ServiceDeployment, ServiceRegistry, ServiceRevision,
    ServiceStatus, UpdateServiceInput,
};

/// Fills a CreateService request with every member of `input`.
pub(super) fn create_request(
    req: CreateServiceFluentBuilder,
    input: CreateServiceInput,
) -> Result<CreateServiceFluentBuilder, BuildError> {
    let CreateServiceInput {
        cluster,
        service_name,
        task_definition,
        desired_count,
        config,
        deployment_controller,
        tags,
        client_token,
    } = input;
    let ServiceConfig {
        launch_type,
        capacity_provider_strategy,
        platform_version,
        network_configuration,
        load_balancers,
        service_registries,
        health_check_grace_period_seconds,
        deployment_configuration,
        enable_execute_command,
        enable_ecs_managed_tags,
        propagate_tags,
    } = config;
    let controller = deployment_controller
        .map(|t| {
            sdk::DeploymentController::builder()
                .r#type(sdk::DeploymentControllerType::from(t.as_str()))
                .build()
        })
        .transpose()?;
    Ok(req
        .cluster(cluster)
        .service_name(service_name)
        .task_definition(task_definition)
        .desired_count(desired_count)
        .set_launch_type(launch_type.as_deref().map(sdk::LaunchType::from))
        .set_capacity_provider_strategy(non_empty(capacity_strategy_to_sdk(
            capacity_provider_strategy,
        )?))
        .set_platform_version(platform_version)
        .set_network_configuration(network_configuration.map(network_to_sdk).transpose()?)
        .set_load_balancers(non_empty(load_balancers_to_sdk(load_balancers)))
        .set_service_registries(non_empty(registries_to_sdk(service_registries)))
        .set_health_check_grace_period_seconds(health_check_grace_period_seconds)
        .set_deployment_configuration(
            deployment_configuration
                .map(deployment_configuration_to_sdk)
                .transpose()?,
        )
        .enable_execute_command(enable_execute_command)
        .enable_ecs_managed_tags(enable_ecs_managed_tags)
        .set_propagate_tags(propagate_tags.as_deref().map(sdk::PropagateTags::from))
        .set_deployment_controller(controller)
        .set_tags(non_empty(tags_to_sdk(tags)))
        .set_client_token(client_token))
}

/// UpdateService. Only what the configuration sets is sent: a field left `None` or empty is
/// not owned by the spec and keeps its value in AWS (booleans are sent only when true). An
/// empty capacity provider strategy is omitted when a launch type is set.
pub(super) fn update_request(
    req: UpdateServiceFluentBuilder,
    input: UpdateServiceInput,
) -> Result<UpdateServiceFluentBuilder, BuildError> {
    let UpdateServiceInput {
        cluster,
        service,
        task_definition,
        desired_count,
        config,
        force_new_deployment,
    } = input;
    let req = req
        .cluster(cluster)
        .service(service)
        .set_task_definition(task_definition)
        .set_desired_count(desired_count)
        .set_force_new_deployment(force_new_deployment.then_some(true));
    let Some(config) = config else {
        return Ok(req);
    };
    let ServiceConfig {
        launch_type,
        capacity_provider_strategy,
        platform_version,
        network_configuration,
        load_balancers,
        service_registries,
        health_check_grace_period_seconds,
        deployment_configuration,
        enable_execute_command,
        enable_ecs_managed_tags,
        propagate_tags,
    } = config;
    let strategy = capacity_strategy_to_sdk(capacity_provider_strategy)?;
    let strategy = (!(strategy.is_empty() && launch_type.is_some())).then_some(strategy);
    Ok(req
        .set_capacity_provider_strategy(strategy)
        .set_platform_version(platform_version)
        .set_network_configuration(network_configuration.map(network_to_sdk).transpose()?)
        .set_load_balancers(non_empty(load_balancers_to_sdk(load_balancers)))
        .set_service_registries(non_empty(registries_to_sdk(service_registries)))
        .set_health_check_grace_period_seconds(health_check_grace_period_seconds)
        .set_deployment_configuration(
            deployment_configuration
                .map(deployment_configuration_to_sdk)
                .transpose()?,
        )
        .set_enable_execute_command(enable_execute_command.then_some(true))
        .set_enable_ecs_managed_tags(enable_ecs_managed_tags.then_some(true))
        .set_propagate_tags(propagate_tags.as_deref().map(sdk::PropagateTags::from)))
}

/// A service as AWS describes it; deployments PRIMARY first.
pub(super) fn service_from_sdk(s: sdk::Service) -> Service {
    let config = ServiceConfig {
        launch_type: s.launch_type.map(|l| l.as_str().to_owned()),
        capacity_provider_strategy: s
            .capacity_provider_strategy
            .unwrap_or_default()
            .into_iter()
            .map(|c| CapacityProviderStrategyItem {
                capacity_provider: c.capacity_provider,
                weight: Some(c.weight),
                base: Some(c.base),
            })
            .collect(),
        platform_version: s.platform_version,
        network_configuration: s.network_configuration.and_then(network_from_sdk),
        load_balancers: s
            .load_balancers
            .unwrap_or_default()
            .into_iter()
            .map(load_balancer_from_sdk)
            .collect(),
        service_registries: s
            .service_registries
            .unwrap_or_default()
            .into_iter()
            .map(|r| ServiceRegistry {
                registry_arn: r.registry_arn.unwrap_or_default(),
                port: r.port,
                container_name: r.container_name,
                container_port: r.container_port,
            })
            .collect(),
        health_check_grace_period_seconds: s.health_check_grace_period_seconds,
        deployment_configuration: s
            .deployment_configuration
            .map(deployment_configuration_from_sdk),
        enable_execute_command: s.enable_execute_command,
        enable_ecs_managed_tags: s.enable_ecs_managed_tags,
        propagate_tags: s.propagate_tags.map(|p| p.as_str().to_owned()),
    };
    let mut deployments: Vec<Deployment> = s
        .deployments
        .unwrap_or_default()
        .into_iter()
        .map(deployment_from_sdk)
        .collect();
    if deployments.is_empty() {
        // CODE_DEPLOY (and EXTERNAL) services report task sets instead of deployments.
        deployments = s
            .task_sets
            .unwrap_or_default()
            .into_iter()
            .filter(|t| t.status.as_deref() != Some("DRAINING"))
            .map(task_set_from_sdk)
            .collect();
    }
    deployments.sort_by_key(|d| d.status != DeploymentStatus::Primary);
    Service {
        service_arn: s.service_arn.unwrap_or_default(),
        service_name: s.service_name.unwrap_or_default(),
        cluster_arn: s.cluster_arn.unwrap_or_default(),
        status: s.status.map(ServiceStatus::from).unwrap_or_default(),
        task_definition: s.task_definition,
        desired_count: s.desired_count,
        running_count: s.running_count,
        pending_count: s.pending_count,
        config,
        deployment_controller: s
            .deployment_controller
            .map(|c| c.r#type.as_str().into())
            .unwrap_or_default(),
        deployments,
        tags: tags_from_sdk(s.tags.unwrap_or_default()),
        created_at: s.created_at.as_ref().and_then(timestamp),
    }
}

/// A task set as a deployment: PRIMARY/ACTIVE as the task set says, COMPLETED once it reached
/// steady state.
fn task_set_from_sdk(t: sdk::TaskSet) -> Deployment {
    let steady = t.stability_status == Some(sdk::StabilityStatus::SteadyState);
    Deployment {
        id: t.id.unwrap_or_default(),
        status: t.status.map(DeploymentStatus::from).unwrap_or_default(),
        task_definition: t.task_definition.unwrap_or_default(),
        desired_count: t.computed_desired_count,
        running_count: t.running_count,
        pending_count: t.pending_count,
        failed_tasks: 0,
        rollout_state: Some(if steady {
            RolloutState::Completed
        } else {
            RolloutState::InProgress
        }),
        rollout_state_reason: None,
        created_at: required_time(t.created_at.as_ref()),
        updated_at: required_time(t.updated_at.as_ref()),
    }
}

fn deployment_from_sdk(d: sdk::Deployment) -> Deployment {
    Deployment {
        id: d.id.unwrap_or_default(),
        status: d.status.map(DeploymentStatus::from).unwrap_or_default(),
        task_definition: d.task_definition.unwrap_or_default(),
        desired_count: d.desired_count,
        running_count: d.running_count,
        pending_count: d.pending_count,
        failed_tasks: d.failed_tasks,
        rollout_state: d.rollout_state.map(|r| r.as_str().into()),
        rollout_state_reason: d.rollout_state_reason,
        created_at: required_time(d.created_at.as_ref()),
        updated_at: required_time(d.updated_at.as_ref()),
    }
}

/// An ECS-native service deployment.
pub(super) fn service_deployment_from_sdk(d: sdk::ServiceDeployment) -> ServiceDeployment {
    ServiceDeployment {
        service_deployment_arn: d.service_deployment_arn.unwrap_or_default(),
        service_arn: d.service_arn.unwrap_or_default(),
        status: d.status.map(|s| s.as_str().into()).unwrap_or_default(),
        status_reason: d.status_reason,
        lifecycle_stage: d.lifecycle_stage.map(|s| s.as_str().to_owned()),
        target_service_revision_arn: d.target_service_revision.and_then(|r| r.arn),
        source_service_revision_arns: d
            .source_service_revisions
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| r.arn)
            .collect(),
        lifecycle_hook_details: d
            .lifecycle_hook_details
            .unwrap_or_default()
            .into_iter()
            .map(|h| LifecycleHookDetail {
                hook_id: h.hook_id.unwrap_or_default(),
                target_type: h
                    .target_type
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
                status: h.status.map(|s| s.as_str().into()).unwrap_or_default(),
                // AWS does not say which stage a hook invocation belongs to.
                lifecycle_stage: None,
                expires_at: h.expires_at.as_ref().and_then(timestamp),
            })
            .collect(),
        created_at: required_time(d.created_at.as_ref()),
        finished_at: d.finished_at.as_ref().and_then(timestamp),
        rollback_reason: d.rollback.and_then(|r| r.reason),
    }
}

/// A service revision.
pub(super) fn service_revision_from_sdk(r: sdk::ServiceRevision) -> ServiceRevision {
    ServiceRevision {
        service_revision_arn: r.service_revision_arn.unwrap_or_default(),
        task_definition: r.task_definition.unwrap_or_default(),
    }
}

/// A timestamp AWS always sends; the epoch stands in should one ever be missing.
fn required_time(t: Option<&aws_smithy_types::DateTime>) -> Timestamp {
    t.and_then(timestamp).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn capacity_strategy_to_sdk(
    items: Vec<CapacityProviderStrategyItem>,
) -> Result<Vec<sdk::CapacityProviderStrategyItem>, BuildError> {
    items
        .into_iter()
        .map(|c| {
            let CapacityProviderStrategyItem {
                capacity_provider,
                weight,
                base,
            } = c;
            sdk::CapacityProviderStrategyItem::builder()
                .capacity_provider(capacity_provider)
                .set_weight(weight)
                .set_base(base)
                .build()
        })
        .collect()
}

fn network_to_sdk(n: NetworkConfiguration) -> Result<sdk::NetworkConfiguration, BuildError> {
    let NetworkConfiguration {
        awsvpc_configuration:
            AwsVpcConfiguration {
                subnets,
                security_groups,
                assign_public_ip,
            },
    } = n;
    let vpc = sdk::AwsVpcConfiguration::builder()
        .set_subnets(Some(subnets))
        .set_security_groups(security_groups)
        .set_assign_public_ip(assign_public_ip.map(|a| match a {
            AssignPublicIp::Enabled => sdk::AssignPublicIp::Enabled,
            AssignPublicIp::Disabled => sdk::AssignPublicIp::Disabled,
        }))
        .build()?;
    Ok(sdk::NetworkConfiguration::builder()
        .awsvpc_configuration(vpc)
        .build())
}

fn network_from_sdk(n: sdk::NetworkConfiguration) -> Option<NetworkConfiguration> {
    let vpc = n.awsvpc_configuration?;
    Some(NetworkConfiguration {
        awsvpc_configuration: AwsVpcConfiguration {
            subnets: vpc.subnets,
            security_groups: vpc.security_groups,
            assign_public_ip: match vpc.assign_public_ip {
                Some(sdk::AssignPublicIp::Enabled) => Some(AssignPublicIp::Enabled),
                Some(sdk::AssignPublicIp::Disabled) => Some(AssignPublicIp::Disabled),
                _ => None,
            },
        },
    })
}

fn load_balancers_to_sdk(lbs: Vec<LoadBalancer>) -> Vec<sdk::LoadBalancer> {
    lbs.into_iter()
        .map(|lb| {
            let LoadBalancer {
                target_group_arn,
                load_balancer_name,
                container_name,
                container_port,
                advanced_configuration,
            } = lb;
            sdk::LoadBalancer::builder()
                .set_target_group_arn(target_group_arn)
                .set_load_balancer_name(load_balancer_name)
                .container_name(container_name)
                .container_port(container_port)
                .set_advanced_configuration(advanced_configuration.map(|a| {
                    let AdvancedConfiguration {
                        alternate_target_group_arn,
                        production_listener_rule,
                        test_listener_rule,
                        role_arn,
                    } = a;
                    sdk::AdvancedConfiguration::builder()
                        .alternate_target_group_arn(alternate_target_group_arn)
                        .production_listener_rule(production_listener_rule)
                        .set_test_listener_rule(test_listener_rule)
                        .role_arn(role_arn)
                        .build()
                }))
                .build()
        })
        .collect()
}

fn load_balancer_from_sdk(lb: sdk::LoadBalancer) -> LoadBalancer {
    LoadBalancer {
        target_group_arn: lb.target_group_arn,
        load_balancer_name: lb.load_balancer_name,
        container_name: lb.container_name.unwrap_or_default(),
        container_port: lb.container_port.unwrap_or_default(),
        advanced_configuration: lb.advanced_configuration.map(|a| AdvancedConfiguration {
            alternate_target_group_arn: a.alternate_target_group_arn.unwrap_or_default(),
            production_listener_rule: a.production_listener_rule.unwrap_or_default(),
            test_listener_rule: a.test_listener_rule,
            role_arn: a.role_arn.unwrap_or_default(),
        }),
    }
}

fn registries_to_sdk(regs: Vec<ServiceRegistry>) -> Vec<sdk::ServiceRegistry> {
    regs.into_iter()
        .map(|r| {
            let ServiceRegistry {
                registry_arn,
                port,
                container_name,
                container_port,
            } = r;
            sdk::ServiceRegistry::builder()
                .registry_arn(registry_arn)
                .set_port(port)
                .set_container_name(container_name)
                .set_container_port(container_port)
                .build()
        })
        .collect()
}
