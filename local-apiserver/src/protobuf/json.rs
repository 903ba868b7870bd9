//! JSON ↔ protobuf for one message, walking its descriptor. Field names are the JSON names
//! (Kubernetes' generated `.proto` files name fields as the JSON does); apimachinery's types
//! whose JSON is not their message shape are mapped by hand: Time and MicroTime (RFC 3339),
//! Duration (Go duration text), Quantity (a string), IntOrString (a number or a string), and
//! RawExtension / FieldsV1 (embedded JSON, carried as raw bytes).

use base64::Engine;
use bytes::Bytes;
use prost_reflect::{
    DynamicMessage, FieldDescriptor, Kind, MapKey, MessageDescriptor, ReflectMessage,
    Value as Proto,
};
use serde_json::{Map, Value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A JSON value the message cannot hold, with the field path that holds it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct Mismatch {
    /// The field path (`spec.template.spec.containers[0].ports`).
    pub path: String,
    /// What is wrong with the value there.
    pub problem: String,
}

fn mismatch(path: &str, problem: impl Into<String>) -> Mismatch {
    Mismatch {
        path: if path.is_empty() {
            "<root>".into()
        } else {
            path.to_owned()
        },
        problem: problem.into(),
    }
}

/// The apimachinery messages whose JSON form differs from their fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    Time,
    MicroTime,
    Duration,
    Quantity,
    IntOrString,
    /// RawExtension, FieldsV1: raw bytes holding JSON.
    RawJson,
}

fn special(desc: &MessageDescriptor) -> Option<Special> {
    Some(match desc.full_name() {
        "k8s.io.apimachinery.pkg.apis.meta.v1.Time" => Special::Time,
        "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime" => Special::MicroTime,
        "k8s.io.apimachinery.pkg.apis.meta.v1.Duration" => Special::Duration,
        "k8s.io.apimachinery.pkg.api.resource.Quantity" => Special::Quantity,
        "k8s.io.apimachinery.pkg.util.intstr.IntOrString" => Special::IntOrString,
        "k8s.io.apimachinery.pkg.runtime.RawExtension"
        | "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1" => Special::RawJson,
        _ => return None,
    })
}

/// Embedded Go structs whose JSON is inlined into the parent (`json:",inline"`) but which the
/// protobuf form keeps as a field of their own: (field name, message name). A probe's
/// `httpGet` is `handler.httpGet` in protobuf, a volume's `configMap` is `volumeSource.configMap`.
const INLINE: &[(&str, &str)] = &[
    ("handler", "ProbeHandler"),
    ("volumeSource", "VolumeSource"),
    ("persistentVolumeSource", "PersistentVolumeSource"),
    ("localObjectReference", "LocalObjectReference"),
    ("ephemeralContainerCommon", "EphemeralContainerCommon"),
];

/// Whether `field` is an inlined embedded struct, and its message.
fn inlined(field: &FieldDescriptor) -> Option<MessageDescriptor> {
    let Kind::Message(desc) = field.kind() else {
        return None;
    };
    INLINE
        .iter()
        .any(|(f, m)| *f == field.name() && *m == desc.name() && !field.is_list())
        .then_some(desc)
}

// ---------------------------------------------------------------- protobuf → JSON

/// The JSON of a decoded message. Fields the encoder set are kept, except empty strings
/// (Go's `omitempty`: Kubernetes' encoder writes every non-pointer string, empty or not);
/// zero Times are dropped as Go's JSON drops them.
pub(crate) fn to_json(message: &DynamicMessage) -> Value {
    match special(&message.descriptor()) {
        Some(s) => special_to_json(s, message),
        None => {
            let mut out = Map::new();
            for (field, value) in message.fields() {
                let json = field_to_json(&field, value);
                if inlined(&field).is_some()
                    && let Value::Object(inner) = json
                {
                    out.extend(inner);
                    continue;
                }
                if !json.is_null() {
                    out.insert(field.name().to_owned(), json);
                }
            }
            Value::Object(out)
        }
    }
}

fn field_to_json(field: &FieldDescriptor, value: &Proto) -> Value {
    match value {
        Proto::List(items) => {
            let items: Vec<Value> = items.iter().map(|v| scalar_to_json(v, false)).collect();
            if items.is_empty() {
                Value::Null
            } else {
                Value::Array(items)
            }
        }
        Proto::Map(entries) if field.is_map() => {
            let out: Map<String, Value> = entries
                .iter()
                .map(|(k, v)| (map_key_text(k), scalar_to_json(v, false)))
                .collect();
            if out.is_empty() {
                Value::Null
            } else {
                Value::Object(out)
            }
        }
        other => scalar_to_json(other, true),
    }
}

