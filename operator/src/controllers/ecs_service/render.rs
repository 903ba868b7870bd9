//! Rendering the spec into what AWS is asked for: the normalised task definition and its
//! content hash, and the service configuration; plus the drift comparison against AWS.
//! Pure functions: no IO, no clock.

use crds::ecs_service::{EcsServiceSpec, PropagateTags};
use crds::task_definition::{ContainerDefinition, NetworkMode, TaskDefinitionTemplate};
use sha2::{Digest, Sha256};

use crate::controllers::blue_green_rollout::engine::EngineSettings;
use aws::ecs::{
    CircuitBreaker, DeploymentAlarms, DeploymentConfiguration, LoadBalancer, ServiceConfig,
    TaskDefinitionInput,
};

/// Renders the task definition template into its normalised form: AWS defaults filled, lists
/// in a stable order, CPU and memory in the units AWS returns. Tags are not part of it.
pub fn task_definition(family: &str, template: &TaskDefinitionTemplate) -> TaskDefinitionInput {
    let network_mode = template.network_mode.map(|m| {
        match m {
            NetworkMode::Awsvpc => "awsvpc",
            NetworkMode::Bridge => "bridge",
            NetworkMode::Host => "host",
            NetworkMode::None => "none",
        }
        .to_string()
    });
    normalise(TaskDefinitionInput {
        family: family.to_string(),
        cpu: template.cpu.clone(),
        memory: template.memory.clone(),
        network_mode,
        requires_compatibilities: template
            .requires_compatibilities
            .clone()
            .unwrap_or_default(),
        execution_role_arn: template.execution_role_arn.clone(),
        task_role_arn: template.task_role_arn.clone(),
        runtime_platform: template.runtime_platform.clone(),
        container_definitions: template.container_definitions.clone(),
        volumes: template.volumes.clone().unwrap_or_default(),
        ephemeral_storage: template.ephemeral_storage.clone(),
        tags: Vec::new(),
    })
}

/// Puts a task definition in its canonical form (also applied to what AWS returns, so that a
/// revision registered by hand hashes like the same spec).
pub fn normalise(mut td: TaskDefinitionInput) -> TaskDefinitionInput {
    let awsvpc = td.network_mode.as_deref() == Some("awsvpc");
    td.container_definitions = td
        .container_definitions
        .iter()
        .map(|c| normalise_container(c, awsvpc))
        .collect();
    td.container_definitions.sort_by(|a, b| a.name.cmp(&b.name));
    td.requires_compatibilities.sort();
    td.requires_compatibilities.dedup();
    td.volumes.sort_by(|a, b| a.name.cmp(&b.name));
    td.cpu = td.cpu.as_deref().map(normalise_cpu);
    td.memory = td.memory.as_deref().map(normalise_memory);
    td
}

fn normalise_container(c: &ContainerDefinition, awsvpc: bool) -> ContainerDefinition {
    let mut c = c.clone();
    c.essential = Some(c.essential.unwrap_or(true));
    if let Some(ports) = c.port_mappings.as_mut() {
        for p in ports.iter_mut() {
            p.protocol = Some(p.protocol.clone().unwrap_or_else(|| "tcp".into()));
            if awsvpc && p.host_port.is_none() {
                p.host_port = Some(p.container_port);
            }
        }
        ports.sort_by_key(|p| (p.container_port, p.protocol.clone()));
    }
    if let Some(env) = c.environment.as_mut() {
        env.sort();
    }
    if let Some(secrets) = c.secrets.as_mut() {
        secrets.sort();
    }
    if let Some(log) = c.log_configuration.as_mut()
        && let Some(opts) = log.secret_options.as_mut()
    {
        opts.sort();
    }
    if let Some(hc) = c.health_check.as_mut() {
        hc.interval = Some(hc.interval.unwrap_or(30));
        hc.timeout = Some(hc.timeout.unwrap_or(5));
        hc.retries = Some(hc.retries.unwrap_or(3));
        hc.start_period = Some(hc.start_period.unwrap_or(0));
    }
    // An empty list and an absent one are the same task definition.
    none_if_empty(&mut c.port_mappings);
    none_if_empty(&mut c.environment);
    none_if_empty(&mut c.secrets);
    none_if_empty(&mut c.mount_points);
    none_if_empty(&mut c.depends_on);
    c
}

fn none_if_empty<T>(list: &mut Option<Vec<T>>) {
    if list.as_ref().is_some_and(Vec::is_empty) {
        *list = None;
    }
}

/// "1 vCPU" → "1024", "0.25 vcpu" → "256"; plain numbers unchanged.
fn normalise_cpu(cpu: &str) -> String {
    let lower = cpu.trim().to_ascii_lowercase();
    match lower.strip_suffix("vcpu").map(str::trim) {
        Some(n) => n
            .parse::<f64>()
            .map(|v| ((v * 1024.0).round() as i64).to_string())
            .unwrap_or_else(|_| cpu.trim().to_string()),
        None => cpu.trim().to_string(),
    }
}

