//! The HTTP server: the accept loop, one hyper HTTP/1.1 keep-alive connection task per client,
//! graceful shutdown, and the per-request pipeline (body size limit, request log, injected
//! faults, panic containment) around `routing::dispatch`. What the connections share is in
//! `context`.

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use http::{Response, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::TaskTracker;
use tracing::{debug, warn};

use crate::context::{Shared, lock};
use crate::error::ApiError;
use crate::protobuf;
use crate::routing;
use crate::wire::{self, Body, Query, Request};

/// Accepts connections until shutdown; each connection runs on `tracker`.
pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, tracker: TaskTracker) {
    loop {
        let accepted = tokio::select! {
            () = shared.shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _peer)) => {
                tracker.spawn(connection(stream, Arc::clone(&shared)));
            }
            Err(error) => {
                warn!(%error, "accepting a connection failed");
                // Out of file descriptors and the like: back off instead of spinning.
                tokio::select! {
                    () = shared.shutdown.cancelled() => break,
                    () = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
        }
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let shutdown = shared.shutdown.clone();
    let service = service_fn(move |req| {
        let shared = Arc::clone(&shared);
        async move { Ok::<_, Infallible>(handle(shared, req).await) }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(60))
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(error) = result {
                debug!(%error, "connection ended with an error");
            }
        }
        () = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

async fn read_request(
    shared: &Shared,
    req: hyper::Request<Incoming>,
) -> Result<Request, (Request, ApiError)> {
    let (parts, body) = req.into_parts();
    let header = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let raw_query = parts.uri.query().unwrap_or_default().to_owned();
    let mut request = Request {
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        query: Query::parse(&raw_query),
        raw_query,
        accept: header(header::ACCEPT),
        content_type: header(header::CONTENT_TYPE)
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned(),
        user_agent: header(header::USER_AGENT),
        body: bytes::Bytes::new(),
    };
    let limit = shared.config.max_body_bytes;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err((request, ApiError::too_large(limit)));
    }
    let collected =
        tokio::time::timeout(Duration::from_secs(60), Limited::new(body, limit).collect()).await;
    match collected {
        Ok(Ok(body)) => {
            request.body = body.to_bytes();
            Ok(request)
        }
        Ok(Err(error))
            if error
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err((request, ApiError::too_large(limit)))
        }
        Ok(Err(error)) => Err((
            request,
            ApiError::bad_request(format!("reading the request body failed: {error}")),
        )),
        Err(_) => Err((
            request,
            ApiError::bad_request("timed out reading the request body"),
        )),
    }
}

async fn handle(shared: Arc<Shared>, req: hyper::Request<Incoming>) -> Response<Body> {
    let mut request = match read_request(&shared, req).await {
        Ok(r) => r,
        Err((request, error)) => {
            shared.record(
                &request,
                &request.content_type,
                "application/json",
                error.code,
            );
            let mut resp = wire::error(&error);
            resp.headers_mut()
                .insert(header::CONNECTION, http::HeaderValue::from_static("close"));
            return resp;
        }
    };
    let sent_as = request.content_type.clone();
    if let Err(error) = protobuf::decode_request(&shared, &mut request) {
        debug!(method = %request.method, path = %request.path, %error, "unreadable protobuf body");
        let response = protobuf::encode_response(&shared, &request, wire::error(&error)).await;
        shared.record(&request, &sent_as, &response_type(&response), error.code);
        return response;
    }
    let target = if request.raw_query.is_empty() {
        request.path.clone()
    } else {
        format!("{}?{}", request.path, request.raw_query)
    };
    let hang = lock(&shared.hangs).take(&request.method, &request.path, &request.raw_query);
    if let Some(apply) = hang {
        debug!(method = %request.method, path = %request.path, apply, "leaving the request unanswered");
        if apply {
            let _ = AssertUnwindSafe(routing::dispatch(&shared, &request))
                .catch_unwind()
                .await;
        }
        shared.shutdown.cancelled().await;
        return wire::error(&ApiError::internal("the server shut down"));
    }
    let fault = lock(&shared.faults).take(&request.method, &target);
    let response = match fault {
        Some(error) => {
            debug!(method = %request.method, path = %request.path, code = error.code, "answering with an injected fault");
            wire::error(&error)
        }
        None => match AssertUnwindSafe(routing::dispatch(&shared, &request))
            .catch_unwind()
            .await
        {
            Ok(response) => response,
            Err(_) => {
                warn!(method = %request.method, path = %request.path, "request handler panicked");
                wire::error(&ApiError::internal(
                    "the server panicked while handling the request",
                ))
            }
        },
    };
    let response = protobuf::encode_response(&shared, &request, response).await;
    let code = response.status().as_u16();
    debug!(method = %request.method, path = %request.path, query = %request.raw_query, code, "served");
    shared.record(&request, &sent_as, &response_type(&response), code);
    response
}

fn response_type(response: &Response<Body>) -> String {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}
