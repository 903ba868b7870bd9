//! CRDs as the apiextensions-apiserver reads them: validates a CustomResourceDefinition
//! (names, scope, versions, exactly one storage version, usable schemas) and turns it into the
//! `ResourceInfo` the registry serves, with printer columns and compiled schemas. Pure.

use std::sync::Arc;

use serde_json::Value;

use crate::error::Cause;
use crate::registry::{
    ALL_VERBS, PrinterColumn, ResourceInfo, VersionInfo, store_key, version_priority,
};
use crate::schema::Schema;

/// Validates a CRD object and builds the resource it defines, plus warnings (CEL rules this
/// server cannot evaluate). Returns `None` for the resource when no version is served.
pub(crate) fn crd_resource(crd: &Value) -> Result<(Option<ResourceInfo>, Vec<String>), Vec<Cause>> {
    let mut causes = Vec::new();
    let invalid = |field: &str, message: String| Cause {
        reason: "FieldValueInvalid".into(),
        message,
        field: field.into(),
    };
    let required = |field: &str| Cause {
        reason: "FieldValueRequired".into(),
        message: "Required value".into(),
        field: field.into(),
    };
    let text = |v: &Value, ptr: &str| {
        v.pointer(ptr)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let group = text(crd, "/spec/group");
    let plural = text(crd, "/spec/names/plural");
    let kind = text(crd, "/spec/names/kind");
    let name = text(crd, "/metadata/name");
    if group.is_empty() {
        causes.push(required("spec.group"));
    }
    if plural.is_empty() {
        causes.push(required("spec.names.plural"));
    }
    if kind.is_empty() {
        causes.push(required("spec.names.kind"));
    }
    if !group.is_empty() && !plural.is_empty() && name != format!("{plural}.{group}") {
        causes.push(invalid(
            "metadata.name",
            format!("Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"),
        ));
    }
    let scope = text(crd, "/spec/scope");
    if scope != "Namespaced" && scope != "Cluster" {
        causes.push(Cause {
            reason: "FieldValueNotSupported".into(),
            message: format!(
                "Unsupported value: \"{scope}\": supported values: \"Cluster\", \"Namespaced\""
            ),
            field: "spec.scope".into(),
        });
    }
    let empty = Vec::new();
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    if versions.is_empty() {
        causes.push(required("spec.versions"));
    }
    let storage: Vec<&str> = versions
        .iter()
        .filter(|v| v["storage"] == Value::Bool(true))
        .filter_map(|v| v["name"].as_str())
        .collect();
    if !versions.is_empty() && storage.len() != 1 {
        causes.push(invalid(
            "spec.versions",
            "Invalid value: must have exactly one version marked as storage version".into(),
        ));
    }
    let mut warnings = Vec::new();
    let mut served = Vec::new();
    let mut status_subresource = false;
    for (i, v) in versions.iter().enumerate() {
        let vname = v["name"].as_str().unwrap_or_default().to_owned();
        if vname.is_empty() {
            causes.push(required(&format!("spec.versions[{i}].name")));
        }
        if v["served"] == Value::Bool(false) {
            continue;
        }
        status_subresource |= v.pointer("/subresources/status").is_some();
        let schema = match v.pointer("/schema/openAPIV3Schema") {
            Some(raw) => match Schema::parse(raw) {
                Ok((schema, rule_warnings)) => {
                    warnings.extend(
                        rule_warnings
                            .into_iter()
                            .map(|w| format!("version {vname}: {w}")),
                    );
                    Some(Arc::new(schema))
                }
                Err(e) => {
                    causes.push(invalid(
                        &format!("spec.versions[{i}].schema.openAPIV3Schema"),
                        format!("Invalid value: {e}"),
                    ));
                    None
                }
            },
            None => None,
        };
        let printer_columns = v["additionalPrinterColumns"]
            .as_array()
            .map(|cols| cols.iter().map(printer_column).collect())
            .unwrap_or_default();
        let raw_schema = v.pointer("/schema/openAPIV3Schema").cloned().map(Arc::new);
        served.push(VersionInfo {
            name: vname,
            printer_columns,
            schema,
            raw_schema,
        });
    }
    if !causes.is_empty() {
        return Err(causes);
    }
    if served.is_empty() {
        return Ok((None, warnings));
    }
    served.sort_by(|a, b| {
        version_priority(&b.name)
            .cmp(&version_priority(&a.name))
            .then_with(|| a.name.cmp(&b.name))
    });
    let strings = |ptr: &str| -> Vec<String> {
        crd.pointer(ptr)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let singular = Some(text(crd, "/spec/names/singular"))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| kind.to_lowercase());
    let list_kind = Some(text(crd, "/spec/names/listKind"))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("{kind}List"));
    let info = ResourceInfo {
        store: store_key(&group, &plural),
        storage_version: storage[0].to_owned(),
        versions: served,
        short_names: strings("/spec/names/shortNames"),
        categories: strings("/spec/names/categories"),
        namespaced: scope == "Namespaced",
        verbs: ALL_VERBS,
        status_subresource,
        generation: true,
        builtin: None,
        group,
        plural,
        singular,
        kind,
        list_kind,
    };
    Ok((Some(info), warnings))
}

fn printer_column(col: &Value) -> PrinterColumn {
    let s = |k: &str| col[k].as_str().unwrap_or_default().to_owned();
    PrinterColumn {
        name: s("name"),
        type_: Some(s("type"))
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "string".into()),
        format: s("format"),
        description: s("description"),
        priority: col["priority"].as_i64().unwrap_or(0),
        json_path: s("jsonPath"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd() -> Value {
        json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
                "versions": [
                    {"name": "v1beta1", "served": true, "storage": false},
                    {"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                     "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}]}
                ]
            }
        })
    }

    #[test]
    fn crd_becomes_a_served_resource_with_preferred_version_first() {
        let (info, warnings) = crd_resource(&crd()).unwrap();
        let info = info.unwrap();
        assert!(warnings.is_empty());
        assert_eq!(
            info.versions
                .iter()
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>(),
            ["v1", "v1beta1"]
        );
        assert_eq!(info.storage_version, "v1");
        assert_eq!(info.list_kind, "WidgetList");
        assert_eq!(info.singular, "widget");
        assert!(info.status_subresource && info.namespaced && info.generation);
        assert_eq!(info.versions[0].printer_columns[0].json_path, ".spec.size");
    }

    #[test]
    fn crd_with_wrong_name_or_two_storage_versions_is_invalid() {
        let mut bad = crd();
        bad["metadata"]["name"] = json!("other.example.com");
        bad["spec"]["versions"][0]["storage"] = json!(true);
        let causes = crd_resource(&bad).unwrap_err();
        let fields: Vec<_> = causes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["metadata.name", "spec.versions"]);
    }
}
