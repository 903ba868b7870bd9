//! Task definition conversions between the operator's types and `aws_sdk_ecs` (both directions,
//! every field of the crds types). Reads normalise what AWS fills in on its own (empty lists and
//! maps, a container `cpu` of 0) back to "not set", so a revision round-trips what was registered.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionFluentBuilder;
use aws_sdk_ecs::types as sdk;
use aws_smithy_types::error::operation::BuildError;
use crds::task_definition::{
    ContainerDependency, EfsVolumeConfiguration, HealthCheck, HostVolume, KeyValuePair,
    LogConfiguration, MountPoint, PortMapping, Secret,
};

use super::common::{non_empty, non_zero, tags_from_sdk, tags_to_sdk, timestamp};
use crate::ecs::{
    ContainerDefinition, EphemeralStorage, RuntimePlatform, TaskDefinition, TaskDefinitionInput,
    Volume,
};

/// Fills a RegisterTaskDefinition request with every member of `input`.
pub(super) fn register_request(
    req: RegisterTaskDefinitionFluentBuilder,
    input: TaskDefinitionInput,
) -> Result<RegisterTaskDefinitionFluentBuilder, BuildError> {
    let TaskDefinitionInput {
        family,
        cpu,
        memory,
        network_mode,
        requires_compatibilities,
        execution_role_arn,
        task_role_arn,
        runtime_platform,
        container_definitions,
        volumes,
        ephemeral_storage,
        tags,
    } = input;
    let containers = container_definitions
        .into_iter()
        .map(container_to_sdk)
        .collect::<Result<Vec<_>, _>>()?;
    let volumes = volumes
        .into_iter()
        .map(volume_to_sdk)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(req
        .family(family)
        .set_cpu(cpu)
        .set_memory(memory)
        .set_network_mode(network_mode.as_deref().map(sdk::NetworkMode::from))
        .set_requires_compatibilities(non_empty(
            requires_compatibilities
                .iter()
                .map(|c| sdk::Compatibility::from(c.as_str()))
                .collect(),
        ))
        .set_execution_role_arn(execution_role_arn)
        .set_task_role_arn(task_role_arn)
        .set_runtime_platform(runtime_platform.map(runtime_platform_to_sdk))
        .set_container_definitions(Some(containers))
        .set_volumes(non_empty(volumes))
        .set_ephemeral_storage(ephemeral_storage.map(|e| {
            sdk::EphemeralStorage::builder()
                .size_in_gib(e.size_in_gib)
                .build()
        }))
        .set_tags(non_empty(tags_to_sdk(tags))))
}

/// A task definition revision as AWS describes it, with the tags returned next to it.
pub(super) fn task_definition_from_sdk(
    td: sdk::TaskDefinition,
    tags: Option<Vec<sdk::Tag>>,
) -> TaskDefinition {
    let tags = tags_from_sdk(tags.unwrap_or_default());
    let definition = TaskDefinitionInput {
        family: td.family.clone().unwrap_or_default(),
        cpu: td.cpu,
        memory: td.memory,
        network_mode: td.network_mode.map(|m| m.as_str().to_owned()),
        requires_compatibilities: td
            .requires_compatibilities
            .unwrap_or_default()
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect(),
        execution_role_arn: td.execution_role_arn,
        task_role_arn: td.task_role_arn,
        runtime_platform: td.runtime_platform.map(|p| RuntimePlatform {
            cpu_architecture: p.cpu_architecture.map(|a| a.as_str().to_owned()),
            operating_system_family: p.operating_system_family.map(|o| o.as_str().to_owned()),
        }),
        container_definitions: td
            .container_definitions
            .unwrap_or_default()
            .into_iter()
            .map(container_from_sdk)
            .collect(),
        volumes: td
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(volume_from_sdk)
            .collect(),
        ephemeral_storage: td.ephemeral_storage.map(|e| EphemeralStorage {
            size_in_gib: e.size_in_gib,
        }),
        tags: tags.clone(),
    };
    TaskDefinition {
        task_definition_arn: td.task_definition_arn.unwrap_or_default(),
        family: td.family.unwrap_or_default(),
        revision: td.revision,
        status: td.status.map(|s| s.as_str().into()).unwrap_or_default(),
        tags,
        definition,
        registered_at: td.registered_at.as_ref().and_then(timestamp),
    }
}

