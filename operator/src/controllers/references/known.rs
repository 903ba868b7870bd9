//! What reference verification remembers: each lookup that found its target (per account ×
//! region, for a while, shared by every object naming it: a thousand services on the same two
//! subnets look them up once), and which generation of each object passed.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;

use super::model::{Reference, Target};

/// How long a target found in AWS counts as existing without another lookup.
pub const FOUND_FOR: Duration = Duration::from_secs(600);

/// The account, region and target of one lookup.
type FoundKey = (String, String, Target);

/// Lookups that found their target, and the generations that passed.
#[derive(Debug, Default)]
pub struct KnownReferences {
    found: Mutex<HashMap<FoundKey, Timestamp>>,
    passed: Mutex<HashMap<String, (Option<i64>, u64)>>,
}

impl KnownReferences {
    /// Whether `target` was found in `account` × `region` less than [`FOUND_FOR`] ago.
    pub fn is_found(&self, account: &str, region: &str, target: &Target, now: Timestamp) -> bool {
        let key = (account.to_string(), region.to_string(), target.clone());
        self.found
            .lock()
            .expect("known references lock")
            .get(&key)
            .is_some_and(|at| now.duration_since(*at).unsigned_abs() < FOUND_FOR)
    }

    /// Remembers that `target` exists.
    pub fn found(&self, account: &str, region: &str, target: &Target, now: Timestamp) {
        let key = (account.to_string(), region.to_string(), target.clone());
        self.found
            .lock()
            .expect("known references lock")
            .insert(key, now);
    }

    /// Whether the object `key`'s `generation` passed with exactly these references.
    pub fn passed(&self, key: &str, generation: Option<i64>, refs: &[Reference]) -> bool {
        self.passed.lock().expect("known references lock").get(key)
            == Some(&(generation, fingerprint(refs)))
    }

    /// Records that the object `key`'s `generation` passed.
    pub fn pass(&self, key: &str, generation: Option<i64>, refs: &[Reference]) {
        self.passed
            .lock()
            .expect("known references lock")
            .insert(key.to_string(), (generation, fingerprint(refs)));
    }
}

fn fingerprint(refs: &[Reference]) -> u64 {
    let mut hasher = DefaultHasher::new();
    refs.hash(&mut hasher);
    hasher.finish()
}
