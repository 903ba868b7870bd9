//! Validation of objects on write: unknown-field pruning and `fieldValidation`, schema defaults,
//! structural-schema checks and CEL rules for custom resources, and the top-level field lists of
//! the built-ins. Produces `Invalid` causes with field paths; never touches the store.

use serde_json::{Map, Value};

mod checks;
mod fields;
mod rules;

use crate::error::ApiError;
use crate::registry::Builtin;
use crate::schema::Schema;
use checks::{required, validate};
use fields::join;
use rules::check_rules;

/// `fieldValidation`: what happens to fields the schema does not declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum FieldValidation {
    Ignore,
    #[default]
    Warn,
    Strict,
}

impl FieldValidation {
    /// Parses the query parameter (absent means Warn, as on a real apiserver).
    pub fn parse(value: Option<&str>) -> Result<Self, ApiError> {
        match value {
            None | Some("") | Some("Warn") => Ok(Self::Warn),
            Some("Ignore") => Ok(Self::Ignore),
            Some("Strict") => Ok(Self::Strict),
            Some(other) => Err(ApiError::bad_request(format!(
                "fieldValidation must be one of \"Ignore\", \"Warn\" or \"Strict\", got {other:?}"
            ))),
        }
    }

    /// Turns dropped unknown fields into warnings, or an error under Strict.
    pub fn judge(self, unknown: Vec<String>) -> Result<Vec<String>, ApiError> {
        let messages: Vec<String> = unknown
            .iter()
            .map(|f| format!("unknown field \"{f}\""))
            .collect();
        match self {
            _ if messages.is_empty() => Ok(vec![]),
            Self::Strict => Err(ApiError::bad_request(format!(
                "strict decoding error: {}",
                messages.join(", ")
            ))),
            Self::Warn => Ok(messages),
            Self::Ignore => Ok(vec![]),
        }
    }
}

const METADATA_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Rejects (400, as a decoding error on a real apiserver) metadata and built-in fields whose
/// JSON type clients cannot decode: an object stored with `labels: "x"` would break every
/// typed watcher of its kind.
pub(crate) fn check_shapes(builtin: Option<Builtin>, obj: &Value) -> Result<(), ApiError> {
    let mut checks = vec![
        ("/metadata", Shape::Object),
        ("/metadata/labels", Shape::StringMap),
        ("/metadata/annotations", Shape::StringMap),
        ("/metadata/finalizers", Shape::Strings),
        ("/metadata/ownerReferences", Shape::Objects),
        ("/metadata/name", Shape::String),
        ("/metadata/generateName", Shape::String),
        ("/metadata/namespace", Shape::String),
    ];
    match builtin {
        Some(Builtin::ConfigMap) => checks.extend([
            ("/data", Shape::StringMap),
            ("/binaryData", Shape::StringMap),
        ]),
        Some(Builtin::Secret) => checks.extend([
            ("/data", Shape::StringMap),
            ("/stringData", Shape::StringMap),
        ]),
        Some(Builtin::Namespace | Builtin::Lease | Builtin::Crd | Builtin::Workload) => {
            checks.push(("/spec", Shape::Object))
        }
        Some(Builtin::Rbac) => checks.extend([
            ("/rules", Shape::Objects),
            ("/subjects", Shape::Objects),
            ("/roleRef", Shape::Object),
        ]),
        _ => {}
    }
    for (pointer, shape) in checks {
        if let Some(v) = obj.pointer(pointer).filter(|v| !v.is_null())
            && !shape.accepts(v)
        {
            let field = pointer.trim_start_matches('/').replace('/', ".");
            let shown: String = v.to_string().chars().take(80).collect();
            return Err(ApiError::bad_request(format!(
                "{field} must be {}, got {shown}",
                shape.describe()
            )));
        }
    }
    Ok(())
}

/// A JSON shape clients decode a field into.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Object,
    String,
    StringMap,
    Strings,
    Objects,
}

impl Shape {
    fn accepts(self, v: &Value) -> bool {
        match self {
            Self::Object => v.is_object(),
            Self::String => v.is_string(),
            Self::StringMap => v
                .as_object()
                .is_some_and(|m| m.values().all(Value::is_string)),
            Self::Strings => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            Self::Objects => v.as_array().is_some_and(|a| a.iter().all(Value::is_object)),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Object => "an object",
            Self::String => "a string",
            Self::StringMap => "a map of strings",
            Self::Strings => "a list of strings",
            Self::Objects => "a list of objects",
        }
    }
}

