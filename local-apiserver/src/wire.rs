//! The wire format: a parsed request (query parameters, Accept, Content-Type, body as JSON or
//! YAML) and response builders (JSON bodies, `Status` errors, `Warning` headers). Knows no
//! Kubernetes semantics beyond media types.

use std::collections::HashMap;
use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use serde_json::Value;

use crate::error::ApiError;

/// Response body: a full buffer or a watch stream.
pub(crate) type Body = UnsyncBoxBody<Bytes, Infallible>;

/// Query parameters (last value wins).
#[derive(Debug, Clone, Default)]
pub(crate) struct Query(HashMap<String, String>);

impl Query {
    /// Parses a raw query string.
    pub fn parse(raw: &str) -> Self {
        Self(
            form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `true`/`1` flags.
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("true" | "1"))
    }

    /// A non-negative integer parameter; 400 when it is not one.
    pub fn number(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.get(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("invalid value {v:?} for {name}"))),
        }
    }
}

/// How an object or list is presented, from the Accept header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presentation {
    Object,
    /// `as=PartialObjectMetadata[List]`.
    Metadata,
    /// `as=Table`.
    Table,
}

impl Presentation {
    /// The first supported presentation the Accept header asks for.
    pub fn from_accept(accept: &str) -> Self {
        for part in accept.split(',') {
            let params: Vec<&str> = part.split(';').map(str::trim).collect();
            if params.contains(&"as=Table") {
                return Self::Table;
            }
            if params.contains(&"as=PartialObjectMetadata")
                || params.contains(&"as=PartialObjectMetadataList")
            {
                return Self::Metadata;
            }
            if params
                .first()
                .is_some_and(|m| *m == "application/json" || *m == "*/*" || m.is_empty())
                && params.len() == 1
            {
                return Self::Object;
            }
        }
        Self::Object
    }
}

/// A request, read in full (watch requests have empty bodies).
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: Method,
    pub path: String,
    pub raw_query: String,
    pub query: Query,
    pub accept: String,
    /// The media type of the body, without parameters.
    pub content_type: String,
    pub user_agent: String,
    pub body: Bytes,
}

impl Request {
    /// The body as JSON, or YAML when the media type says so; `None` when empty.
    pub fn json_body(&self) -> Result<Option<Value>, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        if self.content_type.contains("protobuf") {
            return Err(ApiError::unsupported_media_type(format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {})",
                self.content_type
            )));
        }
        let json_err = match serde_json::from_slice::<Value>(&self.body) {
            Ok(v) => return Ok(Some(v)),
            Err(e) => e,
        };
        let yaml = self.content_type.contains("yaml");
        if yaml && let Ok(text) = std::str::from_utf8(&self.body) {
            return serde_saphyr::from_str::<Value>(text)
                .map(Some)
                .map_err(|e| ApiError::bad_request(format!("error decoding YAML body: {e}")));
        }
        Err(ApiError::bad_request(format!(
            "error decoding JSON body: {json_err}"
        )))
    }

    /// The field manager: `fieldManager`, else the User-Agent's product name.
    pub fn field_manager(&self) -> String {
        match self.query.get("fieldManager").filter(|m| !m.is_empty()) {
            Some(m) => m.to_owned(),
            None => self
                .user_agent
                .split('/')
                .next()
                .filter(|s| !s.is_empty())
                .unwrap_or("unknown")
                .to_owned(),
        }
    }

    /// `dryRun=All`.
    pub fn dry_run(&self) -> Result<bool, ApiError> {
        match self.query.get("dryRun") {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "unsupported dryRun value {other:?}; only \"All\" is supported"
            ))),
        }
    }
}

/// A JSON response from already-serialized bytes.
pub(crate) fn bytes_response(
    code: u16,
    content_type: &str,
    body: Vec<u8>,
    warnings: &[String],
) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::from(body)).boxed_unsync());
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/json")),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, private"),
    );
    for w in warnings {
        let sanitized: String = w
            .chars()
            .map(|c| {
                if c == '"' {
                    '\''
                } else if c.is_control() {
                    ' '
                } else {
                    c
                }
            })
            .collect();
        if let Ok(v) = HeaderValue::from_str(&format!("299 - \"{sanitized}\"")) {
            headers.append(header::WARNING, v);
        }
    }
    resp
}

/// A JSON response.
pub(crate) fn json(code: u16, value: &Value) -> Response<Body> {
    json_with(code, value, &[])
}

/// A JSON response with `Warning` headers.
pub(crate) fn json_with(code: u16, value: &Value, warnings: &[String]) -> Response<Body> {
    bytes_response(
        code,
        "application/json",
        serde_json::to_vec(value).unwrap_or_default(),
        warnings,
    )
}

/// The `Status` response for an error.
pub(crate) fn error(e: &ApiError) -> Response<Body> {
    json(e.code, &e.to_status())
}

/// A plain-text response (health checks).
pub(crate) fn text(code: u16, body: &'static str) -> Response<Body> {
    bytes_response(
        code,
        "text/plain; charset=utf-8",
        body.as_bytes().to_vec(),
        &[],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(content_type: &str, body: &str) -> Request {
        Request {
            method: Method::POST,
            path: "/api/v1/namespaces".into(),
            raw_query: String::new(),
            query: Query::default(),
            accept: String::new(),
            content_type: content_type.into(),
            user_agent: "kubectl/v1.32.4 (linux/amd64) kubernetes/abc".into(),
            body: Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn presentation_from_accept() {
        let table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(Presentation::from_accept(table), Presentation::Table);
        assert_eq!(
            Presentation::from_accept(
                "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
            ),
            Presentation::Metadata
        );
        assert_eq!(
            Presentation::from_accept("application/vnd.kubernetes.protobuf,application/json"),
            Presentation::Object
        );
        assert_eq!(Presentation::from_accept(""), Presentation::Object);
    }

    #[test]
    fn bodies_parse_as_json_or_yaml() {
        assert_eq!(
            request("application/json", "{\"a\":1}")
                .json_body()
                .unwrap(),
            Some(serde_json::json!({"a": 1}))
        );
        assert_eq!(
            request("application/apply-patch+yaml", "a: 1\nb: [x]\n")
                .json_body()
                .unwrap(),
            Some(serde_json::json!({"a": 1, "b": ["x"]}))
        );
        assert_eq!(
            request("application/json", "{\"a\":")
                .json_body()
                .unwrap_err()
                .code,
            400
        );
        assert_eq!(
            request("application/yaml", "a: [unclosed")
                .json_body()
                .unwrap_err()
                .code,
            400
        );
        assert_eq!(
            request("application/vnd.kubernetes.protobuf", "k8s\0")
                .json_body()
                .unwrap_err()
                .code,
            415
        );
        assert_eq!(request("application/json", "  ").json_body().unwrap(), None);
    }

    #[test]
    fn field_manager_defaults_to_the_user_agent_product() {
        assert_eq!(request("", "").field_manager(), "kubectl");
        let mut r = request("", "");
        r.query =
            Query::parse("fieldManager=ecs-operator&limit=5&labelSelector=app+in+%28a%2Cb%29");
        assert_eq!(r.field_manager(), "ecs-operator");
        assert_eq!(r.query.number("limit").unwrap(), Some(5));
        assert_eq!(r.query.get("labelSelector"), Some("app in (a,b)"));
        r.query = Query::parse("limit=lots");
        assert_eq!(r.query.number("limit").unwrap_err().code, 400);
    }
}
