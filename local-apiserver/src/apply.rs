//! Server-side apply: merges an applied configuration into the live object for one field
//! manager, detects conflicts with other managers (409 with `FieldManagerConflict` causes),
//! removes fields the manager applied before and now omits, and computes the new ownership.
//! Pure: the caller (`objects`) stamps metadata and stores the result.

use serde_json::{Map, Value};

use crate::error::{ApiError, Cause, Details};
use crate::managed::{
    FieldPath, FieldSet, ManagedFields, Operation, get_path, owned_paths, related,
};

/// Who applies, and how.
#[derive(Debug, Clone)]
pub(crate) struct ApplyRequest<'a> {
    pub manager: &'a str,
    /// "" or "status".
    pub subresource: &'a str,
    pub status_subresource: bool,
    pub force: bool,
    pub api_version: &'a str,
    pub now: &'a str,
}

/// The merged object and the ownership after the apply.
#[derive(Debug, Clone)]
pub(crate) struct Applied {
    pub object: Value,
    pub managed: ManagedFields,
}

/// Applies `config` over `live` (already owned as `managed`).
pub(crate) fn apply(
    live: &Value,
    managed: &ManagedFields,
    config: &Value,
    req: &ApplyRequest<'_>,
) -> Result<Applied, ApiError> {
    let in_scope = owned_paths(config, req.status_subresource, req.subresource);
    // An explicit null in the configuration removes the field and owns nothing.
    let (nulls, applied): (FieldSet, FieldSet) = in_scope
        .into_iter()
        .partition(|p| get_path(config, p).is_some_and(Value::is_null));
    let conflicts = conflicts(live, managed, config, &applied, req.manager);
    if !conflicts.is_empty() && !req.force {
        return Err(conflict_error(&conflicts));
    }
    let mut object = live.clone();
    let previously = managed
        .owned_by(req.manager, Operation::Apply, req.subresource)
        .cloned()
        .unwrap_or_default();
    for dropped in previously
        .iter()
        .filter(|p| !applied.iter().any(|a| related(a, p)))
    {
        let shared = managed
            .entries()
            .iter()
            .filter(|e| e.manager != req.manager)
            .any(|e| e.fields.iter().any(|q| related(q, dropped)));
        if !shared {
            remove_path(&mut object, dropped);
        }
    }
    for p in &nulls {
        remove_path(&mut object, p);
    }
    for p in &applied {
        set_path(
            &mut object,
            p,
            get_path(config, p).expect("applied paths come from config"),
        );
    }
    let mut managed = managed.clone();
    if req.force {
        let taken: FieldSet = conflicts.into_iter().map(|(_, p)| p).collect();
        managed.release(req.manager, &taken);
    }
    managed.record(
        req.manager,
        Operation::Apply,
        req.subresource,
        req.api_version,
        req.now,
        applied,
    );
    Ok(Applied { object, managed })
}

/// (other manager, path) pairs whose live value this apply would change.
fn conflicts(
    live: &Value,
    managed: &ManagedFields,
    config: &Value,
    applied: &FieldSet,
    manager: &str,
) -> Vec<(String, FieldPath)> {
    let mut out: Vec<(String, FieldPath)> = Vec::new();
    for entry in managed.entries().iter().filter(|e| e.manager != manager) {
        for q in &entry.fields {
            for p in applied.iter().filter(|p| related(p, q)) {
                let clash = if p == q {
                    get_path(live, p) != get_path(config, p)
                } else if p.len() > q.len() {
                    // The other manager owns an atomic parent that this apply would write into.
                    get_path(live, q).is_some_and(|v| !v.is_object())
                } else {
                    // This apply sets an atomic value where the other manager owns nested fields.
                    get_path(config, p).is_some_and(|v| !v.is_object())
                };
                if clash && !out.iter().any(|(m, path)| m == &entry.manager && path == p) {
                    out.push((entry.manager.clone(), p.clone()));
                }
            }
        }
    }
    out
}

fn conflict_error(conflicts: &[(String, FieldPath)]) -> ApiError {
    let n = conflicts.len();
    let listed: Vec<String> = conflicts
        .iter()
        .map(|(m, p)| format!("conflict with \"{m}\": .{}", p.join(".")))
        .collect();
    let message = format!(
        "Apply failed with {n} conflict{}: {}",
        if n == 1 { "" } else { "s" },
        listed.join("; ")
    );
    let causes = conflicts
        .iter()
        .map(|(m, p)| Cause {
            reason: "FieldManagerConflict".into(),
            message: format!("conflict with \"{m}\""),
            field: format!(".{}", p.join(".")),
        })
        .collect();
    ApiError::conflict(message).with_details(Details {
        causes,
        ..Details::default()
    })
}

fn set_path(obj: &mut Value, path: &[String], value: &Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = obj;
    for k in parents {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        node = node
            .as_object_mut()
            .expect("made an object")
            .entry(k.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if !node.is_object() {
        *node = Value::Object(Map::new());
    }
    let map = node.as_object_mut().expect("made an object");
    // An empty map in the configuration asserts the map exists; it does not wipe other owners' keys.
    let keep_existing =
        value.as_object().is_some_and(Map::is_empty) && map.get(last).is_some_and(Value::is_object);
    if !keep_existing {
        map.insert(last.clone(), value.clone());
    }
}

/// Removes the value at `path` and any maps the removal leaves empty.
pub(crate) fn remove_path(obj: &mut Value, path: &[String]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    if rest.is_empty() {
        map.remove(first);
        return;
    }
    if let Some(child) = map.get_mut(first) {
        remove_path(child, rest);
        if child.as_object().is_some_and(Map::is_empty) {
            map.remove(first);
        }
    }
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
