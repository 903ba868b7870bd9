//! Per-object exponential backoff for retryable errors, kept in the controller context and
//! reset by the next successful reconcile.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use rand::Rng;

/// Failure counts per object key.
#[derive(Debug)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    failures: Mutex<HashMap<String, u32>>,
}

impl Backoff {
    /// Backoff from `base` doubling up to `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Records a failure of `key` and returns how long to wait (with ±20 % jitter).
    pub fn next_delay(&self, key: &str) -> Duration {
        let attempt = {
            let mut failures = self.failures.lock().expect("backoff lock");
            let n = failures.entry(key.to_string()).or_insert(0);
            *n = n.saturating_add(1);
            *n
        };
        let exp = self
            .base
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(16)));
        let capped = exp.min(self.max);
        let jitter = rand::rng().random_range(0.8..1.2);
        capped.mul_f64(jitter)
    }

    /// Forgets the failures of `key` (after a successful reconcile).
    pub fn reset(&self, key: &str) {
        self.failures.lock().expect("backoff lock").remove(key);
    }

    /// Current failure count of `key`.
    pub fn failures(&self, key: &str) -> u32 {
        self.failures
            .lock()
            .expect("backoff lock")
            .get(key)
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_caps_and_resets() {
        let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(8));
        let d: Vec<f64> = (0..6).map(|_| b.next_delay("a").as_secs_f64()).collect();
        assert!((0.8..1.2).contains(&d[0]));
        assert!((1.6..2.4).contains(&d[1]));
        assert!((3.2..4.8).contains(&d[2]));
        assert!(d[4] <= 9.6 && d[5] <= 9.6);
        assert_eq!(b.failures("a"), 6);
        b.reset("a");
        assert_eq!(b.failures("a"), 0);
        assert!(b.next_delay("a") < Duration::from_millis(1300));
    }
}
