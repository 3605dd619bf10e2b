//! [`ObjectTable`]: the daemon's objects by id, and [`ObjectCache`], the one a connection
//! called last.
//!
//! Every call names its object. Looking it up in the shared table takes the table's read lock,
//! hashes the id and clones the object's `Arc`: three writes to cache lines that every worker
//! thread of a busy server writes too (the lock's reader count, the `Arc`'s count, twice), so
//! they travel between CPUs on every call. A connection nearly always calls the same object, so
//! it keeps the last one it looked up with the table's generation at that time, and reuses it
//! while the generation has not moved: one read of a counter that changes only when objects are
//! registered or removed, and a comparison of the id. The call then borrows the object.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use tether_core::Dispatch;

/// The daemon's objects by id.
#[derive(Default)]
pub(crate) struct ObjectTable {
    map: RwLock<HashMap<String, Arc<dyn Dispatch>>>,
    /// Moves on every change of `map`: a cached lookup is good while it has not.
    generation: AtomicU64,
}

/// Why [`ObjectTable::insert`] refused.
pub(crate) enum InsertError {
    /// The id is taken.
    Taken,
    /// A thread panicked holding the table.
    Poisoned,
}

impl ObjectTable {
    /// Adds `object` under `id` unless the id is taken.
    pub(crate) fn insert(&self, id: String, object: Arc<dyn Dispatch>) -> Result<(), InsertError> {
        let mut map = self.map.write().map_err(|_| InsertError::Poisoned)?;
        if map.contains_key(&id) {
            return Err(InsertError::Taken);
        }
        map.insert(id, object);
        // Under the write lock: a lookup that reads the new generation finds the new table.
        self.generation.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// Removes `id`; whether it was there. Connections that cached it let it go at their next
    /// call (or when they close).
    pub(crate) fn remove(&self, id: &str) -> bool {
        let Ok(mut map) = self.map.write() else {
            return false;
        };
        let removed = map.remove(id).is_some();
        if removed {
            self.generation.fetch_add(1, Ordering::Release);
        }
        removed
    }

    /// The object registered as `id`.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<dyn Dispatch>> {
        self.map.read().ok()?.get(id).cloned()
    }

    /// The object registered as `id`, through `cache` (filled in when it missed).
    pub(crate) fn lookup<'c>(
        &self,
        cache: &'c mut ObjectCache,
        id: &str,
    ) -> Option<&'c Arc<dyn Dispatch>> {
        let generation = self.generation.load(Ordering::Acquire);
        let hit = cache.object.is_some() && cache.generation == generation && cache.id == id;
        if !hit {
            // The id's text is copied into the cache's own string (no allocation once it is
            // long enough).
            cache.object = self.get(id);
            cache.generation = generation;
            cache.id.clear();
            cache.id.push_str(id);
        }
        cache.object.as_ref()
    }

    /// Every registered id, unordered.
    pub(crate) fn ids(&self) -> Vec<String> {
        self.map
            .read()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// How many objects are registered.
    pub(crate) fn len(&self) -> usize {
        self.map.read().map(|m| m.len()).unwrap_or(0)
    }
}

/// The object a connection called last, with the table's generation when it was looked up.
#[derive(Default)]
pub(crate) struct ObjectCache {
    generation: u64,
    id: String,
    /// `None` when the id was not registered (or nothing was looked up yet).
    object: Option<Arc<dyn Dispatch>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use tether_core::{BoxFuture, Call, MethodInfo, RemoteError, Value};

    struct Named(&'static str);
    impl Dispatch for Named {
        fn methods(&self) -> &[MethodInfo] {
            &[]
        }
        fn dispatch(&self, _call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
            let name = self.0;
            Box::pin(async move { Ok(Value::str(name)) })
        }
    }

    fn name_of(o: Option<&Arc<dyn Dispatch>>) -> Option<*const ()> {
        o.map(|o| Arc::as_ptr(o) as *const ())
    }

    /// A cached object is used while the table is unchanged, and never after its id was
    /// removed or given to another object.
    #[test]
    fn the_cache_follows_every_change_of_the_table() {
        let table = ObjectTable::default();
        let mut cache = ObjectCache::default();
        let a: Arc<dyn Dispatch> = Arc::new(Named("a"));
        let b: Arc<dyn Dispatch> = Arc::new(Named("b"));
        assert!(table.insert("x".into(), a.clone()).is_ok());
        assert!(matches!(
            table.insert("x".into(), b.clone()),
            Err(InsertError::Taken)
        ));
        let pa = name_of(Some(&a));
        assert_eq!(name_of(table.lookup(&mut cache, "x")), pa);
        assert_eq!(name_of(table.lookup(&mut cache, "x")), pa);
        assert!(table.lookup(&mut cache, "y").is_none());
        assert_eq!(name_of(table.lookup(&mut cache, "x")), pa);
        assert!(table.remove("x"));
        assert!(table.lookup(&mut cache, "x").is_none());
        assert_eq!(
            Arc::strong_count(&a),
            1,
            "the cache let the removed object go"
        );
        assert!(table.insert("x".into(), b.clone()).is_ok());
        assert_eq!(name_of(table.lookup(&mut cache, "x")), name_of(Some(&b)));
        assert_eq!(table.len(), 1);
        assert_eq!(table.ids(), vec!["x".to_string()]);
    }
}