/// "2 GB" → "2048"; plain numbers (MiB) unchanged.
fn normalise_memory(memory: &str) -> String {
    let lower = memory.trim().to_ascii_lowercase();
    match lower.strip_suffix("gb").map(str::trim) {
        Some(n) => n
            .parse::<f64>()
            .map(|v| ((v * 1024.0).round() as i64).to_string())
            .unwrap_or_else(|_| memory.trim().to_string()),
        None => memory.trim().to_string(),
    }
}

/// The content hash of a normalised task definition (tags excluded): 32 hex characters.
pub fn content_hash(td: &TaskDefinitionInput) -> String {
    let mut td = td.clone();
    td.tags.clear();
    let canonical = serde_json::to_value(&td).expect("a task definition serializes");
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    hex::encode(&digest[..16])
}

/// The service configuration the spec asks for. Fields the spec leaves out stay `None`/empty:
/// the operator does not own them and never "corrects" them.
pub fn service_config(spec: &EcsServiceSpec) -> ServiceConfig {
    let dc = spec.deployment_configuration.clone().unwrap_or_default();
    let circuit_breaker = dc
        .deployment_circuit_breaker
        .map(|cb| CircuitBreaker {
            enable: cb.enable,
            rollback: cb.rollback,
        })
        // The operator's default: a failing deployment stops and rolls back instead of
        // retrying forever (ECS's own default is off).
        .unwrap_or(CircuitBreaker {
            enable: true,
            rollback: true,
        });
    let network_configuration = spec.network_configuration.clone().map(|mut n| {
        n.awsvpc_configuration.subnets.sort();
        if let Some(sg) = n.awsvpc_configuration.security_groups.as_mut() {
            sg.sort();
        }
        if n.awsvpc_configuration.assign_public_ip.is_none() {
            n.awsvpc_configuration.assign_public_ip =
                Some(crds::ecs_service::AssignPublicIp::Disabled);
        }
        n
    });
    ServiceConfig {
        launch_type: spec.launch_type.map(|l| enum_name(&l)),
        capacity_provider_strategy: spec.capacity_provider_strategy.clone().unwrap_or_default(),
        platform_version: spec.platform_version.clone(),
        network_configuration,
        load_balancers: spec
            .load_balancers
            .iter()
            .flatten()
            .map(|lb| LoadBalancer {
                target_group_arn: lb.target_group_arn.clone(),
                load_balancer_name: lb.load_balancer_name.clone(),
                container_name: lb.container_name.clone(),
                container_port: lb.container_port,
                advanced_configuration: None,
            })
            .collect(),
        service_registries: spec.service_registries.clone().unwrap_or_default(),
        health_check_grace_period_seconds: spec.health_check_grace_period_seconds,
        deployment_configuration: Some(DeploymentConfiguration {
            strategy: None,
            maximum_percent: Some(dc.maximum_percent.unwrap_or(200)),
            minimum_healthy_percent: Some(dc.minimum_healthy_percent.unwrap_or(100)),
            deployment_circuit_breaker: Some(circuit_breaker),
            alarms: dc.alarms.map(|a| DeploymentAlarms {
                alarm_names: a.alarm_names,
                enable: a.enable,
                rollback: a.rollback,
            }),
            ..Default::default()
        }),
        enable_execute_command: spec.enable_execute_command.unwrap_or(false),
        enable_ecs_managed_tags: spec.enable_ecs_managed_tags.unwrap_or(false),
        propagate_tags: spec.propagate_tags.map(|p| match p {
            PropagateTags::Service => "SERVICE".to_string(),
            PropagateTags::TaskDefinition => "TASK_DEFINITION".to_string(),
            PropagateTags::None => "NONE".to_string(),
        }),
    }
}

fn enum_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The configuration to create the service with when a BlueGreenRollout's engine owns part of
/// it (CODE_DEPLOY, or the ECS-native strategy and advancedConfiguration).
pub fn with_engine(config: &ServiceConfig, engine: Option<&EngineSettings>) -> ServiceConfig {
    let mut config = config.clone();
    if let Some(engine) = engine {
        engine.apply(&mut config);
    }
    config
}

