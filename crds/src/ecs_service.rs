//! The EcsService kind: one ECS service and its task definition template.
//! Field names copy the ECS API JSON members (CreateService, RegisterTaskDefinition).

use crate::common::{AdoptionPolicy, DeletionPolicy, ManagementPolicy, Tag};
use crate::task_definition::TaskDefinitionTemplate;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Desired state of one Amazon ECS service and the task definition it runs.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "ecs-operator.dev",
    version = "v1alpha1",
    kind = "EcsService",
    namespaced,
    status = "EcsServiceStatus",
    shortname = "ecssvc",
    category = "ecs",
    doc = "An Amazon ECS service and its task definition, kept in sync with AWS by ecs-operator.",
    printcolumn = r#"{"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name": "Cluster", "type": "string", "jsonPath": ".spec.cluster"}"#,
    printcolumn = r#"{"name": "Desired", "type": "integer", "jsonPath": ".status.desiredCount"}"#,
    printcolumn = r#"{"name": "Running", "type": "integer", "jsonPath": ".status.runningCount"}"#,
    printcolumn = r#"{"name": "Rollout", "type": "string", "jsonPath": ".status.deployment.rolloutState"}"#,
    printcolumn = r#"{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name": "TaskDefinition", "type": "string", "jsonPath": ".status.taskDefinitionArn", "priority": 1}"#
)]
#[x_kube(validation = Rule::new("has(self.serviceName) == has(oldSelf.serviceName)").message("serviceName is immutable: it cannot be added or removed after creation"))]
#[x_kube(validation = Rule::new("!(has(self.launchType) && has(self.capacityProviderStrategy))").message("launchType and capacityProviderStrategy are mutually exclusive"))]
#[serde(rename_all = "camelCase")]
pub struct EcsServiceSpec {
    /// Short name or ARN of the ECS cluster the service runs in. Immutable.
    #[x_kube(validation = Rule::new("self == oldSelf").message("cluster is immutable"))]
    #[schemars(length(min = 1, max = 2048))]
    pub cluster: String,

    /// Name of the ECS service. Defaults to metadata.name. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("serviceName is immutable"))]
    #[schemars(length(min = 1, max = 255), regex(pattern = r"^[a-zA-Z0-9_-]+$"))]
    pub service_name: Option<String>,

    /// AWS Region of the service. Defaults to the operator's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,

    /// The task definition template. The operator renders it, hashes it, registers a revision only
    /// when no ACTIVE revision carries that hash, and pins the service to that exact revision.
    pub task_definition: TaskDefinitionTemplate,

    /// Number of tasks to run. When a ScalingPolicy targets this service, only the initial count:
    /// Application Auto Scaling owns the live count from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 5000))]
    pub desired_count: Option<i32>,

    /// Launch type: FARGATE, EC2 or EXTERNAL. Exclusive with capacityProviderStrategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_type: Option<LaunchType>,

    /// Capacity provider strategy. Exclusive with launchType.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_provider_strategy: Option<Vec<CapacityProviderStrategyItem>>,

    /// Fargate platform version (e.g. LATEST, 1.4.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_version: Option<String>,

    /// Network configuration for tasks using the awsvpc network mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_configuration: Option<NetworkConfiguration>,

    /// Load balancer target groups the service registers its tasks with (at most 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 5))]
    pub load_balancers: Option<Vec<LoadBalancer>>,

    /// Service discovery (Cloud Map) registries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_registries: Option<Vec<ServiceRegistry>>,

    /// Seconds ECS ignores failing load balancer health checks after a task starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 2147483647))]
    pub health_check_grace_period_seconds: Option<i32>,

    /// Rolling deployment parameters. With a BlueGreenRollout the rollout's engine owns the strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_configuration: Option<DeploymentConfiguration>,

    /// Whether ECS Exec is enabled for the service's tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_execute_command: Option<bool>,

    /// Whether ECS adds its managed tags (aws:ecs:*) to tasks.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "enableECSManagedTags"
    )]
    pub enable_ecs_managed_tags: Option<bool>,

    /// Propagate tags to tasks from SERVICE or TASK_DEFINITION, or NONE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagate_tags: Option<PropagateTags>,

    /// Tags for the service (the operator adds its owner tag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 45))]
    pub tags: Option<Vec<Tag>>,

    /// EcsServices in this namespace that must be Ready before this one rolls out a new revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Vec<String>>,

    /// Task definition revisions kept besides the live one, a rollback target and the last good one
    /// (older revisions the operator registered are deregistered). Default 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub revision_history_limit: Option<i32>,

    /// Delete (default): on deletion scale to 0, delete the service and wait until INACTIVE.
    /// Retain: leave the service running in AWS.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// Manage (default) or ObserveOnly: never write to AWS, only report drift.
    #[serde(default)]
    pub management_policy: ManagementPolicy,

    /// Never (default): refuse an existing untagged service. Adopt: take it over.
    #[serde(default)]
    pub adoption_policy: AdoptionPolicy,
}

/// ECS launch type.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LaunchType {
    /// AWS Fargate.
    Fargate,
    /// EC2 container instances.
    Ec2,
    /// External (ECS Anywhere) instances.
    External,
}

/// Where service tags are propagated to.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PropagateTags {
    /// From the service.
    Service,
    /// From the task definition.
    TaskDefinition,
    /// Not propagated.
    None,
}

