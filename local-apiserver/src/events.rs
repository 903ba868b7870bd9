//! Events are one store served as core/v1 and events.k8s.io/v1 (kube-rs's Recorder writes the
//! latter; `kubectl describe` and `kubectl events` read the former). This module converts an
//! Event between the two shapes, as the real apiserver does. Pure.

use serde_json::{Map, Value, json};

const CORE: &str = "v1";
const EVENTS: &str = "events.k8s.io/v1";

/// The event in the shape of `api_version` ("v1" or "events.k8s.io/v1").
pub(crate) fn convert(event: &Value, api_version: &str) -> Value {
    let stored = event
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or(CORE);
    match (stored, api_version) {
        (EVENTS, CORE) => to_core(event),
        (CORE, EVENTS) => to_events(event),
        _ => {
            let mut out = event.clone();
            out["apiVersion"] = json!(api_version);
            out
        }
    }
}

fn copy(from: &Value, to: &mut Map<String, Value>, pairs: &[(&str, &str)]) {
    for (src, dst) in pairs {
        if let Some(v) = from.get(*src).filter(|v| !v.is_null()) {
            to.insert((*dst).to_owned(), v.clone());
        }
    }
}

fn to_core(e: &Value) -> Value {
    let mut out = Map::new();
    out.insert("apiVersion".into(), json!(CORE));
    out.insert("kind".into(), json!("Event"));
    copy(
        e,
        &mut out,
        &[
            ("metadata", "metadata"),
            ("regarding", "involvedObject"),
            ("note", "message"),
            ("reason", "reason"),
            ("type", "type"),
            ("action", "action"),
            ("related", "related"),
            ("eventTime", "eventTime"),
            ("reportingController", "reportingComponent"),
            ("reportingInstance", "reportingInstance"),
        ],
    );
    out.entry("involvedObject").or_insert_with(|| json!({}));
    let series = e.get("series").filter(|s| s.is_object());
    let source = e.get("deprecatedSource").cloned().unwrap_or_else(|| {
        let mut s = Map::new();
        copy(
            e,
            &mut s,
            &[
                ("reportingController", "component"),
                ("reportingInstance", "host"),
            ],
        );
        Value::Object(s)
    });
    out.insert("source".into(), source);
    let first = e
        .get("deprecatedFirstTimestamp")
        .or_else(|| e.get("eventTime"))
        .cloned()
        .unwrap_or(Value::Null);
    let last = e
        .get("deprecatedLastTimestamp")
        .or_else(|| series.and_then(|s| s.get("lastObservedTime")))
        .or_else(|| e.get("eventTime"))
        .cloned()
        .unwrap_or(Value::Null);
    let count = e
        .get("deprecatedCount")
        .or_else(|| series.and_then(|s| s.get("count")))
        .cloned()
        .unwrap_or(json!(1));
    out.insert("firstTimestamp".into(), first);
    out.insert("lastTimestamp".into(), last);
    out.insert("count".into(), count);
    if let Some(s) = series {
        out.insert("series".into(), s.clone());
    }
    Value::Object(out)
}

fn to_events(e: &Value) -> Value {
    let mut out = Map::new();
    out.insert("apiVersion".into(), json!(EVENTS));
    out.insert("kind".into(), json!("Event"));
    copy(
        e,
        &mut out,
        &[
            ("metadata", "metadata"),
            ("involvedObject", "regarding"),
            ("message", "note"),
            ("reason", "reason"),
            ("type", "type"),
            ("action", "action"),
            ("related", "related"),
            ("eventTime", "eventTime"),
            ("series", "series"),
            ("reportingInstance", "reportingInstance"),
            ("source", "deprecatedSource"),
            ("firstTimestamp", "deprecatedFirstTimestamp"),
            ("lastTimestamp", "deprecatedLastTimestamp"),
            ("count", "deprecatedCount"),
        ],
    );
    let controller = e
        .get("reportingComponent")
        .or_else(|| e.pointer("/source/component"))
        .cloned();
    if let Some(c) = controller.filter(|c| !c.is_null()) {
        out.insert("reportingController".into(), c);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorder_event() -> Value {
        json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "web.18e", "namespace": "default"},
            "eventTime": "2026-11-24T00:26:00.123456Z", "action": "Reconcile", "reason": "Reconciled",
            "note": "image nginx", "type": "Normal", "reportingController": "ecs-operator",
            "reportingInstance": "ecs-operator-0",
            "regarding": {"kind": "EcsService", "name": "web", "namespace": "default", "uid": "u1", "apiVersion": "demo/v1"},
            "series": {"count": 2, "lastObservedTime": "2026-11-24T00:26:03.000000Z"}
        })
    }

    #[test]
    fn events_v1_reads_as_core_for_kubectl_describe() {
        let core = convert(&recorder_event(), "v1");
        assert_eq!(core["apiVersion"], "v1");
        assert_eq!(core["involvedObject"]["name"], "web");
        assert_eq!(core["message"], "image nginx");
        assert_eq!(core["source"]["component"], "ecs-operator");
        assert_eq!(core["reportingComponent"], "ecs-operator");
        assert_eq!(core["count"], 2);
        assert_eq!(core["firstTimestamp"], "2026-11-24T00:26:00.123456Z");
        assert_eq!(core["lastTimestamp"], "2026-11-24T00:26:03.000000Z");
    }

    #[test]
    fn core_reads_as_events_v1() {
        let core = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "x"},
            "involvedObject": {"name": "web"}, "message": "hi", "reason": "R", "count": 3,
            "source": {"component": "kubelet"}, "firstTimestamp": "2026-01-01T00:00:00Z"});
        let ev = convert(&core, "events.k8s.io/v1");
        assert_eq!(ev["regarding"]["name"], "web");
        assert_eq!(ev["note"], "hi");
        assert_eq!(ev["deprecatedCount"], 3);
        assert_eq!(ev["reportingController"], "kubelet");
        assert_eq!(ev["deprecatedFirstTimestamp"], "2026-01-01T00:00:00Z");
    }

    #[test]
    fn same_shape_is_untouched() {
        let e = recorder_event();
        assert_eq!(convert(&e, "events.k8s.io/v1"), e);
    }
}
