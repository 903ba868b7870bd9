//! The Argo CD health checks and resource actions of examples/argocd/health, run on Lua 5.4
//! (mlua, vendored) the way Argo CD runs them: the object as the global `obj`, the script's
//! return value read back. Expectations are the `health_test.yaml` files next to each script
//! (Argo CD's own test format), so the examples and the tests cannot disagree.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use e2e_tests::sandbox::workspace_root;
use mlua::serde::SerializeOptions;
use mlua::{Lua, LuaSerdeExt, Table};
use serde_json::Value;

const KINDS: [&str; 5] = [
    "EcsService",
    "BlueGreenRollout",
    "ScalingPolicy",
    "ReleaseGroup",
    "NotificationPolicy",
];

fn kind_dir(kind: &str) -> PathBuf {
    workspace_root()
        .join("examples/argocd/health/ecs-operator.dev")
        .join(kind)
}

fn read_yaml(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A Lua state with `obj` set to `object`.
fn lua_with(object: &Value) -> Lua {
    let lua = Lua::new();
    let options = SerializeOptions::new()
        .serialize_none_to_null(false)
        .serialize_unit_to_null(false);
    let obj = lua.to_value_with(object, options).expect("object to Lua");
    lua.globals().set("obj", obj).expect("set obj");
    lua
}

/// Runs a health script on `object`: (status, message).
fn health(kind: &str, object: &Value) -> (String, String) {
    let script = std::fs::read_to_string(kind_dir(kind).join("health.lua")).expect("health.lua");
    let lua = lua_with(object);
    let hs: Table = lua
        .load(&script)
        .set_name(format!("{kind}/health.lua"))
        .eval()
        .unwrap_or_else(|e| panic!("{kind}/health.lua failed: {e}"));
    (
        hs.get("status").expect("hs.status"),
        hs.get("message").expect("hs.message"),
    )
}

#[test]
fn health_checks_report_what_their_tests_expect() {
    for kind in KINDS {
        let dir = kind_dir(kind);
        let tests = read_yaml(&dir.join("health_test.yaml"));
        let tests = tests["tests"].as_array().expect("tests");
        let mut statuses = BTreeSet::new();
        let mut inputs = BTreeSet::new();
        for test in tests {
            let input = test["inputPath"].as_str().expect("inputPath");
            let object = read_yaml(&dir.join(input));
            let (status, message) = health(kind, &object);
            let expected = &test["healthStatus"];
            assert_eq!(status, expected["status"], "{kind} {input}: status");
            assert_eq!(message, expected["message"], "{kind} {input}: message");
            statuses.insert(status);
            inputs.insert(input.to_owned());
        }
        // Every sample is tested, and the states the brief names are covered.
        for entry in std::fs::read_dir(dir.join("testdata")).expect("testdata") {
            let name = entry.expect("entry").file_name();
            let input = format!("testdata/{}", name.to_string_lossy());
            assert!(inputs.contains(&input), "{kind}: {input} has no test");
        }
        for needed in ["Healthy", "Progressing", "Degraded"] {
            assert!(statuses.contains(needed), "{kind}: no {needed} case");
        }
        assert!(
            inputs.contains("testdata/stale-generation.yaml"),
            "{kind}: no stale observedGeneration case"
        );
    }
    let rollout_tests = read_yaml(&kind_dir("BlueGreenRollout").join("health_test.yaml"));
    assert!(
        rollout_tests.to_string().contains("\"Suspended\""),
        "a paused rollout must be Suspended"
    );
}

/// Every status field a sample uses exists in the CRD's status schema (the samples are real
/// shapes, not invented ones).
#[test]
fn samples_use_only_status_fields_the_crds_define() {
    fn check(value: &Value, schema: &Value, path: &str) {
        match value {
            Value::Object(map) => {
                if schema["x-kubernetes-preserve-unknown-fields"] == true {
                    return;
                }
                for (key, child) in map {
                    let child_schema = &schema["properties"][key];
                    assert!(!child_schema.is_null(), "{path}.{key} is not in the CRD");
                    check(child, child_schema, &format!("{path}.{key}"));
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    check(item, &schema["items"], &format!("{path}[{i}]"));
                }
            }
            _ => {}
        }
    }
    for crd in crds::all_crds() {
        let crd = serde_json::to_value(&crd).expect("json");
        let kind = crd["spec"]["names"]["kind"].as_str().expect("kind");
        let status_schema =
            &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"];
        if status_schema.is_null() {
            // AwsAccountBinding: configuration without a status, so no health to assess.
            continue;
        }
        for entry in std::fs::read_dir(kind_dir(kind).join("testdata")).expect("testdata") {
            let path = entry.expect("entry").path();
            let sample = read_yaml(&path);
            assert_eq!(sample["kind"], kind, "{}", path.display());
            check(
                &sample["status"],
                status_schema,
                &format!("{}: status", path.display()),
            );
        }
    }
}

/// The rollout actions: (discovery script, [(name, action script)]).
fn rollout_actions() -> (String, Vec<(String, String)>) {
    let actions = read_yaml(&kind_dir("BlueGreenRollout").join("actions.yaml"));
    let discovery = actions["discovery.lua"]
        .as_str()
        .expect("discovery.lua")
        .to_owned();
    let definitions = actions["definitions"]
        .as_array()
        .expect("definitions")
        .iter()
        .map(|d| {
            (
                d["name"].as_str().expect("name").to_owned(),
                d["action.lua"].as_str().expect("action.lua").to_owned(),
            )
        })
        .collect();
    (discovery, definitions)
}

fn sample(name: &str) -> Value {
    read_yaml(
        &kind_dir("BlueGreenRollout")
            .join("testdata")
            .join(format!("{name}.yaml")),
    )
}

#[test]
fn rollout_actions_are_offered_when_they_make_sense() {
    let (discovery, definitions) = rollout_actions();
    let names: BTreeSet<&str> = definitions.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from(["promote", "promote-full", "abort", "retry"])
    );
    for (phase, enabled) in [
        ("healthy", vec![]),
        ("progressing", vec!["abort", "promote", "promote-full"]),
        ("paused", vec!["abort", "promote", "promote-full"]),
        ("degraded", vec!["retry"]),
    ] {
        let lua = lua_with(&sample(phase));
        let actions: Table = lua.load(&discovery).eval().expect("discovery.lua runs");
        let mut offered = Vec::new();
        for pair in actions.pairs::<String, Table>() {
            let (name, action) = pair.expect("an action entry");
            assert!(
                names.contains(name.as_str()),
                "discovery offers unknown {name}"
            );
            if !action.get::<bool>("disabled").expect("disabled flag") {
                offered.push(name);
            }
        }
        offered.sort();
        assert_eq!(offered, enabled, "{phase}");
    }
}

