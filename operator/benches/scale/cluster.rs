//! The benchmark's side of the Kubernetes API: installing the CRDs and the fleet, patching it,
//! and reading how much of it is Ready.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Resource;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams};

use crate::fleet::{self, Fleet};

/// Objects created or patched concurrently.
const IN_FLIGHT: usize = 100;

/// Runs `work` for every item, `IN_FLIGHT` at a time.
pub async fn each<T, F, Fut>(items: Vec<T>, work: F)
where
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let batch: Vec<_> = items.by_ref().take(IN_FLIGHT).map(&work).collect();
        futures::future::join_all(batch).await;
    }
}

/// Installs the CRDs, the namespaces and the AwsAccountBindings.
pub async fn install(client: &kube::Client, fleet: &Fleet) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crds::all_crds() {
        let name = crd.metadata.name.clone().unwrap_or_default();
        crds.patch(
            &name,
            &PatchParams::apply("bench").force(),
            &Patch::Apply(&crd),
        )
        .await
        .expect("CRD");
    }
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for a in 0..fleet.accounts {
        let ns: Namespace = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": fleet.namespace(a)}
        }))
        .expect("namespace");
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .expect("namespace");
    }
    let binding = ApiResource::erase::<crds::AwsAccountBinding>(&());
    let bindings: Api<DynamicObject> = Api::all_with(client.clone(), &binding);
    for b in fleet.bindings() {
        let obj: DynamicObject = serde_json::from_value(b).expect("binding");
        bindings
            .create(&PostParams::default(), &obj)
            .await
            .expect("binding");
    }
}

/// Creates the fleet's objects: rollouts and scaling policies first (as the examples are
/// applied), then the services.
pub async fn create(client: &kube::Client, fleet: &Fleet) {
    let create = |obj: serde_json::Value| {
        let client = client.clone();
        async move {
            let mut obj: DynamicObject = serde_json::from_value(obj).expect("object");
            let ar = resource_of(&obj);
            let ns = obj.metadata.namespace.take().expect("namespaced");
            let api: Api<DynamicObject> = Api::namespaced_with(client, &ns, &ar);
            api.create(&PostParams::default(), &obj)
                .await
                .expect("create");
        }
    };
    let n = fleet.services;
    each(
        (0..n)
            .filter(|&i| fleet.rolled_out(i))
            .map(|i| serde_json::to_value(fleet.rollout(i)).expect("json"))
            .collect(),
        create,
    )
    .await;
    each(
        (0..n)
            .filter(|&i| fleet.scaled(i))
            .map(|i| serde_json::to_value(fleet.scaling_policy(i)).expect("json"))
            .collect(),
        create,
    )
    .await;
    each(
        (0..n)
            .map(|i| serde_json::to_value(fleet.service(i, "repo/app:1")).expect("json"))
            .collect(),
        create,
    )
    .await;
}

fn resource_of(obj: &DynamicObject) -> ApiResource {
    let kind = obj
        .types
        .as_ref()
        .map(|t| t.kind.as_str())
        .unwrap_or_default();
    match kind {
        "EcsService" => ApiResource::erase::<crds::EcsService>(&()),
        "ScalingPolicy" => ApiResource::erase::<crds::ScalingPolicy>(&()),
        "BlueGreenRollout" => ApiResource::erase::<crds::BlueGreenRollout>(&()),
        other => panic!("no such kind {other}"),
    }
}

