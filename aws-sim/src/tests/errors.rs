//! Every error the simulator answers: code, kind and AWS's message text.

use super::*;
use crate::ecs::api::{DELETE_SERVICE, DEREGISTER_TASK_DEFINITION, DESCRIBE_SERVICES};
use aws::ecs::LoadBalancer;
use aws::error::{AwsError, ErrorKind};

fn assert_error(
    result: AwsResult<impl std::fmt::Debug>,
    code: &str,
    kind: ErrorKind,
    message: &str,
) {
    let err: AwsError = result.expect_err("the call fails");
    assert_eq!((err.code.as_str(), err.kind), (code, kind), "{err}");
    assert_eq!(err.message, message);
}

fn base_update(name: &str) -> UpdateServiceInput {
    UpdateServiceInput {
        cluster: CLUSTER.to_owned(),
        service: name.to_owned(),
        ..UpdateServiceInput::default()
    }
}

#[test]
fn missing_cluster_and_service() {
    let sim = sim();
    let describe = sim.call_now(&DESCRIBE_SERVICES, |w, now| {
        w.ecs_describe_services(now, "nope", &["a".to_owned()])
    });
    assert_error(
        describe,
        "ClusterNotFoundException",
        ErrorKind::NotFound,
        "Cluster not found.",
    );
    let td = register(&sim, td_input("auth", "registry/auth:1"));
    let mut input = create_input(&sim, "auth", &td, 1);
    input.cluster = "arn:aws:ecs:eu-west-1:123456789012:cluster/other".to_owned();
    assert_error(
        try_create(&sim, input),
        "ClusterNotFoundException",
        ErrorKind::NotFound,
        "Cluster not found.",
    );
    assert_error(
        update(&sim, base_update("ghost")),
        "ServiceNotFoundException",
        ErrorKind::NotFound,
        "Service not found.",
    );
    let delete = sim.call_now(&DELETE_SERVICE, |w, now| {
        w.ecs_delete_service(now, CLUSTER, "ghost", true)
    });
    assert_error(
        delete,
        "ServiceNotFoundException",
        ErrorKind::NotFound,
        "Service not found.",
    );
}

#[test]
fn inactive_and_draining_services_refuse_changes() {
    let sim = sim();
    create(&sim, "auth", "registry/auth:1", 1);
    sim.call_now(&DELETE_SERVICE, |w, now| {
        w.ecs_delete_service(now, CLUSTER, "auth", true)
    })
    .unwrap();
    let msg = "Service was not ACTIVE.";
    assert_error(
        update(&sim, base_update("auth")),
        "ServiceNotActiveException",
        ErrorKind::Conflict,
        msg,
    );
    let td = register(&sim, td_input("auth", "registry/auth:1"));
    assert_error(
        try_create(&sim, create_input(&sim, "auth", &td, 1)),
        "InvalidParameterException",
        ErrorKind::InvalidRequest,
        "Unable to Start a service that is still Draining.",
    );
    advance(&sim, 120);
    assert_eq!(peek(&sim, "auth").status.as_str(), "INACTIVE");
    assert_error(
        update(&sim, base_update("auth")),
        "ServiceNotActiveException",
        ErrorKind::Conflict,
        msg,
    );
}

#[test]
fn create_is_not_idempotent_without_the_same_client_token() {
    let sim = sim();
    let td = register(&sim, td_input("auth", "registry/auth:1"));
    let mut input = create_input(&sim, "auth", &td, 1);
    input.client_token = Some("token-1".to_owned());
    let first = try_create(&sim, input.clone()).unwrap();
    let again = try_create(&sim, input.clone()).unwrap();
    assert_eq!(again.service_arn, first.service_arn);
    input.client_token = None;
    assert_error(
        try_create(&sim, input),
        "InvalidParameterException",
        ErrorKind::InvalidRequest,
        "Creation of service was not idempotent.",
    );
}

#[test]
fn unknown_network_and_target_groups() {
    let sim = sim();
    let td = register(&sim, td_input("auth", "registry/auth:1"));
    let mut input = create_input(&sim, "auth", &td, 1);
    input
        .config
        .network_configuration
        .as_mut()
        .unwrap()
        .awsvpc_configuration
        .subnets = vec!["subnet-x".to_owned()];
    assert_error(
        try_create(&sim, input),
        "InvalidParameterException",
        ErrorKind::InvalidRequest,
        "Error retrieving subnet information for [subnet-x]: The subnet ID 'subnet-x' does not exist \
         (Service: AmazonEC2; Status Code: 400; Error Code: InvalidSubnetID.NotFound)",
    );
    let mut input = create_input(&sim, "auth", &td, 1);
    input
        .config
        .network_configuration
        .as_mut()
        .unwrap()
        .awsvpc_configuration
        .security_groups = Some(vec!["sg-x".to_owned()]);
    assert_error(
        try_create(&sim, input),
        "InvalidParameterException",
        ErrorKind::InvalidRequest,
        "Error retrieving security group information for [sg-x]: The security group 'sg-x' does \
         not exist (Service: AmazonEC2; Status Code: 400; Error Code: InvalidGroup.NotFound)",
    );
    let mut input = create_input(&sim, "auth", &td, 1);
    let arn =
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/nope/0123456789abcdef";
    input.config.load_balancers = vec![LoadBalancer {
        target_group_arn: Some(arn.to_owned()),
        container_name: "app".to_owned(),
        container_port: 8080,
        ..LoadBalancer::default()
    }];
    assert_error(
        try_create(&sim, input.clone()),
        "InvalidParameterException",
        ErrorKind::InvalidRequest,
        &format!("The target group with targetGroupArn {arn} does not exist."),
    );
    input.config.load_balancers[0].target_group_arn = sim.target_group_arn("auth-blue");
    input.config.load_balancers[0].container_port = 9090;
    assert_error(
        try_create(&sim, input),
        "InvalidParameterException",
        ErrorKind::InvalidRequest,
        "The container app did not have a container port 9090 defined.",
    );
    let mut input = create_input(&sim, "auth", &td, 1);
    input.config.network_configuration = None;
    assert_error(
        try_create(&sim, input),
        "InvalidParameterException",
        ErrorKind::InvalidRequest,
        "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
    );
    let mut input = create_input(&sim, "auth", &td, 1);
    input.config.launch_type = None;
    assert_error(
        try_create(&sim, input),
        "InvalidParameterException",
        ErrorKind::InvalidRequest,
        "Task definition does not support launch_type EC2.",
    );
}