#[test]
fn rollout_actions_only_record_a_request_annotation() {
    let (_, definitions) = rollout_actions();
    for (name, script) in definitions {
        for mut object in [sample("paused"), sample("degraded")] {
            // One object with annotations already, one without.
            if name == "retry" {
                object["metadata"]["annotations"] = serde_json::json!({"team": "booking"});
            }
            let lua = lua_with(&object);
            let before = jiff::Timestamp::now();
            let result: mlua::Value = lua
                .load(&script)
                .set_name(format!("{name}/action.lua"))
                .eval()
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let after: Value = lua.from_value(result).expect("the object back as JSON");
            let key = format!("ecs-operator.dev/{name}-requested-at");
            let stamp = after["metadata"]["annotations"][&key]
                .as_str()
                .unwrap_or_else(|| panic!("{name} did not set {key}: {after}"));
            let stamp: jiff::Timestamp = stamp
                .parse()
                .unwrap_or_else(|e| panic!("{name}: {stamp} is not RFC 3339: {e}"));
            let skew = stamp.duration_since(before).as_secs();
            assert!((-2..=2).contains(&skew), "{name}: {stamp} is not now");
            // Nothing else changes: not the spec, not the other annotations.
            assert_eq!(after["spec"], object["spec"], "{name} touched the spec");
            assert_eq!(after["metadata"]["name"], object["metadata"]["name"]);
            let mut annotations = after["metadata"]["annotations"].clone();
            annotations
                .as_object_mut()
                .expect("annotations")
                .remove(&key);
            let expected = object["metadata"]["annotations"].clone();
            if expected.is_null() {
                assert_eq!(annotations, serde_json::json!({}), "{name}");
            } else {
                assert_eq!(annotations, expected, "{name}");
            }
        }
    }
}
