//! Bad input never panics, hangs or drops a connection: random and truncated bodies, absurd
//! query strings, deep nesting and huge payloads all get a `Status` (4xx), and afterwards the
//! server still answers and its state is unchanged.

mod common;

use common::{ecs, ecs_api, raw, server_with_crd};
use kube::api::PostParams;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const CM: &str = "/api/v1/namespaces/default/configmaps";
const ECS: &str = "/apis/demo.example.com/v1/namespaces/default/ecsservices";

/// Opens a watch, returns its response head and hangs up.
async fn watch_head(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    let read = async {
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).await.expect("read") == 1 {
            head.push(byte[0]);
        }
    };
    tokio::time::timeout(common::DEADLINE, read)
        .await
        .expect("a response head");
    String::from_utf8_lossy(&head).into_owned()
}

fn assert_status(resp: &common::RawResponse, what: &str) {
    assert!(
        (400..500).contains(&resp.status),
        "{what}: expected a 4xx, got {}: {}",
        resp.status,
        String::from_utf8_lossy(&resp.body)
    );
    let status = resp.json();
    assert_eq!(status["kind"], "Status", "{what}");
    assert_eq!(status["code"], resp.status, "{what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_gets_status_errors_and_leaves_state_intact() {
    let server = server_with_crd().await;
    let addr = server.addr();
    let api = ecs_api(&server);
    api.create(
        &PostParams::default(),
        &ecs("keep", json!({"image": "nginx", "replicas": 2})),
    )
    .await
    .expect("create");
    let before = serde_json::to_value(api.get("keep").await.expect("get")).expect("json");
    let rv_before = server.resource_version();

    let mut rng = StdRng::seed_from_u64(0x5eed);
    let valid = serde_json::to_vec(
        &json!({"apiVersion": "demo.example.com/v1", "kind": "EcsService",
        "metadata": {"name": "x"}, "spec": {"image": "nginx", "replicas": 1}}),
    )
    .expect("json");
    let targets = [
        ("POST", ECS.to_owned(), "application/json"),
        ("POST", CM.to_owned(), "application/json"),
        ("PUT", format!("{ECS}/keep"), "application/json"),
        (
            "PATCH",
            format!("{ECS}/keep"),
            "application/merge-patch+json",
        ),
        (
            "PATCH",
            format!("{ECS}/keep"),
            "application/json-patch+json",
        ),
        (
            "PATCH",
            format!("{ECS}/keep?fieldManager=fuzz"),
            "application/apply-patch+yaml",
        ),
        (
            "PATCH",
            format!("{ECS}/keep/status"),
            "application/merge-patch+json",
        ),
        ("DELETE", format!("{ECS}/keep"), "application/json"),
        (
            "POST",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions".to_owned(),
            "application/yaml",
        ),
    ];
    for round in 0..40 {
        for (method, path, content_type) in &targets {
            // Random bytes, or a valid body cut short.
            let body: Vec<u8> = if round % 2 == 0 {
                (0..rng.random_range(1..2048))
                    .map(|_| rng.random::<u8>())
                    .collect()
            } else {
                valid[..rng.random_range(1..valid.len() - 1)].to_vec()
            };
            let resp = raw(addr, method, path, content_type, &body).await;
            assert_status(&resp, &format!("{method} {path} round {round}"));
        }
    }

    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_status(
        &raw(addr, "POST", CM, "application/json", deep_json.as_bytes()).await,
        "deep JSON",
    );
    let deep_yaml = format!("a: {}1{}", "[".repeat(20_000), "]".repeat(20_000));
    assert_status(
        &raw(addr, "POST", CM, "application/yaml", deep_yaml.as_bytes()).await,
        "deep YAML",
    );
    let anchors = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    let resp = raw(
        addr,
        "PATCH",
        &format!("{CM}/x?fieldManager=fuzz"),
        "application/apply-patch+yaml",
        anchors.as_bytes(),
    )
    .await;
    assert!(resp.status < 500, "YAML alias bomb: {}", resp.status);

    // Huge payloads: 413 before or while reading.
    let huge = vec![b' '; 4 * 1024 * 1024];
    let resp = raw(addr, "POST", CM, "application/json", &huge).await;
    assert_eq!(resp.status, 413);
    assert_eq!(resp.json()["reason"], "RequestEntityTooLarge");
    let big_object =
        json!({"metadata": {"name": "big"}, "data": {"blob": "x".repeat(3 * 1024 * 1024)}});
    assert_eq!(
        raw(
            addr,
            "POST",
            CM,
            "application/json",
            &serde_json::to_vec(&big_object).expect("json")
        )
        .await
        .status,
        413
    );

    // Absurd query strings.
    let long_selector = format!("labelSelector={}", "a".repeat(20_000));
    let queries = [
        "limit=-1",
        "limit=abc",
        "limit=999999999999999999999999",
        "continue=%%%",
        "continue=deadbeef",
        "labelSelector=%3D%3D%3D",
        "labelSelector=a+in+b",
        "fieldSelector=nonsense",
        "watch=true&resourceVersion=abc",
        "watch=true&timeoutSeconds=-5",
        "fieldValidation=Sometimes",
        "dryRun=Maybe",
        long_selector.as_str(),
    ];
    for q in queries {
        let method = if q.starts_with("fieldValidation") || q.starts_with("dryRun") {
            "POST"
        } else {
            "GET"
        };
        let resp = raw(
            addr,
            method,
            &format!("{ECS}?{q}"),
            "application/json",
            valid.as_slice(),
        )
        .await;
        assert_status(&resp, q);
    }
    let resp = raw(
        addr,
        "GET",
        &format!("{ECS}?limit=1&labelSelector=&{}", "x=y&".repeat(2000)),
        "application/json",
        b"",
    )
    .await;
    assert_eq!(resp.status, 200, "unknown parameters are ignored");

    // Bodies of the wrong shape for what clients decode.
    for bad in [
        json!({"metadata": {"name": "shape", "labels": "x"}}),
        json!({"metadata": {"name": "shape", "finalizers": {"a": 1}}}),
        json!({"metadata": {"name": "shape"}, "data": {"k": 1}}),
        json!({"metadata": "shape"}),
    ] {
        let resp = raw(
            addr,
            "POST",
            CM,
            "application/json",
            &serde_json::to_vec(&bad).expect("json"),
        )
        .await;
        assert_status(&resp, &bad.to_string());
    }
    let labels = serde_json::to_vec(&json!({"metadata": {"labels": ["x"]}})).expect("json");
    let resp = raw(
        addr,
        "PATCH",
        &format!("{ECS}/keep"),
        "application/merge-patch+json",
        &labels,
    )
    .await;
    assert_status(&resp, "labels patched to a list");

    // A watch with an absurd timeout starts (and is dropped by the client).
    let head = watch_head(
        addr,
        &format!("{ECS}?watch=true&timeoutSeconds=18446744073709551615"),
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    // Wrong media types, methods and paths.
    assert_eq!(
        raw(
            addr,
            "PATCH",
            &format!("{ECS}/keep"),
            "application/strategic-merge-patch+json",
            b"{}"
        )
        .await
        .status,
        415
    );
    assert_eq!(
        raw(addr, "PATCH", &format!("{ECS}/keep"), "text/plain", b"{}")
            .await
            .status,
        415
    );
    assert_eq!(
        raw(
            addr,
            "POST",
            CM,
            "application/vnd.kubernetes.protobuf",
            b"k8s\x00junk"
        )
        .await
        .status,
        400,
        "a malformed protobuf body is a bad request"
    );
    assert_eq!(
        raw(
            addr,
            "POST",
            &format!("{ECS}/keep"),
            "application/json",
            b"{}"
        )
        .await
        .status,
        405
    );
    assert_eq!(
        raw(
            addr,
            "GET",
            "/apis/nope.example.com/v1/things",
            "application/json",
            b""
        )
        .await
        .status,
        404
    );
    assert_eq!(
        raw(
            addr,
            "GET",
            "/apis/demo.example.com/v1/namespaces/default/ecsservices/keep/scale",
            "",
            b""
        )
        .await
        .status,
        404
    );
    assert_eq!(
        raw(addr, "GET", "/%ZZ/..%2F..%2Fetc/passwd", "", b"")
            .await
            .status,
        404
    );
    let apply_without_manager = raw(
        addr,
        "PATCH",
        &format!("{ECS}/keep"),
        "application/apply-patch+yaml",
        &valid,
    )
    .await;
    assert_eq!(apply_without_manager.status, 400);

    // Still serving, nothing changed.
    assert_eq!(raw(addr, "GET", "/version", "", b"").await.status, 200);
    let after: Value = serde_json::to_value(api.get("keep").await.expect("get")).expect("json");
    assert_eq!(before, after, "the object survived untouched");
    assert_eq!(
        server.resource_version(),
        rv_before,
        "no failed request wrote anything"
    );
    let names: Vec<String> = api
        .list(&Default::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|o| o.metadata.name)
        .collect();
    assert_eq!(names, ["keep"]);
    server.shutdown().await;
}
