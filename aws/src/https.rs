//! What the operator's own HTTP clients share (Prometheus queries, notification webhooks): the
//! rustls settings and an error's whole chain as text.

use std::sync::{Arc, OnceLock};

use hyper_rustls::ConfigBuilderExt;

/// TLS settings: the platform's root certificates for https (loaded once per process), none
/// for plain http (which never uses them).
pub fn tls_config(https: bool) -> Result<Arc<rustls::ClientConfig>, String> {
    static PLATFORM: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    static PLAIN: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    let build = |platform_roots: bool| -> Result<Arc<rustls::ClientConfig>, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let builder = if platform_roots {
            builder
                .with_native_roots()
                .map_err(|e| format!("the platform's root certificates: {e}"))?
        } else {
            builder.with_root_certificates(rustls::RootCertStore::empty())
        };
        Ok(Arc::new(builder.with_no_client_auth()))
    };
    let config = if https {
        PLATFORM.get_or_init(|| build(true))
    } else {
        PLAIN.get_or_init(|| build(false))
    };
    config.clone()
}

/// An error and its sources, `: `-separated (hyper's own Display is only the outermost).
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}
