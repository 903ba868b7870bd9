//! Resource verbs: get, list (selectors, pagination, Table and metadata-only views), create,
//! update, patch (merge, JSON, strategic, apply), delete and deletecollection. Parses what a
//! verb needs from the request, takes the state lock for the write rules in `objects`/`delete`,
//! and serializes responses after releasing it. Watches are handed to `watch`.

use std::sync::Arc;

use http::Method;
use serde_json::{Value, json};

use crate::apply::{self, ApplyRequest};
use crate::context::Shared;
use crate::delete::{self, DeleteOptions};
use crate::error::ApiError;
use crate::managed::{ManagedFields, Operation};
use crate::objects::{self, Target, WriteOptions, Written, view};
use crate::patch::{self, PatchType};
use crate::paths::ResourcePath;
use crate::selectors::{self, FieldSelector, LabelSelector};
use crate::store::{ObjectKey, State};
use crate::table::{self, IncludeObject};
use crate::validation::FieldValidation;
use crate::watch;
use crate::wire::{self, Body, Presentation, Request};

/// Serves a request on a resource path.
pub(crate) async fn handle(
    shared: &Arc<Shared>,
    req: &Request,
    path: ResourcePath,
) -> Result<http::Response<Body>, ApiError> {
    let target = {
        let state = shared.state();
        let info = state
            .registry
            .lookup(&path.group, &path.version, &path.plural)
            .ok_or_else(ApiError::no_route)?;
        match path.subresource.as_deref() {
            None => {}
            Some("status") if info.status_subresource && path.name.is_some() => {}
            Some(_) => return Err(ApiError::no_route()),
        }
        if (info.namespaced && path.name.is_some() && path.namespace.is_none())
            || (!info.namespaced && path.namespace.is_some())
        {
            return Err(ApiError::no_route());
        }
        Target {
            info,
            version: path.version.clone(),
            namespace: path.namespace.clone(),
            subresource: path.subresource.clone(),
        }
    };
    let name = path.name.as_deref();
    match (&req.method, name) {
        (&Method::GET, _) if req.query.flag("watch") => watch::serve(shared, req, target, name),
        (&Method::GET, Some(name)) => get(shared, req, &target, name),
        (&Method::GET, None) => list(shared, req, &target),
        (&Method::POST, None) => create(shared, req, &target),
        (&Method::PUT, Some(name)) => update(shared, req, &target, name),
        (&Method::PATCH, Some(name)) => patch(shared, req, &target, name),
        (&Method::DELETE, Some(name)) if target.subresource.is_none() => {
            delete(shared, req, &target, name)
        }
        (&Method::DELETE, None) => delete_collection(shared, req, &target),
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn partial_metadata(obj: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata").cloned().unwrap_or(json!({}))})
}

/// An object response in the presentation the client asked for.
fn present(
    req: &Request,
    t: &Target,
    obj: &Arc<Value>,
    code: u16,
    warnings: &[String],
) -> http::Response<Body> {
    let obj = view(&t.info, &t.version, obj);
    match Presentation::from_accept(&req.accept) {
        Presentation::Object => wire::bytes_response(
            code,
            "application/json",
            serde_json::to_vec(&*obj).unwrap_or_default(),
            warnings,
        ),
        Presentation::Metadata => wire::json_with(code, &partial_metadata(&obj), warnings),
        Presentation::Table => {
            let rv = obj
                .pointer("/metadata/resourceVersion")
                .cloned()
                .unwrap_or(Value::Null);
            let include = IncludeObject::parse(req.query.get("includeObject"));
            wire::json_with(
                code,
                &table::table(
                    &t.info,
                    &t.version,
                    &[obj],
                    json!({"resourceVersion": rv}),
                    include,
                    jiff::Timestamp::now(),
                ),
                warnings,
            )
        }
    }
}

fn get(
    shared: &Shared,
    req: &Request,
    t: &Target,
    name: &str,
) -> Result<http::Response<Body>, ApiError> {
    let obj = {
        let state = shared.state();
        let stored = state
            .store
            .get(&t.info.store, &t.key(name))
            .ok_or_else(|| ApiError::not_found(&t.info.group, &t.info.plural, name))?;
        Arc::clone(&stored.object)
    };
    Ok(present(req, t, &obj, 200, &[]))
}

fn encode_continue(rv: u64, key: &ObjectKey) -> String {
    hex::encode(json!({"rv": rv, "start": [key.0, key.1]}).to_string())
}

fn decode_continue(token: &str) -> Result<(u64, ObjectKey), ApiError> {
    let bad = || {
        ApiError::bad_request(
            "continue key is not valid: the list may have changed; start over without it",
        )
    };
    let raw = hex::decode(token).map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let rv = v["rv"].as_u64().ok_or_else(bad)?;
    let ns = v
        .pointer("/start/0")
        .and_then(Value::as_str)
        .ok_or_else(bad)?;
    let name = v
        .pointer("/start/1")
        .and_then(Value::as_str)
        .ok_or_else(bad)?;
    Ok((rv, (ns.to_owned(), name.to_owned())))
}

fn list(shared: &Shared, req: &Request, t: &Target) -> Result<http::Response<Body>, ApiError> {
    let (labels, fields) = selectors::from_query(&req.query)?;
    let limit = req
        .query
        .number("limit")?
        .filter(|l| *l > 0)
        .map(|l| usize::try_from(l).unwrap_or(usize::MAX));
    let start = req
        .query
        .get("continue")
        .filter(|c| !c.is_empty())
        .map(decode_continue)
        .transpose()?;
    let filtered = labels != LabelSelector::default() || fields != FieldSelector::default();
    let (items, list_rv, next, remaining) = {
        let state = shared.state();
        let list_rv = start
            .as_ref()
            .map_or(state.store.resource_version(), |(rv, _)| *rv);
        let mut items = Vec::new();
        let mut next = None;
        let mut remaining = 0usize;
        let pinned = fields.pinned_name();
        for (key, stored) in state.store.list(
            &t.info.store,
            t.namespace.as_deref(),
            start.as_ref().map(|(_, k)| k),
        ) {
            if pinned.is_some_and(|n| n != key.1) {
                continue;
            }
            let obj = view(&t.info, &t.version, &stored.object);
            if filtered && !(labels.matches(&obj) && fields.matches(&obj)) {
                continue;
            }
            if limit.is_some_and(|l| items.len() >= l) {
                if next.is_none() {
                    next = Some(encode_continue(list_rv, items_last_key(&items)));
                }
                if filtered {
                    break;
                }
                remaining += 1;
                continue;
            }
            items.push((key.clone(), obj));
        }
        (items, list_rv, next, remaining)
    };
    let mut metadata = json!({"resourceVersion": list_rv.to_string()});
    if let Some(token) = next {
        metadata["continue"] = json!(token);
        if !filtered {
            metadata["remainingItemCount"] = json!(remaining);
        }
    }
    let objects: Vec<Arc<Value>> = items.into_iter().map(|(_, o)| o).collect();
    Ok(match Presentation::from_accept(&req.accept) {
        Presentation::Table => {
            let include = IncludeObject::parse(req.query.get("includeObject"));
            wire::json(
                200,
                &table::table(
                    &t.info,
                    &t.version,
                    &objects,
                    metadata,
                    include,
                    jiff::Timestamp::now(),
                ),
            )
        }
        Presentation::Metadata => {
            let items: Vec<Value> = objects.iter().map(|o| partial_metadata(o)).collect();
            wire::json(
                200,
                &json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "items": items}),
            )
        }
        Presentation::Object => {
            // Written by hand so a large list is serialized once, without copying its objects.
            let mut out = Vec::with_capacity(256 + objects.len() * 512);
            out.extend_from_slice(b"{\"kind\":");
            serde_json::to_writer(&mut out, &t.info.list_kind).unwrap_or_default();
            out.extend_from_slice(b",\"apiVersion\":");
            serde_json::to_writer(&mut out, &t.info.api_version(&t.version)).unwrap_or_default();
            out.extend_from_slice(b",\"metadata\":");
            serde_json::to_writer(&mut out, &metadata).unwrap_or_default();
            out.extend_from_slice(b",\"items\":[");
            for (i, o) in objects.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut out, &**o).unwrap_or_default();
            }
            out.extend_from_slice(b"]}");
            wire::bytes_response(200, "application/json", out, &[])
        }
    })
}

