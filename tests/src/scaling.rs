//! Helpers of the ScalingPolicy controller tests: manifests shaped like the event-booking ones,
//! waits with deadlines on the API server and the simulated account, simulated time moved by
//! hand, scaling activities read back.

use std::time::Duration;

use aws::autoscaling::ScalingActivity;
use crds::{EcsService, ScalingPolicy};
use kube::api::Api;

use crate::sandbox::Sandbox;

/// How long any wait in these tests may take (wall time).
pub const WAIT: Duration = Duration::from_secs(90);
/// The seeded cluster.
pub const CLUSTER: &str = "event-booking";

/// An EcsService on Fargate in the seeded network, circuit breaker off (a bad image keeps
/// its deployment in progress).
pub fn service_manifest(name: &str, image: &str, desired: i32) -> String {
    format!(
        r#"
apiVersion: ecs-operator.dev/v1alpha1
kind: EcsService
metadata: {{name: {name}, namespace: default}}
spec:
  cluster: {CLUSTER}
  desiredCount: {desired}
  launchType: FARGATE
  networkConfiguration:
    awsvpcConfiguration:
      subnets: [subnet-0a1f2e3d4c5b60001, subnet-0a1f2e3d4c5b60002]
      securityGroups: [sg-0c0ffee0c0ffee001]
  deploymentConfiguration:
    deploymentCircuitBreaker: {{enable: false, rollback: false}}
  taskDefinition:
    cpu: "256"
    memory: "512"
    networkMode: awsvpc
    executionRoleArn: arn:aws:iam::123456789012:role/ecsTaskExecutionRole
    containerDefinitions:
      - name: app
        image: {image}
        portMappings: [{{containerPort: 8080}}]
"#
    )
}

/// A ScalingPolicy like the event-booking ones: CPU 70 %, memory 80 %, out 60 s, in 300 s.
pub fn policy_manifest(name: &str, service: &str, min: i32, max: i32, extra: &str) -> String {
    format!(
        r#"
apiVersion: ecs-operator.dev/v1alpha1
kind: ScalingPolicy
metadata: {{name: {name}, namespace: default}}
spec:
  serviceRef: {{name: {service}}}
  minCapacity: {min}
  maxCapacity: {max}
  targetTrackingPolicies:
    - policyName: cpu70
      targetValue: 70
      predefinedMetricSpecification: {{predefinedMetricType: ECSServiceAverageCPUUtilization}}
      scaleOutCooldown: 60
      scaleInCooldown: 300
    - policyName: memory80
      targetValue: 80
      predefinedMetricSpecification: {{predefinedMetricType: ECSServiceAverageMemoryUtilization}}
      scaleOutCooldown: 60
      scaleInCooldown: 300
{extra}
"#
    )
}

/// `service/event-booking/<service>`.
pub fn resource_id(service: &str) -> String {
    format!("service/{CLUSTER}/{service}")
}

/// ScalingPolicies of the default namespace.
pub fn policies(sb: &Sandbox) -> Api<ScalingPolicy> {
    Api::namespaced(sb.client.clone(), "default")
}

/// EcsServices of the default namespace.
pub fn services(sb: &Sandbox) -> Api<EcsService> {
    Api::namespaced(sb.client.clone(), "default")
}

/// (status, reason, message) of a condition.
pub fn condition(obj: &ScalingPolicy, type_: &str) -> Option<(String, String, String)> {
    let c = obj
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)?;
    Some((c.status.clone(), c.reason.clone(), c.message.clone()))
}

/// Whether a condition is True for the current generation.
pub fn is(obj: &ScalingPolicy, type_: &str) -> bool {
    let current =
        obj.status.as_ref().and_then(|s| s.observed_generation) == obj.metadata.generation;
    current && condition(obj, type_).is_some_and(|(s, _, _)| s == "True")
}

