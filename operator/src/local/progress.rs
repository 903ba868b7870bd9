//! The live progress view of `ecs-operator local`: one line per object whenever its state
//! changes, and the "all Ready?" verdict for `--exit-when-ready`.

use std::collections::BTreeMap;

use kube::api::{Api, DynamicObject, ListParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::Value;

/// The state of one object as the view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectState {
    /// `Kind namespace/name`.
    pub id: String,
    /// Whether Ready is True for the current generation.
    pub ready: bool,
    /// Whether Stalled is True.
    pub stalled: bool,
    /// A short summary.
    pub summary: String,
}

/// Reads the state of every object of the operator's kinds.
pub async fn snapshot(client: &kube::Client) -> anyhow::Result<Vec<ObjectState>> {
    let mut out = Vec::new();
    for kind in [
        "EcsService",
        "BlueGreenRollout",
        "ScalingPolicy",
        "ReleaseGroup",
        "NotificationPolicy",
    ] {
        let gvk = GroupVersionKind::gvk(crds::GROUP, crds::VERSION, kind);
        let resource = ApiResource::from_gvk(&gvk);
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        for obj in api.list(&ListParams::default()).await?.items {
            out.push(state_of(kind, &obj));
        }
    }
    Ok(out)
}

fn state_of(kind: &str, obj: &DynamicObject) -> ObjectState {
    let status = obj.data.get("status").cloned().unwrap_or(Value::Null);
    let generation = obj.metadata.generation;
    let condition = |t: &str| -> Option<&Value> {
        status["conditions"]
            .as_array()?
            .iter()
            .find(|c| c["type"] == t)
    };
    let is_true = |t: &str| condition(t).is_some_and(|c| c["status"] == "True");
    let current = status["observedGeneration"].as_i64() == generation;
    let ready = current && is_true("Ready");
    let stalled = is_true("Stalled");
    let headline = if stalled { "Stalled" } else { "Ready" };
    let summary = match condition(headline).or_else(|| condition("Ready")) {
        Some(c) => format!(
            "{} {}: {}",
            if ready {
                "Ready"
            } else if stalled {
                "Stalled"
            } else {
                "Progressing"
            },
            c["reason"].as_str().unwrap_or(""),
            c["message"].as_str().unwrap_or("")
        ),
        None => "Pending: not reconciled yet".into(),
    };
    ObjectState {
        id: format!(
            "{kind} {}/{}",
            obj.metadata.namespace.as_deref().unwrap_or("-"),
            obj.metadata.name.as_deref().unwrap_or("?")
        ),
        ready,
        stalled,
        summary,
    }
}

/// Prints what changed since `last`; returns the new view.
pub fn print_changes(
    last: &BTreeMap<String, ObjectState>,
    now: Vec<ObjectState>,
    elapsed: &str,
) -> BTreeMap<String, ObjectState> {
    let mut next = BTreeMap::new();
    for state in now {
        if last.get(&state.id) != Some(&state) {
            let mark = if state.ready {
                "✔"
            } else if state.stalled {
                "✘"
            } else {
                "…"
            };
            println!("[{elapsed}] {mark} {:<44} {}", state.id, state.summary);
        }
        next.insert(state.id.clone(), state);
    }
    next
}
