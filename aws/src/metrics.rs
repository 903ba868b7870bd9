//! Where the AWS layer reports every call it makes: a trait the operator's metrics implement,
//! so this crate needs no metrics library and no Kubernetes types.

/// Where a call went: the account (12-digit id, or `operator` for the operator's own identity)
/// and the region. Never an object's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallSite {
    /// Account label.
    pub account: String,
    /// Region.
    pub region: String,
}

/// Receives one report per AWS call (throttled and failed attempts included).
pub trait CallMetrics: Send + Sync {
    /// `service` (`ecs`, `codedeploy`, …), `operation` (the AWS action name) and `outcome`
    /// (`ok`, or the error kind's label), at `site`.
    fn aws_request(
        &self,
        site: &CallSite,
        service: &'static str,
        operation: &'static str,
        outcome: &str,
    );
}

/// Discards every report (tools and tests that keep no metrics).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoMetrics;

impl CallMetrics for NoMetrics {
    fn aws_request(&self, _: &CallSite, _: &'static str, _: &'static str, _: &str) {}
}