/// The ScalingPolicy once `pred` holds.
pub async fn wait_policy(
    sb: &Sandbox,
    name: &str,
    what: &str,
    pred: impl Fn(&ScalingPolicy) -> bool,
) -> ScalingPolicy {
    let api = policies(sb);
    sb.wait_for(what, WAIT, || {
        let api = api.clone();
        let pred = &pred;
        async move { api.get(name).await.ok().filter(|o| pred(o)) }
    })
    .await
}

/// Waits until the EcsService is Ready for its generation.
pub async fn wait_service_ready(sb: &Sandbox, name: &str) {
    let api = services(sb);
    sb.wait_for("EcsService Ready", WAIT, || {
        let api = api.clone();
        async move {
            let o = api.get(name).await.ok()?;
            let s = o.status.as_ref()?;
            (s.observed_generation == o.metadata.generation
                && s.conditions
                    .iter()
                    .any(|c| c.type_ == "Ready" && c.status.as_str() == "True"))
            .then_some(())
        }
    })
    .await;
}

/// The service's desiredCount in AWS, once `pred` holds for it.
pub async fn wait_desired(
    sb: &Sandbox,
    service: &str,
    what: &str,
    pred: impl Fn(i32) -> bool,
) -> i32 {
    sb.wait_for(what, WAIT, || async {
        let d = sb.sim.service(CLUSTER, service)?.desired_count;
        pred(d).then_some(d)
    })
    .await
}

/// Moves simulated time forward by hand (the autoscaler evaluates once a simulated minute).
pub fn advance(sb: &Sandbox, minutes: u64) {
    sb.clock.advance(Duration::from_secs(minutes * 60));
}

/// The scaling activities of a service, oldest first.
pub fn activities(sb: &Sandbox, service: &str) -> Vec<ScalingActivity> {
    let id = resource_id(service);
    sb.sim
        .scaling_activities()
        .into_iter()
        .filter(|r| r.resource_id == id)
        .map(|r| r.activity)
        .collect()
}

/// Desired counts set by the autoscaler, in order.
pub fn desired_counts(activities: &[ScalingActivity]) -> Vec<i32> {
    activities
        .iter()
        .filter_map(|a| {
            a.description
                .strip_prefix("Setting desired count to ")?
                .trim_end_matches('.')
                .parse()
                .ok()
        })
        .collect()
}

/// Whether dynamic scale-in of the service's target is suspended in AWS.
pub fn suspended(sb: &Sandbox, service: &str) -> Option<bool> {
    sb.sim
        .scalable_target(&resource_id(service))
        .map(|t| t.suspended_state.dynamic_scaling_in_suspended)
}

/// An EcsService and its ScalingPolicy, both Ready.
pub async fn scaled_service(sb: &Sandbox, name: &str, min: i32, max: i32) -> ScalingPolicy {
    sb.apply(&service_manifest(name, &format!("repo/{name}:1.0"), min))
        .await
        .unwrap();
    sb.apply(&policy_manifest(name, name, min, max, ""))
        .await
        .unwrap();
    wait_service_ready(sb, name).await;
    // The service's first deployment is a rollout too: scale-in resumes once it completed.
    wait_policy(sb, name, "ScalingPolicy Ready, scale-in active", |o| {
        is(o, "Ready") && o.status.as_ref().and_then(|s| s.scale_in_suspended) == Some(false)
    })
    .await
}

/// Heavy load until the service settled above its minimum.
pub async fn scale_out(sb: &Sandbox, name: &str) -> i32 {
    assert!(sb.sim.set_service_load(CLUSTER, name, 250.0, 30.0));
    advance(sb, 10);
    wait_desired(sb, name, "scale-out", |d| d > 2).await;
    advance(sb, 5);
    let settled = sb.sim.service(CLUSTER, name).unwrap().desired_count;
    // 250 % of 2 tasks is 5 tasks' worth of CPU: at most 70 % each needs 8 tasks.
    assert_eq!(settled, 8, "{:?}", activities(sb, name));
    settled
}
