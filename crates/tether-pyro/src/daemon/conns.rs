//! The open connections, so that a full daemon can make room: when too many connections are
//! still in their handshake the oldest of them is closed, and when the connection limit is
//! reached the established connection idle the longest (with no call running) is closed before
//! a new client is refused. Sockets that say nothing, or finish CONNECT and then idle, can
//! therefore not lock new clients out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::time::Instant;

/// One open connection as the table sees it.
pub(crate) struct ConnEntry {
    /// When it was accepted (ms since the table's epoch).
    accepted: u64,
    /// Its CONNECT was accepted.
    established: AtomicBool,
    /// A call of it is running.
    busy: AtomicBool,
    /// Its last message (ms since the table's epoch).
    last_active: AtomicU64,
    /// Already told to close (never chosen twice, no longer counted as pending).
    shed: AtomicBool,
    /// Tells its session to close, or that the daemon stops (see latch.rs).
    pub(crate) latch: Arc<super::latch::Latch>,
}

/// The table of open connections.
pub(crate) struct ConnTable {
    epoch: Instant,
    entries: Mutex<HashMap<u64, Arc<ConnEntry>>>,
    pending: AtomicUsize,
}

impl Default for ConnTable {
    fn default() -> Self {
        ConnTable {
            epoch: Instant::now(),
            entries: Mutex::default(),
            pending: AtomicUsize::new(0),
        }
    }
}

impl ConnTable {
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<ConnEntry>>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a connection in its handshake.
    pub(crate) fn open(&self, id: u64) -> Arc<ConnEntry> {
        let now = self.now();
        let e = Arc::new(ConnEntry {
            accepted: now,
            established: AtomicBool::new(false),
            busy: AtomicBool::new(false),
            last_active: AtomicU64::new(now),
            shed: AtomicBool::new(false),
            latch: Default::default(),
        });
        self.pending.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, e.clone());
        e
    }

    /// Marks a connection's handshake done.
    pub(crate) fn established(&self, e: &ConnEntry) {
        if !e.established.swap(true, Ordering::Relaxed) && !e.shed.load(Ordering::Relaxed) {
            self.pending.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Removes a connection.
    pub(crate) fn close(&self, id: u64) {
        if let Some(e) = self.lock().remove(&id) {
            if !e.established.load(Ordering::Relaxed) && !e.shed.load(Ordering::Relaxed) {
                self.pending.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// Connections still in their handshake.
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// A call of `e` starts: it is busy (never shed) until [`Self::done`].
    pub(crate) fn busy(&self, e: &ConnEntry) {
        e.busy.store(true, Ordering::Relaxed);
    }

    /// A call of `e` is answered: idle from now (one clock reading per call: a connection
    /// busy with a call is never shed, so when its call started does not matter).
    pub(crate) fn done(&self, e: &ConnEntry) {
        e.last_active.store(self.now(), Ordering::Relaxed);
        e.busy.store(false, Ordering::Relaxed);
    }

    /// Tells every open connection's session the daemon's new state.
    pub(crate) fn raise_all(&self, bits: u8) {
        for e in self.lock().values() {
            e.latch.raise(bits);
        }
    }

    /// Tells `e` to close, once; it stops counting as pending at once.
    fn shed(&self, e: &ConnEntry) {
        let was_pending = !e.established.load(Ordering::Relaxed);
        if !e.shed.swap(true, Ordering::Relaxed) {
            if was_pending {
                self.pending.fetch_sub(1, Ordering::Relaxed);
            }
            e.latch.raise(super::latch::SHED);
        }
    }

    /// Closes the oldest connection still in its handshake; false if there is none.
    pub(crate) fn shed_pending(&self) -> bool {
        let entries = self.lock();
        let victim = entries
            .values()
            .filter(|e| !e.established.load(Ordering::Relaxed) && !e.shed.load(Ordering::Relaxed))
            .min_by_key(|e| e.accepted);
        victim.map(|e| self.shed(e)).is_some()
    }

    /// Closes the established connection idle the longest, if it has been idle at least
    /// `min_idle_ms` with no call running; false if there is none.
    pub(crate) fn shed_idle(&self, min_idle_ms: u64) -> bool {
        let now = self.now();
        let entries = self.lock();
        let victim = entries
            .values()
            .filter(|e| {
                e.established.load(Ordering::Relaxed)
                    && !e.busy.load(Ordering::Relaxed)
                    && !e.shed.load(Ordering::Relaxed)
                    && now.saturating_sub(e.last_active.load(Ordering::Relaxed)) >= min_idle_ms
            })
            .min_by_key(|e| e.last_active.load(Ordering::Relaxed));
        victim.map(|e| self.shed(e)).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::super::latch::{LatchWait, SHED, STOPPING};
    use super::*;

    #[tokio::test]
    async fn a_shed_connection_learns_why() {
        let table = ConnTable::default();
        let entry = table.open(7);
        let mut stop = LatchWait::new(entry.latch.clone(), SHED | STOPPING);
        assert!(table.shed_pending());
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), stop.reached()).await;
        assert_eq!(got.unwrap(), SHED);
    }
}
