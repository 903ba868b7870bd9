//! Wire-level checks of `SdkEcs` against moto: every request the adapter builds is well formed
//! and every answer parses into the operator's types. Behaviour (deployments progressing) is the
//! simulator's business; moto only checks the wire. One moto serves the whole file; each test
//! works in a cluster of its own.

use std::collections::BTreeMap;
use std::time::Duration;

use aws::ecs::sdk::SdkEcs;
use aws::ecs::{
    AwsVpcConfiguration, ContainerDefinition, CreateServiceInput, EcsApi, EphemeralStorage,
    NetworkConfiguration, RuntimePlatform, Service, ServiceConfig, ServiceLookup, Tag,
    TaskDefinitionInput, UpdateServiceInput, Volume,
};
use aws::{AwsError, AwsResult, ErrorKind};
use crds::ecs_service::AssignPublicIp;
use crds::task_definition::{
    ContainerDependency, EfsVolumeConfiguration, HealthCheck, HostVolume, KeyValuePair,
    LogConfiguration, MountPoint, PortMapping, Secret,
};
use e2e_tests::moto::{ACCOUNT_ID, Moto, MotoNetwork, REGION};

/// Longest any single adapter call may take here: an unimplemented call must fail, not hang.
const CALL_DEADLINE: Duration = Duration::from_secs(20);

struct Env {
    ecs: SdkEcs,
    raw: aws_sdk_ecs::Client,
    moto: &'static Moto,
}

async fn env() -> Env {
    let moto = Moto::shared().await;
    let config = moto.sdk_config().await;
    Env {
        ecs: SdkEcs::new(&config),
        raw: aws_sdk_ecs::Client::new(&config),
        moto,
    }
}

/// Runs one adapter call with a deadline.
async fn call<T>(f: impl Future<Output = AwsResult<T>>) -> AwsResult<T> {
    tokio::time::timeout(CALL_DEADLINE, f)
        .await
        .expect("the adapter call finished before the deadline")
}

impl Env {
    /// The operator never creates clusters; the tests do, through the raw client.
    async fn cluster(&self, name: &str) -> String {
        self.raw
            .create_cluster()
            .cluster_name(name)
            .send()
            .await
            .expect("moto creates the cluster");
        name.to_owned()
    }

    async fn task_definition(&self, family: &str) -> String {
        call(
            self.ecs
                .register_task_definition(minimal_task_definition(family)),
        )
        .await
        .expect("RegisterTaskDefinition")
        .task_definition_arn
    }

    /// A cluster, a network, a task definition and one service named `name`.
    async fn service(&self, cluster: &str, name: &str, network: &MotoNetwork) -> Service {
        let task_definition = self.task_definition(name).await;
        call(self.ecs.create_service(CreateServiceInput {
            cluster: cluster.to_owned(),
            service_name: name.to_owned(),
            task_definition,
            desired_count: 1,
            config: fargate_config(network),
            deployment_controller: Some(aws::ecs::DeploymentController::Ecs),
            tags: vec![tag("ecs-operator.dev/owner", &format!("default/{name}"))],
            client_token: Some(format!("token-{name}")),
        }))
        .await
        .expect("CreateService")
    }
}

fn tag(key: &str, value: &str) -> Tag {
    Tag {
        key: key.to_owned(),
        value: value.to_owned(),
    }
}

fn fargate_config(network: &MotoNetwork) -> ServiceConfig {
    ServiceConfig {
        launch_type: Some("FARGATE".to_owned()),
        platform_version: Some("LATEST".to_owned()),
        network_configuration: Some(NetworkConfiguration {
            awsvpc_configuration: AwsVpcConfiguration {
                subnets: network.subnet_ids.clone(),
                security_groups: Some(vec![network.security_group_id.clone()]),
                assign_public_ip: Some(AssignPublicIp::Disabled),
            },
        }),
        propagate_tags: Some("SERVICE".to_owned()),
        ..ServiceConfig::default()
    }
}

