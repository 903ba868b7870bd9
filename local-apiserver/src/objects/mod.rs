//! Object write rules: create and update (PUT, PATCH and apply all end in `update`) with the
//! metadata the server owns (uid, timestamps, resourceVersion, generation, managedFields), the
//! status-subresource split, finalizer rules, validation, and the no-op rule (an unchanged
//! object is not written: no resourceVersion bump, no watch event). Also how stored objects are
//! presented in a requested version. Runs under the state lock; no IO.

// Called as `objects::create::create` and `objects::update::update`, not re-exported: they use
// what this module defines, so this module uses neither.
pub(crate) mod create;
pub(crate) mod update;

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::events;
use crate::registry::{Builtin, ResourceInfo};
use crate::store::ObjectKey;
use crate::validation::{self, FieldValidation};

/// The resource, version, namespace and subresource a request addresses.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub info: Arc<ResourceInfo>,
    pub version: String,
    /// From the URL; `None` for cluster-scoped resources (and all-namespace lists).
    pub namespace: Option<String>,
    /// `Some("status")` for `/status`.
    pub subresource: Option<String>,
}

impl Target {
    /// The store key of the object `name`.
    pub fn key(&self, name: &str) -> ObjectKey {
        let ns = if self.info.namespaced {
            self.namespace.clone().unwrap_or_default()
        } else {
            String::new()
        };
        (ns, name.to_owned())
    }

    fn sub(&self) -> &str {
        self.subresource.as_deref().unwrap_or("")
    }

    /// The apiVersion objects are stored with: the storage version, except Events, which keep
    /// the shape they were written in.
    pub fn storage_api_version(&self) -> String {
        match self.info.builtin {
            Some(Builtin::CoreEvent | Builtin::Event) => self.info.api_version(&self.version),
            _ => self.info.api_version(&self.info.storage_version),
        }
    }
}

/// Who writes, and how.
#[derive(Debug, Clone, Default)]
pub(crate) struct WriteOptions {
    pub manager: String,
    pub dry_run: bool,
    pub field_validation: FieldValidation,
}

/// The outcome of a write.
#[derive(Debug, Clone)]
pub(crate) struct Written {
    /// The object as stored (present it with `view`).
    pub object: Arc<Value>,
    pub created: bool,
    /// `Warning` headers (unknown fields, unevaluated CEL rules).
    pub warnings: Vec<String>,
}

/// The time now, as metav1.Time.
pub(crate) fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// `obj` as served at `version` of `info`: apiVersion and kind set, Events converted.
pub(crate) fn view(info: &ResourceInfo, version: &str, obj: &Arc<Value>) -> Arc<Value> {
    let want = info.api_version(version);
    if obj.get("apiVersion").and_then(Value::as_str) == Some(want.as_str())
        && obj.get("kind").and_then(Value::as_str) == Some(info.kind.as_str())
    {
        return Arc::clone(obj);
    }
    if matches!(info.builtin, Some(Builtin::CoreEvent | Builtin::Event)) {
        return Arc::new(events::convert(obj, &want));
    }
    let mut out = (**obj).clone();
    if let Some(map) = out.as_object_mut() {
        map.insert("apiVersion".into(), json!(want));
        map.insert("kind".into(), json!(info.kind));
    }
    Arc::new(out)
}

fn meta(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    obj["metadata"]
        .as_object_mut()
        .expect("metadata is an object")
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")?
        .get(field)?
        .as_str()
        .filter(|s| !s.is_empty())
}

/// Rejects a body whose apiVersion or kind names another resource.
fn check_type_meta(t: &Target, body: &Value) -> Result<(), ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON or YAML object",
        ));
    }
    let want = t.info.api_version(&t.version);
    if let Some(av) = body
        .get("apiVersion")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        && av != want
        && !(t.info.builtin == Some(Builtin::CoreEvent) && av == "events.k8s.io/v1")
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({want})"
        )));
    }
    if let Some(kind) = body
        .get("kind")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        && kind != t.info.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            t.info.kind
        )));
    }
    Ok(())
}

/// Validates a custom resource or prunes a built-in; returns warnings per `fieldValidation`.
fn validate(
    t: &Target,
    obj: &mut Value,
    old: Option<&Value>,
    mode: FieldValidation,
) -> Result<Vec<String>, ApiError> {
    validation::check_shapes(t.info.builtin, obj)?;
    let unknown = match t.info.builtin {
        Some(b) => validation::prune_builtin(b, obj),
        None => match t.info.version(&t.version).and_then(|v| v.schema.clone()) {
            Some(schema) => {
                validation::custom_resource(&schema, obj, old, &t.info.kind, &t.info.group)?
            }
            None => vec![],
        },
    };
    mode.judge(unknown)
}

#[cfg(test)]
mod tests;
