//! A webhook receiver on 127.0.0.1 for the sandbox and the tests: it keeps every JSON body
//! POSTed to it (with its path), answers 200, or 503 to the next requests of a path told to
//! fail, and can print each notification as it arrives (`ecs-operator local` does).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// One body received.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The request path.
    pub path: String,
    /// The body, parsed (`null` when it was not JSON).
    pub body: Value,
}

#[derive(Default)]
struct Shared {
    received: Vec<Received>,
    failures: BTreeMap<String, u32>,
    print: bool,
}

/// The running receiver; it stops when dropped.
pub struct WebhookReceiver {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WebhookReceiver {
    /// Listens on 127.0.0.1:`port` (a free port when 0).
    pub async fn start(port: u16) -> std::io::Result<WebhookReceiver> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let address = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Mutex::new(Shared::default()));
        let state = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(answer(req, &state).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(WebhookReceiver {
            address,
            shared,
            task,
        })
    }

    /// Prints each notification's summary as it arrives.
    pub fn print(&self) {
        self.lock().print = true;
    }

    /// The next `count` requests to `path` answer 503.
    pub fn fail_next(&self, path: &str, count: u32) {
        self.lock().failures.insert(path.to_owned(), count);
    }

    /// Everything accepted so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn answer(
    req: Request<hyper::body::Incoming>,
    state: &Mutex<Shared>,
) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    if req.method() != Method::POST {
        return respond(StatusCode::METHOD_NOT_ALLOWED, "POST only");
    }
    let Ok(body) = req.into_body().collect().await else {
        return respond(StatusCode::BAD_REQUEST, "unreadable body");
    };
    let body: Value = serde_json::from_slice(&body.to_bytes()).unwrap_or(Value::Null);
    let mut shared = state.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(left) = shared.failures.get_mut(&path).filter(|n| **n > 0) {
        *left -= 1;
        return respond(StatusCode::SERVICE_UNAVAILABLE, "receiver told to fail");
    }
    if shared.print {
        let summary = body["summary"]
            .as_str()
            .or(body["text"].as_str())
            .unwrap_or("(no summary)");
        println!("✉ Notification to {path}: {summary}");
    }
    shared.received.push(Received { path, body });
    respond(StatusCode::OK, "ok")
}

fn respond(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(Full::new(Bytes::from_static(text.as_bytes())))
        .expect("a valid response")
}