/// One entry of a capacity provider strategy.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CapacityProviderStrategyItem {
    /// Capacity provider name (e.g. FARGATE, FARGATE_SPOT).
    pub capacity_provider: String,
    /// Relative share of tasks (0–1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000))]
    pub weight: Option<i32>,
    /// Minimum number of tasks on this provider (0–100000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100000))]
    pub base: Option<i32>,
}

/// Network configuration of the service's tasks.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NetworkConfiguration {
    /// VPC subnets and security groups of the tasks' elastic network interfaces.
    pub awsvpc_configuration: AwsVpcConfiguration,
}

/// awsvpc network mode configuration.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwsVpcConfiguration {
    /// Subnet IDs (at most 16).
    #[schemars(length(min = 1, max = 16))]
    pub subnets: Vec<String>,
    /// Security group IDs (at most 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 5))]
    pub security_groups: Option<Vec<String>>,
    /// ENABLED or DISABLED (default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assign_public_ip: Option<AssignPublicIp>,
}

/// Whether tasks get a public IP.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssignPublicIp {
    /// A public IP is assigned.
    Enabled,
    /// No public IP.
    Disabled,
}

/// A load balancer target group the service registers tasks with.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancer {
    /// ARN of the ELBv2 target group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_group_arn: Option<String>,
    /// Name of a Classic Load Balancer (instead of a target group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_name: Option<String>,
    /// Container (from the task definition) to register.
    pub container_name: String,
    /// Container port to register.
    #[schemars(range(min = 1, max = 65535))]
    pub container_port: i32,
}

/// A Cloud Map service registry.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRegistry {
    /// ARN of the Cloud Map service.
    pub registry_arn: String,
    /// Port value for SRV records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
    /// Container name for SRV records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    /// Container port for SRV records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_port: Option<i32>,
}

/// Parameters of ECS rolling deployments.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[x_kube(validation = Rule::new("!has(self.minimumHealthyPercent) || !has(self.maximumPercent) || self.minimumHealthyPercent <= self.maximumPercent").message("minimumHealthyPercent must not exceed maximumPercent"))]
#[serde(rename_all = "camelCase")]
pub struct DeploymentConfiguration {
    /// Upper limit of running tasks during a deployment, as a percent of desiredCount (default 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 100, max = 200))]
    pub maximum_percent: Option<i32>,
    /// Lower limit of healthy tasks during a deployment, as a percent of desiredCount (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub minimum_healthy_percent: Option<i32>,
    /// Stop a deployment whose tasks keep failing, optionally rolling back (default: enabled, rollback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_circuit_breaker: Option<DeploymentCircuitBreaker>,
    /// CloudWatch alarms that fail the deployment when they go to ALARM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarms: Option<DeploymentAlarms>,
}

/// The deployment circuit breaker.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentCircuitBreaker {
    /// Whether the circuit breaker is on.
    pub enable: bool,
    /// Whether a failed deployment rolls back to the last completed one.
    pub rollback: bool,
}

/// Deployment alarms.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentAlarms {
    /// CloudWatch alarm names.
    pub alarm_names: Vec<String>,
    /// Whether the alarms are used.
    pub enable: bool,
    /// Whether an alarm rolls the deployment back.
    pub rollback: bool,
}

/// Observed state of an EcsService.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EcsServiceStatus {
    /// The metadata.generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, Reconciling, Stalled, Degraded and Drifted conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The AWS account this object's resources are in: the 12-digit id its namespace's
    /// AwsAccountBinding named, or `operator` for ecs-operator's own identity. Recorded before
    /// the object's first AWS call; when the namespace's binding later points elsewhere, the
    /// object is Stalled (`AccountChanged`) until a person confirms the new account with the
    /// annotation `ecs-operator.dev/confirm-account`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_account: Option<String>,
    /// ARN of the ECS service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_arn: Option<String>,
    /// The exact task definition revision the service runs in AWS now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition_arn: Option<String>,
    /// The revision rendered from the current spec (what the service should run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_task_definition_arn: Option<String>,
    /// The last revision whose deployment completed: the rollback target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_good_task_definition_arn: Option<String>,
    /// Content hash of the rendered task definition of the current spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    /// Content hash whose deployment failed; not retried until the spec changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_content_hash: Option<String>,
    /// Desired task count in AWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_count: Option<i32>,
    /// Running task count in AWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running_count: Option<i32>,
    /// Pending task count in AWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_count: Option<i32>,
    /// The ECS deployment caused by the observed generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<DeploymentStatus>,
    /// The release of a ReleaseGroup this service's current spec belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<MemberRelease>,
}

/// What an EcsService remembers of its group's release.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberRelease {
    /// The release id (the `ecs-operator.dev/release` annotation).
    pub id: String,
    /// The revision the service ran when it joined the release: where a rollback of the
    /// release takes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_task_definition_arn: Option<String>,
    /// While the group rolls the release back and a BlueGreenRollout releases this service:
    /// the revision the rollout is to release instead of the spec's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_to: Option<String>,
}

/// One ECS deployment as the status reports it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentStatus {
    /// ECS deployment id (ecs-svc/…).
    pub id: String,
    /// PRIMARY, ACTIVE or INACTIVE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// IN_PROGRESS, COMPLETED or FAILED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout_state: Option<String>,
    /// Why the deployment is in its rollout state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Task definition revision the deployment rolls out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition_arn: Option<String>,
}

impl EcsService {
    /// The ECS service name: spec.serviceName or metadata.name.
    pub fn service_name(&self) -> &str {
        self.spec
            .service_name
            .as_deref()
            .or(self.metadata.name.as_deref())
            .unwrap_or_default()
    }
}
