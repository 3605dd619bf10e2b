//! The slow-loris guard: every connection's time idle or reading a request's head, looked at
//! by one thread for all of them.

use super::Shared;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tether_core::latch::Latch;
use tether_core::ticker::PeriodThread;

/// A connection's [`Latch`] bit: idle, or reading a request's head, for the header timeout.
pub(super) const EXPIRED: u8 = 1;
/// A connection's [`Latch`] bit: the server is stopping (a request in progress may finish).
pub(super) const STOPPING: u8 = 2;

/// The slow-loris guard of one connection: how long it has been idle, or reading a request's
/// head, which bounds both a request's headers dribbling in and an idle kept-alive connection.
///
/// A fresh timer per request (what general HTTP servers arm) costs a quarter of a small
/// call's time, and even a clock reading per request shows; this one copies the server's
/// tick count (one relaxed load) when a request ends, and the server's sweep ([`start_sweep`])
/// advances the count and looks at every connection's now and then.
pub(super) struct Watch {
    /// The sweep's tick count when the connection last became idle (or opened).
    idle_since: AtomicU64,
    /// A request's handler is running (its body has its own timeout).
    pub busy: AtomicBool,
    /// [`EXPIRED`], raised by [`start_sweep`] when the connection has been idle, or reading a
    /// request's headers, for the header timeout; [`STOPPING`], raised for every connection
    /// when the server stops ([`Guards::stop_all`]).
    pub latch: Latch,
}

impl Watch {
    /// A watch for a connection opened now.
    pub fn new(guards: &Guards) -> Watch {
        Watch {
            idle_since: AtomicU64::new(guards.ticks.load(Ordering::Relaxed)),
            busy: AtomicBool::new(false),
            latch: Latch::default(),
        }
    }

    /// The connection finished a request and waits for the next.
    pub fn idle_from_now(&self, guards: &Guards) {
        self.idle_since
            .store(guards.ticks.load(Ordering::Relaxed), Ordering::Relaxed);
        self.busy.store(false, Ordering::Relaxed);
    }

    /// Whether the connection has been idle, or reading a request's headers, for more than
    /// `limit` ticks at tick `now`.
    fn is_over(&self, now: u64, limit: u64) -> bool {
        !self.busy.load(Ordering::Relaxed)
            && now.saturating_sub(self.idle_since.load(Ordering::Relaxed)) > limit
    }
}

/// Every open connection's [`Watch`], for [`start_sweep`].
///
/// One thread looks at them all, so a connection arms no timer of its own: tokio wakes its I/O
/// driver whenever a new timer is the earliest (an eventfd write and one more `epoll_wait`),
/// which a client that opens a connection per call (python-hessian, Python's `xmlrpc.client`
/// over plain HTTP) paid on every call.
#[derive(Default)]
pub(super) struct Guards {
    /// Periods of the sweep since the server started.
    ticks: AtomicU64,
    next: AtomicU64,
    open: std::sync::Mutex<std::collections::HashMap<u64, Arc<Watch>>>,
    /// The sweep's thread (ends when stopped, or dropped with the server).
    sweeper: OnceLock<PeriodThread>,
}

/// A connection's place among the [`Guards`], given up when the connection ends.
pub(super) struct Guarded<'a> {
    guards: &'a Guards,
    id: u64,
}

impl Guards {
    /// Raises [`STOPPING`] on every open connection (after the server's stop is sent: a
    /// connection added later sees the stop when it is added).
    pub fn stop_all(&self) {
        if let Some(t) = self.sweeper.get() {
            t.stop();
        }
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        for w in open.values() {
            w.latch.raise(STOPPING);
        }
    }

    /// One period more: raises [`EXPIRED`] on every connection idle, or reading a head, for
    /// more than `limit_ticks` periods.
    fn sweep(&self, limit_ticks: u64) {
        let now = self.ticks.fetch_add(1, Ordering::Relaxed) + 1;
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        for w in open.values().filter(|w| w.is_over(now, limit_ticks)) {
            w.latch.raise(EXPIRED);
        }
    }

    pub fn add(&self, watch: &Arc<Watch>) -> Guarded<'_> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, watch.clone());
        Guarded { guards: self, id }
    }
}

impl Drop for Guarded<'_> {
    fn drop(&mut self) {
        self.guards
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
    }
}

/// The sweep's period for a header timeout of `limit` (a quarter of it, at most a second, at
/// least 10 ms), and the timeout in periods (saturated: a timeout of many years never expires,
/// rather than wrapping around to one that has).
fn sweep_period(limit: Duration) -> (Duration, u64) {
    let period = (limit / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    // A connection idle since tick t has been idle at least (now - t - 1) whole periods.
    let ticks = limit.as_nanos().div_ceil(period.as_nanos().max(1));
    (period, u64::try_from(ticks).unwrap_or(u64::MAX))
}

/// Starts the sweep: every quarter of the header timeout (at most every second, at least
/// every 10 ms) it raises [`EXPIRED`] on the [`Watch`] of each connection over the timeout.
///
/// The sweep runs on a [`PeriodThread`], not on a tokio timer, which would stay pending for the
/// server's life and cost every park of the runtime (every call of every server on it, the Pyro
/// daemons' too when an admin server ran beside them) a timeout passed to `epoll_wait`. The
/// thread holds the server only weakly, and ends at the server's shutdown or when it is dropped.
pub(super) fn start_sweep(shared: &Arc<Shared>) -> std::io::Result<()> {
    let (period, limit_ticks) = sweep_period(shared.config.header_timeout);
    let weak = Arc::downgrade(shared);
    let thread = PeriodThread::spawn("tether-sweep", period, move || {
        weak.upgrade()
            .map(|shared| shared.guards.sweep(limit_ticks))
            .is_some()
    })?;
    // (Only this server's start sets it.)
    let _ = shared.guards.sweeper.set(thread);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweep_period_bounds_every_timeout() {
        let ms = Duration::from_millis;
        assert_eq!(sweep_period(Duration::from_secs(60)), (ms(1000), 60));
        assert_eq!(sweep_period(Duration::from_secs(1)), (ms(250), 4));
        assert_eq!(sweep_period(ms(1)), (ms(10), 1));
        assert_eq!(sweep_period(Duration::ZERO), (ms(10), 0));
        assert_eq!(sweep_period(Duration::MAX), (ms(1000), u64::MAX));
    }
}
