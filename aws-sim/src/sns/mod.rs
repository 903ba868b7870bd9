//! Amazon SNS of the simulated account: the topics and what they delivered (`model`), and
//! Publish (`api`).

pub(crate) mod api;
pub(crate) mod model;

pub use model::PublishedMessage;