fn runtime_platform_to_sdk(p: RuntimePlatform) -> sdk::RuntimePlatform {
    let RuntimePlatform {
        cpu_architecture,
        operating_system_family,
    } = p;
    sdk::RuntimePlatform::builder()
        .set_cpu_architecture(cpu_architecture.as_deref().map(sdk::CpuArchitecture::from))
        .set_operating_system_family(operating_system_family.as_deref().map(sdk::OsFamily::from))
        .build()
}

fn container_to_sdk(c: ContainerDefinition) -> Result<sdk::ContainerDefinition, BuildError> {
    let ContainerDefinition {
        name,
        image,
        cpu,
        memory,
        memory_reservation,
        essential,
        port_mappings,
        environment,
        secrets,
        log_configuration,
        health_check,
        command,
        entry_point,
        working_directory,
        user,
        readonly_root_filesystem,
        mount_points,
        depends_on,
        stop_timeout,
        docker_labels,
    } = c;
    Ok(sdk::ContainerDefinition::builder()
        .name(name)
        .image(image)
        .set_cpu(cpu)
        .set_memory(memory)
        .set_memory_reservation(memory_reservation)
        .set_essential(essential)
        .set_port_mappings(port_mappings.map(|ps| ps.into_iter().map(port_to_sdk).collect()))
        .set_environment(environment.map(|env| {
            env.into_iter()
                .map(|KeyValuePair { name, value }| {
                    sdk::KeyValuePair::builder().name(name).value(value).build()
                })
                .collect()
        }))
        .set_secrets(secrets.map(secrets_to_sdk).transpose()?)
        .set_log_configuration(log_configuration.map(log_to_sdk).transpose()?)
        .set_health_check(health_check.map(health_check_to_sdk).transpose()?)
        .set_command(command)
        .set_entry_point(entry_point)
        .set_working_directory(working_directory)
        .set_user(user)
        .set_readonly_root_filesystem(readonly_root_filesystem)
        .set_mount_points(mount_points.map(|ms| {
            ms.into_iter()
                .map(|m| {
                    let MountPoint {
                        source_volume,
                        container_path,
                        read_only,
                    } = m;
                    sdk::MountPoint::builder()
                        .source_volume(source_volume)
                        .container_path(container_path)
                        .set_read_only(read_only)
                        .build()
                })
                .collect()
        }))
        .set_depends_on(
            depends_on
                .map(|ds| {
                    ds.into_iter()
                        .map(
                            |ContainerDependency {
                                 container_name,
                                 condition,
                             }| {
                                sdk::ContainerDependency::builder()
                                    .container_name(container_name)
                                    .condition(sdk::ContainerCondition::from(condition.as_str()))
                                    .build()
                            },
                        )
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?,
        )
        .set_stop_timeout(stop_timeout)
        .set_docker_labels(docker_labels.map(|l| l.into_iter().collect::<HashMap<_, _>>()))
        .build())
}

fn container_from_sdk(c: sdk::ContainerDefinition) -> ContainerDefinition {
    ContainerDefinition {
        name: c.name.unwrap_or_default(),
        image: c.image.unwrap_or_default(),
        cpu: non_zero(c.cpu),
        memory: c.memory,
        memory_reservation: c.memory_reservation,
        essential: c.essential,
        port_mappings: c
            .port_mappings
            .and_then(non_empty)
            .map(|ps| ps.into_iter().map(port_from_sdk).collect()),
        environment: c.environment.and_then(non_empty).map(|env| {
            env.into_iter()
                .map(|kv| KeyValuePair {
                    name: kv.name.unwrap_or_default(),
                    value: kv.value.unwrap_or_default(),
                })
                .collect()
        }),
        secrets: c.secrets.and_then(non_empty).map(secrets_from_sdk),
        log_configuration: c.log_configuration.map(|l| LogConfiguration {
            log_driver: l.log_driver.as_str().to_owned(),
            options: l
                .options
                .filter(|o| !o.is_empty())
                .map(|o| o.into_iter().collect::<BTreeMap<_, _>>()),
            secret_options: l.secret_options.and_then(non_empty).map(secrets_from_sdk),
        }),
        health_check: c.health_check.map(|h| HealthCheck {
            command: h.command,
            interval: h.interval,
            timeout: h.timeout,
            retries: h.retries,
            start_period: h.start_period,
        }),
        command: c.command.and_then(non_empty),
        entry_point: c.entry_point.and_then(non_empty),
        working_directory: c.working_directory,
        user: c.user,
        readonly_root_filesystem: c.readonly_root_filesystem,
        mount_points: c.mount_points.and_then(non_empty).map(|ms| {
            ms.into_iter()
                .map(|m| MountPoint {
                    source_volume: m.source_volume.unwrap_or_default(),
                    container_path: m.container_path.unwrap_or_default(),
                    read_only: m.read_only,
                })
                .collect()
        }),
        depends_on: c.depends_on.and_then(non_empty).map(|ds| {
            ds.into_iter()
                .map(|d| ContainerDependency {
                    container_name: d.container_name,
                    condition: d.condition.as_str().to_owned(),
                })
                .collect()
        }),
        stop_timeout: c.stop_timeout,
        docker_labels: c
            .docker_labels
            .filter(|l| !l.is_empty())
            .map(|l| l.into_iter().collect()),
    }
}

fn port_to_sdk(p: PortMapping) -> sdk::PortMapping {
    let PortMapping {
        container_port,
        host_port,
        protocol,
        name,
        app_protocol,
    } = p;
    sdk::PortMapping::builder()
        .container_port(container_port)
        .set_host_port(host_port)
        .set_protocol(protocol.as_deref().map(sdk::TransportProtocol::from))
        .set_name(name)
        .set_app_protocol(app_protocol.as_deref().map(sdk::ApplicationProtocol::from))
        .build()
}

fn port_from_sdk(p: sdk::PortMapping) -> PortMapping {
    PortMapping {
        container_port: p.container_port.unwrap_or_default(),
        host_port: p.host_port,
        protocol: p.protocol.map(|x| x.as_str().to_owned()),
        name: p.name,
        app_protocol: p.app_protocol.map(|x| x.as_str().to_owned()),
    }
}

fn secrets_to_sdk(secrets: Vec<Secret>) -> Result<Vec<sdk::Secret>, BuildError> {
    secrets
        .into_iter()
        .map(|Secret { name, value_from }| {
            sdk::Secret::builder()
                .name(name)
                .value_from(value_from)
                .build()
        })
        .collect()
}

fn secrets_from_sdk(secrets: Vec<sdk::Secret>) -> Vec<Secret> {
    secrets
        .into_iter()
        .map(|s| Secret {
            name: s.name,
            value_from: s.value_from,
        })
        .collect()
}

fn log_to_sdk(l: LogConfiguration) -> Result<sdk::LogConfiguration, BuildError> {
    let LogConfiguration {
        log_driver,
        options,
        secret_options,
    } = l;
    sdk::LogConfiguration::builder()
        .log_driver(sdk::LogDriver::from(log_driver.as_str()))
        .set_options(options.map(|o| o.into_iter().collect::<HashMap<_, _>>()))
        .set_secret_options(secret_options.map(secrets_to_sdk).transpose()?)
        .build()
}

fn health_check_to_sdk(h: HealthCheck) -> Result<sdk::HealthCheck, BuildError> {
    let HealthCheck {
        command,
        interval,
        timeout,
        retries,
        start_period,
    } = h;
    sdk::HealthCheck::builder()
        .set_command(Some(command))
        .set_interval(interval)
        .set_timeout(timeout)
        .set_retries(retries)
        .set_start_period(start_period)
        .build()
}

fn volume_to_sdk(v: Volume) -> Result<sdk::Volume, BuildError> {
    let Volume {
        name,
        host,
        efs_volume_configuration,
    } = v;
    let efs = efs_volume_configuration
        .map(|e| {
            let EfsVolumeConfiguration {
                file_system_id,
                root_directory,
                transit_encryption,
            } = e;
            sdk::EfsVolumeConfiguration::builder()
                .file_system_id(file_system_id)
                .set_root_directory(root_directory)
                .set_transit_encryption(
                    transit_encryption
                        .as_deref()
                        .map(sdk::EfsTransitEncryption::from),
                )
                .build()
        })
        .transpose()?;
    Ok(sdk::Volume::builder()
        .name(name)
        .set_host(host.map(|HostVolume { source_path }| {
            sdk::HostVolumeProperties::builder()
                .set_source_path(source_path)
                .build()
        }))
        .set_efs_volume_configuration(efs)
        .build())
}

fn volume_from_sdk(v: sdk::Volume) -> Volume {
    Volume {
        name: v.name.unwrap_or_default(),
        host: v.host.map(|h| HostVolume {
            source_path: h.source_path,
        }),
        efs_volume_configuration: v.efs_volume_configuration.map(|e| EfsVolumeConfiguration {
            file_system_id: e.file_system_id,
            root_directory: e.root_directory,
            transit_encryption: e.transit_encryption.map(|t| t.as_str().to_owned()),
        }),
    }
}