fn map_key_text(key: &MapKey) -> String {
    match key {
        MapKey::String(s) => s.clone(),
        MapKey::Bool(b) => b.to_string(),
        MapKey::I32(n) => n.to_string(),
        MapKey::I64(n) => n.to_string(),
        MapKey::U32(n) => n.to_string(),
        MapKey::U64(n) => n.to_string(),
    }
}

/// One value; `drop_empty` drops an empty string (a field), but not an element of a list or map.
fn scalar_to_json(value: &Proto, drop_empty: bool) -> Value {
    match value {
        Proto::Bool(b) => Value::Bool(*b),
        Proto::I32(n) => Value::from(*n),
        Proto::I64(n) => Value::from(*n),
        Proto::U32(n) => Value::from(*n),
        Proto::U64(n) => Value::from(*n),
        Proto::F32(n) => {
            serde_json::Number::from_f64(f64::from(*n)).map_or(Value::Null, Value::Number)
        }
        Proto::F64(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
        Proto::String(s) if s.is_empty() && drop_empty => Value::Null,
        Proto::String(s) => Value::String(s.clone()),
        Proto::Bytes(b) => Value::String(B64.encode(b)),
        Proto::EnumNumber(n) => Value::from(*n),
        Proto::Message(m) => to_json(m),
        Proto::List(_) | Proto::Map(_) => Value::Null,
    }
}

fn int_field(message: &DynamicMessage, name: &str) -> i64 {
    message
        .get_field_by_name(name)
        .and_then(|v| v.as_i64().or_else(|| v.as_i32().map(i64::from)))
        .unwrap_or_default()
}

fn string_field(message: &DynamicMessage, name: &str) -> String {
    message
        .get_field_by_name(name)
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn special_to_json(kind: Special, message: &DynamicMessage) -> Value {
    match kind {
        Special::Time | Special::MicroTime => {
            let (seconds, nanos) = (int_field(message, "seconds"), int_field(message, "nanos"));
            if seconds == 0 && nanos == 0 {
                return Value::Null;
            }
            let Ok(ts) = jiff::Timestamp::new(seconds, i32::try_from(nanos).unwrap_or(0)) else {
                return Value::Null;
            };
            let text = if kind == Special::Time {
                ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
            } else {
                ts.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string()
            };
            Value::String(text)
        }
        Special::Duration => Value::String(go_duration(int_field(message, "duration"))),
        Special::Quantity => Value::String(string_field(message, "string")),
        Special::IntOrString => {
            if int_field(message, "type") == 1 {
                Value::String(string_field(message, "strVal"))
            } else {
                Value::from(int_field(message, "intVal"))
            }
        }
        Special::RawJson => {
            let raw = message
                .get_field_by_name("raw")
                .or_else(|| message.get_field_by_name("Raw"))
                .and_then(|v| v.as_bytes().cloned())
                .unwrap_or_default();
            serde_json::from_slice(&raw).unwrap_or(Value::Null)
        }
    }
}

/// A duration in nanoseconds as Go's `time.Duration.String` writes it ("1h2m3s", "1.5s", "0s").
fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    let fraction = |value: u64, unit: u64| {
        let whole = value / unit;
        let rest = value % unit;
        if rest == 0 {
            whole.to_string()
        } else {
            let digits = unit.ilog10() as usize;
            let text = format!("{whole}.{rest:0digits$}");
            text.trim_end_matches('0').to_owned()
        }
    };
    if n < 1_000 {
        return format!("{sign}{n}ns");
    }
    if n < 1_000_000 {
        return format!("{sign}{}µs", fraction(n, 1_000));
    }
    if n < 1_000_000_000 {
        return format!("{sign}{}ms", fraction(n, 1_000_000));
    }
    let total_seconds = n / 1_000_000_000;
    let sub = n % 1_000_000_000;
    let (hours, minutes, seconds) = (
        total_seconds / 3600,
        (total_seconds / 60) % 60,
        total_seconds % 60,
    );
    let seconds = fraction(seconds * 1_000_000_000 + sub, 1_000_000_000);
    if hours > 0 {
        format!("{sign}{hours}h{minutes}m{seconds}s")
    } else if minutes > 0 {
        format!("{sign}{minutes}m{seconds}s")
    } else {
        format!("{sign}{seconds}s")
    }
}

fn parse_go_duration(text: &str) -> Option<i64> {
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Some(0);
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter(|e| *e > 0)?;
        let number: f64 = rest[..end].parse().ok()?;
        rest = &rest[end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += number * scale;
        rest = &rest[unit_end..];
    }
    #[expect(
        clippy::cast_possible_truncation,
        reason = "durations fit in i64 nanoseconds"
    )]
    let nanos = total.round() as i64;
    Some(if negative { -nanos } else { nanos })
}

