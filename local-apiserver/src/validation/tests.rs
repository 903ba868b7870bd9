//! Unit tests of `validation`: pruning, defaults, schema checks and CEL rules.

use serde_json::{Value, json};

use super::*;

fn schema() -> Schema {
    let raw = json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "required": ["image"],
                "x-kubernetes-validations": [
                    {"rule": "self.minCapacity <= self.maxCapacity", "message": "minCapacity must not exceed maxCapacity"},
                    {"rule": "!has(self.codeDeploy) || !has(self.ecsNative)", "message": "choose one strategy", "fieldPath": ".codeDeploy"},
                    {"rule": "size(self.tags) <= 2", "messageExpression": "'too many tags: ' + string(size(self.tags))"}
                ],
                "properties": {
                    "image": {"type": "string", "minLength": 1, "pattern": "^[a-z0-9.:/-]+$"},
                    "replicas": {"type": "integer", "minimum": 0, "maximum": 10, "default": 1},
                    "minCapacity": {"type": "integer", "default": 1},
                    "maxCapacity": {"type": "integer", "default": 4},
                    "serviceName": {"type": "string", "maxLength": 8,
                        "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "serviceName is immutable"}]},
                    "policy": {"type": "string", "enum": ["Delete", "Retain"], "default": "Delete"},
                    "tags": {"type": "array", "x-kubernetes-list-type": "set", "maxItems": 3, "items": {"type": "string"}, "default": []},
                    "ports": {"type": "array", "items": {
                        "type": "object",
                        "properties": {"port": {"type": "integer"}, "protocol": {"type": "string", "default": "TCP"}}
                    }},
                    "codeDeploy": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "ecsNative": {"type": "object", "properties": {"bake": {"type": "integer"}}},
                    "env": {"type": "object", "additionalProperties": {"type": "string"}},
                    "port": {"x-kubernetes-int-or-string": true}
                }
            },
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
        }
    });
    Schema::parse(&raw).unwrap().0
}

fn object(spec: Value) -> Value {
    json!({"apiVersion": "demo.example.com/v1", "kind": "EcsService", "metadata": {"name": "web"}, "spec": spec})
}

fn check(obj: &mut Value, old: Option<&Value>) -> Result<Vec<String>, ApiError> {
    custom_resource(&schema(), obj, old, "EcsService", "demo.example.com")
}

fn fields(err: &ApiError) -> Vec<String> {
    err.details
        .as_ref()
        .unwrap()
        .causes
        .iter()
        .map(|c| c.field.clone())
        .collect()
}

#[test]
fn defaults_are_applied_at_every_level() {
    let mut obj = object(json!({"image": "nginx", "ports": [{"port": 80}]}));
    check(&mut obj, None).unwrap();
    assert_eq!(obj["spec"]["replicas"], 1);
    assert_eq!(obj["spec"]["policy"], "Delete");
    assert_eq!(obj["spec"]["tags"], json!([]));
    assert_eq!(obj["spec"]["ports"][0]["protocol"], "TCP");
    assert!(obj["spec"].get("serviceName").is_none());
}

#[test]
fn unknown_fields_are_pruned_and_reported() {
    let mut obj = object(json!({"image": "nginx", "bogus": 1, "ecsNative": {"x": 1, "bake": 2}}));
    obj["status"] = json!({"anything": true});
    obj["extra"] = json!(true);
    obj["metadata"]["nonsense"] = json!("x");
    let mut unknown = check(&mut obj, None).unwrap_err_or_unknown();
    unknown.sort();
    assert_eq!(
        unknown,
        [
            "extra",
            "metadata.nonsense",
            "spec.bogus",
            "spec.ecsNative.x"
        ]
    );
    assert!(obj["spec"].get("bogus").is_none());
    assert_eq!(obj["status"]["anything"], true, "preserved");
    assert_eq!(obj["spec"]["ecsNative"], json!({"bake": 2}));
    let strict = FieldValidation::Strict.judge(unknown.clone()).unwrap_err();
    assert_eq!(strict.code, 400);
    assert!(
        strict
            .message
            .starts_with("strict decoding error: unknown field \"extra\""),
        "{}",
        strict.message
    );
    assert_eq!(
        FieldValidation::Warn.judge(unknown.clone()).unwrap().len(),
        4
    );
    assert!(FieldValidation::Ignore.judge(unknown).unwrap().is_empty());
}

trait UnknownOrPanic {
    fn unwrap_err_or_unknown(self) -> Vec<String>;
}

impl UnknownOrPanic for Result<Vec<String>, ApiError> {
    fn unwrap_err_or_unknown(self) -> Vec<String> {
        self.unwrap_or_else(|e| panic!("unexpected error {e}"))
    }
}

#[test]
fn schema_violations_name_their_fields() {
    let mut obj = object(json!({
        "replicas": "three", "image": "UPPER", "policy": "Keep", "tags": ["a", "a"],
        "serviceName": "much-too-long", "env": {"A": 1}, "port": true
    }));
    let err = check(&mut obj, None).unwrap_err();
    assert_eq!(err.code, 422);
    assert_eq!(err.reason, "Invalid");
    let mut f = fields(&err);
    f.sort();
    assert_eq!(
        f,
        [
            "spec.env.A",
            "spec.image",
            "spec.policy",
            "spec.port",
            "spec.replicas",
            "spec.serviceName",
            "spec.tags[1]"
        ]
    );
    assert!(
        err.message
            .starts_with("EcsService.demo.example.com \"web\" is invalid: ["),
        "{}",
        err.message
    );
    assert!(err.message.contains(
        "spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type integer"
    ));
    assert!(err.message.contains(
        "spec.policy: Unsupported value: \"Keep\": supported values: \"Delete\", \"Retain\""
    ));
}

