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
    /// When its last call was answered: ms since the table's epoch when the daemon sheds only
    /// connections idle for some time, else the table's count of answered calls then (see
    /// [`ConnTable::timed`]).
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
    /// Whether a connection must have been idle some time before it is shed
    /// (`shed_idle_after` is not zero): then a call's end is timed. Otherwise only the order
    /// of the connections' last calls matters (the one idle the longest goes first), and a
    /// count gives it without reading the clock on every call.
    timed: bool,
    /// Calls answered so far (the order of activity when not [`timed`](Self::timed)).
    answered: AtomicU64,
}

impl Default for ConnTable {
    fn default() -> Self {
        ConnTable::new(false)
    }
}

impl ConnTable {
    /// A table whose idle connections may be shed only after some idle time (`timed`), or at
    /// any time.
    pub(crate) fn new(timed: bool) -> Self {
        ConnTable {
            epoch: Instant::now(),
            entries: Mutex::default(),
            pending: AtomicUsize::new(0),
            timed,
            answered: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// A connection's mark of activity now: the time, or the place in the order of calls.
    fn active_now(&self) -> u64 {
        if self.timed {
            self.now()
        } else {
            self.answered.fetch_add(1, Ordering::Relaxed) + 1
        }
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
            last_active: AtomicU64::new(if self.timed { now } else { 0 }),
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

    /// A call of `e` is answered: idle from now (a connection busy with a call is never shed,
    /// so when its call started does not matter).
    pub(crate) fn done(&self, e: &ConnEntry) {
        e.last_active.store(self.active_now(), Ordering::Relaxed);
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
    /// `min_idle_ms` with no call running; false if there is none. (A table that is not
    /// [`timed`](Self::timed) has no idle times: any idle connection may go.)
    pub(crate) fn shed_idle(&self, min_idle_ms: u64) -> bool {
        let (now, min_idle_ms) = if self.timed {
            (self.now(), min_idle_ms)
        } else {
            (0, 0)
        };
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

    /// Untimed, the connection whose last call ended first goes first (an order, no clock);
    /// timed, a connection idle less than the minimum stays.
    #[test]
    fn the_connection_idle_the_longest_is_shed_first() {
        let table = ConnTable::new(false);
        let entries: Vec<_> = (1..=3).map(|id| table.open(id)).collect();
        for e in &entries {
            table.established(e);
        }
        for i in [1, 0, 2] {
            table.busy(&entries[i]);
            table.done(&entries[i]);
        }
        let shed = || -> Vec<bool> {
            entries
                .iter()
                .map(|e| e.shed.load(Ordering::Relaxed))
                .collect()
        };
        let mut order = Vec::new();
        for _ in 0..3 {
            let before = shed();
            assert!(table.shed_idle(60_000), "an idle connection may always go");
            let after = shed();
            order.extend((0..3).filter(|&i| after[i] && !before[i]));
        }
        assert_eq!(order, [1, 0, 2]);
        assert!(!table.shed_idle(0), "none left");

        let timed = ConnTable::new(true);
        let e = timed.open(9);
        timed.established(&e);
        timed.done(&e);
        assert!(!timed.shed_idle(60_000), "idle for less than a minute");
        assert!(timed.shed_idle(0));
    }
}
