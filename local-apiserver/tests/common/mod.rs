//! Helpers shared by the integration tests: a started server with the test CRD, a dynamic API
//! for its custom resources, and polling for a condition with a deadline.

#![allow(dead_code, missing_docs)]

use std::future::Future;
use std::time::Duration;

use kube::api::{Api, ApiResource, DynamicObject};
use kube::core::GroupVersionKind;
use local_apiserver::LocalApiServer;
use serde_json::Value;

/// The test CRD (printer columns, status subresource, defaults, CEL rules).
pub const CRD_YAML: &str = include_str!("../fixtures/crd.yaml");

/// The test CRD as JSON.
pub fn crd() -> Value {
    serde_saphyr::from_str(CRD_YAML).expect("the fixture CRD is valid YAML")
}

/// A server on a free port with the test CRD installed.
pub async fn server_with_crd() -> LocalApiServer {
    let server = LocalApiServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("server starts");
    server
        .install_crd(&crd())
        .expect("the fixture CRD installs");
    server
}

/// The `demo.example.com/v1` EcsService resource.
pub fn ecs_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("demo.example.com", "v1", "EcsService"),
        "ecsservices",
    )
}

/// EcsServices in `default`.
pub fn ecs_api(server: &LocalApiServer) -> Api<DynamicObject> {
    Api::namespaced_with(server.client(), "default", &ecs_resource())
}

/// An EcsService object.
pub fn ecs(name: &str, spec: Value) -> DynamicObject {
    let mut obj = DynamicObject::new(name, &ecs_resource()).within("default");
    obj.data = serde_json::json!({ "spec": spec });
    obj
}

/// Polls `check` until it yields a value; panics naming `what` after `deadline`.
pub async fn wait_for<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = tokio::time::Instant::now();
    let mut poll = tokio::time::interval(Duration::from_millis(25));
    loop {
        poll.tick().await;
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            start.elapsed() < deadline,
            "timed out after {deadline:?} waiting for {what}"
        );
    }
}

/// The default deadline for a condition in these tests.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// A response read off a raw socket.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The body as JSON (panics when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Sends `method path` with `body` over a fresh connection (`Connection: close`) and reads the
/// whole response; panics if the server does not answer within 10 s or drops the connection.
pub async fn raw(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> RawResponse {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\nUser-Agent: raw-test/1\r\n\r\n",
        body.len()
    );
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.write_all(head.as_bytes()).await.expect("write head");
        // The server may answer (e.g. 413) before the body is read; a failed body write is fine.
        let _ = stream.write_all(body).await;
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out).await;
        out
    };
    let out = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .unwrap_or_else(|_| panic!("{method} {path} hung"));
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("{method} {path}: no HTTP response: {out:?}"));
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    RawResponse {
        status,
        head,
        body: out[split + 4..].to_vec(),
    }
}
