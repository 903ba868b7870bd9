//! Structural-schema checks of one value: type, enum, numeric bounds, string length and
//! pattern, list size and uniqueness (sets and map-keyed lists), required properties, recursing
//! into properties and items with the old value alongside for transition rules. Collects
//! `Invalid` causes; never changes the object.

use serde_json::{Map, Value};

use super::fields::{join, json_type};
use super::rules::check_rules;
use crate::error::Cause;
use crate::schema::Schema;

fn invalid(path: &str, message: String) -> Cause {
    Cause {
        reason: "FieldValueInvalid".into(),
        message,
        field: path.into(),
    }
}

pub(super) fn required(path: &str) -> Cause {
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

pub(super) fn validate(
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
