//! Reference verification: before the first AWS mutation of an object's generation, every
//! thing its spec names outside itself (cluster, subnets, security groups, IAM roles, secrets
//! and parameters, target groups, listeners and rules, alarms) is looked up, batched per kind,
//! and a missing one refuses the object (`InvalidReference`, naming the field) with no mutation
//! made. Lookups that succeeded are remembered (`known`), so a resync repeats none of them.

pub mod check;
pub mod collect;
pub mod gate;
pub mod known;
pub mod model;

#[cfg(test)]
mod tests;

pub use gate::{INVALID_REFERENCE, gate, key};
pub use model::{Finding, Reference, Target, Verification};
