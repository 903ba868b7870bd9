//! The rollout verbs: finds the BlueGreenRollout (by its name, or by the EcsService it
//! releases) and records the request as the annotation `ecs-operator.dev/<verb>-requested-at`
//! with the time now — a metadata merge patch, so `.spec` and GitOps stay untouched.

use crds::BlueGreenRollout;
use kube::ResourceExt;
use kube::api::{Api, ListParams, Patch, PatchParams};

use super::exit::EXIT_OK;
use crate::controllers::blue_green_rollout::verbs::annotation;

/// The rollout `name` in `namespace`: the one of that name, else the one releasing the
/// EcsService of that name.
pub async fn find(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> anyhow::Result<BlueGreenRollout> {
    let api: Api<BlueGreenRollout> = Api::namespaced(client.clone(), namespace);
    if let Some(r) = api.get_opt(name).await? {
        return Ok(r);
    }
    let mut releasing: Vec<BlueGreenRollout> = api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|r| r.spec.service_ref.name == name)
        .collect();
    releasing.sort_by_key(|r| (r.metadata.creation_timestamp.clone(), r.name_any()));
    releasing.into_iter().next().ok_or_else(|| {
        anyhow::anyhow!(
            "no BlueGreenRollout named {name} (or releasing EcsService {name}) in namespace {namespace}"
        )
    })
}

/// Requests `verb` (`promote`, `promote-full`, `abort`, `retry`, `rollback`).
pub async fn request(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    verb: &str,
) -> anyhow::Result<i32> {
    let rollout = find(client, namespace, name).await?;
    let api: Api<BlueGreenRollout> = Api::namespaced(client.clone(), namespace);
    let stamp = jiff::Timestamp::now().to_string();
    let patch = serde_json::json!({
        "metadata": {"annotations": {annotation(verb): stamp}}
    });
    api.patch(
        &rollout.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    let phase = rollout
        .status
        .as_ref()
        .and_then(|s| s.phase)
        .map_or_else(|| "unknown".to_owned(), |p| format!("{p:?}"));
    println!(
        "bluegreenrollout.ecs-operator.dev/{} {verb} requested (phase {phase})",
        rollout.name_any()
    );
    Ok(EXIT_OK)
}