fn minimal_task_definition(family: &str) -> TaskDefinitionInput {
    TaskDefinitionInput {
        family: family.to_owned(),
        cpu: Some("256".to_owned()),
        memory: Some("512".to_owned()),
        network_mode: Some("awsvpc".to_owned()),
        requires_compatibilities: vec!["FARGATE".to_owned()],
        container_definitions: vec![ContainerDefinition {
            name: "app".to_owned(),
            image: "nginx:1.27".to_owned(),
            memory_reservation: Some(256),
            ..ContainerDefinition::default()
        }],
        ..TaskDefinitionInput::default()
    }
}

/// Every field the crds types have, set.
fn full_task_definition(family: &str) -> TaskDefinitionInput {
    let secret = |name: &str| Secret {
        name: name.to_owned(),
        value_from: format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{name}"),
    };
    let app = ContainerDefinition {
        name: "app".to_owned(),
        image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/event:1.4.2".to_owned(),
        cpu: Some(384),
        memory: Some(768),
        memory_reservation: Some(512),
        essential: Some(true),
        port_mappings: Some(vec![PortMapping {
            container_port: 8080,
            host_port: Some(8080),
            protocol: Some("tcp".to_owned()),
            name: Some("http".to_owned()),
            app_protocol: Some("http".to_owned()),
        }]),
        environment: Some(vec![KeyValuePair {
            name: "SPRING_PROFILES_ACTIVE".to_owned(),
            value: "prod".to_owned(),
        }]),
        secrets: Some(vec![secret("DB_PASSWORD")]),
        log_configuration: Some(LogConfiguration {
            log_driver: "awslogs".to_owned(),
            options: Some(BTreeMap::from([
                ("awslogs-group".to_owned(), "/ecs/event".to_owned()),
                ("awslogs-region".to_owned(), REGION.to_owned()),
                ("awslogs-stream-prefix".to_owned(), "app".to_owned()),
            ])),
            secret_options: Some(vec![secret("LOG_TOKEN")]),
        }),
        health_check: Some(HealthCheck {
            command: vec![
                "CMD-SHELL".to_owned(),
                "curl -f http://localhost:8080/actuator/health || exit 1".to_owned(),
            ],
            interval: Some(30),
            timeout: Some(5),
            retries: Some(3),
            start_period: Some(60),
        }),
        command: Some(vec![
            "java".to_owned(),
            "-jar".to_owned(),
            "app.jar".to_owned(),
        ]),
        entry_point: Some(vec!["/bin/sh".to_owned(), "-c".to_owned()]),
        working_directory: Some("/app".to_owned()),
        user: Some("1000".to_owned()),
        readonly_root_filesystem: Some(true),
        mount_points: Some(vec![MountPoint {
            source_volume: "shared".to_owned(),
            container_path: "/data".to_owned(),
            read_only: Some(false),
        }]),
        depends_on: Some(vec![ContainerDependency {
            container_name: "sidecar".to_owned(),
            condition: "START".to_owned(),
        }]),
        stop_timeout: Some(30),
        docker_labels: Some(BTreeMap::from([("team".to_owned(), "events".to_owned())])),
    };
    let sidecar = ContainerDefinition {
        name: "sidecar".to_owned(),
        image: "public.ecr.aws/aws-observability/aws-otel-collector:latest".to_owned(),
        memory_reservation: Some(128),
        essential: Some(false),
        ..ContainerDefinition::default()
    };
    TaskDefinitionInput {
        family: family.to_owned(),
        cpu: Some("1024".to_owned()),
        memory: Some("2048".to_owned()),
        network_mode: Some("awsvpc".to_owned()),
        requires_compatibilities: vec!["FARGATE".to_owned()],
        execution_role_arn: Some(format!(
            "arn:aws:iam::{ACCOUNT_ID}:role/ecsTaskExecutionRole"
        )),
        task_role_arn: Some(format!("arn:aws:iam::{ACCOUNT_ID}:role/event-task")),
        runtime_platform: Some(RuntimePlatform {
            cpu_architecture: Some("ARM64".to_owned()),
            operating_system_family: Some("LINUX".to_owned()),
        }),
        container_definitions: vec![app, sidecar],
        volumes: vec![
            Volume {
                name: "shared".to_owned(),
                host: Some(HostVolume {
                    source_path: Some("/var/shared".to_owned()),
                }),
                efs_volume_configuration: None,
            },
            Volume {
                name: "efs".to_owned(),
                host: None,
                efs_volume_configuration: Some(EfsVolumeConfiguration {
                    file_system_id: "fs-12345678".to_owned(),
                    root_directory: Some("/events".to_owned()),
                    transit_encryption: Some("ENABLED".to_owned()),
                }),
            },
        ],
        ephemeral_storage: Some(EphemeralStorage { size_in_gib: 30 }),
        tags: vec![
            tag("ecs-operator.dev/owner", "default/event"),
            tag("ecs-operator.dev/content-hash", "0123abcd"),
        ],
    }
}

