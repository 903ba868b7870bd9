//! Benchmark (not a timed test): `cargo bench -p local-apiserver --bench protobuf`. Secrets
//! created and listed in JSON and in protobuf (`application/vnd.kubernetes.protobuf`, as
//! client-go's typed clients and helm send them): creates/s, list latency and list size for each
//! format. Client and server share this process.

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use http::{Method, Request, header};
use http_body_util::BodyExt;
use local_apiserver::LocalApiServer;
use local_apiserver::protobuf::{MEDIA_TYPE, encode};
use serde_json::{Value, json};

const SECRETS: usize = 2_000;
const CONCURRENCY: usize = 32;
const LISTS: usize = 20;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run());
}

/// A helm-release-sized Secret: labels and 4 KiB of data.
fn secret(namespace: &str, i: usize) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
        "metadata": {"name": format!("sh.helm.release.v1.app-{i}.v1"), "namespace": namespace,
                     "labels": {"owner": "helm", "name": format!("app-{i}"), "status": "deployed"}},
        "data": {"release": "QUFB".repeat(1024)}
    })
}

/// One request; the status and body size.
async fn send(
    client: &kube::Client,
    method: Method,
    path: &str,
    format: &str,
    body: Vec<u8>,
) -> (u16, usize) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, format)
        .header(header::ACCEPT, format)
        .body(kube::client::Body::from(body))
        .expect("a request");
    let response = client.send(request).await.expect("an answer");
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, body.len())
}

async fn create_all(client: &kube::Client, namespace: &str, format: &'static str) -> Duration {
    let path = format!("/api/v1/namespaces/{namespace}/secrets");
    let bodies: Vec<Vec<u8>> = (0..SECRETS)
        .map(|i| {
            let object = secret(namespace, i);
            if format == MEDIA_TYPE {
                encode(&object).expect("a Secret encodes")
            } else {
                serde_json::to_vec(&object).expect("JSON")
            }
        })
        .collect();
    let started = Instant::now();
    futures::stream::iter(bodies)
        .map(|body| {
            let (client, path) = (client.clone(), path.clone());
            async move {
                let (status, _) = send(&client, Method::POST, &path, format, body).await;
                if status == 201 { Ok(()) } else { Err(status) }
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_for_each(|()| async { Ok(()) })
        .await
        .expect("every create succeeds");
    started.elapsed()
}

async fn run() {
    let server = LocalApiServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("server starts");
    let client = server.client();
    println!(
        "protobuf vs JSON: {SECRETS} Secrets (4 KiB data each) per format, {CONCURRENCY} in flight, {} cores, client and server in one process",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for (namespace, format) in [("json", "application/json"), ("protobuf", MEDIA_TYPE)] {
        let ns = serde_json::to_vec(
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
        )
        .expect("JSON");
        send(
            &client,
            Method::POST,
            "/api/v1/namespaces",
            "application/json",
            ns,
        )
        .await;
        let elapsed = create_all(&client, namespace, format).await;
        let path = format!("/api/v1/namespaces/{namespace}/secrets");
        let started = Instant::now();
        let mut size = 0;
        for _ in 0..LISTS {
            let (status, bytes) = send(&client, Method::GET, &path, format, vec![]).await;
            assert_eq!(status, 200);
            size = bytes;
        }
        let per_list = started.elapsed() / LISTS as u32;
        println!(
            "{namespace:>8}: creates {:.0}/s ({SECRETS} in {:.2} s); list of {SECRETS} in {:.1} ms, {:.1} MiB",
            SECRETS as f64 / elapsed.as_secs_f64(),
            elapsed.as_secs_f64(),
            per_list.as_secs_f64() * 1000.0,
            size as f64 / (1024.0 * 1024.0)
        );
    }
    server.shutdown().await;
}