#[test]
fn required_and_bounds() {
    let mut obj = object(json!({"replicas": 11}));
    let err = check(&mut obj, None).unwrap_err();
    assert!(
        err.message.contains("spec.image: Required value"),
        "{}",
        err.message
    );
    assert!(
        err.message
            .contains("spec.replicas in body should be less than or equal to 10"),
        "{}",
        err.message
    );
    let mut obj = object(json!({"image": "x", "replicas": -1, "tags": ["a", "b", "c", "d"]}));
    let err = check(&mut obj, None).unwrap_err();
    assert!(err.message.contains("greater than or equal to 0"));
    assert!(
        err.message
            .contains("spec.tags: Too many: 4: must have at most 3 items"),
        "{}",
        err.message
    );
}

#[test]
fn cel_rules_report_message_and_field_path() {
    let mut obj = object(
        json!({"image": "x", "minCapacity": 5, "maxCapacity": 2, "codeDeploy": {}, "ecsNative": {}, "tags": ["a", "b", "c"]}),
    );
    let err = check(&mut obj, None).unwrap_err();
    let causes = &err.details.as_ref().unwrap().causes;
    let by_field = |f: &str| {
        causes
            .iter()
            .filter(|c| c.field == f)
            .map(|c| c.message.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        by_field("spec"),
        [
            "Invalid value: \"object\": minCapacity must not exceed maxCapacity",
            "Invalid value: \"object\": too many tags: 3"
        ]
    );
    assert_eq!(
        by_field("spec.codeDeploy"),
        ["Invalid value: \"object\": choose one strategy"]
    );
}

#[test]
fn transition_rules_run_only_on_update() {
    let mut created = object(json!({"image": "x", "serviceName": "a"}));
    check(&mut created, None).unwrap();
    let mut same = object(json!({"image": "y", "serviceName": "a"}));
    check(&mut same, Some(&created)).unwrap();
    let mut changed = object(json!({"image": "x", "serviceName": "b"}));
    let err = check(&mut changed, Some(&created)).unwrap_err();
    assert_eq!(fields(&err), ["spec.serviceName"]);
    assert!(
        err.message
            .ends_with("spec.serviceName: Invalid value: \"string\": serviceName is immutable"),
        "{}",
        err.message
    );
    // Adding the field later is not a transition (there is no old value to compare).
    let mut old = object(json!({"image": "x"}));
    check(&mut old, None).unwrap();
    let mut added = object(json!({"image": "x", "serviceName": "c"}));
    check(&mut added, Some(&old)).unwrap();
}

#[test]
fn rule_evaluation_errors_are_invalid_not_panics() {
    let raw = json!({"type": "object", "properties": {"spec": {"type": "object",
        "x-kubernetes-validations": [{"rule": "self.a > 1"}]}}});
    let schema = Schema::parse(&raw).unwrap().0;
    let mut obj = object(json!({}));
    let err =
        custom_resource(&schema, &mut obj, None, "EcsService", "demo.example.com").unwrap_err();
    assert!(
        err.message.ends_with(
            "spec: Invalid value: \"object\": no such key: a evaluating rule: self.a > 1"
        ),
        "{}",
        err.message
    );
}

#[test]
fn builtins_keep_only_their_fields() {
    let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "bogus": 1}, "data": {}, "dta": {}});
    let unknown = prune_builtin(Builtin::ConfigMap, &mut cm);
    assert_eq!(unknown, ["metadata.bogus", "dta"]);
    assert_eq!(
        cm,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {}})
    );
}

#[test]
fn field_validation_parses_the_query_values() {
    assert_eq!(FieldValidation::parse(None).unwrap(), FieldValidation::Warn);
    assert_eq!(
        FieldValidation::parse(Some("Strict")).unwrap(),
        FieldValidation::Strict
    );
    assert_eq!(
        FieldValidation::parse(Some("strict")).unwrap_err().code,
        400
    );
}

#[test]
fn undecodable_shapes_are_rejected() {
    let ok = json!({"metadata": {"name": "x", "labels": {"a": "b"}, "finalizers": ["f"]}, "data": {"k": "v"}});
    check_shapes(Some(Builtin::ConfigMap), &ok).unwrap();
    for (builtin, bad) in [
        (None, json!({"metadata": "x"})),
        (None, json!({"metadata": {"labels": "x"}})),
        (None, json!({"metadata": {"labels": {"a": 1}}})),
        (None, json!({"metadata": {"finalizers": "f"}})),
        (None, json!({"metadata": {"name": 7}})),
        (None, json!({"metadata": {"ownerReferences": [1]}})),
        (Some(Builtin::ConfigMap), json!({"data": {"k": 1}})),
        (Some(Builtin::Secret), json!({"stringData": ["x"]})),
        (Some(Builtin::Lease), json!({"spec": "x"})),
    ] {
        let err = check_shapes(builtin, &bad).unwrap_err();
        assert_eq!(err.code, 400, "{bad}");
    }
    assert_eq!(
        check_shapes(None, &json!({"metadata": {"labels": "x"}}))
            .unwrap_err()
            .message,
        "metadata.labels must be a map of strings, got \"x\""
    );
}
