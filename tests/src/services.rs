//! EcsService helpers for the end-to-end tests: a Fargate manifest, its conditions, and waits
//! on its status.

use std::time::Duration;

use crds::EcsService;
use kube::api::Api;

use crate::sandbox::Sandbox;

/// How long a test waits for a state.
pub const WAIT: Duration = Duration::from_secs(60);

/// An EcsService `name` on Fargate in cluster event-booking running `image`, with `extra`
/// lines added to its spec.
pub fn manifest(name: &str, image: &str, extra: &str) -> String {
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
  taskDefinition:
    cpu: "256"
    memory: "512"
    networkMode: awsvpc
    executionRoleArn: arn:aws:iam::123456789012:role/ecsTaskExecutionRole
    containerDefinitions:
      - name: app
        image: {image}
        portMappings: [{{containerPort: 8080}}]
{extra}
"#
    )
}

/// The EcsServices of namespace default.
pub fn api(sb: &Sandbox) -> Api<EcsService> {
    Api::namespaced(sb.client.clone(), "default")
}

/// A condition's (status, reason, message).
pub fn condition(obj: &EcsService, type_: &str) -> Option<(String, String, String)> {
    let c = obj
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)?;
    Some((c.status.clone(), c.reason.clone(), c.message.clone()))
}

/// Whether the condition is True for the object's current generation.
pub fn is(obj: &EcsService, type_: &str) -> bool {
    let current =
        obj.status.as_ref().and_then(|s| s.observed_generation) == obj.metadata.generation;
    current && condition(obj, type_).is_some_and(|(s, _, _)| s == "True")
}

/// Waits until EcsService `name` satisfies `pred`.
pub async fn wait_until(
    sb: &Sandbox,
    name: &str,
    what: &str,
    pred: impl Fn(&EcsService) -> bool,
) -> EcsService {
    let api = api(sb);
    sb.wait_for(what, WAIT, || {
        let api = api.clone();
        let pred = &pred;
        async move { api.get(name).await.ok().filter(|o| pred(o)) }
    })
    .await
}

/// The revision the status tracks a deployment of, and that deployment's rollout state.
pub fn tracked(obj: &EcsService) -> Option<(String, String)> {
    let d = obj.status.as_ref()?.deployment.as_ref()?;
    Some((d.task_definition_arn.clone()?, d.rollout_state.clone()?))
}
