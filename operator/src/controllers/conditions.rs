//! kstatus conditions: building the Ready/Reconciling/Stalled set and merging it into the
//! previous conditions so `lastTransitionTime` moves only when a status flips.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

/// A condition as a plan decides it (no timestamps: those come from the merge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// Condition type.
    pub type_: &'static str,
    /// True or False.
    pub status: bool,
    /// PascalCase reason.
    pub reason: String,
    /// Message a person can act on.
    pub message: String,
}

impl Desired {
    /// A condition that is True.
    pub fn yes(type_: &'static str, reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            type_,
            status: true,
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// A condition that is False.
    pub fn no(type_: &'static str, reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            type_,
            status: false,
            reason: reason.into(),
            message: message.into(),
        }
    }
}

/// Merges the desired conditions into the previous ones: the order is the desired order,
/// `lastTransitionTime` is kept unless the status flipped, and every condition carries
/// `observed_generation`.
pub fn merge(
    previous: &[Condition],
    desired: &[Desired],
    observed_generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    desired
        .iter()
        .map(|d| {
            let status = if d.status { "True" } else { "False" };
            let old = previous.iter().find(|c| c.type_ == d.type_);
            let last_transition_time = match old {
                Some(old) if old.status == status => old.last_transition_time.clone(),
                _ => Time(now),
            };
            Condition {
                type_: d.type_.to_string(),
                status: status.to_string(),
                reason: d.reason.clone(),
                message: d.message.clone(),
                observed_generation,
                last_transition_time,
            }
        })
        .collect()
}

/// Whether the named condition is True in `conditions` for `generation`.
pub fn is_true_for(conditions: &[Condition], type_: &str, generation: Option<i64>) -> bool {
    conditions.iter().any(|c| {
        c.type_ == type_
            && c.status == "True"
            && (generation.is_none() || c.observed_generation == generation)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn transition_time_moves_only_on_flip() {
        let t0 = ts("2026-01-01T00:00:00Z");
        let t1 = ts("2026-01-01T00:05:00Z");
        let first = merge(
            &[],
            &[Desired::no("Ready", "Creating", "creating")],
            Some(1),
            t0,
        );
        let same = merge(
            &first,
            &[Desired::no("Ready", "Deploying", "rolling")],
            Some(2),
            t1,
        );
        assert_eq!(same[0].last_transition_time, Time(t0));
        assert_eq!(same[0].reason, "Deploying");
        assert_eq!(same[0].observed_generation, Some(2));
        let flipped = merge(
            &same,
            &[Desired::yes("Ready", "Deployed", "done")],
            Some(2),
            t1,
        );
        assert_eq!(flipped[0].last_transition_time, Time(t1));
        assert!(is_true_for(&flipped, "Ready", Some(2)));
        assert!(!is_true_for(&flipped, "Ready", Some(3)));
    }
}
