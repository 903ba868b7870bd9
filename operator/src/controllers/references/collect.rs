//! The references of each kind's spec, with the path of the field that names each. No IO.

use crds::{BlueGreenRollout, EcsService};

use super::model::{Reference, Target};

fn reference(field: impl Into<String>, target: Target) -> Reference {
    Reference {
        field: field.into(),
        target,
    }
}

/// What an EcsService names: its cluster, subnets and security groups, the task definition's
/// roles and container secrets, target groups and deployment alarms. `region` is the one the
/// service runs in (a secret ARN in another Region is reported as not checked).
pub fn of_service(obj: &EcsService, region: &str) -> Vec<Reference> {
    let spec = &obj.spec;
    let mut out = vec![reference(
        "spec.cluster",
        Target::Cluster(spec.cluster.clone()),
    )];
    if let Some(network) = &spec.network_configuration {
        let vpc = &network.awsvpc_configuration;
        let path = "spec.networkConfiguration.awsvpcConfiguration";
        for (i, subnet) in vpc.subnets.iter().enumerate() {
            out.push(reference(
                format!("{path}.subnets[{i}]"),
                Target::Subnet(subnet.clone()),
            ));
        }
        for (i, group) in vpc.security_groups.iter().flatten().enumerate() {
            out.push(reference(
                format!("{path}.securityGroups[{i}]"),
                Target::SecurityGroup(group.clone()),
            ));
        }
    }
    let td = &spec.task_definition;
    if let Some(role) = &td.execution_role_arn {
        out.push(reference(
            "spec.taskDefinition.executionRoleArn",
            Target::Role(role.clone()),
        ));
    }
    if let Some(role) = &td.task_role_arn {
        out.push(reference(
            "spec.taskDefinition.taskRoleArn",
            Target::Role(role.clone()),
        ));
    }
    for (i, container) in td.container_definitions.iter().enumerate() {
        for (j, secret) in container.secrets.iter().flatten().enumerate() {
            out.push(reference(
                format!("spec.taskDefinition.containerDefinitions[{i}].secrets[{j}].valueFrom"),
                Target::of_secret(&secret.value_from, region),
            ));
        }
    }
    for (i, lb) in spec.load_balancers.iter().flatten().enumerate() {
        if let Some(arn) = &lb.target_group_arn {
            out.push(reference(
                format!("spec.loadBalancers[{i}].targetGroupArn"),
                Target::TargetGroup(arn.clone()),
            ));
        }
    }
    let alarms = spec
        .deployment_configuration
        .as_ref()
        .and_then(|d| d.alarms.as_ref());
    for (i, name) in alarms.iter().flat_map(|a| &a.alarm_names).enumerate() {
        out.push(reference(
            format!("spec.deploymentConfiguration.alarms.alarmNames[{i}]"),
            Target::Alarm(name.clone()),
        ));
    }
    out
}

/// What the BlueGreenRollout releasing a service names that the service itself is created
/// with: ECS-native blue/green's alternate target group, listener rules and roles (the
/// service's CreateService and UpdateService carry them). Each field is prefixed with the
/// rollout. Its gates' alarms and CodeDeploy's resources are the rollout's own business.
pub fn of_engine(rollout: &BlueGreenRollout, service_target_group: &str) -> Vec<Reference> {
    let name = rollout.metadata.name.as_deref().unwrap_or_default();
    of_rollout(rollout, service_target_group)
        .into_iter()
        .filter(|r| r.field.starts_with("spec.strategy.ecsNative"))
        .map(|r| Reference {
            field: format!("BlueGreenRollout {name}: {}", r.field),
            target: r.target,
        })
        .collect()
}

/// What a BlueGreenRollout names: the engine's roles, target groups, listeners and rules
/// (with `service_target_group`, the EcsService's own, which must sit on the ECS-native
/// listener rules next to the alternate one) and the alarms its gates read.
pub fn of_rollout(obj: &BlueGreenRollout, service_target_group: &str) -> Vec<Reference> {
    let spec = &obj.spec;
    let mut out = Vec::new();
    if let Some(cd) = &spec.strategy.code_deploy {
        let path = "spec.strategy.codeDeploy";
        out.push(reference(
            format!("{path}.serviceRoleArn"),
            Target::Role(cd.service_role_arn.clone()),
        ));
        let pair = &cd.target_group_pair_info;
        for (i, tg) in pair.target_groups.iter().enumerate() {
            out.push(reference(
                format!("{path}.targetGroupPairInfo.targetGroups[{i}].name"),
                Target::TargetGroupNamed(tg.name.clone()),
            ));
        }
        let routes = [
            ("prodTrafficRoute", Some(&pair.prod_traffic_route)),
            ("testTrafficRoute", pair.test_traffic_route.as_ref()),
        ];
        for (route, listeners) in routes {
            for (i, arn) in listeners.iter().flat_map(|r| &r.listener_arns).enumerate() {
                out.push(reference(
                    format!("{path}.targetGroupPairInfo.{route}.listenerArns[{i}]"),
                    Target::Listener(arn.clone()),
                ));
            }
        }
        let alarms = cd.alarm_configuration.iter().filter(|a| a.enabled);
        for (i, alarm) in alarms.flat_map(|a| &a.alarms).enumerate() {
            out.push(reference(
                format!("{path}.alarmConfiguration.alarms[{i}].name"),
                Target::Alarm(alarm.name.clone()),
            ));
        }
    }
    if let Some(native) = &spec.strategy.ecs_native {
        let path = "spec.strategy.ecsNative.advancedConfiguration";
        let advanced = &native.advanced_configuration;
        let pair = vec![
            service_target_group.to_string(),
            advanced.alternate_target_group_arn.clone(),
        ];
        out.push(reference(
            format!("{path}.alternateTargetGroupArn"),
            Target::TargetGroup(advanced.alternate_target_group_arn.clone()),
        ));
        out.push(reference(
            format!("{path}.productionListenerRule"),
            Target::ListenerRule {
                arn: advanced.production_listener_rule.clone(),
                target_groups: pair.clone(),
            },
        ));
        if let Some(rule) = &advanced.test_listener_rule {
            out.push(reference(
                format!("{path}.testListenerRule"),
                Target::ListenerRule {
                    arn: rule.clone(),
                    target_groups: pair,
                },
            ));
        }
        out.push(reference(
            format!("{path}.roleArn"),
            Target::Role(advanced.role_arn.clone()),
        ));
        for (i, hook) in native.lifecycle_hooks.iter().flatten().enumerate() {
            out.push(reference(
                format!("spec.strategy.ecsNative.lifecycleHooks[{i}].roleArn"),
                Target::Role(hook.role_arn.clone()),
            ));
        }
    }
    let analysis = spec.analysis.iter();
    for (i, name) in analysis.flat_map(|a| &a.alarm_names).enumerate() {
        out.push(reference(
            format!("spec.analysis.alarmNames[{i}]"),
            Target::Alarm(name.clone()),
        ));
    }
    out
}
