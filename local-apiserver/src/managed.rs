//! Field ownership per manager (what `metadata.managedFields` shows): leaf paths, lists atomic,
//! recorded by Update and Apply operations, released when another manager changes a field,
//! pruned when a field disappears, rendered as FieldsV1. Pure data; `apply` decides conflicts.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// A path of object keys (`["spec", "replicas"]`).
pub(crate) type FieldPath = Vec<String>;

/// A set of owned leaf paths.
pub(crate) type FieldSet = BTreeSet<FieldPath>;

/// The operation that gave a manager its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    Apply,
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Self::Apply => "Apply",
            Self::Update => "Update",
        }
    }
}

/// One managedFields entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub manager: String,
    pub operation: Operation,
    /// "" or "status".
    pub subresource: String,
    pub api_version: String,
    pub time: String,
    pub fields: FieldSet,
}

/// Ownership of one object's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ManagedFields {
    entries: Vec<Entry>,
}

/// Metadata fields the server owns, never a manager.
const SERVER_METADATA: &[&str] = &[
    "name",
    "namespace",
    "generateName",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];

/// The leaf paths of `obj` a write through `subresource` may own. With a status subresource,
/// `/status` writes own only `.status` and main-resource writes never do.
pub(crate) fn owned_paths(obj: &Value, status_subresource: bool, subresource: &str) -> FieldSet {
    let mut out = FieldSet::new();
    let Some(map) = obj.as_object() else {
        return out;
    };
    for (k, v) in map {
        if k == "apiVersion" || k == "kind" {
            continue;
        }
        if status_subresource && ((k == "status") != (subresource == "status")) {
            continue;
        }
        let mut path = vec![k.clone()];
        if k == "metadata" {
            for (mk, mv) in v.as_object().into_iter().flatten() {
                if !SERVER_METADATA.contains(&mk.as_str()) {
                    path.push(mk.clone());
                    leaves(mv, &mut path, &mut out);
                    path.pop();
                }
            }
            continue;
        }
        leaves(v, &mut path, &mut out);
    }
    out
}

fn leaves(v: &Value, path: &mut FieldPath, out: &mut FieldSet) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, child) in map {
                path.push(k.clone());
                leaves(child, path, out);
                path.pop();
            }
        }
        _ => {
            out.insert(path.clone());
        }
    }
}

/// Whether one path is a prefix of the other.
pub(crate) fn related(a: &[String], b: &[String]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

/// The value at `path`, if present.
pub(crate) fn get_path<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, k| cur.as_object()?.get(k))
}

/// Leaf paths whose value differs between `old` and `new` (added, changed or removed).
pub(crate) fn changed_paths(
    old: &Value,
    new: &Value,
    status_subresource: bool,
    subresource: &str,
) -> FieldSet {
    let before = owned_paths(old, status_subresource, subresource);
    let after = owned_paths(new, status_subresource, subresource);
    after
        .iter()
        .filter(|p| get_path(old, p) != get_path(new, p))
        .chain(before.iter().filter(|p| get_path(new, p).is_none()))
        .cloned()
        .collect()
}

impl ManagedFields {
    /// The entries, in the order managers first wrote.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The fields `manager` owns through `operation` on `subresource`.
    pub fn owned_by(
        &self,
        manager: &str,
        operation: Operation,
        subresource: &str,
    ) -> Option<&FieldSet> {
        self.find(manager, operation, subresource)
            .map(|i| &self.entries[i].fields)
    }

    fn find(&self, manager: &str, operation: Operation, subresource: &str) -> Option<usize> {
        self.entries.iter().position(|e| {
            e.manager == manager && e.operation == operation && e.subresource == subresource
        })
    }

    /// Records fields for a manager: Apply replaces its set, Update adds to it.
    pub fn record(
        &mut self,
        manager: &str,
        operation: Operation,
        subresource: &str,
        api_version: &str,
        time: &str,
        fields: FieldSet,
    ) {
        match self.find(manager, operation, subresource) {
            Some(i) => {
                let entry = &mut self.entries[i];
                let fields = match operation {
                    Operation::Apply => fields,
                    Operation::Update => entry.fields.union(&fields).cloned().collect(),
                };
                if entry.fields != fields {
                    entry.fields = fields;
                    entry.time = time.to_owned();
                    entry.api_version = api_version.to_owned();
                }
            }
            None if fields.is_empty() => {}
            None => self.entries.push(Entry {
                manager: manager.to_owned(),
                operation,
                subresource: subresource.to_owned(),
                api_version: api_version.to_owned(),
                time: time.to_owned(),
                fields,
            }),
        }
    }

    /// Takes `paths` (and anything nested in or around them) away from every manager but `keep`.
    pub fn release(&mut self, keep: &str, paths: &FieldSet) {
        for entry in self.entries.iter_mut().filter(|e| e.manager != keep) {
            entry
                .fields
                .retain(|q| !paths.iter().any(|p| related(p, q)));
        }
    }

    /// Drops paths that no longer exist in `obj` and entries left with no fields.
    pub fn prune(&mut self, obj: &Value) {
        for entry in &mut self.entries {
            entry.fields.retain(|p| get_path(obj, p).is_some());
        }
        self.entries.retain(|e| !e.fields.is_empty());
    }