fn summary(lookups: &[ServiceLookup]) -> Vec<String> {
    lookups
        .iter()
        .map(|l| match l {
            ServiceLookup::Found(s) => s.service_name.clone(),
            ServiceLookup::Missing => "<missing>".to_owned(),
        })
        .collect()
}

fn found(lookup: &ServiceLookup) -> &Service {
    match lookup {
        ServiceLookup::Found(s) => s,
        ServiceLookup::Missing => panic!("expected a service, got Missing"),
    }
}

#[tokio::test]
async fn describe_task_definition_round_trips_every_registered_field() {
    let env = env().await;
    let input = full_task_definition("roundtrip");
    let registered = call(env.ecs.register_task_definition(input.clone()))
        .await
        .expect("RegisterTaskDefinition");
    assert_eq!(registered.family, "roundtrip");
    assert_eq!(registered.revision, 1);
    assert_eq!(registered.status.as_str(), "ACTIVE");
    assert_eq!(
        registered.definition, input,
        "RegisterTaskDefinition's answer"
    );

    let described = call(
        env.ecs
            .describe_task_definition(&registered.task_definition_arn),
    )
    .await
    .expect("DescribeTaskDefinition");
    assert_eq!(
        described.definition, input,
        "DescribeTaskDefinition's answer"
    );
    assert_eq!(
        described.task_definition_arn,
        registered.task_definition_arn
    );
    // moto omits registeredAt; service deployments carry the timestamps checked on the wire.
}

#[tokio::test]
async fn describe_task_definition_returns_the_tags() {
    let env = env().await;
    let input = full_task_definition("tagged");
    let arn = call(env.ecs.register_task_definition(input.clone()))
        .await
        .expect("RegisterTaskDefinition")
        .task_definition_arn;
    let described = call(env.ecs.describe_task_definition(&arn))
        .await
        .expect("DescribeTaskDefinition");
    assert_eq!(described.tags, input.tags);
}

#[tokio::test]
async fn describe_task_definition_of_an_unknown_revision_is_an_error() {
    let env = env().await;
    let err = call(env.ecs.describe_task_definition("never-registered:1"))
        .await
        .expect_err("an unknown revision");
    assert_eq!(err.kind, ErrorKind::InvalidRequest, "{err}");
}

#[tokio::test]
async fn list_task_definitions_is_newest_first_and_only_the_family() {
    let env = env().await;
    let mut arns = Vec::new();
    for _ in 0..3 {
        arns.push(env.task_definition("listed").await);
    }
    env.task_definition("listed-other").await;
    arns.reverse();
    let listed = call(env.ecs.list_task_definitions("listed"))
        .await
        .expect("ListTaskDefinitions");
    assert_eq!(listed, arns);
}

#[tokio::test]
async fn deregister_task_definition_drops_it_from_the_active_list() {
    let env = env().await;
    let first = env.task_definition("deregistered").await;
    let second = env.task_definition("deregistered").await;
    call(env.ecs.deregister_task_definition(&first))
        .await
        .expect("DeregisterTaskDefinition");
    let listed = call(env.ecs.list_task_definitions("deregistered"))
        .await
        .expect("ListTaskDefinitions");
    assert_eq!(listed, [second]);
    let described = call(env.ecs.describe_task_definition(&first))
        .await
        .expect("a deregistered revision can still be described");
    assert_eq!(described.status.as_str(), "INACTIVE");
}

