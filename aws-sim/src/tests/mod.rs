//! Tests of the simulated account, driven by a frozen `SimClock` moved by hand. Helpers here
//! build the event-booking account, register task definitions and create services through the
//! gate synchronously (`call_now`); `api.rs` drives the async `EcsApi` trait end to end.

mod api;
mod bluegreen;
mod codedeploy;
mod errors;
mod lifecycle;
mod lookup;
mod metrics;
mod reader;
mod rolling;
mod scale;
mod service_deployments;
mod task_definitions;
mod throttling;

use std::sync::Arc;
use std::time::Duration;

use super::{SimAws, SimSeed};
use crate::ecs::api::{CREATE_SERVICE, REGISTER_TASK_DEFINITION, UPDATE_SERVICE};
use aws::clock::SimClock;
use aws::ecs::{
    AwsVpcConfiguration, CircuitBreaker, ContainerDefinition, CreateServiceInput, Deployment,
    DeploymentConfiguration, LoadBalancer, NetworkConfiguration, Service, ServiceConfig,
    TaskDefinitionInput, UpdateServiceInput,
};
use aws::error::AwsResult;
use crds::task_definition::{LogConfiguration, PortMapping};

/// The event-booking cluster.
pub(super) const CLUSTER: &str = "event-booking";
/// The seeded private subnets.
pub(super) const SUBNETS: [&str; 3] = [
    "subnet-0a1f2e3d4c5b60001",
    "subnet-0a1f2e3d4c5b60002",
    "subnet-0a1f2e3d4c5b60003",
];
/// The services' security group.
pub(super) const SG: &str = "sg-0c0ffee0c0ffee001";

/// A frozen clock: only `advance` moves it.
pub(super) fn frozen_clock() -> Arc<SimClock> {
    Arc::new(SimClock::new("2026-03-02T09:00:00Z".parse().unwrap(), 0.0))
}

/// The event-booking account on a frozen clock.
pub(super) fn sim() -> SimAws {
    SimAws::new(frozen_clock(), SimSeed::event_booking())
}

/// Moves simulated time forward.
pub(super) fn advance(sim: &SimAws, secs: u64) {
    sim.clock().advance(Duration::from_secs(secs));
}

/// A Fargate task definition like the event-booking services': one Spring Boot container on
/// 8080, awslogs, the seeded roles.
pub(super) fn td_input(family: &str, image: &str) -> TaskDefinitionInput {
    let role = |name: &str| format!("arn:aws:iam::123456789012:role/{name}");
    TaskDefinitionInput {
        family: family.to_owned(),
        cpu: Some("512".to_owned()),
        memory: Some("1024".to_owned()),
        network_mode: Some("awsvpc".to_owned()),
        requires_compatibilities: vec!["FARGATE".to_owned()],
        execution_role_arn: Some(role("ecsTaskExecutionRole")),
        task_role_arn: Some(role("event-booking-task-role")),
        container_definitions: vec![ContainerDefinition {
            name: "app".to_owned(),
            image: image.to_owned(),
            port_mappings: Some(vec![PortMapping {
                container_port: 8080,
                ..PortMapping::default()
            }]),
            log_configuration: Some(LogConfiguration {
                log_driver: "awslogs".to_owned(),
                ..LogConfiguration::default()
            }),
            ..ContainerDefinition::default()
        }],
        ..TaskDefinitionInput::default()
    }
}

/// Registers a task definition through the gate; its ARN.
pub(super) fn register(sim: &SimAws, input: TaskDefinitionInput) -> String {
    sim.call_now(&REGISTER_TASK_DEFINITION, |w, now| {
        let (region, account) = (w.region.clone(), w.account_id.clone());
        w.ecs
            .task_definitions
            .register(&region, &account, input, now)
    })
    .expect("register task definition")
    .task_definition_arn
}

