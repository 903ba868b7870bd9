//! Reading a directory of manifests (multi-document YAML) and applying them with server-side
//! apply, the way `kubectl apply --server-side` would.

use std::path::Path;

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery;
use serde_json::Value;

/// Field manager of the sandbox's applies.
const MANAGER: &str = "ecs-operator-local";

/// One object of a manifest file.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// File it came from.
    pub file: String,
    /// The object.
    pub object: Value,
}

impl Manifest {
    /// `Kind/name`.
    pub fn describe(&self) -> String {
        format!(
            "{}/{}",
            self.object["kind"].as_str().unwrap_or("?"),
            self.object["metadata"]["name"].as_str().unwrap_or("?")
        )
    }
}

/// Reads every `*.yaml`/`*.yml`/`*.json` file of `dir`, in name order.
pub fn load_dir(dir: &Path) -> anyhow::Result<Vec<Manifest>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read manifests directory {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            )
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path)?;
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        for object in docs.into_iter().filter(|d| !d.is_null()) {
            out.push(Manifest {
                file: path.display().to_string(),
                object,
            });
        }
    }
    Ok(out)
}

/// Applies one manifest with server-side apply; errors carry the API server's message.
pub async fn apply(client: &kube::Client, manifest: &Manifest) -> anyhow::Result<()> {
    let obj = &manifest.object;
    let api_version = obj["apiVersion"].as_str().unwrap_or_default();
    let kind = obj["kind"].as_str().unwrap_or_default();
    let name = obj["metadata"]["name"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("{}: metadata.name is missing", manifest.file))?;
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let (resource, capabilities) = discovery::pinned_kind(client, &gvk).await?;
    let api: Api<DynamicObject> = if capabilities.scope == discovery::Scope::Namespaced {
        let ns = obj["metadata"]["namespace"].as_str().unwrap_or("default");
        Api::namespaced_with(client.clone(), ns, &resource)
    } else {
        Api::all_with(client.clone(), &resource)
    };
    api.patch(
        name,
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(obj),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{} ({}): {e}", manifest.describe(), manifest.file))?;
    Ok(())
}