#[tokio::test]
async fn create_service_sends_network_configuration_and_tags() {
    let env = env().await;
    let cluster = env.cluster("create").await;
    let network = env.moto.create_network().await;
    let created = env.service(&cluster, "web", &network).await;
    assert_eq!(created.service_name, "web");
    assert_eq!(created.status.as_str(), "ACTIVE");
    assert_eq!(created.desired_count, 1);
    assert!(
        created.cluster_arn.ends_with(":cluster/create"),
        "{}",
        created.cluster_arn
    );
    assert_eq!(created.config.launch_type.as_deref(), Some("FARGATE"));
    assert_eq!(
        created.config.network_configuration,
        fargate_config(&network).network_configuration
    );
    assert_eq!(created.deployment_controller.as_str(), "ECS");
    assert_eq!(created.tags, [tag("ecs-operator.dev/owner", "default/web")]);
    let primary = created.primary_deployment().expect("a PRIMARY deployment");
    assert_eq!(
        Some(&primary.task_definition),
        created.task_definition.as_ref()
    );
    assert!(
        primary.created_at.as_second() > 1_577_836_800, // 2020-01-01
        "createdAt parsed: {}",
        primary.created_at
    );
}

#[tokio::test]
async fn describe_services_keeps_the_order_asked_and_reports_missing() {
    let env = env().await;
    let cluster = env.cluster("describe").await;
    let network = env.moto.create_network().await;
    env.service(&cluster, "alpha", &network).await;
    env.service(&cluster, "beta", &network).await;
    let names = ["beta", "ghost", "alpha"].map(str::to_owned);
    let lookups = call(env.ecs.describe_services(&cluster, &names))
        .await
        .expect("DescribeServices");
    assert_eq!(summary(&lookups), ["beta", "<missing>", "alpha"]);
    assert_eq!(
        found(&lookups[2]).tags,
        [tag("ecs-operator.dev/owner", "default/alpha")],
        "include: [TAGS]"
    );
}

#[tokio::test]
async fn describe_services_splits_more_than_ten_names_into_batches() {
    let env = env().await;
    let cluster = env.cluster("batches").await;
    let network = env.moto.create_network().await;
    let service = env.service(&cluster, "svc-11", &network).await;
    let mut names: Vec<String> = (0..11).map(|i| format!("svc-{i:02}")).collect();
    names.push(service.service_arn.clone());
    let lookups = call(env.ecs.describe_services(&cluster, &names))
        .await
        .expect("DescribeServices");
    assert_eq!(lookups.len(), 12);
    assert!(lookups[..11].iter().all(|l| *l == ServiceLookup::Missing));
    assert_eq!(found(&lookups[11]).service_arn, service.service_arn);
}

#[tokio::test]
async fn describe_services_in_an_unknown_cluster_is_not_found() {
    let env = env().await;
    let err = call(
        env.ecs
            .describe_services("no-such-cluster", &["web".to_owned()]),
    )
    .await
    .expect_err("an unknown cluster");
    assert_eq!(err.kind, ErrorKind::NotFound, "{err}");
}

#[tokio::test]
async fn update_service_changes_desired_count_and_task_definition() {
    let env = env().await;
    let cluster = env.cluster("update").await;
    let network = env.moto.create_network().await;
    env.service(&cluster, "api", &network).await;
    let next = env.task_definition("api").await;
    let updated = call(env.ecs.update_service(UpdateServiceInput {
        cluster: cluster.clone(),
        service: "api".to_owned(),
        task_definition: Some(next.clone()),
        desired_count: Some(3),
        config: None,
        force_new_deployment: false,
    }))
    .await
    .expect("UpdateService");
    assert_eq!(updated.desired_count, 3);
    assert_eq!(updated.task_definition.as_deref(), Some(next.as_str()));
    let lookups = call(env.ecs.describe_services(&cluster, &["api".to_owned()]))
        .await
        .expect("DescribeServices");
    assert_eq!(
        found(&lookups[0]).task_definition.as_deref(),
        Some(next.as_str())
    );
}

