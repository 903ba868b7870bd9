//! Validation of objects on write: unknown-field pruning and `fieldValidation`, schema defaults,
//! structural-schema checks and CEL rules for custom resources, and the top-level field lists of
//! the built-ins. Produces `Invalid` causes with field paths; never touches the store.

use serde_json::{Map, Value};

use crate::error::{ApiError, Cause};
use crate::registry::Builtin;
use crate::schema::Schema;

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

/// Drops undeclared top-level and metadata fields of a built-in; returns their paths.
pub(crate) fn prune_builtin(builtin: Builtin, obj: &mut Value) -> Vec<String> {
    let known: &[&str] = match builtin {
        Builtin::Namespace | Builtin::Lease | Builtin::Crd => &["spec", "status"],
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

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
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

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn invalid(path: &str, message: String) -> Cause {
    Cause {
        reason: "FieldValueInvalid".into(),
        message,
        field: path.into(),
    }
}

fn required(path: &str) -> Cause {
    Cause {
        reason: "FieldValueRequired".into(),
        message: "Required value".into(),
        field: path.into(),
    }
}

fn type_matches(expected: &str, v: &Value) -> bool {
    match expected {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "integer" => json_type(v) == "integer",
        "number" => v.is_number(),
        _ => true,
    }
}

fn validate(
    schema: &Schema,
    value: &Value,
    old: Option<&Value>,
    path: &str,
    causes: &mut Vec<Cause>,
) {
    let actual = json_type(value);
    if value.is_null() && schema.nullable {
        return;
    }
    if schema.int_or_string {
        if !matches!(actual, "integer" | "string") {
            causes.push(Cause {
                reason: "FieldValueTypeInvalid".into(),
                message: format!("Invalid value: \"{actual}\": {path} in body must be of type int-or-string: \"{actual}\""),
                field: path.into(),
            });
            return;
        }
    } else if let Some(expected) = schema.type_.as_deref().filter(|t| !type_matches(t, value)) {
        causes.push(Cause {
            reason: "FieldValueTypeInvalid".into(),
            message: format!("Invalid value: \"{actual}\": {path} in body must be of type {expected}: \"{actual}\""),
            field: path.into(),
        });
        return;
    }
    if !schema.enum_values.is_empty() && !schema.enum_values.contains(value) {
        let supported: Vec<String> = schema.enum_values.iter().map(Value::to_string).collect();
        causes.push(Cause {
            reason: "FieldValueNotSupported".into(),
            message: format!(
                "Unsupported value: {value}: supported values: {}",
                supported.join(", ")
            ),
            field: path.into(),
        });
    }
    match value {
        Value::Number(n) => {
            check_number(schema, n.as_f64().unwrap_or_default(), value, path, causes)
        }
        Value::String(s) => check_string(schema, s, value, path, causes),
        Value::Array(items) => check_array(schema, items, old, path, causes),
        Value::Object(map) => check_object(schema, map, old, path, causes),
        _ => {}
    }
    check_rules(schema, value, old, path, causes);
}

fn check_number(schema: &Schema, n: f64, value: &Value, path: &str, causes: &mut Vec<Cause>) {
    if let Some(min) = schema.minimum {
        let (bad, word) = if schema.exclusive_minimum {
            (n <= min, "greater than")
        } else {
            (n < min, "greater than or equal to")
        };
        if bad {
            causes.push(invalid(
                path,
                format!("Invalid value: {value}: {path} in body should be {word} {min}"),
            ));
        }
    }
    if let Some(max) = schema.maximum {
        let (bad, word) = if schema.exclusive_maximum {
            (n >= max, "less than")
        } else {
            (n > max, "less than or equal to")
        };
        if bad {
            causes.push(invalid(
                path,
                format!("Invalid value: {value}: {path} in body should be {word} {max}"),
            ));
        }
    }
}

fn check_string(schema: &Schema, s: &str, value: &Value, path: &str, causes: &mut Vec<Cause>) {
    let len = s.chars().count() as u64;
    if let Some(max) = schema.max_length.filter(|m| len > *m) {
        causes.push(Cause {
            reason: "FieldValueTooLong".into(),
            message: format!("Too long: may not be more than {max} bytes"),
            field: path.into(),
        });
    }
    if let Some(min) = schema.min_length.filter(|m| len < *m) {
        causes.push(invalid(
            path,
            format!("Invalid value: {value}: {path} in body should be at least {min} chars long"),
        ));
    }
    if let Some(re) = schema.pattern.as_ref().filter(|re| !re.is_match(s)) {
        causes.push(invalid(
            path,
            format!(
                "Invalid value: {value}: {path} in body should match '{}'",
                re.as_str()
            ),
        ));
    }
}

fn check_array(
    schema: &Schema,
    items: &[Value],
    old: Option<&Value>,
    path: &str,
    causes: &mut Vec<Cause>,
) {
    let n = items.len() as u64;
    if let Some(max) = schema.max_items.filter(|m| n > *m) {
        causes.push(Cause {
            reason: "FieldValueTooMany".into(),
            message: format!("Too many: {n}: must have at most {max} items"),
            field: path.into(),
        });
    }
    if let Some(min) = schema.min_items.filter(|m| n < *m) {
        causes.push(invalid(
            path,
            format!("Invalid value: {n}: {path} in body should have at least {min} items"),
        ));
    }
    let key_of = |item: &Value| -> Option<Vec<Value>> {
        (schema.list_type.as_deref() == Some("map")).then(|| {
            schema
                .list_map_keys
                .iter()
                .map(|k| item.get(k).cloned().unwrap_or(Value::Null))
                .collect()
        })
    };
    for (i, item) in items.iter().enumerate() {
        let here = format!("{path}[{i}]");
        let earlier = &items[..i];
        match schema.list_type.as_deref() {
            Some("set") if earlier.contains(item) => {
                causes.push(Cause {
                    reason: "FieldValueDuplicate".into(),
                    message: format!("Duplicate value: {item}"),
                    field: here.clone(),
                });
            }
            Some("map") if earlier.iter().any(|e| key_of(e) == key_of(item)) => {
                let key = Value::Array(key_of(item).unwrap_or_default());
                causes.push(Cause {
                    reason: "FieldValueDuplicate".into(),
                    message: format!("Duplicate value: {key}"),
                    field: here.clone(),
                });
            }
            _ => {}
        }
        // Only map-keyed lists correlate items with the old object (for transition rules).
        let old_item = old.and_then(Value::as_array).and_then(|olds| {
            key_of(item).and_then(|k| olds.iter().find(|o| key_of(o).as_ref() == Some(&k)))
        });
        if let Some(sub) = &schema.items {
            validate(sub, item, old_item, &here, causes);
        }
    }
}

fn check_object(
    schema: &Schema,
    map: &Map<String, Value>,
    old: Option<&Value>,
    path: &str,
    causes: &mut Vec<Cause>,
) {
    for r in &schema.required {
        if !map.contains_key(r) {
            causes.push(required(&join(path, r)));
        }
    }
    let n = map.len() as u64;
    if let Some(max) = schema.max_properties.filter(|m| n > *m) {
        causes.push(Cause {
            reason: "FieldValueTooMany".into(),
            message: format!("Too many: {n}: must have at most {max} items"),
            field: path.into(),
        });
    }
    if let Some(min) = schema.min_properties.filter(|m| n < *m) {
        causes.push(invalid(
            path,
            format!("Invalid value: {n}: {path} in body should have at least {min} properties"),
        ));
    }
    for (k, v) in map {
        if let Some(sub) = schema
            .properties
            .get(k)
            .or(schema.additional_properties.as_deref())
        {
            validate(sub, v, old.and_then(|o| o.get(k)), &join(path, k), causes);
        }
    }
}

fn check_rules(
    schema: &Schema,
    value: &Value,
    old: Option<&Value>,
    path: &str,
    causes: &mut Vec<Cause>,
) {
    for rule in &schema.rules {
        let old_self = if rule.program.uses_old_self() {
            match old {
                Some(o) => Some(o),
                None => continue,
            }
        } else {
            None
        };
        let field = match &rule.field_path {
            Some(fp) => join(path, fp.trim_start_matches('.')),
            None => path.to_owned(),
        };
        let shown_type = schema
            .type_
            .clone()
            .unwrap_or_else(|| json_type(value).to_owned());
        let message = match rule.program.eval_bool(value, old_self) {
            Ok(true) => continue,
            Ok(false) => rule
                .message_expression
                .as_ref()
                .and_then(|p| p.eval_string(value, old_self).ok())
                .filter(|m| !m.trim().is_empty())
                .or_else(|| rule.message.clone())
                .unwrap_or_else(|| format!("failed rule: {}", rule.source)),
            Err(e) => format!("{e} evaluating rule: {}", rule.source),
        };
        let message = match rule.reason.as_str() {
            "FieldValueRequired" => format!("Required value: {message}"),
            "FieldValueForbidden" => format!("Forbidden: {message}"),
            "FieldValueDuplicate" => format!("Duplicate value: \"{shown_type}\": {message}"),
            _ => format!("Invalid value: \"{shown_type}\": {message}"),
        };
        causes.push(Cause {
            reason: rule.reason.clone(),
            message,
            field: if field.is_empty() {
                "<nil>".into()
            } else {
                field
            },
        });
    }
}

#[cfg(test)]
#[path = "validation_tests.rs"]
mod tests;