/// Drops undeclared top-level and metadata fields of a built-in; returns their paths.
pub(crate) fn prune_builtin(builtin: Builtin, obj: &mut Value) -> Vec<String> {
    let known: &[&str] = match builtin {
        Builtin::Namespace | Builtin::Lease | Builtin::Crd | Builtin::Workload => {
            &["spec", "status"]
        }
        Builtin::Rbac => &["rules", "aggregationRule", "subjects", "roleRef"],
        Builtin::ConfigMap => &["data", "binaryData", "immutable"],
        Builtin::Secret => &["data", "stringData", "type", "immutable"],
        Builtin::ServiceAccount => &[
            "secrets",
            "imagePullSecrets",
            "automountServiceAccountToken",
        ],
        Builtin::CoreEvent => &[
            "involvedObject",
            "reason",
            "message",
            "source",
            "firstTimestamp",
            "lastTimestamp",
            "count",
            "type",
            "eventTime",
            "series",
            "action",
            "related",
            "reportingComponent",
            "reportingInstance",
        ],
        Builtin::Event => &[
            "eventTime",
            "series",
            "reportingController",
            "reportingInstance",
            "action",
            "reason",
            "regarding",
            "related",
            "note",
            "type",
            "deprecatedSource",
            "deprecatedFirstTimestamp",
            "deprecatedLastTimestamp",
            "deprecatedCount",
        ],
    };
    let mut unknown = prune_metadata(obj);
    if let Some(map) = obj.as_object_mut() {
        map.retain(|k, _| {
            let keep = matches!(k.as_str(), "apiVersion" | "kind" | "metadata")
                || known.contains(&k.as_str());
            if !keep {
                unknown.push(k.clone());
            }
            keep
        });
    }
    unknown
}

fn prune_metadata(obj: &mut Value) -> Vec<String> {
    let mut unknown = Vec::new();
    if let Some(md) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        md.retain(|k, _| {
            let keep = METADATA_FIELDS.contains(&k.as_str());
            if !keep {
                unknown.push(format!("metadata.{k}"));
            }
            keep
        });
    }
    unknown
}

/// Prunes unknown fields, applies defaults and validates a custom resource against `schema`.
/// Returns the pruned field paths (for `FieldValidation::judge`) or a 422 with every cause.
pub(crate) fn custom_resource(
    schema: &Schema,
    obj: &mut Value,
    old: Option<&Value>,
    kind: &str,
    group: &str,
) -> Result<Vec<String>, ApiError> {
    let mut unknown = prune_metadata(obj);
    if let Some(map) = obj.as_object_mut() {
        for (k, v) in map.iter_mut() {
            if let Some(sub) = schema.properties.get(k).filter(|_| k != "metadata") {
                prune(sub, v, k, &mut unknown);
            }
        }
        if !schema.keeps_unknown_fields() {
            map.retain(|k, _| {
                let keep = matches!(k.as_str(), "apiVersion" | "kind" | "metadata")
                    || schema.properties.contains_key(k);
                if !keep {
                    unknown.push(k.clone());
                }
                keep
            });
        }
        default_properties(schema, map, true);
    }
    let mut causes = Vec::new();
    if let Some(map) = obj.as_object() {
        for (k, sub) in &schema.properties {
            if matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                continue;
            }
            match map.get(k) {
                Some(v) => validate(sub, v, old.and_then(|o| o.get(k)), k, &mut causes),
                None if schema.required.contains(k) => causes.push(required(k)),
                None => {}
            }
        }
        check_rules(schema, obj, old, "", &mut causes);
    }
    if causes.is_empty() {
        Ok(unknown)
    } else {
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        Err(ApiError::invalid(kind, group, name, causes))
    }
}

fn prune(schema: &Schema, value: &mut Value, path: &str, unknown: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if let Some(sub) = schema
                    .properties
                    .get(k)
                    .or(schema.additional_properties.as_deref())
                {
                    prune(sub, v, &join(path, k), unknown);
                }
            }
            if schema.keeps_unknown_fields() || schema.additional_properties.is_some() {
                return;
            }
            map.retain(|k, _| {
                let embedded = schema.embedded_resource
                    && matches!(k.as_str(), "apiVersion" | "kind" | "metadata");
                let keep = embedded || schema.properties.contains_key(k);
                if !keep {
                    unknown.push(join(path, k));
                }
                keep
            });
        }
        Value::Array(items) => {
            if let Some(sub) = &schema.items {
                for (i, item) in items.iter_mut().enumerate() {
                    prune(sub, item, &format!("{path}[{i}]"), unknown);
                }
            }
        }
        _ => {}
    }
}

fn default_properties(schema: &Schema, map: &mut Map<String, Value>, root: bool) {
    for (k, sub) in &schema.properties {
        if root && matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        let missing = match map.get(k) {
            None => true,
            Some(Value::Null) => !sub.nullable,
            Some(_) => false,
        };
        if missing && let Some(d) = &sub.default {
            map.insert(k.clone(), d.clone());
        }
        if let Some(v) = map.get_mut(k) {
            apply_defaults(sub, v);
        }
    }
    if let Some(sub) = &schema.additional_properties {
        for v in map.values_mut() {
            apply_defaults(sub, v);
        }
    }
}

fn apply_defaults(schema: &Schema, value: &mut Value) {
    match value {
        Value::Object(map) => default_properties(schema, map, false),
        Value::Array(items) => {
            if let Some(sub) = &schema.items {
                items.iter_mut().for_each(|i| apply_defaults(sub, i));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
