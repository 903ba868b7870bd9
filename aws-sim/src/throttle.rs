//! Token buckets of the simulated account, sized by the AWS layer's limits table: one bucket per
//! category, shared by every operation of the category, refilled on the simulated clock so a
//! faster clock refills faster. Pure bookkeeping: the gate asks, this answers.

use std::collections::BTreeMap;

use aws::limits::Category;

/// Millionths of a token: a refill rate with up to three decimals adds a whole number of them
/// every simulated millisecond.
const MICRO: u64 = 1_000_000;

/// One bucket's level.
#[derive(Debug, Clone)]
struct Bucket {
    capacity: u64,
    added_per_ms: u64,
    micro_tokens: u64,
    refilled_at_ms: i64,
}

impl Bucket {
    fn new(category: Category, now_ms: i64) -> Self {
        let spec = category.aws_bucket();
        let capacity = u64::from(spec.burst) * MICRO;
        Self {
            capacity,
            added_per_ms: (spec.refill_per_sec * 1000.0).round() as u64,
            micro_tokens: capacity,
            refilled_at_ms: now_ms,
        }
    }

    fn refill(&mut self, now_ms: i64) {
        let elapsed_ms = u64::try_from(now_ms - self.refilled_at_ms).unwrap_or(0);
        if elapsed_ms == 0 {
            return;
        }
        let added = elapsed_ms.saturating_mul(self.added_per_ms);
        self.micro_tokens = self.micro_tokens.saturating_add(added).min(self.capacity);
        self.refilled_at_ms = now_ms;
    }
}

/// The account's buckets, created full on first use.
#[derive(Debug, Clone, Default)]
pub(crate) struct Throttle {
    buckets: BTreeMap<Category, Bucket>,
    disabled: bool,
}

impl Throttle {
    /// Turns enforcement on or off (on by default); turning it on refills every bucket.
    pub fn set_enabled(&mut self, enabled: bool) {
        self.disabled = !enabled;
        if enabled {
            self.buckets.clear();
        }
    }

    /// Takes one token from the bucket at `now_ms` (simulated milliseconds); false when empty.
    pub fn try_acquire(&mut self, category: Category, now_ms: i64) -> bool {
        if self.disabled {
            return true;
        }
        let bucket = self
            .buckets
            .entry(category)
            .or_insert_with(|| Bucket::new(category, now_ms));
        bucket.refill(now_ms);
        if bucket.micro_tokens >= MICRO {
            bucket.micro_tokens -= MICRO;
            true
        } else {
            false
        }
    }

    /// Whole tokens left in a bucket (full when unused), without refilling.
    #[cfg(test)]
    pub fn tokens(&self, category: Category) -> u32 {
        self.buckets
            .get(&category)
            .map_or(category.aws_bucket().burst, |b| {
                u32::try_from(b.micro_tokens / MICRO).unwrap_or(u32::MAX)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_empties_at_burst_and_refills_at_its_rate() {
        let mut t = Throttle::default();
        for i in 0..50 {
            assert!(t.try_acquire(Category::EcsServiceModify, 0), "call {i}");
        }
        assert!(
            !t.try_acquire(Category::EcsServiceModify, 0),
            "burst + 1 is throttled"
        );
        assert!(
            !t.try_acquire(Category::EcsServiceModify, 199),
            "0.2 s refills less than one token"
        );
        assert!(
            t.try_acquire(Category::EcsServiceModify, 200),
            "0.2 s at 5/s refills one token"
        );
        // Other categories have their own buckets.
        assert!(t.try_acquire(Category::EcsServiceRead, 0));
        // A long pause refills to the burst, not beyond.
        assert!(t.try_acquire(Category::EcsServiceModify, 3_600_000));
        assert_eq!(t.tokens(Category::EcsServiceModify), 49);
    }

    #[test]
    fn fractional_rates_refill_exactly() {
        let mut t = Throttle::default();
        for _ in 0..20 {
            assert!(t.try_acquire(Category::CodeDeploy, 0));
        }
        assert!(
            !t.try_acquire(Category::CodeDeploy, 1428),
            "0.7/s: not yet one token"
        );
        assert!(
            t.try_acquire(Category::CodeDeploy, 1429),
            "0.7/s: one token after 1.43 s"
        );
    }

    #[test]
    fn disabled_throttle_never_refuses() {
        let mut t = Throttle::default();
        t.set_enabled(false);
        assert!((0..1000).all(|_| t.try_acquire(Category::EcsTaskDefinitionModify, 0)));
    }
}
