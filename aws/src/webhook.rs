//! `WebhookApi`: one JSON POST to a notification receiver's URL (a generic webhook, Slack,
//! Microsoft Teams), and `HttpWebhooks`, the real one over hyper (rustls with the platform's
//! root certificates; http and https). A webhook URL usually is its own secret, so no error
//! message names more of it than its scheme and host.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// How long one POST may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// How much of a refusing answer's body the error quotes.
const QUOTED_BODY: usize = 200;

/// Why a POST was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookError {
    /// `http_<status>` for an answer that is not 2xx, or `unreachable`, `timeout`,
    /// `bad_url`, `tls`.
    pub code: String,
    /// What happened, naming the host but never the URL's path or query.
    pub message: String,
}

impl std::fmt::Display for WebhookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// Posts notification bodies.
#[async_trait]
pub trait WebhookApi: Send + Sync + std::fmt::Debug {
    /// POSTs `body` (JSON) to `url`; Ok with the HTTP status when it is 2xx.
    async fn post(&self, url: &str, body: Bytes) -> Result<u16, WebhookError>;
}

/// The real client. Connections are not pooled: notifications are rare.
#[derive(Debug, Default, Clone, Copy)]
pub struct HttpWebhooks;

#[async_trait]
impl WebhookApi for HttpWebhooks {
    async fn post(&self, url: &str, body: Bytes) -> Result<u16, WebhookError> {
        let uri: http::Uri = url
            .trim()
            .parse()
            .map_err(|_| error("bad_url", "the URL in the Secret does not parse"))?;
        let host = match (uri.scheme_str(), uri.host()) {
            (Some(scheme @ ("http" | "https")), Some(host)) => format!("{scheme}://{host}"),
            _ => {
                return Err(error(
                    "bad_url",
                    "the URL in the Secret is not an http:// or https:// URL",
                ));
            }
        };
        match tokio::time::timeout(TIMEOUT, send(uri, body, &host)).await {
            Ok(result) => result,
            Err(_) => Err(error(
                "timeout",
                format!("{host} did not answer within {}s", TIMEOUT.as_secs()),
            )),
        }
    }
}

async fn send(uri: http::Uri, body: Bytes, host: &str) -> Result<u16, WebhookError> {
    let tls =
        crate::https::tls_config(uri.scheme_str() == Some("https")).map_err(|e| error("tls", e))?;
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config((*tls).clone())
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector);
    let request = http::Request::post(uri)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::USER_AGENT, "ecs-operator-notifications")
        .body(Full::new(body))
        .map_err(|_| {
            error(
                "bad_url",
                "the URL in the Secret is not a valid request target",
            )
        })?;
    let response = client.request(request).await.map_err(|e| {
        // hyper's messages name the host at most; the URL itself is never in them.
        error(
            "unreachable",
            format!("{host}: {}", crate::https::chain(&e)),
        )
    })?;
    let status = response.status();
    if status.is_success() {
        return Ok(status.as_u16());
    }
    let text = match Limited::new(response.into_body(), 4096).collect().await {
        Ok(body) => String::from_utf8_lossy(&body.to_bytes()).into_owned(),
        Err(_) => String::new(),
    };
    let quoted: String = text.trim().chars().take(QUOTED_BODY).collect();
    Err(error(
        &format!("http_{}", status.as_u16()),
        if quoted.is_empty() {
            format!("{host} answered {status}")
        } else {
            format!("{host} answered {status}: {quoted}")
        },
    ))
}

fn error(code: &str, message: impl Into<String>) -> WebhookError {
    WebhookError {
        code: code.to_owned(),
        message: message.into(),
    }
}
