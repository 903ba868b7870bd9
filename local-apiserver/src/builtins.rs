//! What the built-in controllers of a real control plane would do, done inline on write:
//! namespace defaults and the seeded namespaces, Secret `stringData`, and CRDs (validated,
//! given `Established`/`NamesAccepted` status, registered as served resources, unregistered
//! with their objects on delete).

use std::sync::Arc;

use base64::Engine;
use serde_json::{Value, json};

use crate::crd::crd_resource;
use crate::error::ApiError;
use crate::managed::{ManagedFields, Operation, owned_paths};
use crate::objects::now;
use crate::registry::{Builtin, ResourceInfo};
use crate::store::{State, Stored};

/// A CRD write's effect on the registry, applied once the CRD is stored.
#[derive(Debug)]
pub(crate) struct CrdChange {
    /// The resource to serve (`None` when no version is served).
    pub resource: Option<ResourceInfo>,
    /// The (group, plural) served before, if the names changed.
    pub previous: Option<(String, String)>,
    pub warnings: Vec<String>,
}

/// 404 when `ns` does not exist, 403 while it is terminating.
pub(crate) fn check_namespace_open(state: &State, ns: &str) -> Result<(), ApiError> {
    let Some(nsobj) = state
        .store
        .get(&"namespaces".into(), &(String::new(), ns.to_owned()))
    else {
        return Err(ApiError::not_found("", "namespaces", ns));
    };
    if nsobj
        .object
        .pointer("/metadata/deletionTimestamp")
        .is_some()
    {
        return Err(ApiError::forbidden(format!(
            "unable to create new content in namespace {ns} because it is being terminated"
        )));
    }
    Ok(())
}

/// Fills in what the built-in's own controllers and strategies set; validates CRDs.
pub(crate) fn prepare(
    state: &State,
    info: &ResourceInfo,
    obj: &mut Value,
    old: Option<&Value>,
) -> Result<Option<CrdChange>, ApiError> {
    match info.builtin {
        Some(Builtin::Namespace) => {
            let name = obj
                .pointer("/metadata/name")
                .cloned()
                .unwrap_or(Value::Null);
            if old.is_none() {
                if obj.pointer("/spec/finalizers").is_none() {
                    obj["spec"] = json!({"finalizers": ["kubernetes"]});
                }
                obj["status"] = json!({"phase": "Active"});
            }
            let md = obj["metadata"]
                .as_object_mut()
                .expect("metadata set by objects");
            if !md.get("labels").is_some_and(Value::is_object) {
                md.insert("labels".into(), json!({}));
            }
            md["labels"]["kubernetes.io/metadata.name"] = name;
            Ok(None)
        }
        Some(Builtin::Secret) => {
            if let Some(Value::Object(string_data)) =
                obj.as_object_mut().and_then(|m| m.remove("stringData"))
            {
                if !obj.get("data").is_some_and(Value::is_object) {
                    obj["data"] = json!({});
                }
                for (k, v) in string_data {
                    let text = v.as_str().unwrap_or_default();
                    obj["data"][k] = json!(base64::engine::general_purpose::STANDARD.encode(text));
                }
            }
            if obj.get("type").is_none_or(Value::is_null) {
                obj["type"] = json!("Opaque");
            }
            Ok(None)
        }
        Some(Builtin::Crd) => prepare_crd(state, obj, old).map(Some),
        _ => Ok(None),
    }
}

fn prepare_crd(state: &State, obj: &mut Value, old: Option<&Value>) -> Result<CrdChange, ApiError> {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let (resource, warnings) = crd_resource(obj).map_err(|causes| {
        ApiError::invalid(
            "CustomResourceDefinition",
            "apiextensions.k8s.io",
            &name,
            causes,
        )
    })?;
    if let Some(r) = &resource
        && let Some(existing) = state.registry.get(&r.group, &r.plural)
        && !existing.is_custom()
    {
        return Err(ApiError::conflict(format!(
            "{}.{} is served by the server itself",
            r.plural, r.group
        )));
    }
    let names = |v: &Value| {
        let s = |p: &str| {
            v.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        (s("/spec/group"), s("/spec/names/plural"))
    };
    let previous = old.map(names).filter(|prev| *prev != names(obj));
    let time = now();
    let condition = |type_: &str, reason: &str, message: &str| {
        let since = old
            .and_then(|o| o.pointer("/status/conditions"))
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| c["type"] == type_))
            .and_then(|c| c.get("lastTransitionTime").cloned())
            .unwrap_or_else(|| json!(time));
        json!({"type": type_, "status": "True", "reason": reason, "message": message, "lastTransitionTime": since})
    };
    let mut stored_versions: Vec<Value> = old
        .and_then(|o| o.pointer("/status/storedVersions"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(r) = &resource
        && !stored_versions.contains(&json!(r.storage_version))
    {
        stored_versions.push(json!(r.storage_version));
    }
    obj["status"] = json!({
        "conditions": [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
        "acceptedNames": obj.pointer("/spec/names").cloned().unwrap_or(json!({})),
        "storedVersions": stored_versions,
    });
    Ok(CrdChange {
        resource,
        previous,
        warnings,
    })
}

/// Serves the resource a stored CRD defines.
pub(crate) fn serve_crd(state: &mut State, change: CrdChange) {
    if let Some((group, plural)) = change.previous {
        unserve(state, &group, &plural);
    }
    if let Some(resource) = change.resource {
        state.registry.register(resource);
    }
}

/// Stops serving a deleted CRD's resource and deletes its objects (emitting DELETED).
pub(crate) fn crd_deleted(state: &mut State, crd: &Value) {
    let s = |p: &str| {
        crd.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    unserve(state, &s("/spec/group"), &s("/spec/names/plural"));
}

fn unserve(state: &mut State, group: &str, plural: &str) {
    let Some(info) = state.registry.unregister(group, plural) else {
        return;
    };
    let keys: Vec<_> = state
        .store
        .list(&info.store, None, None)
        .map(|(k, _)| k.clone())
        .collect();
    for key in keys {
        let Some(stored) = state.store.get(&info.store, &key) else {
            continue;
        };
        let mut last = (*stored.object).clone();
        let rv = state.store.next_rv();
        last["metadata"]["resourceVersion"] = json!(rv.to_string());
        state.store.delete(&info.store, &key, Arc::new(last));
    }
}

/// Creates the namespaces every cluster has.
pub(crate) fn seed(state: &mut State) {
    let info = state
        .registry
        .get("", "namespaces")
        .cloned()
        .expect("namespaces are built in");
    for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        let rv = state.store.next_rv();
        let mut obj = json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "uid": uuid::Uuid::new_v4().to_string(), "creationTimestamp": now(),
                         "resourceVersion": rv.to_string(), "labels": {"kubernetes.io/metadata.name": name}},
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        });
        let mut managed = ManagedFields::default();
        managed.record(
            "kube-apiserver",
            Operation::Update,
            "",
            "v1",
            &now(),
            owned_paths(&obj, true, ""),
        );
        obj["metadata"]["managedFields"] = managed.render();
        state.store.put(
            &info.store,
            (String::new(), name.to_owned()),
            Stored {
                object: Arc::new(obj),
                managed,
            },
        );
    }
}
