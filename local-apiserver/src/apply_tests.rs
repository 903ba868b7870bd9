//! Unit tests of server-side apply: merging, conflicts, force, removal of dropped fields.

use serde_json::{Value, json};

use super::*;
use crate::managed::changed_paths;

fn req(manager: &str) -> ApplyRequest<'_> {
    ApplyRequest {
        manager,
        subresource: "",
        status_subresource: true,
        force: false,
        api_version: "demo/v1",
        now: "t",
    }
}

fn cr(spec: Value) -> Value {
    json!({"apiVersion": "demo/v1", "kind": "EcsService", "metadata": {"name": "web"}, "spec": spec})
}

fn create(manager: &str, config: &Value) -> Applied {
    apply(
        &json!({"metadata": {"name": "web"}}),
        &ManagedFields::default(),
        config,
        &req(manager),
    )
    .unwrap()
}

#[test]
fn first_apply_owns_every_leaf() {
    let a = create("kubectl", &cr(json!({"image": "nginx", "replicas": 2})));
    assert_eq!(a.object["spec"], json!({"image": "nginx", "replicas": 2}));
    let owned = a.managed.owned_by("kubectl", Operation::Apply, "").unwrap();
    assert_eq!(owned.len(), 2);
}

#[test]
fn reapplying_the_same_config_changes_nothing() {
    let config = cr(json!({"image": "nginx", "replicas": 2}));
    let a = create("kubectl", &config);
    let b = apply(&a.object, &a.managed, &config, &req("kubectl")).unwrap();
    assert_eq!(a.object, b.object);
    assert!(a.managed.same_ownership(&b.managed));
}

#[test]
fn another_manager_changing_an_owned_field_conflicts() {
    let a = create("kubectl", &cr(json!({"image": "nginx", "replicas": 2})));
    let err = apply(
        &a.object,
        &a.managed,
        &cr(json!({"replicas": 3})),
        &req("operator"),
    )
    .unwrap_err();
    assert_eq!(err.code, 409);
    assert_eq!(err.reason, "Conflict");
    assert_eq!(
        err.message,
        "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas"
    );
    let cause = &err.details.as_ref().unwrap().causes[0];
    assert_eq!(
        (cause.reason.as_str(), cause.field.as_str()),
        ("FieldManagerConflict", ".spec.replicas")
    );
}

#[test]
fn same_value_is_shared_not_a_conflict() {
    let a = create("kubectl", &cr(json!({"image": "nginx", "replicas": 2})));
    let b = apply(
        &a.object,
        &a.managed,
        &cr(json!({"replicas": 2})),
        &req("operator"),
    )
    .unwrap();
    assert_eq!(
        b.managed
            .owned_by("kubectl", Operation::Apply, "")
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        b.managed
            .owned_by("operator", Operation::Apply, "")
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn force_takes_ownership() {
    let a = create("kubectl", &cr(json!({"image": "nginx", "replicas": 2})));
    let forced = ApplyRequest {
        force: true,
        ..req("operator")
    };
    let b = apply(&a.object, &a.managed, &cr(json!({"replicas": 3})), &forced).unwrap();
    assert_eq!(b.object["spec"]["replicas"], 3);
    let kubectl = b.managed.owned_by("kubectl", Operation::Apply, "").unwrap();
    assert_eq!(
        kubectl.iter().map(|p| p.join(".")).collect::<Vec<_>>(),
        ["spec.image"]
    );
}

#[test]
fn fields_dropped_from_the_config_are_removed_unless_shared() {
    let a = create(
        "kubectl",
        &cr(json!({"image": "nginx", "replicas": 2, "paused": true})),
    );
    let shared = apply(
        &a.object,
        &a.managed,
        &cr(json!({"paused": true})),
        &req("operator"),
    )
    .unwrap();
    let b = apply(
        &shared.object,
        &shared.managed,
        &cr(json!({"image": "nginx"})),
        &req("kubectl"),
    )
    .unwrap();
    assert_eq!(
        b.object["spec"],
        json!({"image": "nginx", "paused": true}),
        "replicas removed, paused kept"
    );
}

#[test]
fn lists_are_atomic() {
    let a = create("kubectl", &cr(json!({"ports": [80, 443]})));
    let b = apply(
        &a.object,
        &a.managed,
        &cr(json!({"ports": [8080]})),
        &req("kubectl"),
    )
    .unwrap();
    assert_eq!(b.object["spec"]["ports"], json!([8080]));
    let err = apply(
        &b.object,
        &b.managed,
        &cr(json!({"ports": [1]})),
        &req("other"),
    )
    .unwrap_err();
    assert!(err.message.contains(".spec.ports"));
}

#[test]
fn status_apply_touches_only_status() {
    let live = json!({"metadata": {"name": "web"}, "spec": {"image": "a"}});
    let status_req = ApplyRequest {
        subresource: "status",
        ..req("operator")
    };
    let config = json!({"apiVersion": "demo/v1", "kind": "EcsService", "spec": {"image": "b"}, "status": {"ready": true}});
    let a = apply(&live, &ManagedFields::default(), &config, &status_req).unwrap();
    assert_eq!(a.object["spec"]["image"], "a");
    assert_eq!(a.object["status"]["ready"], true);
    assert!(
        a.managed
            .owned_by("operator", Operation::Apply, "status")
            .is_some()
    );
}

#[test]
fn update_then_apply_conflicts_with_the_updater() {
    // kubectl edit (Update) owns replicas after changing it; a later apply of a different value conflicts.
    let a = create("kubectl", &cr(json!({"replicas": 2})));
    let mut edited = a.object.clone();
    edited["spec"]["replicas"] = json!(5);
    let mut managed = a.managed.clone();
    let changed = changed_paths(&a.object, &edited, true, "");
    managed.release("kubectl-edit", &changed);
    managed.record(
        "kubectl-edit",
        Operation::Update,
        "",
        "demo/v1",
        "t",
        changed,
    );
    let err = apply(
        &edited,
        &managed,
        &cr(json!({"replicas": 2})),
        &req("kubectl"),
    )
    .unwrap_err();
    assert!(
        err.message
            .contains("conflict with \"kubectl-edit\": .spec.replicas"),
        "{}",
        err.message
    );
}

#[test]
fn null_removes_and_empty_map_does_not_wipe() {
    let a = create("kubectl", &cr(json!({"image": "a", "labels": {"x": "1"}})));
    let b = apply(
        &a.object,
        &a.managed,
        &cr(json!({"image": null, "labels": {}})),
        &req("other"),
    )
    .unwrap();
    assert!(b.object["spec"].get("image").is_none());
    assert_eq!(b.object["spec"]["labels"], json!({"x": "1"}));
}
