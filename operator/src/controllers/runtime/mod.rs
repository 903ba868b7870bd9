//! The one controller runtime every kind runs on: the run loop (watch feed, triggers from
//! related kinds, periodic resync, concurrency, shutdown), the reconcile wrapper (metrics,
//! per-object backoff, retried failures reported in status and the log), `Requeue → Action`,
//! the step error, refusing or parking an object, the finalizer guard and the Kubernetes
//! writes (status, events), and dry-run (plan, report, never mutate). Each controller's `reconcile` stays a short list of its own steps
//! and calls these; nothing here knows a kind's spec.

pub mod backoff;
pub mod dry_run;
pub mod errors;
pub mod events;
pub mod finalizer;
pub mod kind;
pub mod reconcile;
pub mod refuse;
pub mod requeue;
pub mod run;
pub mod status;

pub use errors::{ReconcileError, StepError};
pub use kind::{ManagedKind, ObjectStatus, object_key};
pub use requeue::Requeue;

/// Field manager of every write the operator makes.
pub const FIELD_MANAGER: &str = "ecs-operator";
/// Finalizer that guards AWS clean-up on deletion.
pub const FINALIZER: &str = "ecs-operator.dev/cleanup";
