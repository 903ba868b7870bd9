//! OpenAPI v3 documents: the `/openapi/v3` index and one document per group/version whose
//! paths carry, per kind, a `patch` operation with `x-kubernetes-group-version-kind` and a
//! `fieldValidation` parameter (without which kubectl falls back to protobuf `/openapi/v2` and
//! fails). Custom resources get their CRD's `openAPIV3Schema`. Pure.

use serde_json::{Map, Value, json};

use crate::registry::{Registry, ResourceInfo, group_version};

fn hash(registry: &Registry, gv: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ registry.revision();
    for b in gv.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016X}")
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `/openapi/v3`: where each group/version's document lives.
pub(crate) fn index(registry: &Registry) -> Value {
    let mut paths = Map::new();
    let mut gvs = vec![(String::new(), "v1".to_owned())];
    for (g, versions) in registry.groups() {
        gvs.extend(versions.into_iter().map(|v| (g.clone(), v)));
    }
    for (g, v) in gvs {
        let p = gv_path(&g, &v);
        paths.insert(
            p.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={}", hash(registry, &p))}),
        );
    }
    json!({"paths": paths})
}

fn schema_name(info: &ResourceInfo, version: &str) -> String {
    let group = if info.group.is_empty() {
        "io.k8s.api.core".to_owned()
    } else {
        info.group.split('.').rev().collect::<Vec<_>>().join(".")
    };
    format!("{group}.{version}.{}", info.kind)
}

fn parameters() -> Value {
    json!([
        {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
        {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
        {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
        {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": true}}
    ])
}

/// The document for `/openapi/v3/api/v1` or `/openapi/v3/apis/G/V`, if served.
pub(crate) fn document(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for info in registry.in_group_version(group, version) {
        let gvk = json!({"group": info.group, "version": version, "kind": info.kind});
        let base = format!("/{}", gv_path(group, version));
        let collection = if info.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}", info.plural)
        } else {
            format!("{base}/{}", info.plural)
        };
        let name = schema_name(info, version);
        let reference = json!({"$ref": format!("#/components/schemas/{name}")});
        let ok = json!({"200": {"description": "OK", "content": {"application/json": {"schema": reference}}}});
        let op = |action: &str| json!({"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": action, "parameters": parameters(), "responses": ok});
        paths.insert(format!("{collection}/{{name}}"), json!({"get": op("get"), "put": op("put"), "patch": op("patch"), "delete": op("delete")}));
        paths.insert(collection, json!({"get": op("list"), "post": op("post")}));
        let type_meta = json!({
            "apiVersion": {"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."},
            "kind": {"type": "string", "description": "Kind is a string value representing the REST resource this object represents."},
            "metadata": {"type": "object", "description": "Standard object's metadata.", "x-kubernetes-preserve-unknown-fields": true},
        });
        let mut schema = match info.version(version).and_then(|v| v.raw_schema.clone()) {
            Some(raw) => (*raw).clone(),
            None => json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        };
        if !schema.get("properties").is_some_and(Value::is_object) {
            schema["properties"] = json!({});
        }
        for (k, v) in type_meta.as_object().expect("literal object") {
            schema["properties"]
                .as_object_mut()
                .expect("made an object")
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
        schema["x-kubernetes-group-version-kind"] = json!([gvk]);
        schemas.insert(name, schema);
    }
    if paths.is_empty() {
        return None;
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": group_version(group, version)},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_lists_core_and_every_group_version() {
        let r = Registry::with_builtins();
        let idx = index(&r);
        let paths = idx["paths"].as_object().unwrap();
        assert!(paths.contains_key("api/v1"));
        assert!(paths.contains_key("apis/coordination.k8s.io/v1"));
        assert!(
            paths["api/v1"]["serverRelativeURL"]
                .as_str()
                .unwrap()
                .starts_with("/openapi/v3/api/v1?hash=")
        );
    }

    #[test]
    fn patch_operations_advertise_field_validation() {
        let r = Registry::with_builtins();
        let doc = document(&r, "", "v1").unwrap();
        let patch = &doc["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"]["kind"],
            "ConfigMap"
        );
        assert!(
            patch["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation")
        );
        assert!(doc["components"]["schemas"]["io.k8s.api.core.v1.ConfigMap"].is_object());
        assert!(doc["paths"]["/api/v1/namespaces/{name}"].is_object());
        assert!(document(&r, "nope.io", "v1").is_none());
    }
}
