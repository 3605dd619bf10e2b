//! The daemon's open item streams (Pyro's `streaming_responses`): results of calls that
//! returned an iterator, kept under a uuid4 string until the client has read them.
//!
//! Facts from Python's `Pyro5.server.Daemon` (5.17) that this follows:
//! - any connection may read a stream by its id (ids are unguessable uuid4s); a stream whose
//!   connection went away is adopted by the first connection that reads it again;
//! - the end of a stream and any error raised by it remove it; an unknown (or removed) id
//!   answers `PyroError('item stream terminated')`; `close_stream` of an unknown id is a no-op;
//! - a stream lives at most `ITER_STREAM_LIFETIME` from its creation (0 = forever), and a
//!   disconnected client's streams linger `ITER_STREAM_LINGER` (30 s) so it can reconnect.
//!
//! What tether adds: bounds on the number of open streams (per connection and per daemon),
//! so a client that opens streams and never reads them cannot exhaust the server's memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tether_core::{RemoteError, Value, ValueStream};

/// One open stream.
struct Entry {
    /// Shared with a fetch in progress, so the table is never locked across an await.
    stream: Arc<tokio::sync::Mutex<ValueStream>>,
    /// The connection that reads it; `None` while it lingers after a disconnect.
    owner: Option<u64>,
    created: Instant,
    /// When its connection went away (set while lingering).
    orphaned: Option<Instant>,
}

/// The table of open streams of one daemon.
#[derive(Default)]
pub(crate) struct StreamTable {
    map: Mutex<HashMap<String, Entry>>,
    /// Told when a stream opens: the housekeeper waits for it, with no timer, while there is
    /// nothing to sweep.
    opened: Arc<tokio::sync::Notify>,
}

/// Python's error for a stream id that is not (or no longer) open.
pub(crate) fn terminated() -> RemoteError {
    RemoteError::exception("Pyro5.errors.PyroError", "item stream terminated")
}

/// How the table is bounded; copied from the daemon's configuration.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StreamLimits {
    pub(crate) per_connection: usize,
    pub(crate) total: usize,
    pub(crate) lifetime: Option<Duration>,
    pub(crate) linger: Duration,
}

