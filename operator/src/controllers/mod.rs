//! The controllers, one module per kind, and what they share: context, conditions, backoff,
//! status writes and events.

pub mod backoff;
pub mod blue_green_rollout;
pub mod conditions;
pub mod context;
pub mod ecs_service;
pub mod scaling_policy;
pub mod shared;
pub mod sources;

pub use context::{Context, Settings, Stores};

/// Field manager of every write the operator makes.
pub const FIELD_MANAGER: &str = "ecs-operator";
/// Finalizer that guards AWS clean-up on deletion.
pub const FINALIZER: &str = "ecs-operator.dev/cleanup";

/// When a reconcile wants to look again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requeue {
    /// Right away: a step was taken and the next one can follow.
    Soon,
    /// Something is moving in AWS: check at the poll interval.
    Poll,
    /// Waiting for another object: check at the wait interval.
    Wait,
    /// Nothing to do until something changes (or the periodic resync).
    Idle,
}