/// Changes the image of services `indices` to `image`.
pub async fn set_image(client: &kube::Client, fleet: &Fleet, indices: Vec<usize>, image: &str) {
    each(indices, |i| {
        let client = client.clone();
        let p = fleet.placement(i);
        let image = image.to_owned();
        async move {
            let api: Api<crds::EcsService> = Api::namespaced(client, &p.namespace);
            let patch = serde_json::json!({"spec": {"taskDefinition": {"containerDefinitions": [
                {"name": "app", "image": image, "cpu": 128, "memory": 256,
                 "portMappings": [{"containerPort": 8080, "protocol": "tcp"}]}
            ]}}});
            api.patch(
                &fleet::name(i),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
            .expect("patch");
        }
    })
    .await;
}

/// Touches an annotation of services `indices` (a change every controller of theirs reacts to,
/// with nothing to do in AWS).
pub async fn touch(client: &kube::Client, fleet: &Fleet, indices: Vec<usize>, value: &str) {
    each(indices, |i| {
        let client = client.clone();
        let p = fleet.placement(i);
        let value = value.to_owned();
        async move {
            let api: Api<crds::EcsService> = Api::namespaced(client, &p.namespace);
            let patch = serde_json::json!({"metadata": {"annotations": {"bench.ecs-operator.dev/touch": value}}});
            api.patch(&fleet::name(i), &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .expect("patch");
        }
    })
    .await;
}

/// The API server's current resourceVersion (it moves on every write).
pub async fn resource_version(client: &kube::Client) -> String {
    let api: Api<crds::EcsService> = Api::all(client.clone());
    api.list_metadata(&ListParams::default().limit(1))
        .await
        .expect("list")
        .metadata
        .resource_version
        .unwrap_or_default()
}

/// Ready objects of kind `K`, by namespace: Ready=True for the current generation and, when
/// `suffix` is given, a task definition ending in it; with the latest moment one of them
/// turned Ready (its condition's lastTransitionTime, on the operator's clock).
pub async fn ready<K>(
    client: &kube::Client,
    suffix: Option<&str>,
) -> BTreeMap<String, (usize, Option<jiff::Timestamp>)>
where
    K: Resource<DynamicType = ()>,
{
    let mut counts: BTreeMap<String, (usize, Option<jiff::Timestamp>)> = BTreeMap::new();
    for o in list_all::<K>(client).await {
        let status = &o.data["status"];
        let current = status["observedGeneration"].as_i64() == o.metadata.generation;
        let ready = status["conditions"].as_array().and_then(|cs| {
            cs.iter()
                .find(|c| c["type"] == "Ready" && c["status"] == "True")
        });
        let revision = suffix.is_none_or(|s| {
            status["taskDefinitionArn"]
                .as_str()
                .is_some_and(|a| a.ends_with(s))
        });
        if let Some(ready) = ready.filter(|_| current && revision) {
            let at = ready["lastTransitionTime"]
                .as_str()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok());
            let entry = counts
                .entry(o.metadata.namespace.clone().unwrap_or_default())
                .or_default();
            entry.0 += 1;
            entry.1 = entry.1.max(at);
        }
    }
    counts
}

/// Every object of kind `K`, read in pages (the way a careful client lists a large set).
async fn list_all<K>(client: &kube::Client) -> Vec<DynamicObject>
where
    K: Resource<DynamicType = ()>,
{
    let ar = ApiResource::erase::<K>(&());
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let mut items = Vec::new();
    let mut params = ListParams::default().limit(500);
    loop {
        let page = api.list(&params).await.expect("list");
        items.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return items,
        }
    }
}

/// Objects of kind `K` whose conditions mention throttling.
pub async fn throttled<K>(client: &kube::Client) -> usize
where
    K: Resource<DynamicType = ()>,
{
    list_all::<K>(client)
        .await
        .iter()
        .filter(|o| {
            o.data["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter().any(|c| {
                    c["message"].as_str().is_some_and(|m| m.contains("Throttl"))
                        || c["reason"].as_str().is_some_and(|r| r.contains("Throttl"))
                })
            })
        })
        .count()
}

/// Waits between polls of a large list (readiness is timed by the objects' own conditions,
/// so polling rarely loses no precision and leaves the CPU to the operator).
pub async fn pause() {
    tokio::time::sleep(Duration::from_millis(3000)).await;
}