impl StreamTable {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding this lock cannot leave the map inconsistent (every update is
        // a single insert or remove), so a poisoned lock is still usable.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a new stream for connection `conn` and returns its id, or refuses it when a
    /// limit is reached (the stream is dropped, which stops its producer).
    pub(crate) fn open(
        &self,
        conn: u64,
        stream: ValueStream,
        limits: &StreamLimits,
    ) -> Result<String, RemoteError> {
        let now = Instant::now();
        let mut map = self.lock();
        sweep_locked(&mut map, limits, now);
        let mine = map.values().filter(|e| e.owner == Some(conn)).count();
        if mine >= limits.per_connection {
            return Err(RemoteError::exception(
                "Pyro5.errors.PyroError",
                format!(
                    "too many open item streams on this connection (limit {}); \
                     read them to the end or close them first",
                    limits.per_connection
                ),
            ));
        }
        if map.len() >= limits.total {
            return Err(RemoteError::exception(
                "Pyro5.errors.PyroError",
                format!(
                    "too many open item streams on this server (limit {}); try again later",
                    limits.total
                ),
            ));
        }
        let id = uuid::Uuid::new_v4().to_string();
        map.insert(
            id.clone(),
            Entry {
                stream: Arc::new(tokio::sync::Mutex::new(stream)),
                owner: Some(conn),
                created: now,
                orphaned: None,
            },
        );
        drop(map);
        self.opened.notify_one();
        Ok(id)
    }

    /// The stream to read for `get_next_stream_item(id)` on connection `conn` (adopting a
    /// lingering stream), or `item stream terminated`.
    pub(crate) fn get(
        &self,
        id: &Value,
        conn: u64,
    ) -> Result<Arc<tokio::sync::Mutex<ValueStream>>, RemoteError> {
        let id = id.as_str().ok_or_else(terminated)?;
        let mut map = self.lock();
        let entry = map.get_mut(id).ok_or_else(terminated)?;
        if entry.owner.is_none() {
            entry.owner = Some(conn);
            entry.orphaned = None;
        }
        Ok(entry.stream.clone())
    }

    /// Removes stream `id` if it is still the one `stream` points to (it ended or failed).
    pub(crate) fn finished(&self, id: &Value, stream: &Arc<tokio::sync::Mutex<ValueStream>>) {
        let Some(id) = id.as_str() else { return };
        let mut map = self.lock();
        if map.get(id).is_some_and(|e| Arc::ptr_eq(&e.stream, stream)) {
            map.remove(id);
        }
    }

    /// `close_stream(id)`: removes it; unknown ids are ignored, as in Python.
    pub(crate) fn close(&self, id: &Value) {
        if let Some(id) = id.as_str() {
            self.lock().remove(id);
        }
    }

    /// Connection `conn` went away: its streams linger (or go at once when `linger` is 0 or
    /// `drop_now` is set, e.g. during shutdown).
    pub(crate) fn disconnect(&self, conn: u64, linger: Duration, drop_now: bool) {
        let now = Instant::now();
        let mut map = self.lock();
        if linger.is_zero() || drop_now {
            map.retain(|_, e| e.owner != Some(conn));
        } else {
            for e in map.values_mut().filter(|e| e.owner == Some(conn)) {
                e.owner = None;
                e.orphaned = Some(now);
            }
        }
    }

    /// Drops streams past their lifetime or linger time (the daemon's housekeeper).
    pub(crate) fn sweep(&self, limits: &StreamLimits) {
        sweep_locked(&mut self.lock(), limits, Instant::now());
    }

    /// Drops every stream (shutdown).
    pub(crate) fn clear(&self) {
        // Taken out first so the streams (and whatever their producers hold) are dropped
        // outside the lock.
        let all = std::mem::take(&mut *self.lock());
        drop(all);
    }

    /// What [`Self::open`] notifies (one permit is kept if nobody waits).
    pub(crate) fn opened(&self) -> Arc<tokio::sync::Notify> {
        self.opened.clone()
    }

    /// How many streams are open.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

fn sweep_locked(map: &mut HashMap<String, Entry>, limits: &StreamLimits, now: Instant) {
    map.retain(|_, e| {
        let expired = limits
            .lifetime
            .is_some_and(|l| !l.is_zero() && now.duration_since(e.created) > l);
        let gone = e
            .orphaned
            .is_some_and(|t| now.duration_since(t) > limits.linger);
        !(expired || gone)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> StreamLimits {
        StreamLimits {
            per_connection: 2,
            total: 3,
            lifetime: None,
            linger: Duration::from_secs(30),
        }
    }

    #[test]
    fn limits_linger_and_adoption() {
        let t = StreamTable::default();
        let l = limits();
        let a = t.open(1, ValueStream::empty(), &l).unwrap();
        t.open(1, ValueStream::empty(), &l).unwrap();
        let e = t.open(1, ValueStream::empty(), &l).unwrap_err();
        assert!(e.message().contains("limit 2"), "{e}");
        t.open(2, ValueStream::empty(), &l).unwrap();
        let e = t.open(3, ValueStream::empty(), &l).unwrap_err();
        assert!(e.message().contains("on this server"), "{e}");
        // Connection 1 leaves: its streams linger, and connection 3 may adopt one.
        t.disconnect(1, l.linger, false);
        assert_eq!(t.len(), 3);
        assert!(t.get(&Value::str(a.as_str()), 3).is_ok());
        t.close(&Value::str(a.as_str()));
        assert!(t.get(&Value::str(a.as_str()), 3).is_err());
        assert!(t.get(&Value::Int(1), 3).is_err());
        // No linger: dropped at once.
        t.disconnect(2, Duration::ZERO, false);
        assert_eq!(t.len(), 1);
        let short = StreamLimits {
            linger: Duration::ZERO,
            lifetime: Some(Duration::from_nanos(1)),
            ..l
        };
        std::thread::sleep(Duration::from_millis(2));
        t.sweep(&short);
        assert_eq!(t.len(), 0);
    }
}
