//! Unit tests of the write rules: resourceVersion and generation, no-op writes, the status
//! subresource, finalizers, namespaces and CRD registration.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::create::create;
use super::update::update;
use super::*;
use crate::delete::{self, DeleteOptions};
use crate::managed::Operation;
use crate::registry::Registry;
use crate::store::{ChangeType, State, Store};

fn state() -> State {
    let mut s = State {
        registry: Registry::with_builtins(),
        store: Store::new(1000, &CancellationToken::new()),
    };
    crate::builtins::seed(&mut s);
    s
}

fn crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer", "default": 1}, "color": {"type": "string"}}},
                    "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]}
    })
}

fn opts() -> WriteOptions {
    WriteOptions {
        manager: "test".into(),
        ..WriteOptions::default()
    }
}

fn target(s: &State, group: &str, plural: &str, ns: Option<&str>, sub: Option<&str>) -> Target {
    let info = s
        .registry
        .lookup(group, "v1", plural)
        .unwrap_or_else(|| panic!("{plural} not served"));
    Target {
        info,
        version: "v1".into(),
        namespace: ns.map(str::to_owned),
        subresource: sub.map(str::to_owned),
    }
}

fn with_widget() -> State {
    let mut s = state();
    let t = target(
        &s,
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        None,
        None,
    );
    create(&mut s, &t, crd(), &opts(), Operation::Update, None).unwrap();
    let t = target(&s, "example.com", "widgets", Some("default"), None);
    let w = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"color": "red"}, "status": {"x": 1}});
    create(&mut s, &t, w, &opts(), Operation::Update, None).unwrap();
    s
}

