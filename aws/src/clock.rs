//! Time as the controllers see it: the wall clock in clusters, a faster simulated clock in the
//! sandbox and the tests. Decisions take `now` as a parameter; only this module reads a clock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};

/// A source of time. `now` is the time AWS and the plan see; `to_wall` converts a duration of
/// that time into how long to wait on the process's own (tokio) timers.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
    /// Wall-clock duration that corresponds to `d` of this clock's time.
    fn to_wall(&self, d: Duration) -> Duration;
}

/// Shared handle to a clock.
pub type SharedClock = Arc<dyn Clock>;

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
    fn to_wall(&self, d: Duration) -> Duration {
        d
    }
}

/// A clock that runs `speed` times faster than the wall clock from a fixed start, and can be
/// moved forward by hand (tests). Deterministic given the same sequence of reads and advances.
#[derive(Debug)]
pub struct SimClock {
    start: Timestamp,
    wall_start: Instant,
    speed: f64,
    manual_offset: std::sync::Mutex<SignedDuration>,
}

impl SimClock {
    /// A clock that starts at `start` and runs `speed` times faster than the wall clock
    /// (`speed` 0 freezes it: only `advance` moves it).
    pub fn new(start: Timestamp, speed: f64) -> Self {
        Self {
            start,
            wall_start: Instant::now(),
            speed: speed.max(0.0),
            manual_offset: std::sync::Mutex::new(SignedDuration::ZERO),
        }
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let mut offset = self.manual_offset.lock().expect("clock lock");
        *offset += SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX);
    }

    /// The speed factor relative to the wall clock.
    pub fn speed(&self) -> f64 {
        self.speed
    }
}

impl Clock for SimClock {
    fn now(&self) -> Timestamp {
        let elapsed = self.wall_start.elapsed().as_secs_f64() * self.speed;
        let offset = *self.manual_offset.lock().expect("clock lock");
        let run = SignedDuration::try_from_secs_f64(elapsed).unwrap_or(SignedDuration::ZERO);
        self.start
            .checked_add(run + offset)
            .unwrap_or(Timestamp::MAX)
    }

    fn to_wall(&self, d: Duration) -> Duration {
        if self.speed <= 0.0 {
            // A frozen clock only moves by hand: poll often.
            return Duration::from_millis(10).min(d);
        }
        Duration::from_secs_f64(d.as_secs_f64() / self.speed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_moves_only_by_hand() {
        let start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let clock = SimClock::new(start, 0.0);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.now(), start + SignedDuration::from_secs(90));
    }

    #[test]
    fn fast_clock_scales_waits() {
        let clock = SimClock::new(Timestamp::UNIX_EPOCH, 20.0);
        assert_eq!(
            clock.to_wall(Duration::from_secs(10)),
            Duration::from_millis(500)
        );
        assert!(clock.now() >= Timestamp::UNIX_EPOCH);
    }
}
