//! Secondary indexes over the kinds' caches (rollouts and scaling policies by the service they
//! name, services by region and cluster), kept by the watch that fills each cache, so a
//! reconcile finds its related objects without scanning every cached object.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use kube::Resource;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;

/// The key an object is indexed under; `None` leaves it out.
pub type KeyOf<K> = fn(&K) -> Option<String>;

/// Objects of `K` by key. The index only narrows the candidates: lookups read each candidate
/// from the store, so callers see the store's current objects.
#[derive(Clone)]
pub struct Index<K: Resource<DynamicType = ()>> {
    key_of: KeyOf<K>,
    state: Arc<RwLock<State<K>>>,
}

/// Objects under each key.
type ByKey<K> = HashMap<String, HashSet<ObjectRef<K>>>;
/// The key each object is under.
type Keys<K> = HashMap<ObjectRef<K>, String>;

struct State<K: Resource<DynamicType = ()>> {
    by_key: ByKey<K>,
    keys: Keys<K>,
    /// A relist in progress: built aside and swapped in when it is complete, as the store does.
    relist: Option<(ByKey<K>, Keys<K>)>,
}

impl<K: Resource<DynamicType = ()>> Default for State<K> {
    fn default() -> Self {
        Self {
            by_key: HashMap::new(),
            keys: HashMap::new(),
            relist: None,
        }
    }
}

impl<K: Resource<DynamicType = ()> + Clone> Index<K> {
    /// An empty index of objects under `key_of`.
    pub fn new(key_of: KeyOf<K>) -> Self {
        Self {
            key_of,
            state: Arc::new(RwLock::new(State::default())),
        }
    }

    /// Follows one watch event, after the store applied it.
    pub fn apply(&self, event: &watcher::Event<K>) {
        let mut state = self.state.write().expect("index lock");
        match event {
            watcher::Event::Apply(obj) => {
                let State { by_key, keys, .. } = &mut *state;
                insert(by_key, keys, ObjectRef::from_obj(obj), (self.key_of)(obj));
            }
            watcher::Event::Delete(obj) => {
                let State { by_key, keys, .. } = &mut *state;
                insert(by_key, keys, ObjectRef::from_obj(obj), None);
            }
            watcher::Event::Init => state.relist = Some(Default::default()),
            watcher::Event::InitApply(obj) => {
                let key = (self.key_of)(obj);
                let (by_key, keys) = state.relist.get_or_insert_with(Default::default);
                insert(by_key, keys, ObjectRef::from_obj(obj), key);
            }
            watcher::Event::InitDone => {
                if let Some((by_key, keys)) = state.relist.take() {
                    state.by_key = by_key;
                    state.keys = keys;
                }
            }
        }
    }

    /// The objects under `key` that `store` holds now.
    pub fn get(&self, store: &Store<K>, key: &str) -> Vec<Arc<K>> {
        let refs: Vec<ObjectRef<K>> = {
            let state = self.state.read().expect("index lock");
            state
                .by_key
                .get(key)
                .map(|set| set.iter().cloned().collect())
                .unwrap_or_default()
        };
        refs.iter().filter_map(|r| store.get(r)).collect()
    }
}

/// Files `obj` under `key` (nowhere for `None`), out of the key it had.
fn insert<K: Resource<DynamicType = ()>>(
    by_key: &mut ByKey<K>,
    keys: &mut Keys<K>,
    obj: ObjectRef<K>,
    key: Option<String>,
) {
    if let Some(old) = keys.remove(&obj)
        && let Some(set) = by_key.get_mut(&old)
    {
        set.remove(&obj);
        if set.is_empty() {
            by_key.remove(&old);
        }
    }
    if let Some(key) = key {
        by_key.entry(key.clone()).or_default().insert(obj.clone());
        keys.insert(obj, key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crds::BlueGreenRollout;
    use kube::runtime::reflector;

    fn rollout(name: &str, service: &str) -> BlueGreenRollout {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "ecs-operator.dev/v1alpha1",
            "kind": "BlueGreenRollout",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"serviceRef": {"name": service}, "strategy": {}}
        }))
        .expect("fixture parses")
    }

    fn by_service(r: &BlueGreenRollout) -> Option<String> {
        Some(r.spec.service_ref.name.clone())
    }

    fn names(found: Vec<Arc<BlueGreenRollout>>) -> Vec<String> {
        let mut names: Vec<String> = found
            .iter()
            .filter_map(|r| r.metadata.name.clone())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_index_follows_applies_moves_deletes_and_relists() {
        let (store, mut writer) = reflector::store();
        let index = Index::new(by_service as KeyOf<BlueGreenRollout>);
        let mut feed = |event: watcher::Event<BlueGreenRollout>| {
            writer.apply_watcher_event(&event);
            index.apply(&event);
        };
        feed(watcher::Event::Apply(rollout("a", "auth")));
        feed(watcher::Event::Apply(rollout("b", "auth")));
        feed(watcher::Event::Apply(rollout("c", "cart")));
        assert_eq!(names(index.get(&store, "auth")), ["a", "b"]);

        feed(watcher::Event::Apply(rollout("b", "cart")));
        assert_eq!(names(index.get(&store, "auth")), ["a"]);
        assert_eq!(names(index.get(&store, "cart")), ["b", "c"]);

        feed(watcher::Event::Delete(rollout("c", "cart")));
        assert_eq!(names(index.get(&store, "cart")), ["b"]);

        feed(watcher::Event::Init);
        feed(watcher::Event::InitApply(rollout("d", "auth")));
        assert_eq!(
            names(index.get(&store, "auth")),
            ["a"],
            "old state until done"
        );
        feed(watcher::Event::InitDone);
        assert_eq!(names(index.get(&store, "auth")), ["d"]);
        assert!(index.get(&store, "cart").is_empty());
    }
}
