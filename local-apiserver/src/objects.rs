//! Object write rules: create and update (PUT, PATCH and apply all end in `update`) with the
//! metadata the server owns (uid, timestamps, resourceVersion, generation, managedFields), the
//! status-subresource split, finalizer rules, validation, and the no-op rule (an unchanged
//! object is not written: no resourceVersion bump, no watch event). Also how stored objects are
//! presented in a requested version. Runs under the state lock; no IO.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::builtins;
use crate::delete;
use crate::error::{ApiError, Cause};
use crate::events;
use crate::managed::{ManagedFields, Operation, changed_paths, owned_paths};
use crate::registry::{Builtin, ResourceInfo};
use crate::store::{ObjectKey, State, Stored};
use crate::validation::{self, FieldValidation};

/// The resource, version, namespace and subresource a request addresses.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub info: Arc<ResourceInfo>,
    pub version: String,
    /// From the URL; `None` for cluster-scoped resources (and all-namespace lists).
    pub namespace: Option<String>,
    /// `Some("status")` for `/status`.
    pub subresource: Option<String>,
}

impl Target {
    /// The store key of the object `name`.
    pub fn key(&self, name: &str) -> ObjectKey {
        let ns = if self.info.namespaced {
            self.namespace.clone().unwrap_or_default()
        } else {
            String::new()
        };
        (ns, name.to_owned())
    }

    fn sub(&self) -> &str {
        self.subresource.as_deref().unwrap_or("")
    }

    /// The apiVersion objects are stored with: the storage version, except Events, which keep
    /// the shape they were written in.
    pub fn storage_api_version(&self) -> String {
        match self.info.builtin {
            Some(Builtin::CoreEvent | Builtin::Event) => self.info.api_version(&self.version),
            _ => self.info.api_version(&self.info.storage_version),
        }
    }
}

/// Who writes, and how.
#[derive(Debug, Clone, Default)]
pub(crate) struct WriteOptions {
    pub manager: String,
    pub dry_run: bool,
    pub field_validation: FieldValidation,
}

/// The outcome of a write.
#[derive(Debug, Clone)]
pub(crate) struct Written {
    /// The object as stored (present it with `view`).
    pub object: Arc<Value>,
    pub created: bool,
    /// `Warning` headers (unknown fields, unevaluated CEL rules).
    pub warnings: Vec<String>,
}

/// The time now, as metav1.Time.
pub(crate) fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// `obj` as served at `version` of `info`: apiVersion and kind set, Events converted.
pub(crate) fn view(info: &ResourceInfo, version: &str, obj: &Arc<Value>) -> Arc<Value> {
    let want = info.api_version(version);
    if obj.get("apiVersion").and_then(Value::as_str) == Some(want.as_str())
        && obj.get("kind").and_then(Value::as_str) == Some(info.kind.as_str())
    {
        return Arc::clone(obj);
    }
    if matches!(info.builtin, Some(Builtin::CoreEvent | Builtin::Event)) {
        return Arc::new(events::convert(obj, &want));
    }
    let mut out = (**obj).clone();
    if let Some(map) = out.as_object_mut() {
        map.insert("apiVersion".into(), json!(want));
        map.insert("kind".into(), json!(info.kind));
    }
    Arc::new(out)
}

fn meta(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    obj["metadata"]
        .as_object_mut()
        .expect("metadata is an object")
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")?
        .get(field)?
        .as_str()
        .filter(|s| !s.is_empty())
}

/// Rejects a body whose apiVersion or kind names another resource.
fn check_type_meta(t: &Target, body: &Value) -> Result<(), ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON or YAML object",
        ));
    }
    let want = t.info.api_version(&t.version);
    if let Some(av) = body
        .get("apiVersion")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        && av != want
        && !(t.info.builtin == Some(Builtin::CoreEvent) && av == "events.k8s.io/v1")
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({want})"
        )));
    }
    if let Some(kind) = body
        .get("kind")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        && kind != t.info.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            t.info.kind
        )));
    }
    Ok(())
}

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

/// Validates a custom resource or prunes a built-in; returns warnings per `fieldValidation`.
fn validate(
    t: &Target,
    obj: &mut Value,
    old: Option<&Value>,
    mode: FieldValidation,
) -> Result<Vec<String>, ApiError> {
    let unknown = match t.info.builtin {
        Some(b) => validation::prune_builtin(b, obj),
        None => match t.info.version(&t.version).and_then(|v| v.schema.clone()) {
            Some(schema) => {
                validation::custom_resource(&schema, obj, old, &t.info.kind, &t.info.group)?
            }
            None => vec![],
        },
    };
    mode.judge(unknown)
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

#[cfg(test)]
#[path = "objects_tests.rs"]
mod tests;
