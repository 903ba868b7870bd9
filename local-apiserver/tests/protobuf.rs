//! Protobuf on the wire: built-in kinds created, read, listed and watched in
//! `application/vnd.kubernetes.protobuf`; bad bodies answered with a Status naming the problem;
//! custom resources refused in protobuf and served as JSON, as Kubernetes does.

#[path = "common/mod.rs"]
mod common;

use http::{Method, Request, header};
use http_body_util::BodyExt;
use local_apiserver::LocalApiServer;
use local_apiserver::protobuf::{MEDIA_TYPE, decode_object, encode, read_watch_frame};
use serde_json::{Value, json};

struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    /// The body decoded from protobuf or JSON, by its media type.
    fn object(&self) -> Value {
        if self.content_type == MEDIA_TYPE {
            decode_object(&self.body).expect("a protobuf object")
        } else {
            serde_json::from_slice(&self.body).expect("a JSON object")
        }
    }
}

async fn send(
    server: &LocalApiServer,
    method: Method,
    path: &str,
    content_type: &str,
    accept: &str,
    body: Vec<u8>,
) -> Answer {
    send_with(&server.client(), method, path, content_type, accept, body).await
}

async fn send_with(
    client: &kube::Client,
    method: Method,
    path: &str,
    content_type: &str,
    accept: &str,
    body: Vec<u8>,
) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::ACCEPT, accept)
        .body(kube::client::Body::from(body))
        .expect("a request");
    let response = client.send(request).await.expect("an answer");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the body")
        .to_bytes()
        .to_vec();
    Answer {
        status,
        content_type,
        body,
    }
}

/// A protobuf field: tag (field number, wire type 2) and length-delimited bytes.
fn field(number: u8, bytes: &[u8]) -> Vec<u8> {
    let length = u8::try_from(bytes.len()).expect("short test fields");
    [&[number << 3 | 2, length][..], bytes].concat()
}

/// An envelope written by hand (runtime.Unknown {typeMeta {apiVersion, kind}, raw}).
fn envelope_of(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let type_meta = [field(1, api_version.as_bytes()), field(2, kind.as_bytes())].concat();
    [b"k8s\0".to_vec(), field(1, &type_meta), field(2, raw)].concat()
}

const CLIENT_GO: &str = "application/vnd.kubernetes.protobuf, */*";

fn config_map(name: &str) -> Vec<u8> {
    encode(&json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": "a"}},
        "data": {"key": "value"}, "binaryData": {"raw": "AAEC"}
    }))
    .expect("a ConfigMap encodes")
}

#[tokio::test]
async fn built_in_kinds_are_created_read_and_listed_in_protobuf() {
    let server = LocalApiServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("server");
    let path = "/api/v1/namespaces/default/configmaps";
    let created = send(
        &server,
        Method::POST,
        path,
        MEDIA_TYPE,
        CLIENT_GO,
        config_map("a"),
    )
    .await;
    assert_eq!(
        (created.status, created.content_type.as_str()),
        (201, MEDIA_TYPE)
    );
    let object = created.object();
    assert_eq!(object["kind"], "ConfigMap");
    assert_eq!(object["binaryData"]["raw"], "AAEC", "bytes survive");
    assert!(object["metadata"]["uid"].is_string(), "{object}");
    assert!(object["metadata"]["creationTimestamp"].is_string());

    // The same object read as JSON by a JSON client.
    let json = send(
        &server,
        Method::GET,
        &format!("{path}/a"),
        "",
        "application/json",
        vec![],
    )
    .await;
    assert_eq!(json.content_type, "application/json");
    assert_eq!(json.object()["data"], object["data"]);

    let list = send(&server, Method::GET, path, "", CLIENT_GO, vec![]).await;
    assert_eq!(list.content_type, MEDIA_TYPE);
    let list = list.object();
    assert_eq!(list["kind"], "ConfigMapList");
    assert_eq!(list["items"][0]["metadata"]["name"], "a");

    // An error answers as a protobuf Status.
    let missing = send(
        &server,
        Method::GET,
        &format!("{path}/nope"),
        "",
        CLIENT_GO,
        vec![],
    )
    .await;
    assert_eq!(
        (missing.status, missing.content_type.as_str()),
        (404, MEDIA_TYPE)
    );
    assert_eq!(missing.object()["reason"], "NotFound");

    // Custom resources stay JSON: a protobuf body is refused, a protobuf Accept gets JSON.
    let server_crd = common::server_with_crd().await;
    let cr_path = "/apis/demo.example.com/v1/namespaces/default/ecsservices";
    let cr = envelope_of("demo.example.com/v1", "EcsService", b"{}");
    let refused = send(
        &server_crd,
        Method::POST,
        cr_path,
        MEDIA_TYPE,
        CLIENT_GO,
        cr,
    )
    .await;
    assert_eq!(
        refused.status,
        415,
        "{:?}",
        String::from_utf8_lossy(&refused.body)
    );
    assert!(
        refused.object()["message"]
            .as_str()
            .is_some_and(|m| m.contains("only built-in kinds")),
    );
    let listed = send(&server_crd, Method::GET, cr_path, "", CLIENT_GO, vec![]).await;
    assert_eq!(
        (listed.status, listed.content_type.as_str()),
        (200, "application/json")
    );
    server_crd.shutdown().await;
    server.shutdown().await;
}