#[tokio::test]
async fn update_service_sends_the_whole_config() {
    let env = env().await;
    let cluster = env.cluster("update-config").await;
    let network = env.moto.create_network().await;
    env.service(&cluster, "cfg", &network).await;
    let mut config = fargate_config(&network);
    config.health_check_grace_period_seconds = Some(120);
    config.enable_execute_command = true;
    let updated = call(env.ecs.update_service(UpdateServiceInput {
        cluster,
        service: "cfg".to_owned(),
        config: Some(config.clone()),
        force_new_deployment: true,
        ..UpdateServiceInput::default()
    }))
    .await
    .expect("UpdateService");
    assert_eq!(updated.config.health_check_grace_period_seconds, Some(120));
    assert!(updated.config.enable_execute_command);
    assert_eq!(
        updated.config.network_configuration,
        config.network_configuration
    );
}

#[tokio::test]
async fn tag_resource_adds_tags_to_a_service() {
    let env = env().await;
    let cluster = env.cluster("tags").await;
    let network = env.moto.create_network().await;
    let service = env.service(&cluster, "tagged", &network).await;
    call(
        env.ecs
            .tag_resource(&service.service_arn, vec![tag("team", "events")]),
    )
    .await
    .expect("TagResource");
    let lookups = call(env.ecs.describe_services(&cluster, &["tagged".to_owned()]))
        .await
        .expect("DescribeServices");
    let mut tags = found(&lookups[0]).tags.clone();
    tags.sort();
    assert_eq!(
        tags,
        [
            tag("ecs-operator.dev/owner", "default/tagged"),
            tag("team", "events")
        ]
    );
}

#[tokio::test]
async fn delete_service_refuses_running_tasks_unless_forced() {
    let env = env().await;
    let cluster = env.cluster("delete").await;
    let network = env.moto.create_network().await;
    env.service(&cluster, "doomed", &network).await;
    let err = call(env.ecs.delete_service(&cluster, "doomed", false))
        .await
        .expect_err("a service scaled above 0");
    assert_eq!(err.kind, ErrorKind::InvalidRequest, "{err}");
    let deleted = call(env.ecs.delete_service(&cluster, "doomed", true))
        .await
        .expect("DeleteService with force");
    assert_eq!(deleted.service_name, "doomed");
    assert_ne!(deleted.status, aws::ecs::ServiceStatus::Active);
}

/// moto answers the ECS-native deployment calls with HTML 500: the adapter must turn that into
/// an `AwsError` promptly (no panic, no retry loop).
fn assert_unimplemented(result: AwsResult<impl std::fmt::Debug>) {
    let err: AwsError = result.expect_err("moto does not implement this call");
    assert_eq!(err.kind, ErrorKind::Transient, "{err}");
}

const DEPLOYMENT_ARN: &str =
    "arn:aws:ecs:us-east-1:123456789012:service-deployment/c/web/0123456789abcdef";

#[tokio::test]
async fn list_service_deployments_on_moto_is_an_error() {
    let env = env().await;
    assert_unimplemented(call(env.ecs.list_service_deployments("c", "web")).await);
}

#[tokio::test]
async fn describe_service_deployments_on_moto_is_an_error() {
    let env = env().await;
    let arns = [DEPLOYMENT_ARN.to_owned()];
    assert_unimplemented(call(env.ecs.describe_service_deployments(&arns)).await);
}

#[tokio::test]
async fn describe_service_revisions_on_moto_is_an_error() {
    let env = env().await;
    let arns = ["arn:aws:ecs:us-east-1:123456789012:service-revision/c/web/1".to_owned()];
    assert_unimplemented(call(env.ecs.describe_service_revisions(&arns)).await);
}

#[tokio::test]
async fn stop_service_deployment_on_moto_is_an_error() {
    let env = env().await;
    assert_unimplemented(call(env.ecs.stop_service_deployment(DEPLOYMENT_ARN, "ROLLBACK")).await);
}

#[tokio::test]
async fn continue_service_deployment_on_moto_is_an_error() {
    let env = env().await;
    let result = call(
        env.ecs
            .continue_service_deployment(DEPLOYMENT_ARN, "hook-1", "CONTINUE"),
    );
    assert_unimplemented(result.await);
}
