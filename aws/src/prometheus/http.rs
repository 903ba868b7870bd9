//! `HttpPrometheus`, the real `PrometheusApi`: one `GET {address}/api/v1/query` per query over
//! hyper (rustls with ring and the platform's root certificates; http and https), carrying a
//! bearer token or a SigV4 signature made from the account's credentials, within the query's
//! timeout. Turning the JSON answer into samples is `answer`'s job; what the samples mean is the
//! analysis's, not this module's. No error message ever contains the bearer token.

mod answer;
#[cfg(test)]
mod tests;

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_types::error::display::DisplayErrorContext;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::{PrometheusApi, PrometheusQuery, QueryError, Sample, SigV4};

/// The largest answer read; a query selecting more series than this holds is a mistake.
pub const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// Credentials that do not say when they expire are asked for again after this long.
const CREDENTIALS_REUSE: Duration = Duration::from_secs(15 * 60);

/// Expiring credentials are asked for again this long before they expire.
const CREDENTIALS_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Queries a Prometheus server over HTTP(S). Connections are not pooled (one per query), so one
/// value may be used from any Tokio runtime.
pub struct HttpPrometheus {
    credentials: Option<SharedCredentialsProvider>,
    cached: tokio::sync::Mutex<Option<CachedCredentials>>,
}

struct CachedCredentials {
    credentials: Credentials,
    fresh_until: SystemTime,
}

impl HttpPrometheus {
    /// A client that signs SigV4 queries with `credentials` (queries asking for SigV4 fail
    /// with code `sigv4` when there are none).
    pub fn new(credentials: Option<SharedCredentialsProvider>) -> Self {
        Self {
            credentials,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    async fn run(&self, query: &PrometheusQuery) -> Result<Vec<Sample>, QueryError> {
        let mut request = build_request(query)?;
        if let Some(sigv4) = &query.sigv4 {
            let credentials = self.credentials().await?;
            sign_request(&mut request, sigv4, credentials)?;
        }
        let (status, body) = send(request, &query.address).await?;
        answer::parse(status, &body)
    }

    /// The provider's credentials, reused until shortly before they expire (the provider may
    /// call STS each time it is asked).
    async fn credentials(&self) -> Result<Credentials, QueryError> {
        let provider = self.credentials.as_ref().ok_or_else(|| {
            error(
                "sigv4",
                "SigV4 signing was asked for, but no AWS credentials are configured",
            )
        })?;
        let mut cached = self.cached.lock().await;
        let now = SystemTime::now();
        if let Some(c) = cached.as_ref()
            && c.fresh_until > now
        {
            return Ok(c.credentials.clone());
        }
        let credentials = provider.provide_credentials().await.map_err(|e| {
            error(
                "sigv4",
                format!(
                    "no AWS credentials to sign with: {}",
                    DisplayErrorContext(&e)
                ),
            )
        })?;
        let fresh_until = match credentials.expiry() {
            Some(expiry) => expiry.checked_sub(CREDENTIALS_MARGIN).unwrap_or(now),
            None => now + CREDENTIALS_REUSE,
        };
        *cached = Some(CachedCredentials {
            credentials: credentials.clone(),
            fresh_until,
        });
        Ok(credentials)
    }
}

#[async_trait]
impl PrometheusApi for HttpPrometheus {
    async fn query(&self, query: &PrometheusQuery) -> Result<Vec<Sample>, QueryError> {
        // A zero timeout would fail every query before it is sent.
        let secs = query.timeout_secs.max(1);
        match tokio::time::timeout(Duration::from_secs(secs), self.run(query)).await {
            Ok(result) => result,
            Err(_) => Err(error(
                "timeout",
                format!("{} did not answer within {secs}s", query.address),
            )),
        }
    }
}

/// The GET, with the bearer token when there is one.
fn build_request(query: &PrometheusQuery) -> Result<http::Request<Empty<Bytes>>, QueryError> {
    if query.sigv4.is_some() && query.bearer_token.is_some() {
        return Err(error(
            "config",
            "both SigV4 and a bearer token are set; a query is authorized by one of them",
        ));
    }
    let url = query_url(&query.address, &query.query);
    let uri: http::Uri = url
        .parse()
        .map_err(|e| error("bad_address", format!("{}: {e}", query.address)))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return Err(error(
            "bad_address",
            format!("{}: not an http:// or https:// URL", query.address),
        ));
    }
    let mut request = http::Request::get(uri)
        .header(http::header::ACCEPT, "application/json")
        .header(http::header::USER_AGENT, "ecs-operator-analysis")
        .body(Empty::new())
        .map_err(|e| error("bad_address", format!("{}: {e}", query.address)))?;
    if let Some(token) = &query.bearer_token {
        let mut value = http::HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            error(
                "config",
                "the bearer token is not a valid HTTP header value",
            )
        })?;
        value.set_sensitive(true);
        request
            .headers_mut()
            .insert(http::header::AUTHORIZATION, value);
    }
    Ok(request)
}

/// `{address}/api/v1/query?query=<percent-encoded PromQL>`.
fn query_url(address: &str, promql: &str) -> String {
    format!(
        "{}/api/v1/query?query={}",
        address.trim_end_matches('/'),
        percent_encode(promql)
    )
}

/// RFC 3986 percent-encoding: everything but unreserved characters (as SigV4 canonicalises).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Adds `x-amz-date`, `authorization` (and `x-amz-security-token` for temporary credentials).
fn sign_request(
    request: &mut http::Request<Empty<Bytes>>,
    sigv4: &SigV4,
    credentials: Credentials,
) -> Result<(), QueryError> {
    let identity = credentials.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&sigv4.region)
        .name(&sigv4.service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| error("sigv4", format!("signing parameters: {e}")))?
        .into();
    let uri = request.uri().to_string();
    let signable = SignableRequest::new("GET", &uri, std::iter::empty(), SignableBody::Bytes(&[]))
        .map_err(|e| error("sigv4", format!("cannot sign {uri}: {e}")))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| error("sigv4", format!("cannot sign {uri}: {e}")))?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}

/// Sends the request; its status and (size-limited) body. Nothing answering is `unreachable`.
async fn send(
    request: http::Request<Empty<Bytes>>,
    address: &str,
) -> Result<(http::StatusCode, Bytes), QueryError> {
    let tls = crate::https::tls_config(request.uri().scheme_str() == Some("https"))
        .map_err(|e| error("tls", e))?;
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config((*tls).clone())
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector);
    let response = client.request(request).await.map_err(|e| {
        error(
            "unreachable",
            format!("{address}: {}", crate::https::chain(&e)),
        )
    })?;
    let status = response.status();
    let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                error(
                    "bad_response",
                    format!("{address} answered more than {MAX_ANSWER_BYTES} bytes"),
                )
            } else {
                error(
                    "unreachable",
                    format!(
                        "{address}: reading the answer: {}",
                        crate::https::chain(e.as_ref())
                    ),
                )
            }
        })?
        .to_bytes();
    Ok((status, body))
}

fn error(code: &str, message: impl Into<String>) -> QueryError {
    QueryError {
        code: code.to_owned(),
        message: message.into(),
    }
}
