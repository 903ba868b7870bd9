//! Token buckets of the simulated account (AWS-LIMITS.md): one bucket per API category, shared
//! by every operation of the category, refilled on the simulated clock so a faster clock refills
//! faster. Pure bookkeeping: the gate asks, this answers.

use std::collections::BTreeMap;

/// A throttling category: burst capacity and refill rate per simulated second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketSpec {
    /// Category name (for messages and debugging).
    pub name: &'static str,
    /// Bucket size: how many calls can be made at once.
    pub burst: u32,
    /// Tokens added per second.
    pub refill_per_sec: u32,
}

/// ECS service read: DescribeServices, ListServices.
pub const ECS_SERVICE_READ: BucketSpec = BucketSpec {
    name: "ecs:service-read",
    burst: 100,
    refill_per_sec: 20,
};
/// ECS service modify: CreateService, UpdateService, DeleteService (and, in the simulator,
/// StopServiceDeployment and ContinueServiceDeployment, which have no published bucket).
pub const ECS_SERVICE_MODIFY: BucketSpec = BucketSpec {
    name: "ecs:service-modify",
    burst: 50,
    refill_per_sec: 5,
};
/// ECS task definition modify: RegisterTaskDefinition, DeregisterTaskDefinition.
pub const ECS_TASK_DEFINITION_MODIFY: BucketSpec = BucketSpec {
    name: "ecs:task-definition-modify",
    burst: 20,
    refill_per_sec: 1,
};
/// ECS task definition read: DescribeTaskDefinition, ListTaskDefinitions, ListTaskDefinitionFamilies.
pub const ECS_TASK_DEFINITION_READ: BucketSpec = BucketSpec {
    name: "ecs:task-definition-read",
    burst: 50,
    refill_per_sec: 20,
};
/// ECS task definition deletion: DeleteTaskDefinitions.
pub const ECS_TASK_DEFINITION_DELETE: BucketSpec = BucketSpec {
    name: "ecs:task-definition-delete",
    burst: 5,
    refill_per_sec: 1,
};
/// ECS service deployment: DescribeServiceDeployments, ListServiceDeployments.
pub const ECS_SERVICE_DEPLOYMENT: BucketSpec = BucketSpec {
    name: "ecs:service-deployment",
    burst: 50,
    refill_per_sec: 20,
};
/// ECS service revision: DescribeServiceRevisions.
pub const ECS_SERVICE_REVISION: BucketSpec = BucketSpec {
    name: "ecs:service-revision",
    burst: 50,
    refill_per_sec: 20,
};
/// ECS tag modify: TagResource, UntagResource.
pub const ECS_TAG_MODIFY: BucketSpec = BucketSpec {
    name: "ecs:tag-modify",
    burst: 20,
    refill_per_sec: 10,
};
/// ECS tag read: ListTagsForResource.
pub const ECS_TAG_READ: BucketSpec = BucketSpec {
    name: "ecs:tag-read",
    burst: 50,
    refill_per_sec: 20,
};
/// ECS cluster read: DescribeClusters, ListClusters.
pub const ECS_CLUSTER_READ: BucketSpec = BucketSpec {
    name: "ecs:cluster-read",
    burst: 50,
    refill_per_sec: 20,
};
/// ECS cluster resource read: DescribeTasks, ListTasks, ….
pub const ECS_CLUSTER_RESOURCE_READ: BucketSpec = BucketSpec {
    name: "ecs:cluster-resource-read",
    burst: 100,
    refill_per_sec: 20,
};

/// One bucket's level. Tokens are kept in thousandths so sub-second refills are exact integers.
#[derive(Debug, Clone)]
struct Bucket {
    spec: BucketSpec,
    milli_tokens: u64,
    refilled_at_ms: i64,
}

impl Bucket {
    fn new(spec: BucketSpec, now_ms: i64) -> Self {
        Self {
            spec,
            milli_tokens: u64::from(spec.burst) * 1000,
            refilled_at_ms: now_ms,
        }
    }

    fn refill(&mut self, now_ms: i64) {
        let elapsed_ms = u64::try_from(now_ms - self.refilled_at_ms).unwrap_or(0);
        if elapsed_ms == 0 {
            return;
        }
        let cap = u64::from(self.spec.burst) * 1000;
        let added = elapsed_ms.saturating_mul(u64::from(self.spec.refill_per_sec));
        self.milli_tokens = self.milli_tokens.saturating_add(added).min(cap);
        self.refilled_at_ms = now_ms;
    }
}

/// The account's buckets, created full on first use.
#[derive(Debug, Clone, Default)]
pub(crate) struct Throttle {
    buckets: BTreeMap<&'static str, Bucket>,
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
    pub fn try_acquire(&mut self, spec: BucketSpec, now_ms: i64) -> bool {
        if self.disabled {
            return true;
        }
        let bucket = self
            .buckets
            .entry(spec.name)
            .or_insert_with(|| Bucket::new(spec, now_ms));
        bucket.refill(now_ms);
        if bucket.milli_tokens >= 1000 {
            bucket.milli_tokens -= 1000;
            true
        } else {
            false
        }
    }

    /// Whole tokens left in a bucket (full when unused), without refilling.
    #[cfg(test)]
    pub fn tokens(&self, spec: BucketSpec) -> u32 {
        self.buckets.get(spec.name).map_or(spec.burst, |b| {
            u32::try_from(b.milli_tokens / 1000).unwrap_or(u32::MAX)
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
            assert!(t.try_acquire(ECS_SERVICE_MODIFY, 0), "call {i}");
        }
        assert!(
            !t.try_acquire(ECS_SERVICE_MODIFY, 0),
            "burst + 1 is throttled"
        );
        assert!(
            !t.try_acquire(ECS_SERVICE_MODIFY, 199),
            "0.2 s refills less than one token"
        );
        assert!(
            t.try_acquire(ECS_SERVICE_MODIFY, 200),
            "0.2 s at 5/s refills one token"
        );
        // Other categories have their own buckets.
        assert!(t.try_acquire(ECS_SERVICE_READ, 0));
        // A long pause refills to the burst, not beyond.
        assert!(t.try_acquire(ECS_SERVICE_MODIFY, 3_600_000));
        assert_eq!(t.tokens(ECS_SERVICE_MODIFY), 49);
    }

    #[test]
    fn disabled_throttle_never_refuses() {
        let mut t = Throttle::default();
        t.set_enabled(false);
        assert!((0..1000).all(|_| t.try_acquire(ECS_TASK_DEFINITION_MODIFY, 0)));
    }
}