    /// Equality ignoring timestamps.
    pub fn same_ownership(&self, other: &Self) -> bool {
        self.entries.len() == other.entries.len()
            && self.entries.iter().zip(&other.entries).all(|(a, b)| {
                a.manager == b.manager
                    && a.operation == b.operation
                    && a.subresource == b.subresource
                    && a.fields == b.fields
            })
    }

    /// `metadata.managedFields` in FieldsV1 form.
    pub fn render(&self) -> Value {
        Value::Array(
            self.entries
                .iter()
                .map(|e| {
                    let mut tree = Map::new();
                    for path in &e.fields {
                        let mut node = &mut tree;
                        for k in path {
                            node = node
                                .entry(format!("f:{k}"))
                                .or_insert_with(|| Value::Object(Map::new()))
                                .as_object_mut()
                                .expect("only objects are inserted");
                        }
                    }
                    let mut out = json!({
                        "manager": e.manager,
                        "operation": e.operation.as_str(),
                        "apiVersion": e.api_version,
                        "time": e.time,
                        "fieldsType": "FieldsV1",
                        "fieldsV1": tree,
                    });
                    if !e.subresource.is_empty() {
                        out["subresource"] = json!(e.subresource);
                    }
                    out
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(list: &[&str]) -> FieldSet {
        list.iter()
            .map(|p| p.split('.').map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn owned_paths_are_leaves_scoped_by_subresource() {
        let obj = json!({"apiVersion": "v1", "kind": "X",
            "metadata": {"name": "a", "uid": "u", "labels": {"app": "web"}, "finalizers": ["f"]},
            "spec": {"image": "x", "ports": [{"p": 1}], "empty": {}}, "status": {"ready": true}});
        assert_eq!(
            owned_paths(&obj, true, ""),
            paths(&[
                "metadata.labels.app",
                "metadata.finalizers",
                "spec.image",
                "spec.ports",
                "spec.empty"
            ])
        );
        assert_eq!(owned_paths(&obj, true, "status"), paths(&["status.ready"]));
        assert!(
            owned_paths(&obj, false, "").contains(&vec!["status".to_owned(), "ready".to_owned()])
        );
    }

    #[test]
    fn changed_paths_include_removals() {
        let old = json!({"spec": {"a": 1, "b": 2, "l": [1]}});
        let new = json!({"spec": {"a": 1, "c": 3, "l": [2]}});
        assert_eq!(
            changed_paths(&old, &new, false, ""),
            paths(&["spec.b", "spec.c", "spec.l"])
        );
    }

    #[test]
    fn update_adds_apply_replaces_release_steals() {
        let mut m = ManagedFields::default();
        m.record(
            "kubectl",
            Operation::Apply,
            "",
            "v1",
            "t1",
            paths(&["spec.a", "spec.b"]),
        );
        m.record("ctl", Operation::Update, "", "v1", "t1", paths(&["spec.c"]));
        m.record("ctl", Operation::Update, "", "v1", "t2", paths(&["spec.d"]));
        assert_eq!(
            m.owned_by("ctl", Operation::Update, ""),
            Some(&paths(&["spec.c", "spec.d"]))
        );
        m.record(
            "kubectl",
            Operation::Apply,
            "",
            "v1",
            "t2",
            paths(&["spec.a"]),
        );
        assert_eq!(
            m.owned_by("kubectl", Operation::Apply, ""),
            Some(&paths(&["spec.a"]))
        );
        m.release("ctl", &paths(&["spec"]));
        assert_eq!(
            m.owned_by("kubectl", Operation::Apply, ""),
            Some(&FieldSet::new())
        );
        m.prune(&json!({"spec": {"c": 1}}));
        assert_eq!(m.entries().len(), 1);
        assert_eq!(m.entries()[0].fields, paths(&["spec.c"]));
    }

    #[test]
    fn render_is_fields_v1() {
        let mut m = ManagedFields::default();
        m.record(
            "kubectl",
            Operation::Apply,
            "",
            "demo/v1",
            "t",
            paths(&["spec.a", "metadata.labels.app"]),
        );
        m.record(
            "op",
            Operation::Apply,
            "status",
            "demo/v1",
            "t",
            paths(&["status.ready"]),
        );
        let r = m.render();
        assert_eq!(
            r[0]["fieldsV1"],
            json!({"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:a": {}}})
        );
        assert_eq!(r[0]["operation"], "Apply");
        assert!(r[0].get("subresource").is_none());
        assert_eq!(r[1]["subresource"], "status");
    }

    #[test]
    fn same_ownership_ignores_time() {
        let mut a = ManagedFields::default();
        a.record("m", Operation::Update, "", "v1", "t1", paths(&["spec.a"]));
        let mut b = ManagedFields::default();
        b.record("m", Operation::Update, "", "v1", "t2", paths(&["spec.a"]));
        assert!(a.same_ownership(&b));
        b.record("m", Operation::Update, "", "v1", "t3", paths(&["spec.b"]));
        assert!(!a.same_ownership(&b));
    }
}
