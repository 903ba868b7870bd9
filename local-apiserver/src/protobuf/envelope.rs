//! The protobuf envelope of one object: the magic `k8s\0`, then a `runtime.Unknown` holding the
//! object's `apiVersion` and `kind` and its message bytes. Watch events are the exception: a
//! length-prefixed `WatchEvent` without envelope, whose object carries one.

use bytes::Bytes;
use prost::Message;
use prost_reflect::{DynamicMessage, Value as Proto};
use serde_json::Value;

use super::json::{self, Mismatch};
use super::schema::{self, META, RUNTIME};

/// What every protobuf body starts with.
pub(crate) const MAGIC: &[u8; 4] = b"k8s\0";

/// Why a protobuf body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error(
        "provided data does not appear to be a protobuf message, expected prefix {:?}",
        MAGIC
    )]
    /// The body does not start with `k8s\0`.
    NoMagic,
    /// The `runtime.Unknown` after the magic does not decode.
    #[error("the protobuf envelope (runtime.Unknown) is malformed: {0}")]
    Envelope(String),
    /// The envelope names a kind with no protobuf form (a custom resource, an unserved group).
    #[error(
        "no protobuf form for {api_version:?} {kind:?}: only built-in kinds are served in protobuf; send application/json"
    )]
    UnknownKind {
        /// The envelope's apiVersion.
        api_version: String,
        /// The envelope's kind.
        kind: String,
    },
    /// The object's message bytes do not decode as that kind.
    #[error("the protobuf body of {kind} is malformed: {message}")]
    Body {
        /// The envelope's kind.
        kind: String,
        /// What the decoder found.
        message: String,
    },
}

/// An enveloped body read back as JSON (with `apiVersion` and `kind` set).
pub fn decode_object(body: &[u8]) -> Result<Value, DecodeError> {
    decode(body, None)
}

/// An enveloped body read back as JSON (with `apiVersion` and `kind` set); `fallback` is the
/// apiVersion and kind to assume when the envelope names none.
pub(crate) fn decode(body: &[u8], fallback: Option<(&str, &str)>) -> Result<Value, DecodeError> {
    let rest = body.strip_prefix(MAGIC).ok_or(DecodeError::NoMagic)?;
    let unknown = DynamicMessage::decode(schema::apimachinery(RUNTIME, "Unknown"), rest)
        .map_err(|e| DecodeError::Envelope(e.to_string()))?;
    let type_meta = unknown
        .get_field_by_name("typeMeta")
        .and_then(|v| v.as_message().cloned());
    let text = |name: &str| {
        type_meta
            .as_ref()
            .and_then(|m| m.get_field_by_name(name))
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let (mut api_version, mut kind) = (text("apiVersion"), text("kind"));
    if kind.is_empty()
        && let Some((v, k)) = fallback
    {
        (api_version, kind) = (v.to_owned(), k.to_owned());
    }
    let desc =
        schema::message_for(&api_version, &kind).ok_or_else(|| DecodeError::UnknownKind {
            api_version: api_version.clone(),
            kind: kind.clone(),
        })?;
    let raw = unknown
        .get_field_by_name("raw")
        .and_then(|v| v.as_bytes().cloned())
        .unwrap_or_default();
    let object = DynamicMessage::decode(desc, raw).map_err(|e| DecodeError::Body {
        kind: kind.clone(),
        message: e.to_string(),
    })?;
    let mut value = json::to_json(&object);
    if let Value::Object(fields) = &mut value {
        fields.insert("apiVersion".into(), Value::String(api_version));
        fields.insert("kind".into(), Value::String(kind));
    }
    Ok(value)
}

/// Why a JSON object has no protobuf encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// apiVersion and kind of an object with no protobuf form.
    #[error("{0:?} {1:?} has no protobuf form")]
    NoSchema(String, String),
    /// A JSON value the message cannot hold.
    #[error(transparent)]
    Mismatch(#[from] Mismatch),
}

/// The message bytes of `object` (no envelope), and its apiVersion and kind.
fn message_bytes(object: &Value) -> Result<(Vec<u8>, String, String), EncodeError> {
    let text = |name: &str| object.get(name).and_then(Value::as_str).unwrap_or_default();
    let (api_version, kind) = (text("apiVersion").to_owned(), text("kind").to_owned());
    let desc = schema::message_for(&api_version, &kind)
        .ok_or_else(|| EncodeError::NoSchema(api_version.clone(), kind.clone()))?;
    Ok((
        json::from_json(&desc, object)?.encode_to_vec(),
        api_version,
        kind,
    ))
}

/// `object` (a JSON object with `apiVersion` and `kind`) in its envelope.
pub fn encode(object: &Value) -> Result<Vec<u8>, EncodeError> {
    let (raw, api_version, kind) = message_bytes(object)?;
    let type_meta_desc = schema::apimachinery(RUNTIME, "TypeMeta");
    let mut type_meta = DynamicMessage::new(type_meta_desc);
    type_meta.set_field_by_name("apiVersion", Proto::String(api_version));
    type_meta.set_field_by_name("kind", Proto::String(kind));
    let mut unknown = DynamicMessage::new(schema::apimachinery(RUNTIME, "Unknown"));
    unknown.set_field_by_name("typeMeta", Proto::Message(type_meta));
    unknown.set_field_by_name("raw", Proto::Bytes(Bytes::from(raw)));
    unknown.set_field_by_name("contentEncoding", Proto::String(String::new()));
    unknown.set_field_by_name("contentType", Proto::String(String::new()));
    let mut out = Vec::with_capacity(MAGIC.len() + unknown.encoded_len());
    out.extend_from_slice(MAGIC);
    unknown.encode(&mut out).expect("a Vec grows to any length");
    Ok(out)
}

/// One watch event (`{"type": …, "object": …}`) as a protobuf stream frame: a 4-byte big-endian
/// length, then a `WatchEvent` whose object is the enveloped object.
pub(crate) fn watch_frame(event: &Value) -> Result<Vec<u8>, EncodeError> {
    let type_ = event
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let object = encode(event.get("object").unwrap_or(&Value::Null))?;
    let mut raw = DynamicMessage::new(schema::apimachinery(RUNTIME, "RawExtension"));
    raw.set_field_by_name("raw", Proto::Bytes(Bytes::from(object)));
    let mut watch_event = DynamicMessage::new(schema::apimachinery(META, "WatchEvent"));
    watch_event.set_field_by_name("type", Proto::String(type_));
    watch_event.set_field_by_name("object", Proto::Message(raw));
    let body = watch_event.encode_to_vec();
    let length = u32::try_from(body.len()).map_err(|_| {
        EncodeError::Mismatch(Mismatch {
            path: "<root>".into(),
            problem: "a watch event over 4 GiB".into(),
        })
    })?;
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Reads one watch stream frame back (tests and clients of this crate): the event type and the
/// object as JSON.
pub fn read_watch_frame(frame: &[u8]) -> Result<(String, Value), DecodeError> {
    let envelope = |e: prost::DecodeError| DecodeError::Envelope(e.to_string());
    let watch_event = DynamicMessage::decode(schema::apimachinery(META, "WatchEvent"), frame)
        .map_err(envelope)?;
    let type_ = watch_event
        .get_field_by_name("type")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let raw = watch_event
        .get_field_by_name("object")
        .and_then(|v| v.as_message().cloned())
        .and_then(|m| {
            m.get_field_by_name("raw")
                .and_then(|v| v.as_bytes().cloned())
        })
        .unwrap_or_default();
    Ok((type_, decode(&raw, None)?))
}
