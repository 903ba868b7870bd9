//! Shared helpers for the end-to-end tests: the controller sandbox (local API server +
//! simulated AWS + in-process operator), the moto harness, tool discovery.

pub mod chart;
pub mod kill_points;
pub mod moto;
pub mod release_groups;
pub mod rollouts;
pub mod sandbox;
pub mod scaling;
pub mod services;
pub mod tools;
