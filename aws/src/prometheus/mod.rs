//! The `PrometheusApi` trait: instant PromQL queries for metric analysis, against any server
//! that speaks the Prometheus HTTP API (`GET /api/v1/query`), Amazon Managed Service for
//! Prometheus included (SigV4-signed with the account's credentials). No AWS types in or out.

use async_trait::async_trait;

/// One instant query (its `Debug` leaves the bearer token out).
#[derive(Clone, PartialEq, Eq)]
pub struct PrometheusQuery {
    /// Server address, e.g. `http://prometheus.monitoring:9090` or an AMP workspace's
    /// `https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>`.
    pub address: String,
    /// PromQL.
    pub query: String,
    /// Sign with SigV4 for this region and service (`aps`).
    pub sigv4: Option<SigV4>,
    /// `Authorization: Bearer` token (read from a Secret by the caller).
    pub bearer_token: Option<String>,
    /// Seconds the query may take.
    pub timeout_secs: u64,
}

impl std::fmt::Debug for PrometheusQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusQuery")
            .field("address", &self.address)
            .field("query", &self.query)
            .field("sigv4", &self.sigv4)
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

/// SigV4 signing parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigV4 {
    /// Region.
    pub region: String,
    /// Signing name (`aps` for Amazon Managed Service for Prometheus).
    pub service: String,
}

/// One sample of an instant vector (or the scalar).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Labels, sorted by name.
    pub labels: Vec<(String, String)>,
    /// Value (NaN and ±Inf as Prometheus returned them).
    pub value: f64,
}

/// Why a query gave no samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// Prometheus's `errorType` (e.g. `bad_data`), the HTTP status of an answer that is not
    /// Prometheus JSON, or the client's own: `unreachable`, `timeout`, `sigv4`, `config`,
    /// `bad_address`, `bad_response`, `unsupported_result`, `tls`.
    pub code: String,
    /// Prometheus's `error` text, or what went wrong.
    pub message: String,
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// Runs instant queries.
#[async_trait]
pub trait PrometheusApi: Send + Sync {
    /// The samples of `query` now (a scalar is one sample without labels).
    async fn query(&self, query: &PrometheusQuery) -> Result<Vec<Sample>, QueryError>;
}

pub mod http;
