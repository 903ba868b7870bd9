//! Kubernetes' protobuf wire format (`application/vnd.kubernetes.protobuf`) for the built-in
//! kinds, as client-go based tools (helm, kubectl's typed commands, informers) speak it. It sits
//! at the edge of the server: a protobuf request body becomes JSON before any handler sees it,
//! and a JSON answer becomes protobuf when the client prefers it, so JSON stays the one format
//! the handlers and the store know. Custom resources stay JSON, as in Kubernetes.

mod envelope;
mod json;
mod schema;
#[cfg(test)]
mod tests;

use bytes::Bytes;
use http::{HeaderValue, Response, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tracing::debug;

use crate::context::Shared;
use crate::error::ApiError;
use crate::paths::{self, Route};
use crate::wire::{Body, Request};

pub use envelope::{DecodeError, EncodeError, decode_object, encode, read_watch_frame};
pub use json::Mismatch;

/// The protobuf media type.
pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";
/// The media type of a protobuf watch stream.
const WATCH_MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf;stream=watch";

/// Whether the client prefers protobuf: the first media range of `accept` this server can
/// answer is protobuf (`application/vnd.kubernetes.protobuf, */*` from client-go).
pub(crate) fn preferred(accept: &str) -> bool {
    for range in accept.split(',') {
        let media = range.split(';').next().unwrap_or_default().trim();
        match media {
            MEDIA_TYPE => return true,
            "application/json" | "*/*" | "application/*" => return false,
            _ => {}
        }
    }
    false
}

/// Rewrites a protobuf request body as the JSON it encodes, so the handlers read it as any
/// other. The kind comes from the envelope (else from the resource the path names); a body
/// that is not an envelope, or a kind with no protobuf form (custom resources), is refused
/// with the Status Kubernetes answers: 400 or 415.
pub(crate) fn decode_request(shared: &Shared, req: &mut Request) -> Result<(), ApiError> {
    if req.content_type != MEDIA_TYPE || req.body.is_empty() {
        return Ok(());
    }
    let fallback = if req.method == http::Method::DELETE {
        Some(("v1".to_owned(), "DeleteOptions".to_owned()))
    } else {
        resource_kind(shared, &req.path)
    };
    let value = envelope::decode(
        &req.body,
        fallback.as_ref().map(|(v, k)| (v.as_str(), k.as_str())),
    )
    .map_err(|e| match e {
        DecodeError::UnknownKind { .. } => ApiError::unsupported_media_type(e.to_string()),
        _ => ApiError::bad_request(e.to_string()),
    })?;
    req.body = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
    req.content_type = "application/json".into();
    Ok(())
}

/// The apiVersion and kind of the built-in resource `path` addresses.
fn resource_kind(shared: &Shared, path: &str) -> Option<(String, String)> {
    let state = shared.state();
    let Some(Route::Resource(p)) = paths::parse(path, &state.registry) else {
        return None;
    };
    let info = state.registry.lookup(&p.group, &p.version, &p.plural)?;
    (!info.is_custom()).then(|| (info.api_version(&p.version), info.kind.clone()))
}

/// Whether `path` addresses a built-in resource (whose watch events all have a protobuf form).
fn is_builtin(shared: &Shared, path: &str) -> bool {
    resource_kind(shared, path).is_some()
}

/// The response in protobuf when the client prefers it and the JSON answer is a kind with a
/// protobuf form (objects, lists, Status, discovery); otherwise the JSON answer unchanged.
pub(crate) async fn encode_response(
    shared: &Shared,
    req: &Request,
    response: Response<Body>,
) -> Response<Body> {
    if !preferred(&req.accept)
        || response.headers().get(header::CONTENT_TYPE)
            != Some(&HeaderValue::from_static("application/json"))
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    if req.query.flag("watch") && parts.status.is_success() {
        if !is_builtin(shared, &req.path) {
            return Response::from_parts(parts, body);
        }
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(WATCH_MEDIA_TYPE),
        );
        let frames = body.map_frame(|frame| frame.map_data(watch_frames));
        return Response::from_parts(parts, frames.boxed_unsync());
    }
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    let encoded = serde_json::from_slice::<Value>(&bytes)
        .map_err(|e| e.to_string())
        .and_then(|value| envelope::encode(&value).map_err(|e| e.to_string()));
    match encoded {
        Ok(protobuf) => {
            parts
                .headers
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(
                parts,
                http_body_util::Full::new(Bytes::from(protobuf)).boxed_unsync(),
            )
        }
        Err(reason) => {
            debug!(path = %req.path, %reason, "answering in JSON: no protobuf form");
            Response::from_parts(parts, http_body_util::Full::new(bytes).boxed_unsync())
        }
    }
}

/// JSON watch lines as protobuf frames; a line that cannot be encoded becomes an ERROR event.
fn watch_frames(lines: Bytes) -> Bytes {
    let mut out = Vec::with_capacity(lines.len());
    for line in lines.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let frame = serde_json::from_slice::<Value>(line)
            .map_err(|e| e.to_string())
            .and_then(|event| envelope::watch_frame(&event).map_err(|e| e.to_string()));
        match frame {
            Ok(frame) => out.extend_from_slice(&frame),
            Err(reason) => {
                let status =
                    ApiError::internal(format!("a watch event has no protobuf form: {reason}"))
                        .to_status();
                let event = serde_json::json!({"type": "ERROR", "object": status});
                if let Ok(frame) = envelope::watch_frame(&event) {
                    out.extend_from_slice(&frame);
                }
            }
        }
    }
    Bytes::from(out)
}
