//! The object store: objects by resource and (namespace, name), the global resourceVersion, the
//! retained change history watches replay from, compaction, and the broadcast of live changes.
//! Applies no API rules (those live in `objects`); everything here runs under the state lock.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::managed::ManagedFields;
use crate::registry::{Registry, StoreKey};

/// (namespace, name); the namespace is "" for cluster-scoped objects.
pub(crate) type ObjectKey = (String, String);

/// A stored object with its field ownership.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub object: Arc<Value>,
    pub managed: ManagedFields,
}

/// Watch event types for changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChangeType {
    Added,
    Modified,
    Deleted,
}

impl ChangeType {
    /// The watch event `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// One committed write, as watches see it.
#[derive(Debug)]
pub(crate) struct Change {
    pub rv: u64,
    pub store: StoreKey,
    pub type_: ChangeType,
    pub object: Arc<Value>,
    /// The object before this change (for selector transitions).
    pub previous: Option<Arc<Value>>,
    encoded: OnceLock<Bytes>,
}

impl Change {
    /// The object serialized once, shared by every watch that sends it unchanged.
    pub fn encoded_object(&self) -> &Bytes {
        self.encoded
            .get_or_init(|| Bytes::from(serde_json::to_vec(&*self.object).unwrap_or_default()))
    }
}

/// The registry and the store, guarded together by one lock.
#[derive(Debug)]
pub(crate) struct State {
    pub registry: Registry,
    pub store: Store,
}

/// Objects, resourceVersion and history.
#[derive(Debug)]
pub(crate) struct Store {
    objects: HashMap<StoreKey, BTreeMap<ObjectKey, Stored>>,
    rv: u64,
    history: VecDeque<Arc<Change>>,
    history_limit: usize,
    /// Watches starting from a resourceVersion below this get 410 Expired.
    compacted: u64,
    changes: broadcast::Sender<Arc<Change>>,
    /// Cancelled (and replaced) by compaction, which closes every open watch.
    epoch: CancellationToken,
    shutdown: CancellationToken,
}

/// Why a watch cannot replay from a resourceVersion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooOld {
    pub requested: u64,
    pub compacted: u64,
}