// ---------------------------------------------------------------- JSON → protobuf

/// The message `desc` holding `json`. JSON fields the message has no field for (`apiVersion`,
/// `kind`, fields of a newer Kubernetes) are left out; a value of the wrong type is a
/// `Mismatch` naming its path.
pub(crate) fn from_json(
    desc: &MessageDescriptor,
    json: &Value,
) -> Result<DynamicMessage, Mismatch> {
    message_from_json(desc, json, "")
}

fn message_from_json(
    desc: &MessageDescriptor,
    json: &Value,
    path: &str,
) -> Result<DynamicMessage, Mismatch> {
    if let Some(kind) = special(desc) {
        return special_from_json(kind, desc, json, path);
    }
    let Value::Object(fields) = json else {
        return Err(mismatch(path, format!("expected an object, got {json}")));
    };
    let mut message = DynamicMessage::new(desc.clone());
    for field in desc.fields() {
        let Some(inner) = inlined(&field) else {
            continue;
        };
        let part: Map<String, Value> = fields
            .iter()
            .filter(|(k, _)| desc.get_field_by_name(k).is_none())
            .filter(|(k, _)| inner.get_field_by_name(k).is_some() || inlined_has(&inner, k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !part.is_empty() || field.cardinality() == prost_reflect::Cardinality::Required {
            let inner = message_from_json(&inner, &Value::Object(part), path)?;
            message.set_field(&field, Proto::Message(inner));
        }
    }
    for (name, value) in fields {
        let Some(field) = desc.get_field_by_name(name) else {
            continue;
        };
        if value.is_null() {
            continue;
        }
        let here = if path.is_empty() {
            name.clone()
        } else {
            format!("{path}.{name}")
        };
        let proto = field_from_json(&field, value, &here)?;
        message.set_field(&field, proto);
    }
    Ok(message)
}

/// Whether an inlined field of `desc` (at any depth) has a field called `name`.
fn inlined_has(desc: &MessageDescriptor, name: &str) -> bool {
    desc.fields().any(|f| {
        inlined(&f).is_some_and(|inner| {
            inner.get_field_by_name(name).is_some() || inlined_has(&inner, name)
        })
    })
}

fn field_from_json(field: &FieldDescriptor, json: &Value, path: &str) -> Result<Proto, Mismatch> {
    if field.is_map() {
        let Value::Object(entries) = json else {
            return Err(mismatch(path, "expected an object (a map)"));
        };
        let Kind::Message(entry) = field.kind() else {
            return Err(mismatch(path, "a map field without an entry message"));
        };
        let value_field = entry.map_entry_value_field();
        let mut out = std::collections::HashMap::new();
        for (k, v) in entries {
            if v.is_null() {
                continue;
            }
            let value = value_from_json(&value_field.kind(), v, &format!("{path}[{k:?}]"))?;
            out.insert(MapKey::String(k.clone()), value);
        }
        return Ok(Proto::Map(out));
    }
    if field.is_list() {
        let Value::Array(items) = json else {
            return Err(mismatch(path, "expected an array"));
        };
        return items
            .iter()
            .enumerate()
            .map(|(i, v)| value_from_json(&field.kind(), v, &format!("{path}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Proto::List);
    }
    value_from_json(&field.kind(), json, path)
}

fn value_from_json(kind: &Kind, json: &Value, path: &str) -> Result<Proto, Mismatch> {
    let int = || {
        json.as_i64()
            .or_else(|| json.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .ok_or_else(|| mismatch(path, format!("expected an integer, got {json}")))
    };
    Ok(match kind {
        Kind::Message(desc) => Proto::Message(message_from_json(desc, json, path)?),
        Kind::String => Proto::String(
            json.as_str()
                .ok_or_else(|| mismatch(path, format!("expected a string, got {json}")))?
                .to_owned(),
        ),
        Kind::Bytes => {
            let text = json
                .as_str()
                .ok_or_else(|| mismatch(path, "expected a base64 string"))?;
            Proto::Bytes(Bytes::from(
                B64.decode(text)
                    .map_err(|e| mismatch(path, format!("illegal base64 data: {e}")))?,
            ))
        }
        Kind::Bool => Proto::Bool(
            json.as_bool()
                .ok_or_else(|| mismatch(path, format!("expected a boolean, got {json}")))?,
        ),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            Proto::I32(i32::try_from(int()?).map_err(|_| mismatch(path, "out of range for int32"))?)
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Proto::I64(int()?),
        Kind::Uint32 | Kind::Fixed32 => Proto::U32(
            u32::try_from(int()?).map_err(|_| mismatch(path, "out of range for uint32"))?,
        ),
        Kind::Uint64 | Kind::Fixed64 => Proto::U64(
            u64::try_from(int()?).map_err(|_| mismatch(path, "out of range for uint64"))?,
        ),
        #[expect(clippy::cast_possible_truncation, reason = "a float field")]
        Kind::Float => Proto::F32(
            json.as_f64()
                .ok_or_else(|| mismatch(path, "expected a number"))? as f32,
        ),
        Kind::Double => Proto::F64(
            json.as_f64()
                .ok_or_else(|| mismatch(path, "expected a number"))?,
        ),
        Kind::Enum(_) => Proto::EnumNumber(
            i32::try_from(int()?).map_err(|_| mismatch(path, "out of range for an enum"))?,
        ),
    })
}

fn special_from_json(
    kind: Special,
    desc: &MessageDescriptor,
    json: &Value,
    path: &str,
) -> Result<DynamicMessage, Mismatch> {
    let mut message = DynamicMessage::new(desc.clone());
    let mut set = |name: &str, value: Proto| {
        if let Some(field) = desc.get_field_by_name(name) {
            message.set_field(&field, value);
        }
    };
    match kind {
        Special::Time | Special::MicroTime => {
            let text = json
                .as_str()
                .ok_or_else(|| mismatch(path, format!("expected an RFC 3339 time, got {json}")))?;
            let ts: jiff::Timestamp = text
                .parse()
                .map_err(|e| mismatch(path, format!("invalid time {text:?}: {e}")))?;
            set("seconds", Proto::I64(ts.as_second()));
            set("nanos", Proto::I32(ts.subsec_nanosecond()));
        }
        Special::Duration => {
            let text = json
                .as_str()
                .ok_or_else(|| mismatch(path, format!("expected a duration, got {json}")))?;
            let nanos = parse_go_duration(text)
                .ok_or_else(|| mismatch(path, format!("invalid duration {text:?}")))?;
            set("duration", Proto::I64(nanos));
        }
        Special::Quantity => {
            let text = match json {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => return Err(mismatch(path, format!("expected a quantity, got {other}"))),
            };
            set("string", Proto::String(text));
        }
        Special::IntOrString => match json {
            Value::String(s) => {
                set("type", Proto::I64(1));
                set("strVal", Proto::String(s.clone()));
            }
            Value::Number(n) => {
                let n = n
                    .as_i64()
                    .and_then(|n| i32::try_from(n).ok())
                    .ok_or_else(|| mismatch(path, format!("expected an int32, got {n}")))?;
                set("type", Proto::I64(0));
                set("intVal", Proto::I32(n));
            }
            other => {
                return Err(mismatch(
                    path,
                    format!("expected an integer or a string, got {other}"),
                ));
            }
        },
        Special::RawJson => {
            let raw = serde_json::to_vec(json).unwrap_or_default();
            let name = if desc.get_field_by_name("raw").is_some() {
                "raw"
            } else {
                "Raw"
            };
            set(name, Proto::Bytes(Bytes::from(raw)));
        }
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_read_and_write_as_go_does() {
        for (nanos, text) in [
            (0, "0s"),
            (1_500_000_000, "1.5s"),
            (300_000_000_000, "5m0s"),
            (3_723_000_000_000, "1h2m3s"),
            (250_000_000, "250ms"),
            (-2_000_000_000, "-2s"),
        ] {
            assert_eq!(go_duration(nanos), text);
            assert_eq!(parse_go_duration(text), Some(nanos), "{text}");
        }
        assert_eq!(parse_go_duration("5 minutes"), None);
    }
}