/// Service configuration: Fargate in the seeded subnets, behind `<name>-blue` when that target
/// group exists, circuit breaker with rollback.
pub(super) fn config(sim: &SimAws, name: &str) -> ServiceConfig {
    let load_balancers = sim
        .target_group_arn(&format!("{name}-blue"))
        .map(|arn| LoadBalancer {
            target_group_arn: Some(arn),
            container_name: "app".to_owned(),
            container_port: 8080,
            ..LoadBalancer::default()
        })
        .into_iter()
        .collect();
    ServiceConfig {
        launch_type: Some("FARGATE".to_owned()),
        network_configuration: Some(NetworkConfiguration {
            awsvpc_configuration: AwsVpcConfiguration {
                subnets: SUBNETS.iter().map(|s| (*s).to_owned()).collect(),
                security_groups: Some(vec![SG.to_owned()]),
                assign_public_ip: None,
            },
        }),
        load_balancers,
        deployment_configuration: Some(DeploymentConfiguration {
            maximum_percent: Some(200),
            minimum_healthy_percent: Some(100),
            deployment_circuit_breaker: Some(CircuitBreaker {
                enable: true,
                rollback: true,
            }),
            ..DeploymentConfiguration::default()
        }),
        ..ServiceConfig::default()
    }
}

/// CreateService input for `name` running `task_definition`.
pub(super) fn create_input(
    sim: &SimAws,
    name: &str,
    task_definition: &str,
    desired: i32,
) -> CreateServiceInput {
    CreateServiceInput {
        cluster: CLUSTER.to_owned(),
        service_name: name.to_owned(),
        task_definition: task_definition.to_owned(),
        desired_count: desired,
        config: config(sim, name),
        ..CreateServiceInput::default()
    }
}

/// CreateService through the gate.
pub(super) fn try_create(sim: &SimAws, input: CreateServiceInput) -> AwsResult<Service> {
    sim.call_now(&CREATE_SERVICE, |w, now| w.ecs_create_service(now, input))
}

/// Registers `image` as family `name` and creates the service.
pub(super) fn create(sim: &SimAws, name: &str, image: &str, desired: i32) -> Service {
    let td = register(sim, td_input(name, image));
    try_create(sim, create_input(sim, name, &td, desired)).expect("create service")
}

/// UpdateService through the gate.
pub(super) fn update(sim: &SimAws, input: UpdateServiceInput) -> AwsResult<Service> {
    sim.call_now(&UPDATE_SERVICE, |w, now| w.ecs_update_service(now, input))
}

/// Registers a new revision with `image` and points the service at it.
pub(super) fn deploy_image(sim: &SimAws, name: &str, image: &str) -> Service {
    let td = register(sim, td_input(name, image));
    update(
        sim,
        UpdateServiceInput {
            cluster: CLUSTER.to_owned(),
            service: name.to_owned(),
            task_definition: Some(td),
            ..UpdateServiceInput::default()
        },
    )
    .expect("update service")
}

/// The service now (peek).
pub(super) fn peek(sim: &SimAws, name: &str) -> Service {
    sim.service(CLUSTER, name).expect("service exists")
}

/// The PRIMARY deployment.
pub(super) fn primary(svc: &Service) -> &Deployment {
    svc.primary_deployment().expect("a primary deployment")
}

/// Advances one second at a time until `done` holds; the seconds it took. Panics after `limit`.
pub(super) fn run_until(
    sim: &SimAws,
    name: &str,
    limit: u64,
    mut done: impl FnMut(&Service) -> bool,
) -> u64 {
    for elapsed in 0..=limit {
        if done(&peek(sim, name)) {
            return elapsed;
        }
        advance(sim, 1);
    }
    panic!(
        "{name} did not reach the state within {limit} s: {:#?}",
        peek(sim, name)
    );
}

/// The PRIMARY deployment reached COMPLETED.
pub(super) fn completed(svc: &Service) -> bool {
    primary(svc).rollout_state.as_ref().map(|s| s.as_str()) == Some("COMPLETED")
}

/// Task counts the API does not show: every task including those stopping, and the healthy ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tasks {
    /// All tasks, stopping ones included (what maximumPercent limits).
    pub total: usize,
    /// Healthy tasks not stopping (what minimumHealthyPercent protects).
    pub healthy: usize,
}

/// The service's task counts at the current time.
pub(super) fn tasks(sim: &SimAws, name: &str) -> Tasks {
    sim.with_world(|w, now| {
        let svc = &w.ecs.clusters[CLUSTER].services[name];
        Tasks {
            total: svc.tasks.len(),
            healthy: svc.tasks.iter().filter(|t| t.is_healthy(now)).count(),
        }
    })
}