fn items_last_key(items: &[(ObjectKey, Arc<Value>)]) -> &ObjectKey {
    static EMPTY: (String, String) = (String::new(), String::new());
    items.last().map_or(&EMPTY, |(k, _)| k)
}

fn write_options(req: &Request) -> Result<WriteOptions, ApiError> {
    Ok(WriteOptions {
        manager: req.field_manager(),
        dry_run: req.dry_run()?,
        field_validation: FieldValidation::parse(req.query.get("fieldValidation"))?,
    })
}

fn required_body(req: &Request) -> Result<Value, ApiError> {
    req.json_body()?
        .ok_or_else(|| ApiError::bad_request("the request body must not be empty"))
}

fn create(shared: &Shared, req: &Request, t: &Target) -> Result<http::Response<Body>, ApiError> {
    if t.info.namespaced && t.namespace.is_none() {
        return Err(ApiError::no_route());
    }
    let body = required_body(req)?;
    let opts = write_options(req)?;
    let written =
        objects::create::create(&mut shared.state(), t, body, &opts, Operation::Update, None)?;
    Ok(present(req, t, &written.object, 201, &written.warnings))
}

fn update(
    shared: &Shared,
    req: &Request,
    t: &Target,
    name: &str,
) -> Result<http::Response<Body>, ApiError> {
    let body = required_body(req)?;
    let opts = write_options(req)?;
    let written = objects::update::update(&mut shared.state(), t, name, body, &opts, None)?;
    Ok(present(req, t, &written.object, 200, &written.warnings))
}

const PATCH_TYPES: &str =
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";