#[test]
fn missing_or_inactive_task_definitions() {
    let sim = sim();
    let missing = "arn:aws:ecs:eu-west-1:123456789012:task-definition/auth:9";
    assert_error(
        try_create(&sim, create_input(&sim, "auth", missing, 1)),
        "InvalidParameterException",
        ErrorKind::InvalidRequest,
        "TaskDefinition not found.",
    );
    let td = register(&sim, td_input("auth", "registry/auth:1"));
    try_create(&sim, create_input(&sim, "auth", &td, 1)).unwrap();
    let td2 = register(&sim, td_input("auth", "registry/auth:2"));
    sim.call_now(&DEREGISTER_TASK_DEFINITION, |w, _| {
        w.ecs.task_definitions.deregister(&td2)
    })
    .unwrap();
    let input = UpdateServiceInput {
        task_definition: Some(td2),
        ..base_update("auth")
    };
    assert_error(
        update(&sim, input),
        "InvalidParameterException",
        ErrorKind::InvalidRequest,
        "TaskDefinition is inactive",
    );
}

#[test]
fn fargate_task_definitions_are_checked_at_registration() {
    let sim = sim();
    type Change = Box<dyn Fn(&mut TaskDefinitionInput)>;
    let cases: Vec<(Change, &str)> = vec![
        (
            Box::new(|td| td.network_mode = Some("bridge".to_owned())),
            "Fargate only supports network mode ‘awsvpc’.",
        ),
        (
            Box::new(|td| td.memory = Some("512".to_owned())),
            "No Fargate configuration exists for given values: 512 CPU, 512 memory. See the Amazon ECS documentation for the valid values.",
        ),
        (
            Box::new(|td| td.execution_role_arn = None),
            "Fargate requires task definition to have execution role ARN to support log driver awslogs.",
        ),
        (
            Box::new(|td| td.cpu = None),
            "Fargate requires that 'cpu' be defined at the task level.",
        ),
    ];
    for (change, message) in cases {
        let mut td = td_input("auth", "registry/auth:1");
        change(&mut td);
        let result = sim.call_now(&super::REGISTER_TASK_DEFINITION, |w, now| {
            w.ecs
                .task_definitions
                .register("eu-west-1", "123456789012", td, now)
        });
        assert_error(
            result,
            "ClientException",
            ErrorKind::InvalidRequest,
            message,
        );
    }
}

#[test]
fn code_deploy_services_refuse_task_definition_and_network_changes() {
    let sim = sim();
    let td = register(&sim, td_input("auth", "registry/auth:1"));
    let mut input = create_input(&sim, "auth", &td, 2);
    input.deployment_controller = Some(aws::ecs::DeploymentController::CodeDeploy);
    let svc = try_create(&sim, input).unwrap();
    assert_eq!(svc.deployment_controller.as_str(), "CODE_DEPLOY");
    let message = "Unable to update task definition on services with a CODE_DEPLOY deployment \
                   controller. Use AWS CodeDeploy to trigger a new deployment.";
    let td2 = register(&sim, td_input("auth", "registry/auth:2"));
    let change_td = UpdateServiceInput {
        task_definition: Some(td2),
        ..base_update("auth")
    };
    assert_error(
        update(&sim, change_td),
        "InvalidParameterException",
        ErrorKind::InvalidRequest,
        message,
    );
    let mut cfg = svc.config.clone();
    cfg.network_configuration
        .as_mut()
        .unwrap()
        .awsvpc_configuration
        .subnets
        .pop();
    let change_net = UpdateServiceInput {
        config: Some(cfg),
        ..base_update("auth")
    };
    assert_error(
        update(&sim, change_net),
        "InvalidParameterException",
        ErrorKind::InvalidRequest,
        message,
    );
    let scale = UpdateServiceInput {
        desired_count: Some(3),
        ..base_update("auth")
    };
    assert_eq!(
        update(&sim, scale).unwrap().desired_count,
        3,
        "desiredCount is still ECS's"
    );
}

#[test]
fn describe_services_takes_at_most_ten_names() {
    let sim = sim();
    let names: Vec<String> = (0..11).map(|i| format!("svc-{i}")).collect();
    let result = sim.call_now(&DESCRIBE_SERVICES, |w, now| {
        w.ecs_describe_services(now, CLUSTER, &names)
    });
    assert_error(
        result,
        "InvalidParameterException",
        ErrorKind::InvalidRequest,
        "services can have at most 10 items.",
    );
}
