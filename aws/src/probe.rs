//! HTTP checks against a load balancer's test listener (the old smoke tests): the
//! `TestTrafficProbe` trait, and `HttpProbe`, which finds the listener's load balancer DNS name
//! through ELBv2 and sends a GET with hyper (rustls with ring, the platform's roots). The
//! simulator implements the trait from its own tasks and listener weights.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::elb::ElbApi;

/// Longest one HTTP check may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// What one HTTP check saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    /// The HTTP status, or `None` when nothing answered (connection refused, timeout).
    pub status: Option<u16>,
    /// What was asked and what went wrong, for messages.
    pub detail: String,
}

/// Sends one HTTP check through a listener.
#[async_trait]
pub trait TestTrafficProbe: Send + Sync {
    /// GET `path` through the listener `listener_arn` (its load balancer's DNS name, its port
    /// and protocol).
    async fn probe(&self, listener_arn: &str, path: &str) -> ProbeResult;
}

/// The real probe: ELBv2 lookups, then an HTTP(S) GET. Certificates are not verified against
/// the load balancer's DNS name (test listeners often serve the production certificate).
pub struct HttpProbe {
    elb: Arc<dyn ElbApi>,
}

impl HttpProbe {
    /// A probe that resolves listeners through `elb`.
    pub fn new(elb: Arc<dyn ElbApi>) -> Self {
        Self { elb }
    }

    async fn url(&self, listener_arn: &str, path: &str) -> Result<String, String> {
        let listener = self
            .elb
            .describe_listeners(&[listener_arn.to_owned()])
            .await
            .map_err(|e| format!("DescribeListeners {listener_arn}: {e}"))?
            .into_iter()
            .next()
            .ok_or_else(|| format!("listener {listener_arn} not found"))?;
        let lb = self
            .elb
            .describe_load_balancers(std::slice::from_ref(&listener.load_balancer_arn))
            .await
            .map_err(|e| format!("DescribeLoadBalancers: {e}"))?
            .into_iter()
            .next()
            .ok_or_else(|| format!("load balancer {} not found", listener.load_balancer_arn))?;
        let scheme = match listener.protocol.as_deref() {
            Some("HTTPS") => "https",
            _ => "http",
        };
        let port = listener
            .port
            .unwrap_or(if scheme == "https" { 443 } else { 80 });
        Ok(format!("{scheme}://{}:{port}{path}", lb.dns_name))
    }
}

#[async_trait]
impl TestTrafficProbe for HttpProbe {
    async fn probe(&self, listener_arn: &str, path: &str) -> ProbeResult {
        let url = match self.url(listener_arn, path).await {
            Ok(url) => url,
            Err(detail) => {
                return ProbeResult {
                    status: None,
                    detail,
                };
            }
        };
        match tokio::time::timeout(PROBE_TIMEOUT, get(&url)).await {
            Ok(Ok(status)) => ProbeResult {
                status: Some(status),
                detail: format!("GET {url} answered {status}"),
            },
            Ok(Err(e)) => ProbeResult {
                status: None,
                detail: format!("GET {url} failed: {e}"),
            },
            Err(_) => ProbeResult {
                status: None,
                detail: format!("GET {url} timed out after {}s", PROBE_TIMEOUT.as_secs()),
            },
        }
    }
}

/// One GET; the status code. The body is read and dropped so the connection closes cleanly.
async fn get(url: &str) -> Result<u16, String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("bad URL: {e}"))?;
    let tls = rustls_config()?;
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Empty<bytes::Bytes>> =
        Client::builder(TokioExecutor::new()).build(connector);
    let request = http::Request::get(uri)
        .header(http::header::USER_AGENT, "ecs-operator-http-check")
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    let response = client.request(request).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let _ = response.into_body().collect().await;
    Ok(status)
}

/// TLS without certificate verification: the check asks whether the new revision answers,
/// not whether the test listener's certificate names the load balancer's DNS name.
fn rustls_config() -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
        .with_no_client_auth();
    Ok(config)
}

#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_plain_http_server_answers_with_its_status() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = sock.read(&mut buf).await;
            let _ = sock
                .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await;
        });
        let status = get(&format!("http://{addr}/actuator/health")).await;
        assert_eq!(status, Ok(503));
        let refused = get("http://127.0.0.1:1/").await;
        assert!(refused.is_err());
    }
}