/// The spec-owned fields where AWS differs from `desired`, by their API names. A field the
/// spec leaves unset is never reported.
pub fn config_drift(desired: &ServiceConfig, live: &ServiceConfig) -> Vec<&'static str> {
    let mut drift = Vec::new();
    if desired.launch_type.is_some() && desired.launch_type != live.launch_type {
        drift.push("launchType");
    }
    if !desired.capacity_provider_strategy.is_empty()
        && desired.capacity_provider_strategy != live.capacity_provider_strategy
    {
        drift.push("capacityProviderStrategy");
    }
    if desired.platform_version.is_some() && desired.platform_version != live.platform_version {
        drift.push("platformVersion");
    }
    if desired.network_configuration.is_some()
        && normalised_network(&desired.network_configuration)
            != normalised_network(&live.network_configuration)
    {
        drift.push("networkConfiguration");
    }
    if !desired.load_balancers.is_empty()
        && without_advanced(&desired.load_balancers) != without_advanced(&live.load_balancers)
    {
        drift.push("loadBalancers");
    }
    if !desired.service_registries.is_empty()
        && desired.service_registries != live.service_registries
    {
        drift.push("serviceRegistries");
    }
    if desired.health_check_grace_period_seconds.is_some()
        && desired.health_check_grace_period_seconds != live.health_check_grace_period_seconds
    {
        drift.push("healthCheckGracePeriodSeconds");
    }
    if let Some(d) = &desired.deployment_configuration {
        let l = live.deployment_configuration.clone().unwrap_or_default();
        if d.maximum_percent != l.maximum_percent.or(Some(200))
            || d.minimum_healthy_percent != l.minimum_healthy_percent.or(Some(100))
            || (d.deployment_circuit_breaker.is_some()
                && d.deployment_circuit_breaker
                    != l.deployment_circuit_breaker
                        .clone()
                        .or(Some(CircuitBreaker::default())))
            || (d.alarms.is_some() && d.alarms != l.alarms)
        {
            drift.push("deploymentConfiguration");
        }
    }
    if desired.enable_execute_command && !live.enable_execute_command {
        drift.push("enableExecuteCommand");
    }
    if desired.enable_ecs_managed_tags && !live.enable_ecs_managed_tags {
        drift.push("enableECSManagedTags");
    }
    if desired.propagate_tags.is_some()
        && desired.propagate_tags != live.propagate_tags.clone().or(Some("NONE".into()))
    {
        drift.push("propagateTags");
    }
    drift
}

fn normalised_network(
    n: &Option<crds::ecs_service::NetworkConfiguration>,
) -> Option<crds::ecs_service::NetworkConfiguration> {
    n.clone().map(|mut n| {
        let vpc = &mut n.awsvpc_configuration;
        vpc.subnets.sort();
        let mut sgs = vpc.security_groups.take().unwrap_or_default();
        sgs.sort();
        vpc.security_groups = (!sgs.is_empty()).then_some(sgs);
        vpc.assign_public_ip = Some(
            vpc.assign_public_ip
                .unwrap_or(crds::ecs_service::AssignPublicIp::Disabled),
        );
        n
    })
}

/// Load balancers without the blue/green extension (owned by a rollout engine, not the spec).
fn without_advanced(lbs: &[LoadBalancer]) -> Vec<LoadBalancer> {
    let mut v: Vec<LoadBalancer> = lbs
        .iter()
        .map(|lb| LoadBalancer {
            advanced_configuration: None,
            ..lb.clone()
        })
        .collect();
    v.sort_by(|a, b| {
        (&a.target_group_arn, &a.container_name, a.container_port).cmp(&(
            &b.target_group_arn,
            &b.container_name,
            b.container_port,
        ))
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crds::task_definition::{KeyValuePair, PortMapping};

    fn template() -> TaskDefinitionTemplate {
        TaskDefinitionTemplate {
            cpu: Some("0.5 vCPU".into()),
            memory: Some("1 GB".into()),
            network_mode: Some(NetworkMode::Awsvpc),
            container_definitions: vec![ContainerDefinition {
                name: "app".into(),
                image: "img:1".into(),
                port_mappings: Some(vec![PortMapping {
                    container_port: 8080,
                    ..Default::default()
                }]),
                environment: Some(vec![
                    KeyValuePair {
                        name: "B".into(),
                        value: "2".into(),
                    },
                    KeyValuePair {
                        name: "A".into(),
                        value: "1".into(),
                    },
                ]),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn defaults_are_filled_and_units_normalised() {
        let td = task_definition("auth", &template());
        assert_eq!(td.cpu.as_deref(), Some("512"));
        assert_eq!(td.memory.as_deref(), Some("1024"));
        let c = &td.container_definitions[0];
        assert_eq!(c.essential, Some(true));
        let p = &c.port_mappings.as_ref().unwrap()[0];
        assert_eq!(
            (p.host_port, p.protocol.as_deref()),
            (Some(8080), Some("tcp"))
        );
        assert_eq!(c.environment.as_ref().unwrap()[0].name, "A");
    }

    #[test]
    fn equivalent_specs_hash_alike_and_changes_do_not() {
        let a = template();
        let mut b = template();
        b.cpu = Some("512".into());
        b.container_definitions[0].essential = Some(true);
        b.container_definitions[0]
            .environment
            .as_mut()
            .unwrap()
            .reverse();
        let ha = content_hash(&task_definition("auth", &a));
        assert_eq!(ha, content_hash(&task_definition("auth", &b)));
        assert_eq!(ha.len(), 32);
        let mut c = template();
        c.container_definitions[0].image = "img:2".into();
        assert_ne!(ha, content_hash(&task_definition("auth", &c)));
        // What AWS returns (normalised again) hashes like the spec.
        assert_eq!(ha, content_hash(&normalise(task_definition("auth", &a))));
    }
}