#[tokio::test]
async fn malformed_protobuf_bodies_answer_400_naming_the_problem() {
    let server = LocalApiServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("server");
    let path = "/api/v1/namespaces/default/configmaps";
    let good = config_map("a");
    for (body, expected) in [
        (b"{\"kind\":\"ConfigMap\"}".to_vec(), "expected prefix"),
        (good[..good.len() / 2].to_vec(), "malformed"),
        (
            [b"k8s\0".as_slice(), &[0x0a, 0x7f, 0x01]].concat(),
            "malformed",
        ),
    ] {
        let answer = send(
            &server,
            Method::POST,
            path,
            MEDIA_TYPE,
            "application/json",
            body,
        )
        .await;
        assert_eq!(
            answer.status,
            400,
            "{:?}",
            String::from_utf8_lossy(&answer.body)
        );
        let status = answer.object();
        assert_eq!(status["kind"], "Status");
        assert!(
            status["message"]
                .as_str()
                .is_some_and(|m| m.contains(expected)),
            "{status}"
        );
    }
    // Nothing was stored, and the server still serves.
    let list = send(&server, Method::GET, path, "", "application/json", vec![]).await;
    assert_eq!(list.object()["items"], json!([]));
    server.shutdown().await;
}

#[tokio::test]
async fn a_protobuf_watch_streams_length_prefixed_events() {
    let server = LocalApiServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("server");
    let path = "/api/v1/namespaces/default/configmaps";
    send(
        &server,
        Method::POST,
        path,
        MEDIA_TYPE,
        CLIENT_GO,
        config_map("a"),
    )
    .await;
    let watching = {
        let client = server.client();
        tokio::spawn(async move {
            send_with(
                &client,
                Method::GET,
                &format!("{path}?watch=true&timeoutSeconds=2&allowWatchBookmarks=true"),
                "",
                "application/vnd.kubernetes.protobuf;stream=watch, application/json",
                vec![],
            )
            .await
        })
    };
    // Once the watch is open, a second ConfigMap arrives through it.
    common::wait_for("the watch to start", common::DEADLINE, || {
        let started = server
            .requests()
            .iter()
            .any(|r| r.method == "GET" && r.query.contains("watch=true"));
        async move { started.then_some(()) }
    })
    .await;
    let api: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(server.client(), "default");
    let cm = serde_json::from_value(json!({"metadata": {"name": "b"}})).expect("cm");
    api.create(&Default::default(), &cm).await.expect("created");
    let watch = watching.await.expect("the watch ends at its timeout");
    assert_eq!(
        watch.content_type,
        "application/vnd.kubernetes.protobuf;stream=watch"
    );
    let mut events = Vec::new();
    let mut rest = watch.body.as_slice();
    while rest.len() >= 4 {
        let length = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        let (frame, tail) = rest[4..].split_at(length);
        let (type_, object) = read_watch_frame(frame).expect("a WatchEvent");
        events.push((type_, object["metadata"]["name"].clone()));
        rest = tail;
    }
    assert!(rest.is_empty(), "the stream ends on a frame boundary");
    assert_eq!(
        events,
        vec![
            ("ADDED".to_owned(), json!("a")),
            ("ADDED".to_owned(), json!("b"))
        ]
    );
    server.shutdown().await;
}
