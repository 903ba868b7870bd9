//! The codec against fixed bytes of the Kubernetes wire format, and JSON → protobuf → JSON
//! round trips of the kinds helm and kubectl send.

use serde_json::{Value, json};

use super::envelope::{self, DecodeError, MAGIC};
use super::{preferred, watch_frames};

fn round_trip(object: Value) {
    let bytes = envelope::encode(&object).expect("encodes");
    assert!(bytes.starts_with(MAGIC));
    let back = envelope::decode(&bytes, None).expect("decodes");
    assert_eq!(back, object, "round trip of {}", object["kind"]);
}

#[test]
fn a_namespace_encodes_to_the_bytes_kubernetes_writes() {
    let bytes = envelope::encode(
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}),
    )
    .expect("encodes");
    let mut expected = MAGIC.to_vec();
    // runtime.Unknown: typeMeta (1) {apiVersion (1), kind (2)}, raw (2), contentEncoding (3),
    // contentType (4).
    expected.extend_from_slice(&[0x0a, 15, 0x0a, 2, b'v', b'1', 0x12, 9]);
    expected.extend_from_slice(b"Namespace");
    // raw: Namespace {metadata (1): ObjectMeta {name (1): "a"}}.
    expected.extend_from_slice(&[0x12, 5, 0x0a, 3, 0x0a, 1, b'a']);
    expected.extend_from_slice(&[0x1a, 0, 0x22, 0]);
    assert_eq!(bytes, expected);
}

#[test]
fn built_in_kinds_survive_a_round_trip() {
    round_trip(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "sh.helm.release.v1.eo.v1", "namespace": "ops",
                     "labels": {"owner": "helm", "status": "deployed"},
                     "creationTimestamp": "2026-12-02T08:00:00Z", "resourceVersion": "12", "uid": "u-1"},
        "type": "helm.sh/release.v1",
        "data": {"release": "SDRzSUFBQUFBQUFBLw=="},
        "immutable": false
    }));
    round_trip(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "op", "namespace": "ops", "generation": 3},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "op"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "op"}},
                "spec": {"containers": [{
                    "name": "op", "image": "ecs-operator:1",
                    "args": ["run", ""],
                    "ports": [{"containerPort": 8080, "name": "metrics"}],
                    "resources": {"limits": {"memory": "128Mi", "cpu": "500m"}},
                    "readinessProbe": {"httpGet": {"path": "/readyz", "port": "metrics"}, "periodSeconds": 5}
                }],
                "volumes": [{"name": "cfg", "configMap": {"name": "op-config"}}],
                "imagePullSecrets": [{"name": "pull"}]}
            }
        },
        "status": {"replicas": 1}
    }));
    round_trip(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "op"},
        "spec": {"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1"],
                 "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]}
    }));
    round_trip(json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "leader"},
        "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15,
                 "renewTime": "2026-12-02T08:00:01.250000Z"}
    }));
    round_trip(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "b"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "r"},
        "subjects": [{"kind": "ServiceAccount", "name": "op", "namespace": "ops"}]
    }));
    round_trip(json!({
        "apiVersion": "v1", "kind": "ConfigMapList",
        "metadata": {"resourceVersion": "40", "continue": "abc", "remainingItemCount": 2},
        "items": [{"metadata": {"name": "a", "managedFields": [{
            "manager": "kubectl", "operation": "Apply", "apiVersion": "v1",
            "time": "2026-12-02T08:00:00Z", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {"f:a": {}}}}]}, "data": {"a": "", "b": "2"}}]
    }));
    round_trip(json!({
        "apiVersion": "v1", "kind": "Status", "status": "Failure",
        "message": "configmaps \"a\" not found", "reason": "NotFound", "code": 404,
        "details": {"name": "a", "kind": "configmaps"}, "metadata": {}
    }));
}

#[test]
fn a_zero_time_and_empty_strings_read_as_absent() {
    // Go's encoder writes every non-pointer field: an empty name, a zero creationTimestamp.
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&[0x0a, 15, 0x0a, 2, b'v', b'1', 0x12, 9]);
    bytes.extend_from_slice(b"Namespace");
    // Namespace {metadata: {name: "a", generateName: "", creationTimestamp: {}}}
    bytes.extend_from_slice(&[0x12, 9, 0x0a, 7, 0x0a, 1, b'a', 0x12, 0, 0x42, 0]);
    let value = envelope::decode(&bytes, None).expect("decodes");
    assert_eq!(
        value,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}})
    );
}

#[test]
fn bad_bodies_name_the_problem() {
    assert_eq!(
        envelope::decode(b"{\"kind\":\"Secret\"}", None),
        Err(DecodeError::NoMagic)
    );
    assert!(matches!(
        envelope::decode(b"k8s\0\x0a\xff", None),
        Err(DecodeError::Envelope(_))
    ));
    let cr = envelope::encode(&json!({"apiVersion": "v1", "kind": "Namespace"}))
        .expect("encodes")
        .iter()
        .map(|b| if *b == b'N' { b'X' } else { *b })
        .collect::<Vec<u8>>();
    assert!(matches!(
        envelope::decode(&cr, None),
        Err(DecodeError::UnknownKind { kind, .. }) if kind == "Xamespace"
    ));
    let mismatch =
        envelope::encode(&json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": 1}}))
            .expect_err("a number is no string");
    assert!(mismatch.to_string().contains("data[\"a\"]"), "{mismatch}");
}

#[test]
fn client_go_accept_headers_prefer_protobuf_and_kubectl_get_does_not() {
    assert!(preferred("application/vnd.kubernetes.protobuf, */*"));
    assert!(preferred(
        "application/vnd.kubernetes.protobuf,application/json"
    ));
    assert!(!preferred(
        "application/json, application/vnd.kubernetes.protobuf"
    ));
    assert!(!preferred(
        "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    ));
    assert!(!preferred(""));
}

#[test]
fn watch_lines_become_length_prefixed_watch_events() {
    let lines = b"{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\"}}}\n";
    let frames = watch_frames(bytes::Bytes::from_static(lines));
    let length = u32::from_be_bytes(frames[..4].try_into().expect("4 bytes")) as usize;
    assert_eq!(length, frames.len() - 4);
    let (type_, object) = super::read_watch_frame(&frames[4..]).expect("a watch event");
    assert_eq!(type_, "ADDED");
    assert_eq!(object["metadata"]["name"], "a");
    assert_eq!(object["kind"], "ConfigMap");
}
