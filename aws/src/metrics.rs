//! Where the AWS layer reports every call it makes: a trait the operator's metrics implement,
//! so this crate needs no metrics library and no Kubernetes types.

/// Receives one report per AWS call (throttled and failed attempts included).
pub trait CallMetrics: Send + Sync {
    /// `service` (`ecs`, `codedeploy`, …), `operation` (the AWS action name) and `outcome`
    /// (`ok`, or the error kind's label).
    fn aws_request(&self, service: &'static str, operation: &'static str, outcome: &str);
}

/// Discards every report (tools and tests that keep no metrics).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoMetrics;

impl CallMetrics for NoMetrics {
    fn aws_request(&self, _service: &'static str, _operation: &'static str, _outcome: &str) {}
}
