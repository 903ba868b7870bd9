//! One namespace can never act on another's AWS resources, whatever kind it uses: an
//! EcsService, ScalingPolicy or BlueGreenRollout in namespace `intruder` aimed at the ECS
//! service of `default/auth` — or at an ObserveOnly EcsService — makes no AWS write and says
//! who owns what. (Measured before: such a ScalingPolicy turned Ready and scaled the other
//! namespace's service to 0 running tasks.)

use std::time::Duration;

use crds::{BlueGreenRollout, EcsService, ScalingPolicy};
use e2e_tests::rollouts::{code_deploy_rollout, service_manifest as rollout_service};
use e2e_tests::sandbox::Sandbox;
use kube::api::Api;
use kube::core::object::HasStatus;
use serde::de::DeserializeOwned;

const WAIT: Duration = Duration::from_secs(90);

/// The Stalled condition of `name` in `namespace` once it is True: (reason, message).
async fn wait_stalled<K>(sb: &Sandbox, namespace: &str, name: &str) -> (String, String)
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + HasStatus
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
    K::Status: serde::Serialize,
{
    let api: Api<K> = Api::namespaced(sb.client.clone(), namespace);
    sb.wait_for(&format!("{namespace}/{name} Stalled"), WAIT, || {
        let api = api.clone();
        async move {
            let obj = api.get(name).await.ok()?;
            let status = serde_json::to_value(obj.status()?).ok()?;
            status["conditions"].as_array()?.iter().find_map(|c| {
                (c["type"] == "Stalled" && c["status"] == "True").then(|| {
                    (
                        c["reason"].as_str().unwrap_or_default().to_owned(),
                        c["message"].as_str().unwrap_or_default().to_owned(),
                    )
                })
            })
        }
    })
    .await
}

/// Writes to AWS so far, by service prefix.
fn writes(sb: &Sandbox) -> [u64; 3] {
    [
        sb.sim.write_calls_of("ecs:"),
        sb.sim.write_calls_of("application-autoscaling:"),
        sb.sim.write_calls_of("codedeploy:"),
    ]
}

fn in_namespace(manifest: &str, namespace: &str) -> String {
    manifest.replace("namespace: default", &format!("namespace: {namespace}"))
}

async fn namespace(sb: &Sandbox, name: &str) {
    sb.apply(&format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n"
    ))
    .await
    .unwrap();
}

async fn owner_ready(sb: &Sandbox) {
    namespace(sb, "intruder").await;
    namespace(sb, "watcher").await;
    sb.apply(&rollout_service(&sb.sim, "auth", "repo/auth:1"))
        .await
        .unwrap();
    let api: Api<EcsService> = Api::namespaced(sb.client.clone(), "default");
    sb.wait_for("default/auth Ready", WAIT, || {
        let api = api.clone();
        async move {
            let svc = api.get("auth").await.ok()?;
            svc.status
                .as_ref()?
                .conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
                .then_some(())
        }
    })
    .await;
}

fn policy(namespace: &str, service: &str) -> String {
    format!(
        r#"
apiVersion: ecs-operator.dev/v1alpha1
kind: ScalingPolicy
metadata: {{name: {service}, namespace: {namespace}}}
spec:
  serviceRef: {{name: {service}}}
  minCapacity: 0
  maxCapacity: 0
"#
    )
}

#[tokio::test]
async fn another_namespace_cannot_act_on_a_service_through_any_kind() {
    let sb = Sandbox::start().await;
    owner_ready(&sb).await;
    let desired = sb
        .sim
        .service("event-booking", "auth")
        .unwrap()
        .desired_count;
    let before = writes(&sb);

    // An EcsService naming the same ECS service: refused, naming the owner.
    sb.apply(&in_namespace(
        &rollout_service(&sb.sim, "auth", "repo/evil:1"),
        "intruder",
    ))
    .await
    .unwrap();
    let (reason, message) = wait_stalled::<EcsService>(&sb, "intruder", "auth").await;
    assert_eq!(reason, "OwnedByAnotherObject");
    assert!(message.contains("default/auth"), "{message}");

    // A ScalingPolicy next to it: refused too, from the cache, and the service keeps its count.
    sb.apply(&policy("intruder", "auth")).await.unwrap();
    let (reason, message) = wait_stalled::<ScalingPolicy>(&sb, "intruder", "auth").await;
    assert_eq!(reason, "ServiceRefused");
    assert!(message.contains("default/auth"), "{message}");

    // A BlueGreenRollout of it: refused as well.
    sb.apply(&in_namespace(
        &code_deploy_rollout(&sb.sim, "auth", ""),
        "intruder",
    ))
    .await
    .unwrap();
    let (reason, message) = wait_stalled::<BlueGreenRollout>(&sb, "intruder", "auth").await;
    assert_eq!(reason, "ServiceRefused");
    assert!(message.contains("default/auth"), "{message}");

    assert_eq!(writes(&sb), before, "{:?}", sb.sim.calls());
    let svc = sb.sim.service("event-booking", "auth").unwrap();
    assert_eq!(svc.desired_count, desired);
    assert!(
        sb.sim
            .scalable_target("service/event-booking/auth")
            .is_none()
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn an_observe_only_service_is_never_scaled_or_released() {
    let sb = Sandbox::start().await;
    owner_ready(&sb).await;
    let before = writes(&sb);
    let observer = in_namespace(&rollout_service(&sb.sim, "auth", "repo/auth:1"), "watcher")
        .replace("spec:\n", "spec:\n  managementPolicy: ObserveOnly\n");
    sb.apply(&observer).await.unwrap();
    sb.apply(&policy("watcher", "auth")).await.unwrap();
    let (reason, message) = wait_stalled::<ScalingPolicy>(&sb, "watcher", "auth").await;
    assert_eq!(reason, "ServiceObserveOnly");
    assert!(message.contains("ObserveOnly"), "{message}");
    sb.apply(&in_namespace(
        &code_deploy_rollout(&sb.sim, "auth", ""),
        "watcher",
    ))
    .await
    .unwrap();
    let (reason, _) = wait_stalled::<BlueGreenRollout>(&sb, "watcher", "auth").await;
    assert_eq!(reason, "ServiceObserveOnly");
    assert_eq!(writes(&sb), before, "{:?}", sb.sim.calls());
    sb.shutdown().await;
}
