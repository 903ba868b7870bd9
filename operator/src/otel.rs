//! Optional OpenTelemetry trace export (cargo feature `otel`, off by default): the `tracing`
//! spans of `ecs-operator run` sent as OTLP over HTTP/protobuf, plain HTTP to an in-cluster
//! collector (hyper, already a dependency; no second TLS stack). Configured only by the standard
//! environment: export is on when `OTEL_EXPORTER_OTLP_ENDPOINT` or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set; `OTEL_SERVICE_NAME` and
//! `OTEL_RESOURCE_ATTRIBUTES` name the resource. Owns nothing else.

use std::sync::OnceLock;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::runtime::Tokio;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Building the exporter failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the OTLP span exporter")]
pub struct Error(#[source] opentelemetry_otlp::ExporterBuildError);

/// Whether the environment asks for trace export.
pub fn enabled() -> bool {
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|var| std::env::var(var).is_ok_and(|v| !v.is_empty()))
}

/// The tracing layer exporting spans, or `None` when the environment does not ask for it. Call
/// inside the Tokio runtime: the batch processor runs on it.
pub fn layer<S>() -> Result<Option<impl Layer<S>>, Error>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    if !enabled() {
        return Ok(None);
    }
    let (layer, provider) = build(None)?;
    let _ = PROVIDER.set(provider);
    Ok(Some(layer))
}

/// The layer and its provider; `endpoint` (the full traces URL) overrides the environment.
fn build<S>(endpoint: Option<&str>) -> Result<(impl Layer<S>, SdkTracerProvider), Error>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    let mut exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary);
    if let Some(endpoint) = endpoint {
        exporter = exporter.with_endpoint(endpoint);
    }
    let exporter = exporter.build().map_err(Error)?;
    let processor = BatchSpanProcessor::builder(exporter, Tokio).build();
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(
            std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "ecs-operator".into()),
        )
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("ecs-operator");
    Ok((tracing_opentelemetry::layer().with_tracer(tracer), provider))
}

/// Flushes and stops the exporter (at the end of `run`); a no-op when export is off.
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get()
        && let Err(error) = provider.shutdown()
    {
        tracing::warn!(%error, "flushing spans failed");
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn spans_reach_the_collector_over_otlp_http() {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let collector = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("a connection");
            let mut head = vec![0u8; 4096];
            let n = stream.read(&mut head).await.expect("read");
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .await
                .expect("answer");
            String::from_utf8_lossy(&head[..n]).into_owned()
        });
        let (layer, provider) =
            build(Some(&format!("http://127.0.0.1:{port}/v1/traces"))).expect("exporter");
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("reconcile", object = "default/auth");
            let _entered = span.enter();
        });
        let flush = tokio::task::spawn_blocking(move || provider.force_flush());
        let request = tokio::time::timeout(Duration::from_secs(10), collector)
            .await
            .expect("the collector got a request in time")
            .expect("collector task");
        assert!(request.starts_with("POST /v1/traces "), "{request}");
        assert!(request.contains("application/x-protobuf"), "{request}");
        let _ = flush.await;
    }
}