fn rv(o: &Value) -> u64 {
    o["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn get(s: &State, t: &Target, name: &str) -> Arc<Value> {
    Arc::clone(&s.store.get(&t.info.store, &t.key(name)).unwrap().object)
}

#[test]
fn create_stamps_server_fields_and_drops_status() {
    let s = with_widget();
    let t = target(&s, "example.com", "widgets", Some("default"), None);
    let w = get(&s, &t, "w");
    assert_eq!(w["metadata"]["generation"], 1);
    assert_eq!(w["metadata"]["namespace"], "default");
    assert!(w["metadata"]["uid"].is_string() && w["metadata"]["creationTimestamp"].is_string());
    assert_eq!(
        w["spec"],
        json!({"color": "red", "size": 1}),
        "schema default applied"
    );
    assert!(
        w.get("status").is_none(),
        "status dropped on create with the status subresource"
    );
    assert_eq!(rv(&w), s.store.resource_version());
    assert_eq!(w["metadata"]["managedFields"][0]["manager"], "test");
}

#[test]
fn generate_name_namespace_and_name_rules() {
    let mut s = state();
    let t = target(&s, "", "configmaps", Some("default"), None);
    let made = create(
        &mut s,
        &t,
        json!({"metadata": {"generateName": "cfg-"}}),
        &opts(),
        Operation::Update,
        None,
    )
    .unwrap();
    let name = made.object["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("cfg-") && name.len() == 9, "{name}");
    assert_eq!(
        create(
            &mut s,
            &t,
            json!({"metadata": {"name": "Bad_Name"}}),
            &opts(),
            Operation::Update,
            None
        )
        .unwrap_err()
        .code,
        422
    );
    assert_eq!(
        create(
            &mut s,
            &t,
            json!({"metadata": {}}),
            &opts(),
            Operation::Update,
            None
        )
        .unwrap_err()
        .code,
        422
    );
    let wrong_ns = json!({"metadata": {"name": "a", "namespace": "kube-system"}});
    assert_eq!(
        create(&mut s, &t, wrong_ns, &opts(), Operation::Update, None)
            .unwrap_err()
            .code,
        400
    );
    let missing = target(&s, "", "configmaps", Some("nope"), None);
    let err = create(
        &mut s,
        &missing,
        json!({"metadata": {"name": "a"}}),
        &opts(),
        Operation::Update,
        None,
    )
    .unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (404, "namespaces \"nope\" not found")
    );
    let again = json!({"metadata": {"name": name}});
    assert_eq!(
        create(&mut s, &t, again, &opts(), Operation::Update, None)
            .unwrap_err()
            .reason,
        "AlreadyExists"
    );
    let wrong_kind = json!({"kind": "Secret", "metadata": {"name": "k"}});
    assert_eq!(
        create(&mut s, &t, wrong_kind, &opts(), Operation::Update, None)
            .unwrap_err()
            .code,
        400
    );
}

#[test]
fn no_op_writes_change_nothing() {
    let mut s = with_widget();
    let t = target(&s, "example.com", "widgets", Some("default"), None);
    let before = get(&s, &t, "w");
    let history = s.store.replay(&t.info.store, 0).unwrap().len();
    let same = (*before).clone();
    let out = update(&mut s, &t, "w", same, &opts(), None).unwrap();
    assert!(
        Arc::ptr_eq(&out.object, &before),
        "the stored object is returned untouched"
    );
    assert_eq!(
        s.store.replay(&t.info.store, 0).unwrap().len(),
        history,
        "no watch event"
    );
    let status = target(
        &s,
        "example.com",
        "widgets",
        Some("default"),
        Some("status"),
    );
    let mut unchanged = (*before).clone();
    unchanged["status"] = Value::Null;
    update(&mut s, &status, "w", unchanged, &opts(), None).unwrap();
    assert_eq!(rv(&get(&s, &t, "w")), rv(&before));
}

#[test]
fn generation_tracks_spec_not_metadata_or_status() {
    let mut s = with_widget();
    let t = target(&s, "example.com", "widgets", Some("default"), None);
    let status = target(
        &s,
        "example.com",
        "widgets",
        Some("default"),
        Some("status"),
    );
    let mut labelled = (*get(&s, &t, "w")).clone();
    labelled["metadata"]["labels"] = json!({"a": "b"});
    let out = update(&mut s, &t, "w", labelled, &opts(), None).unwrap();
    assert_eq!(out.object["metadata"]["generation"], 1);
    let mut with_status = (*out.object).clone();
    with_status["status"] = json!({"ready": true});
    let out = update(&mut s, &status, "w", with_status, &opts(), None).unwrap();
    assert_eq!(
        (
            out.object["metadata"]["generation"].clone(),
            out.object["status"].clone()
        ),
        (json!(1), json!({"ready": true}))
    );
    let mut respec = (*out.object).clone();
    respec["spec"]["color"] = json!("blue");
    respec["status"] = json!({"ready": false});
    let out = update(&mut s, &t, "w", respec, &opts(), None).unwrap();
    assert_eq!(out.object["metadata"]["generation"], 2);
    assert_eq!(
        out.object["status"],
        json!({"ready": true}),
        "main-resource writes ignore status"
    );
}

#[test]
fn status_writes_change_only_status() {
    let mut s = with_widget();
    let status = target(
        &s,
        "example.com",
        "widgets",
        Some("default"),
        Some("status"),
    );
    let mut w = (*get(&s, &status, "w")).clone();
    w["spec"]["color"] = json!("green");
    w["metadata"]["labels"] = json!({"x": "y"});
    w["status"] = json!({"phase": "Ready"});
    let out = update(&mut s, &status, "w", w, &opts(), None).unwrap();
    assert_eq!(out.object["spec"]["color"], "red");
    assert!(out.object["metadata"].get("labels").is_none());
    assert_eq!(out.object["status"]["phase"], "Ready");
    assert_eq!(
        out.object["metadata"]["managedFields"][1]["subresource"],
        "status"
    );
}

#[test]
fn stale_resource_version_conflicts() {
    let mut s = with_widget();
    let t = target(&s, "example.com", "widgets", Some("default"), None);
    let mut stale = (*get(&s, &t, "w")).clone();
    stale["metadata"]["resourceVersion"] = json!("1");
    stale["spec"]["color"] = json!("x");
    let err = update(&mut s, &t, "w", stale, &opts(), None).unwrap_err();
    assert_eq!((err.code, err.reason.as_str()), (409, "Conflict"));
    assert!(
        err.message
            .starts_with("Operation cannot be fulfilled on widgets.example.com \"w\"")
    );
}

#[test]
fn finalizers_hold_deletion_until_removed() {
    let mut s = with_widget();
    let t = target(&s, "example.com", "widgets", Some("default"), None);
    let mut w = (*get(&s, &t, "w")).clone();
    w["metadata"]["finalizers"] = json!(["example.com/cleanup"]);
    update(&mut s, &t, "w", w, &opts(), None).unwrap();
    let deleting = delete::delete(&mut s, &t, "w", &DeleteOptions::default()).unwrap();
    assert!(deleting["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(
        deleting["metadata"]["generation"], 2,
        "deletionTimestamp bumps generation"
    );
    let again = delete::delete(&mut s, &t, "w", &DeleteOptions::default()).unwrap();
    assert_eq!(rv(&again), rv(&deleting), "a second DELETE changes nothing");
    let mut more = (*deleting).clone();
    more["metadata"]["finalizers"] = json!(["example.com/cleanup", "other"]);
    assert_eq!(
        update(&mut s, &t, "w", more, &opts(), None)
            .unwrap_err()
            .code,
        422
    );
    let mut done = (*deleting).clone();
    done["metadata"]["finalizers"] = json!([]);
    update(&mut s, &t, "w", done, &opts(), None).unwrap();
    assert!(s.store.get(&t.info.store, &t.key("w")).is_none());
    let last = s.store.replay(&t.info.store, 0).unwrap();
    assert_eq!(last.last().unwrap().type_, ChangeType::Deleted);
}

#[test]
fn delete_preconditions() {
    let mut s = with_widget();
    let t = target(&s, "example.com", "widgets", Some("default"), None);
    let wrong_uid = DeleteOptions {
        uid: Some("nope".into()),
        ..DeleteOptions::default()
    };
    assert_eq!(
        delete::delete(&mut s, &t, "w", &wrong_uid)
            .unwrap_err()
            .code,
        409
    );
    let wrong_rv = DeleteOptions {
        resource_version: Some("1".into()),
        ..DeleteOptions::default()
    };
    assert!(
        delete::delete(&mut s, &t, "w", &wrong_rv)
            .unwrap_err()
            .message
            .starts_with("Precondition failed")
    );
    let dry = DeleteOptions {
        dry_run: true,
        ..DeleteOptions::default()
    };
    delete::delete(&mut s, &t, "w", &dry).unwrap();
    assert!(s.store.get(&t.info.store, &t.key("w")).is_some());
}

#[test]
fn deleting_a_crd_unserves_it_and_its_objects() {
    let mut s = with_widget();
    let crds = target(
        &s,
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        None,
        None,
    );
    let stored = get(&s, &crds, "widgets.example.com");
    assert_eq!(stored["status"]["conditions"][1]["type"], "Established");
    let store_key = s
        .registry
        .get("example.com", "widgets")
        .unwrap()
        .store
        .clone();
    delete::delete(
        &mut s,
        &crds,
        "widgets.example.com",
        &DeleteOptions::default(),
    )
    .unwrap();
    assert!(s.registry.get("example.com", "widgets").is_none());
    assert_eq!(s.store.count(&store_key), 0);
}

#[test]
fn deleting_a_namespace_deletes_its_contents() {
    let mut s = state();
    let ns = target(&s, "", "namespaces", None, None);
    create(
        &mut s,
        &ns,
        json!({"metadata": {"name": "team-a"}}),
        &opts(),
        Operation::Update,
        None,
    )
    .unwrap();
    let cm = target(&s, "", "configmaps", Some("team-a"), None);
    create(
        &mut s,
        &cm,
        json!({"metadata": {"name": "a"}}),
        &opts(),
        Operation::Update,
        None,
    )
    .unwrap();
    create(
        &mut s,
        &cm,
        json!({"metadata": {"name": "b", "finalizers": ["x"]}}),
        &opts(),
        Operation::Update,
        None,
    )
    .unwrap();
    let terminating = delete::delete(&mut s, &ns, "team-a", &DeleteOptions::default()).unwrap();
    assert_eq!(terminating["status"]["phase"], "Terminating");
    assert!(s.store.get(&cm.info.store, &cm.key("a")).is_none());
    let err = create(
        &mut s,
        &cm,
        json!({"metadata": {"name": "c"}}),
        &opts(),
        Operation::Update,
        None,
    )
    .unwrap_err();
    assert_eq!(err.code, 403);
    let mut b = (*get(&s, &cm, "b")).clone();
    b["metadata"]["finalizers"] = json!([]);
    update(&mut s, &cm, "b", b, &opts(), None).unwrap();
    assert!(
        s.store.get(&ns.info.store, &ns.key("team-a")).is_none(),
        "namespace goes once empty"
    );
}

#[test]
fn secrets_encode_string_data() {
    let mut s = state();
    let t = target(&s, "", "secrets", Some("default"), None);
    let out = create(
        &mut s,
        &t,
        json!({"metadata": {"name": "s"}, "stringData": {"k": "v"}}),
        &opts(),
        Operation::Update,
        None,
    )
    .unwrap();
    assert_eq!(out.object["data"]["k"], "dg==");
    assert_eq!(out.object["type"], "Opaque");
    assert!(out.object.get("stringData").is_none());
}

#[test]
fn events_are_stored_in_the_shape_written_and_viewed_in_either() {
    let mut s = state();
    let t = target(&s, "events.k8s.io", "events", Some("default"), None);
    let ev = json!({"metadata": {"name": "e"}, "regarding": {"name": "web"}, "note": "hi", "reason": "R", "eventTime": "2026-01-01T00:00:00.000000Z"});
    let out = create(&mut s, &t, ev, &opts(), Operation::Update, None).unwrap();
    let core = target(&s, "", "events", Some("default"), None);
    let viewed = view(&core.info, "v1", &out.object);
    assert_eq!(
        (
            viewed["apiVersion"].clone(),
            viewed["involvedObject"]["name"].clone()
        ),
        (json!("v1"), json!("web"))
    );
    assert!(
        s.store.get(&core.info.store, &core.key("e")).is_some(),
        "one store"
    );
}
