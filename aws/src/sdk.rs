//! AWS SDK configuration the house way (one TLS provider — ring, shared with kube —, the standard
//! credential chain, endpoint override for emulators, standard or disabled retries) and the
//! translation of any SDK error into an [`AwsError`]. Shared by every `Sdk*` adapter; names no
//! service crate.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::error::operation::BuildError;

use crate::error::{AwsError, ErrorKind};

/// Attempts per call (the first one included) in [`RetryMode::Standard`].
pub const STANDARD_MAX_ATTEMPTS: u32 = 3;

/// Longest one attempt of a call may take (connect, send, read the whole answer).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest a call may take, retries and their backoff included: an AWS call never hangs a
/// reconcile.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(90);

/// How the SDK retries failed calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RetryMode {
    /// The SDK's standard mode with [`STANDARD_MAX_ATTEMPTS`] attempts (exponential backoff with
    /// jitter, client retry budget). The operator's own per-account limiter sits in front of it.
    #[default]
    Standard,
    /// One attempt only: wire tests against emulators, where an unimplemented call answers 500
    /// and retries only make the test slow.
    Disabled,
}

/// What the caller chooses about an SDK configuration; everything else comes from the standard
/// AWS chain (environment, profile, IRSA / pod identity, IMDS).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SdkOptions {
    /// Region; `None` takes it from the standard region chain.
    pub region: Option<String>,
    /// Endpoint override for every service (moto and other emulators); `None` uses AWS.
    pub endpoint_url: Option<String>,
    /// Retry behaviour.
    pub retry: RetryMode,
}

/// The loader behind [`load_sdk_config`], for callers that must change one more thing before
/// loading (static test credentials, an assumed role's credentials provider).
pub fn config_loader(opts: &SdkOptions) -> ConfigLoader {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let retry = match opts.retry {
        RetryMode::Standard => RetryConfig::standard().with_max_attempts(STANDARD_MAX_ATTEMPTS),
        RetryMode::Disabled => RetryConfig::disabled(),
    };
    let timeouts = TimeoutConfig::builder()
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .retry_config(retry)
        .timeout_config(timeouts);
    if let Some(region) = &opts.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url.clone());
    }
    loader
}

/// Loads an SDK configuration: rustls with ring, credentials and (unless given) region from the
/// standard chain, the endpoint override and the retry mode of `opts`.
pub async fn load_sdk_config(opts: &SdkOptions) -> SdkConfig {
    config_loader(opts).load().await
}

/// Translates an error of any SDK operation into an [`AwsError`]: a service error is classified
/// by its code (and HTTP status when the code is unknown); timeouts, connection failures and
/// unparsable answers are [`ErrorKind::Transient`]; a request the SDK could not build is
/// [`ErrorKind::InvalidRequest`].
pub fn aws_error<E>(err: SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            let meta = ctx.err();
            let code = meta.code().unwrap_or("Unknown");
            let message = match meta.message() {
                Some(m) => m.to_owned(),
                None => DisplayErrorContext(meta).to_string(),
            };
            AwsError::from_code(code, message, Some(status))
                .with_request_id(request_id(meta.meta().extra("aws_request_id"), ctx.raw()))
        }
        SdkError::TimeoutError(_) => transient("Timeout", &err),
        SdkError::DispatchFailure(_) => transient("Transport", &err),
        SdkError::ResponseError(ctx) => {
            let status = ctx.raw().status().as_u16();
            AwsError {
                http_status: Some(status),
                ..AwsError::new(
                    ErrorKind::Transient,
                    "ResponseError",
                    DisplayErrorContext(&err).to_string(),
                )
            }
            .with_request_id(request_id(None, ctx.raw()))
        }
        SdkError::ConstructionFailure(_) => AwsError::new(
            ErrorKind::InvalidRequest,
            "ConstructionFailure",
            DisplayErrorContext(&err).to_string(),
        ),
        _ => transient("Unknown", &err),
    }
}

/// AWS's request id: from the error's metadata, else the response headers the services use.
fn request_id(from_meta: Option<&str>, raw: &HttpResponse) -> Option<String> {
    from_meta
        .or_else(|| {
            ["x-amzn-requestid", "x-amz-request-id"]
                .iter()
                .find_map(|h| raw.headers().get(*h))
        })
        .map(str::to_owned)
}

/// Translates a request member the SDK refused to build (a required field missing) into an
/// [`ErrorKind::InvalidRequest`] error.
pub fn build_error(err: BuildError) -> AwsError {
    AwsError::new(
        ErrorKind::InvalidRequest,
        "BuildError",
        DisplayErrorContext(&err).to_string(),
    )
}

fn transient<E>(code: &str, err: &SdkError<E, HttpResponse>) -> AwsError
where
    E: std::error::Error + 'static,
{
    AwsError::new(
        ErrorKind::Transient,
        code,
        DisplayErrorContext(err).to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    #[derive(Debug)]
    struct FakeError(ErrorMetadata);

    impl std::fmt::Display for FakeError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "fake")
        }
    }
    impl std::error::Error for FakeError {}
    impl ProvideErrorMetadata for FakeError {
        fn meta(&self) -> &ErrorMetadata {
            &self.0
        }
    }

    fn service_error(code: Option<&str>, status: u16) -> SdkError<FakeError, HttpResponse> {
        let mut meta = ErrorMetadata::builder().message("boom");
        if let Some(code) = code {
            meta = meta.code(code);
        }
        let raw = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        SdkError::service_error(FakeError(meta.build()), raw)
    }

    #[test]
    fn service_errors_are_classified_by_code_then_status() {
        let cases = [
            (Some("ClusterNotFoundException"), 400, ErrorKind::NotFound),
            (Some("ThrottlingException"), 400, ErrorKind::Throttled),
            (
                Some("InvalidParameterException"),
                400,
                ErrorKind::InvalidRequest,
            ),
            (None, 500, ErrorKind::Transient),
            (None, 403, ErrorKind::AccessDenied),
        ];
        for (code, status, kind) in cases {
            let err = aws_error(service_error(code, status));
            assert_eq!(err.kind, kind, "{code:?} {status}");
            assert_eq!(err.message, "boom");
            assert_eq!(err.http_status, Some(status));
        }
    }

    #[test]
    fn transport_failures_are_transient_and_construction_is_invalid() {
        let dispatch: SdkError<FakeError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::io("connection refused".into()));
        assert_eq!(aws_error(dispatch).kind, ErrorKind::Transient);
        let construction: SdkError<FakeError, HttpResponse> =
            SdkError::construction_failure("no cluster");
        assert_eq!(aws_error(construction).kind, ErrorKind::InvalidRequest);
    }

    #[test]
    fn standard_retries_are_the_default() {
        assert_eq!(SdkOptions::default().retry, RetryMode::Standard);
    }
}
