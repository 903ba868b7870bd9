//! Helpers for the BlueGreenRollout controller tests: EcsService and BlueGreenRollout manifests
//! for the seeded event-booking account (a service `<name>` behind `<name>-blue`/`-green`, rule
//! priority of the seeded path rule on both listeners), waits on rollout states, and verb
//! requests as annotations.

use std::time::Duration;

use aws_sim::SimAws;
use crds::rollout::{ReleaseState, RolloutPhase};
use crds::{BlueGreenRollout, EcsService};
use kube::api::{Api, Patch, PatchParams};

use crate::sandbox::Sandbox;

/// How long a rollout test waits for one state (wall time).
pub const WAIT: Duration = Duration::from_secs(90);

/// The seeded path rule priority of a service on both listeners.
pub fn rule_priority(name: &str) -> i32 {
    match name {
        "auth" => 10,
        "event" => 20,
        "ticket" => 30,
        "payment" => 40,
        _ => 50,
    }
}

/// The health path of a service through the ALB (`/api/auth/actuator/health`).
pub fn health_path(name: &str) -> String {
    let prefix = match name {
        "auth" => "auth",
        "event" => "events",
        "ticket" => "tickets",
        "payment" => "payments",
        _ => "notifications",
    };
    format!("/api/{prefix}/actuator/health")
}

