//! The structural schema of a CRD version, parsed once from `openAPIV3Schema` with its
//! `x-kubernetes-validations` rules compiled. Holds no objects; `validation` walks objects
//! against it.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::cel::Program;

/// One `x-kubernetes-validations` entry.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub source: String,
    pub program: Program,
    pub message: Option<String>,
    pub message_expression: Option<Program>,
    /// `FieldValueInvalid` unless the rule says otherwise.
    pub reason: String,
    /// Relative path (`.spec.x`) the error is reported at, if not the schema node itself.
    pub field_path: Option<String>,
}

/// A node of a structural schema.
#[derive(Debug, Clone, Default)]
pub(crate) struct Schema {
    pub type_: Option<String>,
    pub properties: BTreeMap<String, Schema>,
    pub required: Vec<String>,
    pub items: Option<Box<Schema>>,
    pub additional_properties: Option<Box<Schema>>,
    /// `additionalProperties: true`: any keys, any values.
    pub any_additional: bool,
    pub preserve_unknown_fields: bool,
    pub int_or_string: bool,
    pub embedded_resource: bool,
    pub nullable: bool,
    pub enum_values: Vec<Value>,
    pub default: Option<Value>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub exclusive_minimum: bool,
    pub exclusive_maximum: bool,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub pattern: Option<regex::Regex>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub min_properties: Option<u64>,
    pub max_properties: Option<u64>,
    /// `x-kubernetes-list-type`: atomic, set or map.
    pub list_type: Option<String>,
    pub list_map_keys: Vec<String>,
    pub rules: Vec<Rule>,
}

impl Schema {
    /// Parses a schema; returns it with warnings about rules this server cannot evaluate (those
    /// rules are skipped), or an error for a schema that is not usable (e.g. a bad `pattern`).
    pub fn parse(raw: &Value) -> Result<(Self, Vec<String>), String> {
        let mut warnings = Vec::new();
        let schema = parse_node(raw, "", &mut warnings, 0)?;
        Ok((schema, warnings))
    }

    /// Whether the node accepts any field without declaring it.
    pub fn keeps_unknown_fields(&self) -> bool {
        self.preserve_unknown_fields || self.any_additional
    }
}

const MAX_DEPTH: usize = 64;

fn parse_node(
    raw: &Value,
    path: &str,
    warnings: &mut Vec<String>,
    depth: usize,
) -> Result<Schema, String> {
    if depth > MAX_DEPTH {
        return Err(format!("{path}: schema nested too deeply"));
    }
    let Some(obj) = raw.as_object() else {
        return Err(format!("{path}: a schema must be an object"));
    };
    let string = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_owned);
    let number = |k: &str| obj.get(k).and_then(Value::as_f64);
    let count = |k: &str| obj.get(k).and_then(Value::as_u64);
    let flag = |k: &str| obj.get(k).and_then(Value::as_bool).unwrap_or(false);
    let mut schema = Schema {
        type_: string("type"),
        required: obj
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        preserve_unknown_fields: flag("x-kubernetes-preserve-unknown-fields"),
        int_or_string: flag("x-kubernetes-int-or-string"),
        embedded_resource: flag("x-kubernetes-embedded-resource"),
        nullable: flag("nullable"),
        enum_values: obj
            .get("enum")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        default: obj.get("default").cloned(),
        minimum: number("minimum"),
        maximum: number("maximum"),
        exclusive_minimum: flag("exclusiveMinimum"),
        exclusive_maximum: flag("exclusiveMaximum"),
        min_length: count("minLength"),
        max_length: count("maxLength"),
        min_items: count("minItems"),
        max_items: count("maxItems"),
        min_properties: count("minProperties"),
        max_properties: count("maxProperties"),
        list_type: string("x-kubernetes-list-type"),
        list_map_keys: obj
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        ..Schema::default()
    };
    if let Some(p) = string("pattern") {
        schema.pattern = Some(regex::Regex::new(&p).map_err(|e| format!("{path}.pattern: {e}"))?);
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, sub) in props {
            schema.properties.insert(
                name.clone(),
                parse_node(sub, &format!("{path}.{name}"), warnings, depth + 1)?,
            );
        }
    }
    if let Some(items) = obj.get("items") {
        schema.items = Some(Box::new(parse_node(
            items,
            &format!("{path}[*]"),
            warnings,
            depth + 1,
        )?));
    }
    match obj.get("additionalProperties") {
        Some(Value::Bool(any)) => schema.any_additional = *any,
        Some(sub) => {
            schema.additional_properties = Some(Box::new(parse_node(
                sub,
                &format!("{path}[*]"),
                warnings,
                depth + 1,
            )?));
        }
        None => {}
    }
    for rule in obj
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let shown = if path.is_empty() { "<root>" } else { path };
        let Some(source) = rule.get("rule").and_then(Value::as_str) else {
            return Err(format!(
                "{shown}: x-kubernetes-validations entry without a rule"
            ));
        };
        if rule.get("optionalOldSelf").and_then(Value::as_bool) == Some(true) {
            warnings.push(format!("{shown}: rule {source:?} is not evaluated by local-apiserver: optionalOldSelf is not supported"));
            continue;
        }
        let program = match Program::compile(source) {
            Ok(p) => p,
            Err(e) => {
                warnings.push(format!(
                    "{shown}: rule {source:?} is not evaluated by local-apiserver: {e}"
                ));
                continue;
            }
        };
        let message_expression = match rule.get("messageExpression").and_then(Value::as_str) {
            Some(src) => match Program::compile(src) {
                Ok(p) => Some(p),
                Err(e) => {
                    warnings.push(format!(
                        "{shown}: messageExpression {src:?} is not evaluated: {e}"
                    ));
                    None
                }
            },
            None => None,
        };
        schema.rules.push(Rule {
            source: source.to_owned(),
            program,
            message: rule
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned),
            message_expression,
            reason: rule
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("FieldValueInvalid")
                .to_owned(),
            field_path: rule
                .get("fieldPath")
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
    }
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_structure_constraints_and_rules() {
        let raw = json!({
            "type": "object",
            "required": ["spec"],
            "properties": {
                "spec": {
                    "type": "object",
                    "x-kubernetes-validations": [
                        {"rule": "self.min <= self.max", "message": "min must not exceed max"},
                        {"rule": "self.q.isQuantity()"}
                    ],
                    "properties": {
                        "min": {"type": "integer", "minimum": 0, "default": 1},
                        "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 10},
                        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                        "list": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}}
                    }
                }
            }
        });
        let (schema, warnings) = Schema::parse(&raw).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("isQuantity"));
        let spec = &schema.properties["spec"];
        assert_eq!(spec.rules.len(), 1);
        assert_eq!(spec.properties["min"].default, Some(json!(1)));
        assert_eq!(spec.properties["name"].max_length, Some(10));
        assert!(spec.properties["tags"].additional_properties.is_some());
        assert_eq!(spec.properties["list"].list_type.as_deref(), Some("set"));
    }

    #[test]
    fn a_bad_pattern_makes_the_schema_unusable() {
        let raw =
            json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "("}}});
        assert!(Schema::parse(&raw).unwrap_err().contains(".a.pattern"));
    }
}
