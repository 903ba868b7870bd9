//! `Table` output (meta.k8s.io/v1) for `kubectl get`: the Name column, a CRD version's
//! additionalPrinterColumns (evaluated with a JSONPath subset) or a built-in's columns, and Age.
//! Pure: objects in, a Table value out.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::registry::{Builtin, PrinterColumn, ResourceInfo};

/// Which object each row carries (`includeObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum IncludeObject {
    None,
    #[default]
    Metadata,
    Object,
}

impl IncludeObject {
    /// Parses the query value.
    pub fn parse(value: Option<&str>) -> Self {
        match value {
            Some("None") => Self::None,
            Some("Object") => Self::Object,
            _ => Self::Metadata,
        }
    }
}

fn column(name: &str, type_: &str, json_path: &str, description: &str) -> PrinterColumn {
    PrinterColumn {
        name: name.into(),
        type_: type_.into(),
        format: String::new(),
        description: description.into(),
        priority: 0,
        json_path: json_path.into(),
    }
}

const AGE_PATH: &str = ".metadata.creationTimestamp";
/// Pseudo paths computed by `builtin_cell`.
const DATA_COUNT: &str = "#data";
const INVOLVED_OBJECT: &str = "#object";

fn age() -> PrinterColumn {
    column(
        "Age",
        "date",
        AGE_PATH,
        "CreationTimestamp is a timestamp representing the server time when this object was created.",
    )
}

/// The Table columns of a built-in resource (after Name).
fn builtin_columns(builtin: Builtin) -> Vec<PrinterColumn> {
    match builtin {
        Builtin::Namespace => vec![
            column(
                "Status",
                "string",
                ".status.phase",
                "The phase of the namespace",
            ),
            age(),
        ],
        Builtin::ConfigMap => vec![
            column("Data", "string", DATA_COUNT, "Number of data keys"),
            age(),
        ],
        Builtin::Secret => vec![
            column("Type", "string", ".type", "The type of the secret"),
            column("Data", "string", DATA_COUNT, "Number of data keys"),
            age(),
        ],
        Builtin::Lease => vec![
            column(
                "Holder",
                "string",
                ".spec.holderIdentity",
                "The holder of the lease",
            ),
            age(),
        ],
        Builtin::Crd => vec![column(
            "Created At",
            "date-time",
            AGE_PATH,
            "When the CRD was created",
        )],
        Builtin::CoreEvent | Builtin::Event => vec![
            column(
                "Last Seen",
                "date",
                "#lastSeen",
                "When the event last occurred",
            ),
            column("Type", "string", ".type", "The event type"),
            column("Reason", "string", ".reason", "The reason of the event"),
            column(
                "Object",
                "string",
                INVOLVED_OBJECT,
                "The object the event is about",
            ),
            column("Message", "string", "#message", "The message of the event"),
        ],
        Builtin::ServiceAccount | Builtin::Rbac | Builtin::Workload => vec![age()],
    }
}

/// The columns shown for `info` at `version`: a built-in's own, a CRD version's printer
/// columns, or Age for a CRD without any.
fn columns(info: &ResourceInfo, version: &str) -> Vec<PrinterColumn> {
    if let Some(builtin) = info.builtin {
        return builtin_columns(builtin);
    }
    let declared = info
        .version(version)
        .map(|v| v.printer_columns.clone())
        .unwrap_or_default();
    if declared.is_empty() {
        vec![age()]
    } else {
        declared
    }
}

/// A Table of `objects` (already presented at `version`) with list metadata `metadata`.
pub(crate) fn table(
    info: &ResourceInfo,
    version: &str,
    objects: &[Arc<Value>],
    metadata: Value,
    include: IncludeObject,
    now: jiff::Timestamp,
) -> Value {
    let cols = columns(info, version);
    let mut defs = vec![
        json!({"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0}),
    ];
    defs.extend(cols.iter().map(|c| {
        json!({"name": c.name, "type": if c.type_ == "date-time" { "string" } else { c.type_.as_str() }, "format": c.format, "description": c.description, "priority": c.priority})
    }));
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut cells = vec![o.pointer("/metadata/name").cloned().unwrap_or(Value::Null)];
            cells.extend(cols.iter().map(|c| cell(c, o, now)));
            let object = match include {
                IncludeObject::None => Value::Null,
                IncludeObject::Object => (**o).clone(),
                IncludeObject::Metadata => {
                    let mut md = o.get("metadata").cloned().unwrap_or(json!({}));
                    if let Some(m) = md.as_object_mut() {
                        m.remove("managedFields");
                    }
                    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": md})
                }
            };
            json!({"cells": cells, "object": object})
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "columnDefinitions": defs, "rows": rows})
}