/// An EcsService `name` running `image` behind `<name>-blue`.
pub fn service_manifest(sim: &SimAws, name: &str, image: &str) -> String {
    let tg = sim
        .target_group_arn(&format!("{name}-blue"))
        .expect("seeded target group");
    format!(
        r#"
apiVersion: ecs-operator.dev/v1alpha1
kind: EcsService
metadata: {{name: {name}, namespace: default}}
spec:
  cluster: event-booking
  desiredCount: 2
  launchType: FARGATE
  networkConfiguration:
    awsvpcConfiguration:
      subnets: [subnet-0a1f2e3d4c5b60001, subnet-0a1f2e3d4c5b60002]
      securityGroups: [sg-0c0ffee0c0ffee001]
  loadBalancers:
    - {{targetGroupArn: "{tg}", containerName: app, containerPort: 8080}}
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

/// The gates part of a rollout spec: HTTP checks on the health path, fast.
pub fn checks(name: &str) -> String {
    format!(
        "  analysis:\n    httpChecks:\n      - {{path: {}, intervalSeconds: 5, count: 2}}\n",
        health_path(name)
    )
}

/// A CodeDeploy BlueGreenRollout of `name` (1-minute termination wait); `extra` is appended to
/// the spec (two-space indented lines).
pub fn code_deploy_rollout(sim: &SimAws, name: &str, extra: &str) -> String {
    let prod = sim.listener_arn("event-booking-alb", 443).unwrap();
    let test = sim.listener_arn("event-booking-alb", 8443).unwrap();
    format!(
        r#"
apiVersion: ecs-operator.dev/v1alpha1
kind: BlueGreenRollout
metadata: {{name: {name}, namespace: default}}
spec:
  serviceRef: {{name: {name}}}
  strategy:
    codeDeploy:
      serviceRoleArn: arn:aws:iam::123456789012:role/AWSCodeDeployRoleForECS
      targetGroupPairInfo:
        targetGroups: [{{name: {name}-blue}}, {{name: {name}-green}}]
        prodTrafficRoute: {{listenerArns: ["{prod}"]}}
        testTrafficRoute: {{listenerArns: ["{test}"]}}
      terminationWaitTimeInMinutes: 1
{extra}"#
    )
}

/// An ECS-native BlueGreenRollout of `name` with `strategy` (BLUE_GREEN, CANARY, LINEAR) and a
/// 1-minute bake time; `extra` is appended to the spec.
pub fn ecs_native_rollout(sim: &SimAws, name: &str, strategy: &str, extra: &str) -> String {
    let priority = rule_priority(name);
    let prod = sim
        .listener_rule_arn("event-booking-alb", 443, priority)
        .unwrap();
    let test = sim
        .listener_rule_arn("event-booking-alb", 8443, priority)
        .unwrap();
    let green = sim.target_group_arn(&format!("{name}-green")).unwrap();
    let shifting = match strategy {
        "CANARY" => "      canaryConfiguration: {canaryPercent: 20, canaryBakeTimeInMinutes: 1}\n",
        "LINEAR" => "      linearConfiguration: {stepPercent: 50, stepBakeTimeInMinutes: 1}\n",
        _ => "",
    };
    format!(
        r#"
apiVersion: ecs-operator.dev/v1alpha1
kind: BlueGreenRollout
metadata: {{name: {name}, namespace: default}}
spec:
  serviceRef: {{name: {name}}}
  strategy:
    ecsNative:
      strategy: {strategy}
      bakeTimeInMinutes: 1
{shifting}      advancedConfiguration:
        alternateTargetGroupArn: "{green}"
        productionListenerRule: "{prod}"
        testListenerRule: "{test}"
        roleArn: arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers
{extra}"#
    )
}

/// The rollout API of the default namespace.
pub fn rollouts(sb: &Sandbox) -> Api<BlueGreenRollout> {
    Api::namespaced(sb.client.clone(), "default")
}

/// The EcsService API of the default namespace.
pub fn services(sb: &Sandbox) -> Api<EcsService> {
    Api::namespaced(sb.client.clone(), "default")
}

/// The rollout's phase.
pub fn phase(r: &BlueGreenRollout) -> Option<RolloutPhase> {
    r.status.as_ref().and_then(|s| s.phase)
}

/// The state of its release in flight.
pub fn release_state(r: &BlueGreenRollout) -> Option<ReleaseState> {
    r.status.as_ref()?.release.as_ref().map(|r| r.state)
}

/// Whether a condition is True for the current generation.
pub fn is(r: &BlueGreenRollout, type_: &str) -> bool {
    let Some(status) = r.status.as_ref() else {
        return false;
    };
    status.observed_generation == r.metadata.generation
        && status
            .conditions
            .iter()
            .any(|c| c.type_ == type_ && c.status.as_str() == "True")
}

/// The stable revision's `family:revision`.
pub fn stable(r: &BlueGreenRollout) -> Option<String> {
    let arn = r.status.as_ref()?.stable_task_definition_arn.as_deref()?;
    Some(arn.rsplit('/').next().unwrap_or(arn).to_owned())
}

/// Waits until the rollout `name` satisfies `pred`.
pub async fn wait_rollout(
    sb: &Sandbox,
    name: &str,
    what: &str,
    pred: impl Fn(&BlueGreenRollout) -> bool,
) -> BlueGreenRollout {
    let api = rollouts(sb);
    sb.wait_for(what, WAIT, || {
        let api = api.clone();
        let pred = &pred;
        async move { api.get(name).await.ok().filter(|o| pred(o)) }
    })
    .await
}

/// Waits until the rollout is Healthy on revision `family_revision` (e.g. `app:2`, by suffix).
pub async fn wait_healthy_on(sb: &Sandbox, name: &str, revision: &str) -> BlueGreenRollout {
    wait_rollout(sb, name, &format!("Healthy on {revision}"), |r| {
        phase(r) == Some(RolloutPhase::Healthy)
            && is(r, "Ready")
            && stable(r).is_some_and(|s| s.ends_with(revision))
    })
    .await
}

/// Requests a verb the way the kubectl plugin does: the annotation
/// `ecs-operator.dev/<verb>-requested-at` set to now (merge patch, `.spec` untouched).
pub async fn request(sb: &Sandbox, name: &str, verb: &str) {
    let stamp = jiff::Timestamp::now().to_string();
    let patch = serde_json::json!({
        "metadata": {"annotations": {format!("ecs-operator.dev/{verb}-requested-at"): stamp}}
    });
    rollouts(sb)
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("annotate the rollout");
}

/// Waits until the rollout is Degraded with no release in flight (rolled back).
pub async fn wait_degraded(sb: &Sandbox, name: &str) -> BlueGreenRollout {
    wait_rollout(sb, name, "Degraded", |r| {
        phase(r) == Some(RolloutPhase::Degraded) && release_state(r).is_none()
    })
    .await
}

/// Waits until the release in flight is in `state`.
pub async fn wait_state(sb: &Sandbox, name: &str, state: ReleaseState) -> BlueGreenRollout {
    wait_rollout(sb, name, &format!("{state:?}"), |r| {
        release_state(r) == Some(state)
    })
    .await
}

/// The task definition the simulated ECS service `name` runs.
pub fn live_revision(sb: &Sandbox, name: &str) -> String {
    sb.sim
        .service("event-booking", name)
        .and_then(|s| s.task_definition)
        .unwrap_or_default()
}
