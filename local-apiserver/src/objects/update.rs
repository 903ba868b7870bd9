//! Update (PUT, PATCH and apply all end here): the resourceVersion precondition, immutable
//! identity fields, the status-subresource split, finalizer rules, validation with the old
//! object (transition rules), field ownership, the no-op rule, generation, and final removal
//! once the last finalizer of a deleting object is gone.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Target, WriteOptions, Written, check_type_meta, meta, meta_str, now, validate};
use crate::builtins;
use crate::delete;
use crate::error::{ApiError, Cause};
use crate::managed::{ManagedFields, Operation, changed_paths};
use crate::store::{State, Stored};

/// Everything but metadata, status and type meta: what `generation` tracks.
fn spec_equal(a: &Value, b: &Value) -> bool {
    let skip = |k: &str| matches!(k, "metadata" | "status" | "apiVersion" | "kind");
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return a == b;
    };
    a.iter().filter(|(k, _)| !skip(k)).count() == b.iter().filter(|(k, _)| !skip(k)).count()
        && a.iter()
            .filter(|(k, _)| !skip(k))
            .all(|(k, v)| b.get(k) == Some(v))
}

/// Equality ignoring `metadata.resourceVersion` and `metadata.managedFields`.
fn same_content(a: &Value, b: &Value) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return a == b;
    };
    if a.len() != b.len() {
        return false;
    }
    a.iter().all(|(k, v)| match (k.as_str(), b.get(k)) {
        ("metadata", Some(w)) => {
            let skip = |f: &str| f == "resourceVersion" || f == "managedFields";
            let (Some(m), Some(n)) = (v.as_object(), w.as_object()) else {
                return v == w;
            };
            m.iter().filter(|(f, _)| !skip(f)).count() == n.iter().filter(|(f, _)| !skip(f)).count()
                && m.iter()
                    .filter(|(f, _)| !skip(f))
                    .all(|(f, x)| n.get(f) == Some(x))
        }
        (_, Some(w)) => v == w,
        (_, None) => false,
    })
}

/// Writes a new version of the object `name` (PUT, PATCH, apply). `applied` carries the
/// ownership computed by server-side apply; otherwise the writer takes the fields it changed.
pub(crate) fn update(
    state: &mut State,
    t: &Target,
    name: &str,
    mut new: Value,
    opts: &WriteOptions,
    applied: Option<ManagedFields>,
) -> Result<Written, ApiError> {
    let info = Arc::clone(&t.info);
    let key = t.key(name);
    let Some(old) = state.store.get(&info.store, &key).cloned() else {
        return Err(ApiError::not_found(&info.group, &info.plural, name));
    };
    let old_obj = &*old.object;
    check_type_meta(t, &new)?;
    if let Some(rv) = meta_str(&new, "resourceVersion")
        && Some(rv) != meta_str(old_obj, "resourceVersion")
    {
        return Err(ApiError::stale(&info.group, &info.plural, name));
    }
    if meta_str(&new, "name").is_some_and(|n| n != name) {
        return Err(ApiError::bad_request(
            "the name of the object does not match the name on the URL",
        ));
    }
    new["apiVersion"] = json!(t.storage_api_version());
    new["kind"] = json!(info.kind);
    let old_md = old_obj["metadata"].as_object().cloned().unwrap_or_default();
    let md = meta(&mut new);
    for field in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
        "generateName",
    ] {
        match old_md.get(field) {
            Some(v) => md.insert(field.into(), v.clone()),
            None => md.remove(field),
        };
    }
    md.remove("resourceVersion");
    md.remove("managedFields");
    md.remove("selfLink");
    if md
        .get("finalizers")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
        || md.get("finalizers").is_some_and(Value::is_null)
    {
        md.remove("finalizers");
    }
    if info.status_subresource {
        let map = new.as_object_mut().expect("checked");
        if t.sub() == "status" {
            let status = map.remove("status");
            let mut kept = old_obj.clone();
            let kept_map = kept.as_object_mut().expect("stored objects are objects");
            match status {
                Some(s) if !s.is_null() => kept_map.insert("status".into(), s),
                _ => kept_map.remove("status"),
            };
            kept_map.insert("apiVersion".into(), json!(t.storage_api_version()));
            new = kept;
            meta(&mut new).remove("managedFields");
        } else {
            match old_obj.get("status") {
                Some(s) => map.insert("status".into(), s.clone()),
                None => map.remove("status"),
            };
        }
    }
    if old_md.contains_key("deletionTimestamp") {
        let before: Vec<&Value> = old_md
            .get("finalizers")
            .and_then(Value::as_array)
            .map(|f| f.iter().collect())
            .unwrap_or_default();
        let added: Vec<String> = new
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .map(|f| {
                f.iter()
                    .filter(|x| !before.contains(x))
                    .map(|x| x.to_string())
                    .collect()
            })
            .unwrap_or_default();
        if !added.is_empty() {
            let cause = Cause {
                reason: "FieldValueForbidden".into(),
                message: format!(
                    "Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers [{}]",
                    added.join(" ")
                ),
                field: "metadata.finalizers".into(),
            };
            return Err(ApiError::invalid(
                &info.kind,
                &info.group,
                name,
                vec![cause],
            ));
        }
    }
    let mut warnings = validate(t, &mut new, Some(old_obj), opts.field_validation)?;
    let crd = builtins::prepare(state, &info, &mut new, Some(old_obj))?;
    let now = now();
    let mut managed = applied.unwrap_or_else(|| {
        let mut m = old.managed.clone();
        let changed = changed_paths(old_obj, &new, info.status_subresource, t.sub());
        m.release(&opts.manager, &changed);
        m.record(
            &opts.manager,
            Operation::Update,
            t.sub(),
            &t.storage_api_version(),
            &now,
            changed,
        );
        m
    });
    managed.prune(&new);
    if same_content(old_obj, &new) && managed.same_ownership(&old.managed) {
        return Ok(Written {
            object: Arc::clone(&old.object),
            created: false,
            warnings,
        });
    }
    if info.generation && !spec_equal(old_obj, &new) {
        let generation = old_obj
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        meta(&mut new).insert("generation".into(), json!(generation + 1));
    }
    meta(&mut new).insert("managedFields".into(), managed.render());
    if opts.dry_run {
        meta(&mut new).insert(
            "resourceVersion".into(),
            old_md
                .get("resourceVersion")
                .cloned()
                .unwrap_or(Value::Null),
        );
        return Ok(Written {
            object: Arc::new(new),
            created: false,
            warnings,
        });
    }
    let rv = state.store.next_rv();
    meta(&mut new).insert("resourceVersion".into(), json!(rv.to_string()));
    let finalized = new.pointer("/metadata/deletionTimestamp").is_some()
        && new.pointer("/metadata/finalizers").is_none();
    let object = Arc::new(new);
    if finalized {
        delete::remove(state, &info, &key, Arc::clone(&object));
        return Ok(Written {
            object,
            created: false,
            warnings,
        });
    }
    state.store.put(
        &info.store,
        key,
        Stored {
            object: Arc::clone(&object),
            managed,
        },
    );
    if let Some(crd) = crd {
        warnings.extend(crd.warnings.iter().cloned());
        builtins::serve_crd(state, crd);
    }
    Ok(Written {
        object,
        created: false,
        warnings,
    })
}