impl Store {
    /// An empty store; watches end when `shutdown` is cancelled.
    pub fn new(history_limit: usize, shutdown: &CancellationToken) -> Self {
        let (changes, _) = broadcast::channel(16 * 1024);
        Self {
            objects: HashMap::new(),
            rv: 1,
            history: VecDeque::new(),
            history_limit: history_limit.max(1),
            compacted: 0,
            changes,
            epoch: shutdown.child_token(),
            shutdown: shutdown.clone(),
        }
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// Advances and returns the resourceVersion for a write about to be committed.
    pub fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// The stored object at `key`.
    pub fn get(&self, store: &StoreKey, key: &ObjectKey) -> Option<&Stored> {
        self.objects.get(store)?.get(key)
    }

    /// Objects of a resource in key order, within `namespace` if given, strictly after `after`.
    pub fn list<'a>(
        &'a self,
        store: &StoreKey,
        namespace: Option<&'a str>,
        after: Option<&ObjectKey>,
    ) -> impl Iterator<Item = (&'a ObjectKey, &'a Stored)> + 'a {
        let lower = match (after, namespace) {
            (Some(a), _) => std::ops::Bound::Excluded(a.clone()),
            (None, Some(ns)) => std::ops::Bound::Included((ns.to_owned(), String::new())),
            (None, None) => std::ops::Bound::Unbounded,
        };
        self.objects
            .get(store)
            .into_iter()
            .flat_map(move |m| m.range((lower.clone(), std::ops::Bound::Unbounded)))
            .take_while(move |(k, _)| namespace.is_none_or(|ns| k.0 == ns))
    }

    /// Stores `stored` at `key` and records an ADDED or MODIFIED change at its resourceVersion.
    pub fn put(&mut self, store: &StoreKey, key: ObjectKey, stored: Stored) {
        let object = Arc::clone(&stored.object);
        let previous = self
            .objects
            .entry(Arc::clone(store))
            .or_default()
            .insert(key, stored)
            .map(|s| s.object);
        let type_ = if previous.is_some() {
            ChangeType::Modified
        } else {
            ChangeType::Added
        };
        self.record(store, type_, object, previous);
    }

    /// Removes the object at `key`, recording a DELETED change carrying `last` (already stamped
    /// with a new resourceVersion).
    pub fn delete(
        &mut self,
        store: &StoreKey,
        key: &ObjectKey,
        last: Arc<Value>,
    ) -> Option<Stored> {
        let removed = self.objects.get_mut(store)?.remove(key)?;
        self.record(
            store,
            ChangeType::Deleted,
            last,
            Some(Arc::clone(&removed.object)),
        );
        Some(removed)
    }

    /// Keys of every object in `namespace`, across resources.
    pub fn keys_in_namespace(&self, namespace: &str) -> Vec<(StoreKey, ObjectKey)> {
        self.objects
            .iter()
            .flat_map(|(store, m)| {
                m.keys()
                    .filter(|k| k.0 == namespace)
                    .map(|k| (Arc::clone(store), k.clone()))
            })
            .collect()
    }

    /// Number of objects of a resource.
    #[cfg(test)]
    pub fn count(&self, store: &StoreKey) -> usize {
        self.objects.get(store).map_or(0, BTreeMap::len)
    }

    fn record(
        &mut self,
        store: &StoreKey,
        type_: ChangeType,
        object: Arc<Value>,
        previous: Option<Arc<Value>>,
    ) {
        let change = Arc::new(Change {
            rv: self.rv,
            store: Arc::clone(store),
            type_,
            object,
            previous,
            encoded: OnceLock::new(),
        });
        self.history.push_back(Arc::clone(&change));
        while self.history.len() > self.history_limit {
            if let Some(old) = self.history.pop_front() {
                self.compacted = old.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = self.changes.send(change);
    }

    /// Retained changes of `store` after `rv`, or why they are gone.
    pub fn replay(&self, store: &StoreKey, rv: u64) -> Result<Vec<Arc<Change>>, TooOld> {
        if rv < self.compacted {
            return Err(TooOld {
                requested: rv,
                compacted: self.compacted,
            });
        }
        let start = self.history.partition_point(|c| c.rv <= rv);
        Ok(self
            .history
            .range(start..)
            .filter(|c| &c.store == store)
            .cloned()
            .collect())
    }

    /// A receiver of live changes and the token that closes the watch on compaction or shutdown.
    pub fn subscribe(&self) -> (broadcast::Receiver<Arc<Change>>, CancellationToken) {
        (self.changes.subscribe(), self.epoch.clone())
    }

    /// Drops the retained history and closes every open watch: a client resuming from any
    /// resourceVersion it has seen gets 410 Expired and must re-list.
    pub fn compact(&mut self) -> u64 {
        self.rv += 1;
        self.compacted = self.rv;
        self.history.clear();
        self.epoch.cancel();
        self.epoch = self.shutdown.child_token();
        self.rv
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored(store: &mut Store, name: &str) -> Stored {
        let rv = store.next_rv();
        Stored {
            object: Arc::new(
                json!({"metadata": {"name": name, "resourceVersion": rv.to_string()}}),
            ),
            managed: ManagedFields::default(),
        }
    }

    fn key(ns: &str, name: &str) -> ObjectKey {
        (ns.into(), name.into())
    }

    #[test]
    fn replay_returns_changes_after_rv_for_one_resource() {
        let mut s = Store::new(100, &CancellationToken::new());
        let (a, b): (StoreKey, StoreKey) = ("a".into(), "b".into());
        let o = stored(&mut s, "x");
        s.put(&a, key("ns", "x"), o);
        let o = stored(&mut s, "y");
        s.put(&b, key("ns", "y"), o);
        let o = stored(&mut s, "x");
        s.put(&a, key("ns", "x"), o);
        let types: Vec<_> = s
            .replay(&a, 1)
            .unwrap()
            .iter()
            .map(|c| (c.rv, c.type_))
            .collect();
        assert_eq!(types, [(2, ChangeType::Added), (4, ChangeType::Modified)]);
        assert_eq!(s.replay(&a, 2).unwrap().len(), 1);
        assert!(s.replay(&a, 4).unwrap().is_empty());
    }

    #[test]
    fn history_window_and_compaction_expire_old_versions() {
        let mut s = Store::new(2, &CancellationToken::new());
        let k: StoreKey = "a".into();
        for name in ["p", "q", "r"] {
            let o = stored(&mut s, name);
            s.put(&k, key("", name), o);
        }
        assert_eq!(
            s.replay(&k, 1).unwrap_err(),
            TooOld {
                requested: 1,
                compacted: 2
            }
        );
        assert_eq!(s.replay(&k, 2).unwrap().len(), 2);
        let (_rx, epoch) = s.subscribe();
        let at = s.compact();
        assert!(epoch.is_cancelled());
        assert!(s.replay(&k, at - 1).is_err());
        assert!(s.replay(&k, at).unwrap().is_empty());
    }

    #[test]
    fn list_is_ordered_and_scoped_by_namespace() {
        let mut s = Store::new(10, &CancellationToken::new());
        let k: StoreKey = "cm".into();
        for (ns, name) in [("b", "2"), ("a", "9"), ("b", "1"), ("c", "0")] {
            let o = stored(&mut s, name);
            s.put(&k, key(ns, name), o);
        }
        let names = |it: Vec<(&ObjectKey, &Stored)>| {
            it.iter()
                .map(|(k, _)| format!("{}/{}", k.0, k.1))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(s.list(&k, None, None).collect()),
            ["a/9", "b/1", "b/2", "c/0"]
        );
        assert_eq!(names(s.list(&k, Some("b"), None).collect()), ["b/1", "b/2"]);
        assert_eq!(
            names(s.list(&k, Some("b"), Some(&key("b", "1"))).collect()),
            ["b/2"]
        );
        assert_eq!(
            names(s.list(&k, None, Some(&key("b", "2"))).collect()),
            ["c/0"]
        );
        let last = s.get(&k, &key("b", "1")).unwrap().object.clone();
        assert!(s.delete(&k, &key("b", "1"), last).is_some());
        assert_eq!(s.count(&k), 3);
        assert_eq!(s.keys_in_namespace("b"), vec![(k.clone(), key("b", "2"))]);
    }
}
