//! Amazon CloudWatch in the simulated account: alarms (set by tests or watched by deployments),
//! the service metrics the simulated load produces, and the API operations on them.

pub(crate) mod alarms;
pub(crate) mod api;
pub(crate) mod metrics;
