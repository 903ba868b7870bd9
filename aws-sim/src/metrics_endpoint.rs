//! The simulated traffic as a Prometheus scrape target: `GET /metrics` answers
//! `SimAws::prometheus_exposition` (text format 0.0.4), anything else 404. For the sandbox and
//! the tests of Prometheus-based metric analysis; serves only what the account already records.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use crate::account::SimAws;
use crate::cloudwatch::exposition::CONTENT_TYPE;

/// Serves `/metrics` of `sim` on `listener` until the returned task is aborted.
pub fn serve(sim: SimAws, listener: tokio::net::TcpListener) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "metrics endpoint: accept failed");
                    continue;
                }
            };
            let sim = sim.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let answer = route(&req, &sim);
                    async move { Ok::<_, Infallible>(answer) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

/// The answer to one request.
fn route<B>(req: &Request<B>, sim: &SimAws) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match (req.method(), req.uri().path()) {
        (&Method::GET, "/metrics") => (StatusCode::OK, CONTENT_TYPE, sim.prometheus_exposition()),
        _ => (StatusCode::NOT_FOUND, "text/plain", "not found".to_owned()),
    };
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response")
}
