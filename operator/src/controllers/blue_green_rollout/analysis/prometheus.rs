//! One Prometheus measurement: an instant PromQL query, SigV4-signed for Amazon Managed Service
//! for Prometheus or with a bearer token from a Secret; `result` is the first sample's value and
//! `values` every sample's.

use aws::prometheus::{PrometheusApi, PrometheusQuery, SigV4};
use crds::rollout::SecretKeyRef;

use super::cloudwatch::Found;

/// A Prometheus metric as validated.
#[derive(Debug, Clone, PartialEq)]
pub struct PrometheusPlan {
    /// Server address.
    pub address: String,
    /// PromQL.
    pub query: String,
    /// Sign with SigV4 in this region (`None` inside: the EcsService's region).
    pub sigv4: Option<Option<String>>,
    /// Secret key holding a bearer token.
    pub bearer_token: Option<SecretKeyRef>,
    /// Seconds a query may take.
    pub timeout_secs: u64,
}

/// Runs the query (`bearer_token` read from the Secret by the caller).
pub async fn read(
    plan: &PrometheusPlan,
    prometheus: &dyn PrometheusApi,
    region: &str,
    bearer_token: Option<String>,
) -> Found {
    let query = PrometheusQuery {
        address: plan.address.clone(),
        query: plan.query.clone(),
        sigv4: plan.sigv4.as_ref().map(|r| SigV4 {
            region: r.clone().unwrap_or_else(|| region.to_owned()),
            service: "aps".to_owned(),
        }),
        bearer_token,
        timeout_secs: plan.timeout_secs,
    };
    let samples = prometheus
        .query(&query)
        .await
        .map_err(|e| (e.code, e.message))?;
    Ok(samples.into_iter().map(|s| s.value).collect())
}
