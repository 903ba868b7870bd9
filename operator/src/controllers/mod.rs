//! The controllers, one module per kind, and what they share: the context, kstatus conditions,
//! the watches that feed them, and the controller runtime.

pub mod accounts;
pub mod blue_green_rollout;
pub mod caches;
pub mod conditions;
pub mod context;
pub mod ecs_service;
pub mod index;
pub mod notification_policy;
pub mod ownership;
pub mod references;
pub mod release_group;
pub mod runtime;
pub mod scaling_policy;
pub mod sources;

pub use context::{Context, Settings, Stores};
