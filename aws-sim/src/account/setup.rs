//! Changes to the simulated account made outside the API and not counted as calls: how tests
//! and the sandbox set a scene (another team's service, a service's tags, desiredCount drift, an
//! alarm's state).

use crate::account::SimAws;
use crate::ecs::engine::schedule;
use crate::ecs::errors::{cluster_not_found, service_not_found};
use aws::ecs::{
    AwsVpcConfiguration, ContainerDefinition, CreateServiceInput, NetworkConfiguration, Service,
    ServiceConfig, Tag, TaskDefinitionInput, UpdateServiceInput,
};
use aws::error::AwsResult;

impl SimAws {
    /// Creates a service the operator did not create (another team's, or a pre-operator one):
    /// an nginx task definition of family `name`, one task, tagged with `tags`. On Fargate in the
    /// first seeded subnet and security group when the seed has a network, on EC2 otherwise.
    /// Not counted as calls.
    pub fn create_foreign_service(
        &self,
        cluster: &str,
        name: &str,
        tags: Vec<Tag>,
    ) -> AwsResult<Service> {
        self.with_world(|w, now| {
            let subnet = w.network.subnets.keys().next().cloned();
            let group = w.network.security_groups.keys().next().cloned();
            let container = ContainerDefinition {
                name: "app".to_owned(),
                image: "public.ecr.aws/nginx/nginx:stable".to_owned(),
                memory: Some(512),
                ..ContainerDefinition::default()
            };
            let mut td = TaskDefinitionInput {
                family: name.to_owned(),
                container_definitions: vec![container],
                ..TaskDefinitionInput::default()
            };
            let mut config = ServiceConfig::default();
            if let Some(subnet) = subnet {
                td.cpu = Some("256".to_owned());
                td.memory = Some("512".to_owned());
                td.network_mode = Some("awsvpc".to_owned());
                td.requires_compatibilities = vec!["FARGATE".to_owned()];
                config.launch_type = Some("FARGATE".to_owned());
                config.network_configuration = Some(NetworkConfiguration {
                    awsvpc_configuration: AwsVpcConfiguration {
                        subnets: vec![subnet],
                        security_groups: group.map(|g| vec![g]),
                        assign_public_ip: None,
                    },
                });
            }
            let (region, account) = (w.region.clone(), w.account_id.clone());
            let td = w
                .ecs
                .task_definitions
                .register(&region, &account, td, now)?;
            let input = CreateServiceInput {
                cluster: cluster.to_owned(),
                service_name: name.to_owned(),
                task_definition: td.task_definition_arn,
                desired_count: 1,
                config,
                tags,
                ..CreateServiceInput::default()
            };
            w.ecs_create_service(now, input)
        })
    }

    /// Replaces every tag of a service (set up "untagged" or "owned by someone else").
    pub fn set_service_tags(&self, cluster: &str, name: &str, tags: Vec<Tag>) -> AwsResult<()> {
        self.with_world(|w, _| {
            let cluster = w
                .cluster_name(cluster)
                .ok_or_else(cluster_not_found)?
                .to_owned();
            let svc = w
                .ecs
                .clusters
                .get_mut(&cluster)
                .and_then(|c| c.services.get_mut(name))
                .ok_or_else(service_not_found)?;
            svc.tags = tags;
            Ok(())
        })
    }

    /// Someone else changes desiredCount (drift), as an UpdateService that is not counted.
    pub fn set_desired_count(&self, cluster: &str, name: &str, desired: i32) -> AwsResult<Service> {
        let input = UpdateServiceInput {
            cluster: cluster.to_owned(),
            service: name.to_owned(),
            desired_count: Some(desired),
            ..UpdateServiceInput::default()
        };
        self.with_world(|w, now| w.ecs_update_service(now, input))
    }

    /// Sets a CloudWatch alarm to OK, ALARM or INSUFFICIENT_DATA; deployments watching it react
    /// at once. False when there is no such alarm or state.
    pub fn set_alarm_state(&self, alarm_name: &str, state: &str) -> bool {
        self.with_world(|w, now| {
            if !w
                .alarms
                .set_state(alarm_name, state, "Set by the simulator", now)
            {
                return false;
            }
            let (clusters, env) = w.ecs_parts();
            for svc in clusters.values_mut().flat_map(|c| c.services.values_mut()) {
                schedule(svc, now, &env);
            }
            w.ecs.invalidate_wake();
            true
        })
    }

    /// Registers a scalable target the operator did not register (untagged), as someone
    /// outside the operator would. Not counted as a call.
    pub fn create_foreign_scalable_target(
        &self,
        resource_id: &str,
        min_capacity: i32,
        max_capacity: i32,
    ) -> AwsResult<String> {
        let input = aws::autoscaling::RegisterScalableTargetInput {
            resource_id: resource_id.to_owned(),
            min_capacity: Some(min_capacity),
            max_capacity: Some(max_capacity),
            ..Default::default()
        };
        self.with_world(|w, now| w.aas_register_target(now, input))
    }
}