fn cell(c: &PrinterColumn, obj: &Value, now: jiff::Timestamp) -> Value {
    let value = match c.json_path.as_str() {
        DATA_COUNT => {
            let count = |k: &str| {
                obj.get(k)
                    .and_then(Value::as_object)
                    .map_or(0, serde_json::Map::len)
            };
            return json!(count("data") + count("binaryData"));
        }
        INVOLVED_OBJECT => {
            let o = obj.get("involvedObject").or_else(|| obj.get("regarding"));
            let s = |k: &str| {
                o.and_then(|o| o.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            };
            return json!(format!("{}/{}", s("kind").to_lowercase(), s("name")));
        }
        "#message" => obj
            .get("message")
            .or_else(|| obj.get("note"))
            .cloned()
            .unwrap_or(Value::Null),
        "#lastSeen" => ["lastTimestamp", "eventTime", "deprecatedLastTimestamp"]
            .iter()
            .find_map(|k| obj.get(*k).filter(|v| v.is_string()).cloned())
            .or_else(|| obj.pointer("/series/lastObservedTime").cloned())
            .unwrap_or(Value::Null),
        path => {
            let found = json_path(obj, path);
            match found.as_slice() {
                [] => Value::Null,
                [one] => (*one).clone(),
                many => json!(
                    many.iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            }
        }
    };
    if c.type_ == "date"
        && let Some(since) = value
            .as_str()
            .and_then(|s| s.parse::<jiff::Timestamp>().ok())
    {
        return json!(human_duration(now.as_second() - since.as_second()));
    }
    value
}

/// Kubernetes' short human duration (`5s`, `3m20s`, `2d4h`, `3y`).
pub(crate) fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    let s = seconds.max(0);
    let (m, h) = (s / 60, s / 3600);
    match () {
        _ if s < 120 => format!("{s}s"),
        _ if m < 10 && s % 60 == 0 => format!("{m}m"),
        _ if m < 10 => format!("{m}m{}s", s % 60),
        _ if m < 180 => format!("{m}m"),
        _ if h < 8 && m % 60 == 0 => format!("{h}h"),
        _ if h < 8 => format!("{h}h{}m", m % 60),
        _ if h < 48 => format!("{h}h"),
        _ if h < 192 && h % 24 == 0 => format!("{}d", h / 24),
        _ if h < 192 => format!("{}d{}h", h / 24, h % 24),
        _ if h < 24 * 365 * 2 => format!("{}d", h / 24),
        _ if h < 24 * 365 * 8 && (h / 24) % 365 == 0 => format!("{}y", h / 24 / 365),
        _ if h < 24 * 365 * 8 => format!("{}y{}d", h / 24 / 365, (h / 24) % 365),
        _ => format!("{}y", h / 24 / 365),
    }
}

/// Evaluates the JSONPath subset printer columns use: `.a.b`, `[n]`, `[*]`,
/// `[?(@.k=="v")]`, optionally wrapped in `{}`.
pub(crate) fn json_path<'a>(obj: &'a Value, path: &str) -> Vec<&'a Value> {
    let path = path.trim();
    let path = path
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .unwrap_or(path);
    let path = path.strip_prefix('$').unwrap_or(path);
    let mut current = vec![obj];
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let key = &r[..end];
            rest = &r[end..];
            if key.is_empty() {
                continue;
            }
            current = current.into_iter().filter_map(|v| v.get(key)).collect();
        } else if let Some(r) = rest.strip_prefix('[') {
            let Some(close) = r.find(']') else {
                return vec![];
            };
            let selector = &r[..close];
            rest = &r[close + 1..];
            current = current
                .into_iter()
                .flat_map(|v| select(v, selector))
                .collect();
        } else {
            return vec![];
        }
    }
    current
}

