//! Amazon ECS in the simulated account: clusters, services, task definitions, tasks and the
//! deployment engines (rolling and blue/green), with the API operations on them.

pub(crate) mod api;
pub(crate) mod blue_green;
pub(crate) mod deployments;
pub(crate) mod engine;
pub(crate) mod env;
pub(crate) mod errors;
pub(crate) mod model;
pub(crate) mod rolling;
pub(crate) mod service_deployments;
pub(crate) mod services;
pub(crate) mod tags;
pub(crate) mod task_definitions;
pub(crate) mod tasks;
pub(crate) mod validate;
