//! The preview endpoint: `POST /v1/preview` with a [`PreviewRequest`] answers a
//! [`PreviewResponse`]. It listens on its own address, on the loopback interface by default,
//! so only the pod itself (and `kubectl port-forward`, which RBAC guards) reaches it: the
//! answer shows AWS state of every bound account.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio_util::sync::CancellationToken;

use super::model::PreviewRequest;
use super::objects::preview;
use crate::controllers::Context;

/// The path of the endpoint.
pub const PATH: &str = "/v1/preview";
/// Largest request body accepted.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// The controllers' context while they run (the endpoint answers 503 otherwise).
#[derive(Default)]
pub struct PreviewSlot(Mutex<Option<Arc<Context>>>);

impl std::fmt::Debug for PreviewSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let filled = self.context().is_some();
        f.debug_struct("PreviewSlot")
            .field("filled", &filled)
            .finish()
    }
}

impl PreviewSlot {
    /// Publishes the context of controllers that (re)started.
    pub fn fill(&self, ctx: Arc<Context>) {
        *self.0.lock().expect("preview slot lock") = Some(ctx);
    }

    /// The context, when the controllers run.
    fn context(&self) -> Option<Arc<Context>> {
        self.0.lock().expect("preview slot lock").clone()
    }
}

/// Serves the endpoint on `addr` until `token` is cancelled. Returns the bound address.
pub async fn serve(
    addr: SocketAddr,
    slot: Arc<PreviewSlot>,
    token: CancellationToken,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let (stream, _) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(error) => {
                        tracing::warn!(%error, "preview accept failed");
                        continue;
                    }
                },
                () = token.cancelled() => return,
            };
            let slot = slot.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let slot = slot.clone();
                    async move { Ok::<_, std::convert::Infallible>(answer(req, &slot).await) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(bound)
}

async fn answer(req: Request<hyper::body::Incoming>, slot: &PreviewSlot) -> Response<Full<Bytes>> {
    if req.uri().path() != PATH {
        return reply(StatusCode::NOT_FOUND, "not found".into());
    }
    if req.method() != Method::POST {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "POST a PreviewRequest".into(),
        );
    }
    let Some(ctx) = slot.context() else {
        return reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "the controllers are not running yet (waiting for the caches or the leader lease)"
                .into(),
        );
    };
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) => {
            return reply(
                StatusCode::BAD_REQUEST,
                format!("cannot read the body: {e}"),
            );
        }
    };
    let request: PreviewRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return reply(
                StatusCode::BAD_REQUEST,
                format!("not a PreviewRequest: {e}"),
            );
        }
    };
    let response = preview(&ctx, &request).await;
    tracing::info!(objects = response.objects.len(), "previewed");
    match serde_json::to_string(&response) {
        Ok(json) => Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(json)))
            .expect("a valid response"),
        Err(e) => reply(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn reply(status: StatusCode, text: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(Full::new(Bytes::from(text)))
        .expect("a valid response")
}