fn select<'a>(v: &'a Value, selector: &str) -> Vec<&'a Value> {
    let Some(items) = v.as_array() else {
        let key = selector.trim_matches(|c| c == '\'' || c == '"');
        return v.get(key).into_iter().collect();
    };
    if selector == "*" {
        return items.iter().collect();
    }
    if let Ok(i) = selector.parse::<i64>() {
        let idx = if i < 0 { items.len() as i64 + i } else { i };
        return usize::try_from(idx)
            .ok()
            .and_then(|i| items.get(i))
            .into_iter()
            .collect();
    }
    let Some(filter) = selector
        .strip_prefix("?(")
        .and_then(|f| f.strip_suffix(')'))
    else {
        return vec![];
    };
    let Some((lhs, rhs)) = filter.split_once("==") else {
        return vec![];
    };
    let field = lhs.trim().trim_start_matches('@');
    let want = rhs.trim().trim_matches(|c| c == '"' || c == '\'');
    items
        .iter()
        .filter(|item| {
            json_path(item, field)
                .first()
                .is_some_and(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned) == want)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    #[test]
    fn json_path_subset() {
        let o = json!({"spec": {"replicas": 3, "ports": [{"port": 80}, {"port": 443}]},
                       "status": {"conditions": [{"type": "Progressing", "status": "False"}, {"type": "Ready", "status": "True"}]}});
        assert_eq!(json_path(&o, ".spec.replicas"), [&json!(3)]);
        assert_eq!(json_path(&o, "{.spec.ports[1].port}"), [&json!(443)]);
        assert_eq!(
            json_path(&o, ".spec.ports[*].port"),
            [&json!(80), &json!(443)]
        );
        assert_eq!(
            json_path(&o, ".status.conditions[?(@.type==\"Ready\")].status"),
            [&json!("True")]
        );
        assert!(json_path(&o, ".spec.missing").is_empty());
        assert!(json_path(&o, ".spec.ports[9].port").is_empty());
    }

    #[test]
    fn human_durations_match_kubectl() {
        let cases = [
            (5, "5s"),
            (119, "119s"),
            (120, "2m"),
            (150, "2m30s"),
            (900, "15m"),
            (3 * 3600 + 60, "3h1m"),
            (30 * 3600, "30h"),
            (3 * 86400, "3d"),
            (3 * 86400 + 3600, "3d1h"),
            (40 * 86400, "40d"),
            (800 * 86400, "2y70d"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(secs), want, "{secs}");
        }
    }

    #[test]
    fn crd_table_uses_printer_columns_and_metadata_rows() {
        let mut info = (**Registry::with_builtins().get("", "configmaps").unwrap()).clone();
        info.builtin = None;
        info.versions[0].printer_columns = vec![
            column("Replicas", "integer", ".spec.replicas", ""),
            column(
                "Ready",
                "string",
                ".status.conditions[?(@.type==\"Ready\")].status",
                "",
            ),
            age(),
        ];
        let now = jiff::Timestamp::now();
        let created = (now - jiff::SignedDuration::from_secs(30))
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let obj = Arc::new(
            json!({"metadata": {"name": "web", "creationTimestamp": created, "managedFields": []},
            "spec": {"replicas": 2}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
        );
        let t = table(
            &info,
            "v1",
            &[obj],
            json!({"resourceVersion": "7"}),
            IncludeObject::Metadata,
            now,
        );
        let names: Vec<_> = t["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].clone())
            .collect();
        assert_eq!(
            names,
            [
                json!("Name"),
                json!("Replicas"),
                json!("Ready"),
                json!("Age")
            ]
        );
        assert_eq!(t["rows"][0]["cells"], json!(["web", 2, "True", "30s"]));
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert!(
            t["rows"][0]["object"]["metadata"]
                .get("managedFields")
                .is_none()
        );
    }

    #[test]
    fn builtin_tables() {
        let r = Registry::with_builtins();
        let cm = Arc::new(json!({"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}}));
        let t = table(
            r.get("", "configmaps").unwrap(),
            "v1",
            &[cm],
            json!({}),
            IncludeObject::None,
            jiff::Timestamp::now(),
        );
        assert_eq!(t["rows"][0]["cells"][1], 2);
        assert!(t["rows"][0]["object"].is_null());
        let ev = Arc::new(
            json!({"metadata": {"name": "e"}, "regarding": {"kind": "EcsService", "name": "web"}, "note": "hi", "reason": "R", "type": "Normal"}),
        );
        let t = table(
            r.get("events.k8s.io", "events").unwrap(),
            "v1",
            &[ev],
            json!({}),
            IncludeObject::None,
            jiff::Timestamp::now(),
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["e", null, "Normal", "R", "ecsservice/web", "hi"])
        );
    }
}
