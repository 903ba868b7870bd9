//! Create: type meta and names (`generateName`), the namespace from the URL, AlreadyExists,
//! server-owned metadata (uid, creationTimestamp, generation 1, resourceVersion), `.status`
//! dropped under a status subresource, validation and defaults, and the creator's field ownership.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Target, WriteOptions, Written, check_type_meta, meta, now, validate};
use crate::builtins;
use crate::error::{ApiError, Cause};
use crate::managed::{ManagedFields, Operation, owned_paths};
use crate::registry::{Builtin, ResourceInfo};
use crate::store::{State, Stored};

fn valid_name(name: &str, label_only: bool) -> bool {
    let max = if label_only { 63 } else { 253 };
    let ok_char = |c: char| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (c == '.' && !label_only)
    };
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    !name.is_empty()
        && name.len() <= max
        && name.chars().all(ok_char)
        && alnum(name.chars().next())
        && alnum(name.chars().last())
}

fn generated_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    uuid::Uuid::new_v4().as_bytes()[..5]
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

fn invalid_name(info: &ResourceInfo, name: &str, message: &str) -> ApiError {
    let cause = Cause {
        reason: "FieldValueInvalid".into(),
        message: format!("Invalid value: \"{name}\": {message}"),
        field: "metadata.name".into(),
    };
    ApiError::invalid(&info.kind, &info.group, name, vec![cause])
}

/// Creates an object (POST, or an apply of an absent object with its computed ownership).
pub(crate) fn create(
    state: &mut State,
    t: &Target,
    mut obj: Value,
    opts: &WriteOptions,
    operation: Operation,
    applied: Option<ManagedFields>,
) -> Result<Written, ApiError> {
    let info = Arc::clone(&t.info);
    check_type_meta(t, &obj)?;
    obj["apiVersion"] = json!(t.storage_api_version());
    obj["kind"] = json!(info.kind);
    let md = meta(&mut obj);
    if md
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
        && let Some(prefix) = md
            .get("generateName")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
    {
        let generated = format!("{prefix}{}", generated_suffix());
        md.insert("name".into(), json!(generated));
    }
    let Some(name) = md.get("name").and_then(Value::as_str).map(str::to_owned) else {
        let cause = Cause {
            reason: "FieldValueRequired".into(),
            message: "Required value: name or generateName is required".into(),
            field: "metadata.name".into(),
        };
        return Err(ApiError::invalid(&info.kind, &info.group, "", vec![cause]));
    };
    if !valid_name(&name, info.builtin == Some(Builtin::Namespace)) {
        return Err(invalid_name(
            &info,
            &name,
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        ));
    }
    if info.namespaced {
        let ns = t.namespace.clone().unwrap_or_default();
        if md
            .get("namespace")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty() && n != ns)
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        md.insert("namespace".into(), json!(ns));
        builtins::check_namespace_open(state, &ns)?;
    } else {
        md.remove("namespace");
    }
    for field in [
        "resourceVersion",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
        "generation",
    ] {
        md.remove(field);
    }
    let key = t.key(&name);
    if state.store.get(&info.store, &key).is_some() {
        return Err(ApiError::already_exists(&info.group, &info.plural, &name));
    }
    if info.status_subresource && info.is_custom() {
        obj.as_object_mut().expect("checked").remove("status");
    }
    let mut warnings = validate(t, &mut obj, None, opts.field_validation)?;
    let crd = builtins::prepare(state, &info, &mut obj, None)?;
    let now = now();
    let md = meta(&mut obj);
    md.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    md.insert("creationTimestamp".into(), json!(now));
    if info.generation {
        md.insert("generation".into(), json!(1));
    }
    let mut managed = applied.unwrap_or_else(|| {
        let mut m = ManagedFields::default();
        let fields = owned_paths(&obj, info.status_subresource, t.sub());
        m.record(
            &opts.manager,
            operation,
            t.sub(),
            &t.storage_api_version(),
            &now,
            fields,
        );
        m
    });
    managed.prune(&obj);
    if !opts.dry_run {
        let rv = state.store.next_rv();
        meta(&mut obj).insert("resourceVersion".into(), json!(rv.to_string()));
    }
    meta(&mut obj).insert("managedFields".into(), managed.render());
    let object = Arc::new(obj);
    if !opts.dry_run {
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
    }
    Ok(Written {
        object,
        created: true,
        warnings,
    })
}
