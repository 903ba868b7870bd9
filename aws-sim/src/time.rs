//! Simulated time: whole seconds since the Unix epoch, the unit every state module counts in.

use jiff::Timestamp;

/// Simulated time in whole seconds since the Unix epoch: the world moves in 1 s steps.
pub(crate) type Secs = i64;

/// A simulated second as a timestamp.
pub(crate) fn to_timestamp(secs: Secs) -> Timestamp {
    Timestamp::from_second(secs).unwrap_or(Timestamp::MAX)
}