fn patch(
    shared: &Shared,
    req: &Request,
    t: &Target,
    name: &str,
) -> Result<http::Response<Body>, ApiError> {
    let unsupported = || {
        let accepted = if t.info.is_custom() {
            PATCH_TYPES.to_owned()
        } else {
            format!("{PATCH_TYPES}, application/strategic-merge-patch+json")
        };
        ApiError::unsupported_media_type(format!(
            "the body of the request was in an unknown format - accepted media types include: {accepted}"
        ))
    };
    let kind = PatchType::from_media_type(&req.content_type).ok_or_else(unsupported)?;
    if kind == PatchType::Strategic && t.info.is_custom() {
        return Err(unsupported());
    }
    let body = required_body(req)?;
    let opts = write_options(req)?;
    let written = if kind == PatchType::Apply {
        apply_locked(
            &mut shared.state(),
            t,
            name,
            &body,
            &opts,
            req.query.flag("force"),
        )?
    } else {
        let mut state = shared.state();
        let stored = state
            .store
            .get(&t.info.store, &t.key(name))
            .ok_or_else(|| ApiError::not_found(&t.info.group, &t.info.plural, name))?;
        let mut current = (*view(&t.info, &t.version, &stored.object)).clone();
        let patched = match kind {
            PatchType::Json => patch::json_patch(&current, &body)?,
            PatchType::Strategic => {
                patch::strategic(&mut current, &body);
                current
            }
            _ => {
                patch::merge(&mut current, &body);
                current
            }
        };
        objects::update::update(&mut state, t, name, patched, &opts, None)?
    };
    let code = if written.created { 201 } else { 200 };
    Ok(present(req, t, &written.object, code, &written.warnings))
}

/// Server-side apply of `config` to the object `name`, creating it when absent.
pub(crate) fn apply_locked(
    state: &mut State,
    t: &Target,
    name: &str,
    config: &Value,
    opts: &WriteOptions,
    force: bool,
) -> Result<Written, ApiError> {
    if opts.manager.is_empty() || opts.manager == "unknown" {
        return Err(ApiError::bad_request(
            "PATCH, apply: fieldManager is required for apply requests",
        ));
    }
    let has = |k: &str| {
        config
            .get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    if !config.is_object() || !has("apiVersion") || !has("kind") {
        return Err(ApiError::bad_request(
            "apply patches must be objects that specify apiVersion and kind",
        ));
    }
    if config
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .is_some_and(|n| n != name)
    {
        return Err(ApiError::bad_request(
            "the name of the object does not match the name on the URL",
        ));
    }
    let request = ApplyRequest {
        manager: &opts.manager,
        subresource: t.subresource.as_deref().unwrap_or(""),
        status_subresource: t.info.status_subresource,
        force,
        api_version: &t.storage_api_version(),
        now: &objects::now(),
    };
    let existing = state.store.get(&t.info.store, &t.key(name)).cloned();
    let Some(stored) = existing else {
        if t.subresource.is_some() {
            return Err(ApiError::not_found(&t.info.group, &t.info.plural, name));
        }
        let mut applied = apply::apply(&json!({}), &ManagedFields::default(), config, &request)?;
        applied.object["metadata"]["name"] = json!(name);
        return objects::create::create(
            state,
            t,
            applied.object,
            opts,
            Operation::Apply,
            Some(applied.managed),
        );
    };
    let live = view(&t.info, &t.version, &stored.object);
    if let Some(rv) = config
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
        && Some(rv)
            != live
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
    {
        return Err(ApiError::stale(&t.info.group, &t.info.plural, name));
    }
    let applied = apply::apply(&live, &stored.managed, config, &request)?;
    objects::update::update(state, t, name, applied.object, opts, Some(applied.managed))
}

fn delete(
    shared: &Shared,
    req: &Request,
    t: &Target,
    name: &str,
) -> Result<http::Response<Body>, ApiError> {
    let opts = DeleteOptions::from_body(req.json_body()?.as_ref(), req.dry_run()?)?;
    let obj = delete::delete(&mut shared.state(), t, name, &opts)?;
    let gone = obj.pointer("/metadata/deletionTimestamp").is_none() || obj.is_null();
    if gone && !t.info.is_custom() && t.info.plural != "namespaces" {
        let uid = obj.pointer("/metadata/uid").cloned().unwrap_or(Value::Null);
        return Ok(wire::json(
            200,
            &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                    "details": {"name": name, "group": t.info.group, "kind": t.info.plural, "uid": uid}}),
        ));
    }
    Ok(present(req, t, &obj, 200, &[]))
}

fn delete_collection(
    shared: &Shared,
    req: &Request,
    t: &Target,
) -> Result<http::Response<Body>, ApiError> {
    let (labels, fields) = selectors::from_query(&req.query)?;
    let opts = DeleteOptions::from_body(req.json_body()?.as_ref(), req.dry_run()?)?;
    let deleted = delete::delete_collection(&mut shared.state(), t, &labels, &fields, &opts)?;
    let items: Vec<Value> = deleted
        .iter()
        .map(|o| (*view(&t.info, &t.version, o)).clone())
        .collect();
    let rv = shared.state().store.resource_version();
    Ok(wire::json(
        200,
        &json!({"kind": t.info.list_kind, "apiVersion": t.info.api_version(&t.version), "metadata": {"resourceVersion": rv.to_string()}, "items": items}),
    ))
}
