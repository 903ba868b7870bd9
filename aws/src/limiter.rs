//! Client-side token buckets per account × region × throttling category (sized from the limits
//! table), kept under the rates AWS documents so the operator never empties the account's
//! shared buckets.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;

use crate::clock::SharedClock;
use crate::limits::Category;

#[derive(Debug)]
struct Bucket {
    capacity: f64,
    refill_per_sec: f64,
    tokens: f64,
    updated: Timestamp,
}

impl Bucket {
    /// Takes a token now, or says how long until one is there.
    fn try_take(&mut self, now: Timestamp) -> Result<(), Duration> {
        let elapsed = now.duration_since(self.updated).as_secs_f64().max(0.0);
        self.tokens = (self.tokens + elapsed * self.refill_per_sec).min(self.capacity);
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let missing = 1.0 - self.tokens;
            Err(Duration::from_secs_f64(missing / self.refill_per_sec))
        }
    }
}

/// Token buckets for one account × region, one per category.
#[derive(Debug)]
pub struct Limiter {
    clock: SharedClock,
    buckets: Mutex<HashMap<Category, Bucket>>,
}

impl Limiter {
    /// Buckets sized by [`Category::own_bucket`], full at start.
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until the category has a token and takes it.
    pub async fn acquire(&self, category: Category) {
        loop {
            let wait = {
                let now = self.clock.now();
                let mut buckets = self.buckets.lock().expect("limiter lock");
                let bucket = buckets.entry(category).or_insert_with(|| {
                    let (capacity, refill_per_sec) = category.own_bucket();
                    Bucket {
                        capacity,
                        refill_per_sec,
                        tokens: capacity,
                        updated: now,
                    }
                });
                match bucket.try_take(now) {
                    Ok(()) => return,
                    Err(wait) => wait,
                }
            };
            tokio::time::sleep(self.clock.to_wall(wait).max(Duration::from_millis(1))).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SimClock;
    use std::sync::Arc;

    #[test]
    fn bucket_refills_at_its_rate() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let mut b = Bucket {
            capacity: 2.0,
            refill_per_sec: 0.5,
            tokens: 2.0,
            updated: t0,
        };
        assert!(b.try_take(t0).is_ok());
        assert!(b.try_take(t0).is_ok());
        assert_eq!(b.try_take(t0), Err(Duration::from_secs(2)));
        let t2 = t0 + jiff::SignedDuration::from_secs(2);
        assert!(b.try_take(t2).is_ok());
    }

    #[tokio::test]
    async fn acquire_waits_on_the_given_clock() {
        let clock = Arc::new(SimClock::new(Timestamp::UNIX_EPOCH, 0.0));
        let limiter = Limiter::new(clock.clone());
        for _ in 0..10 {
            limiter.acquire(Category::EcsTaskDefinitionModify).await;
        }
        // The 11th token needs ~1.1 s of clock time; a frozen clock must be advanced.
        let waiter = tokio::spawn(async move {
            limiter.acquire(Category::EcsTaskDefinitionModify).await;
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        clock.advance(Duration::from_secs(2));
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("acquired after the clock moved")
            .unwrap();
    }
}
