//! Deletion: preconditions, finalizers (a DELETE of an object with finalizers only sets
//! `deletionTimestamp`; removing the last finalizer deletes it), namespace termination with its
//! contents, CRD removal, and deletecollection. Runs under the state lock; no IO.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::builtins;
use crate::error::ApiError;
use crate::objects::{Target, now, view};
use crate::registry::{Builtin, ResourceInfo};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::store::{ObjectKey, State};

/// The parts of a `DeleteOptions` body this server honours.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DeleteOptions {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
    pub dry_run: bool,
}

impl DeleteOptions {
    /// Reads the optional request body; `dry_run` comes from the query.
    pub fn from_body(body: Option<&Value>, dry_run: bool) -> Result<Self, ApiError> {
        let mut opts = Self {
            dry_run,
            ..Self::default()
        };
        let Some(body) = body.filter(|b| !b.is_null()) else {
            return Ok(opts);
        };
        if !body.is_object() {
            return Err(ApiError::bad_request("DeleteOptions must be a JSON object"));
        }
        let text = |p: &str| {
            body.pointer(p)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        opts.uid = text("/preconditions/uid");
        opts.resource_version = text("/preconditions/resourceVersion");
        opts.dry_run |= body
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|v| v == "All"));
        Ok(opts)
    }
}

/// Deletes the object `name`; returns it as it is after the request (terminating or gone).
pub(crate) fn delete(
    state: &mut State,
    t: &Target,
    name: &str,
    opts: &DeleteOptions,
) -> Result<Arc<Value>, ApiError> {
    let info = Arc::clone(&t.info);
    let key = t.key(name);
    let Some(stored) = state.store.get(&info.store, &key) else {
        return Err(ApiError::not_found(&info.group, &info.plural, name));
    };
    let current = Arc::clone(&stored.object);
    let md = |f: &str| {
        current
            .pointer(&format!("/metadata/{f}"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    if let Some(uid) = opts.uid.as_ref().filter(|u| **u != md("uid")) {
        return Err(ApiError::conflict(format!(
            "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
            md("uid")
        )));
    }
    if let Some(rv) = opts
        .resource_version
        .as_ref()
        .filter(|r| **r != md("resourceVersion"))
    {
        return Err(ApiError::conflict(format!(
            "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
            md("resourceVersion")
        )));
    }
    if opts.dry_run {
        return Ok(current);
    }
    if info.builtin == Some(Builtin::Namespace) {
        return Ok(delete_namespace(state, &info, name));
    }
    Ok(delete_key(state, &info, &key))
}

/// Sets `deletionTimestamp` when finalizers remain, else removes the object.
fn delete_key(state: &mut State, info: &ResourceInfo, key: &ObjectKey) -> Arc<Value> {
    let Some(stored) = state.store.get(&info.store, key).cloned() else {
        return Arc::new(Value::Null);
    };
    let has_finalizers = stored
        .object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty());
    let deleting = stored
        .object
        .pointer("/metadata/deletionTimestamp")
        .is_some();
    if has_finalizers && deleting {
        return stored.object;
    }
    let mut next = (*stored.object).clone();
    let rv = state.store.next_rv();
    next["metadata"]["resourceVersion"] = json!(rv.to_string());
    if has_finalizers {
        next["metadata"]["deletionTimestamp"] = json!(now());
        next["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        if info.generation {
            let generation = next
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            next["metadata"]["generation"] = json!(generation + 1);
        }
        let object = Arc::new(next);
        state.store.put(
            &info.store,
            key.clone(),
            crate::store::Stored {
                object: Arc::clone(&object),
                managed: stored.managed,
            },
        );
        return object;
    }
    let object = Arc::new(next);
    remove(state, info, key, Arc::clone(&object));
    object
}

/// Removes an object for good (its last finalizer is gone), with the side effects of its kind.
pub(crate) fn remove(state: &mut State, info: &ResourceInfo, key: &ObjectKey, last: Arc<Value>) {
    state.store.delete(&info.store, key, Arc::clone(&last));
    if info.builtin == Some(Builtin::Crd) {
        builtins::crd_deleted(state, &last);
    }
    if !key.0.is_empty() {
        finish_namespace_if_empty(state, &key.0);
    }
}

fn namespaces(state: &State) -> Arc<ResourceInfo> {
    state
        .registry
        .get("", "namespaces")
        .cloned()
        .expect("namespaces are built in")
}

/// Marks the namespace terminating, deletes its contents, and removes it once empty (there is
/// no namespace controller, so this stands in for it).
fn delete_namespace(state: &mut State, info: &ResourceInfo, name: &str) -> Arc<Value> {
    let key = (String::new(), name.to_owned());
    let Some(stored) = state.store.get(&info.store, &key).cloned() else {
        return Arc::new(Value::Null);
    };
    let mut latest = Arc::clone(&stored.object);
    if stored
        .object
        .pointer("/metadata/deletionTimestamp")
        .is_none()
    {
        let mut next = (*stored.object).clone();
        let rv = state.store.next_rv();
        next["metadata"]["resourceVersion"] = json!(rv.to_string());
        next["metadata"]["deletionTimestamp"] = json!(now());
        next["status"] = json!({"phase": "Terminating"});
        latest = Arc::new(next);
        let stored = crate::store::Stored {
            object: Arc::clone(&latest),
            managed: stored.managed,
        };
        state.store.put(&info.store, key.clone(), stored);
    }
    for (store, object_key) in state.store.keys_in_namespace(name) {
        let owner = state
            .registry
            .all()
            .find(|i| i.store == store && i.namespaced)
            .cloned();
        if let Some(owner) = owner {
            delete_key(state, &owner, &object_key);
        }
    }
    // Removing the last object may already have removed the namespace.
    if let Some(gone) = finish_namespace_if_empty(state, name) {
        return gone;
    }
    state
        .store
        .get(&info.store, &key)
        .map_or(latest, |s| Arc::clone(&s.object))
}

/// Removes a terminating namespace that has become empty; returns its last state.
fn finish_namespace_if_empty(state: &mut State, ns: &str) -> Option<Arc<Value>> {
    let info = namespaces(state);
    let key = (String::new(), ns.to_owned());
    let stored = state.store.get(&info.store, &key)?;
    let terminating = stored
        .object
        .pointer("/metadata/deletionTimestamp")
        .is_some();
    if !terminating || !state.store.keys_in_namespace(ns).is_empty() {
        return None;
    }
    let mut last = (*stored.object).clone();
    let rv = state.store.next_rv();
    last["metadata"]["resourceVersion"] = json!(rv.to_string());
    let last = Arc::new(last);
    state.store.delete(&info.store, &key, Arc::clone(&last));
    Some(last)
}

/// DELETE on a collection: deletes every matching object; returns them as after the request.
pub(crate) fn delete_collection(
    state: &mut State,
    t: &Target,
    labels: &LabelSelector,
    fields: &FieldSelector,
    opts: &DeleteOptions,
) -> Result<Vec<Arc<Value>>, ApiError> {
    let keys: Vec<ObjectKey> = state
        .store
        .list(&t.info.store, t.namespace.as_deref(), None)
        .filter(|(_, s)| {
            let o = view(&t.info, &t.version, &s.object);
            labels.matches(&o) && fields.matches(&o)
        })
        .map(|(k, _)| k.clone())
        .collect();
    let mut out = Vec::with_capacity(keys.len());
    for (ns, name) in keys {
        let target = Target {
            namespace: t.info.namespaced.then_some(ns),
            subresource: None,
            ..t.clone()
        };
        out.push(delete(state, &target, &name, opts)?);
    }
    Ok(out)
}
