//! The slow-loris guard: every connection's time idle or reading a request's head, looked at
//! by one task for all of them.

use super::Shared;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The slow-loris guard of one connection: the time since it last finished a request (or
/// opened) while it is not busy in one, which bounds both a request's headers dribbling in
/// and an idle kept-alive connection.
///
/// A fresh timer per request (what general HTTP servers arm) costs a quarter of a small
/// call's time; this one moves a timestamp per request, and the server's
/// [`sweep`] looks at every connection's now and then.
pub(super) struct Watch {
    opened: std::time::Instant,
    /// Milliseconds from `opened` to the end of the last request.
    idle_since_ms: AtomicU64,
    /// A request's handler is running (its body has its own timeout).
    pub busy: AtomicBool,
    /// Raised by [`sweep`] when the connection has been idle, or reading a request's
    /// headers, for the header timeout.
    pub expired: tokio::sync::Notify,
}

impl Watch {
    pub fn new() -> Watch {
        Watch {
            opened: std::time::Instant::now(),
            idle_since_ms: AtomicU64::new(0),
            busy: AtomicBool::new(false),
            expired: tokio::sync::Notify::new(),
        }
    }

    pub fn idle_from_now(&self) {
        let ms = self.opened.elapsed().as_millis() as u64;
        self.idle_since_ms.store(ms, Ordering::Relaxed);
        self.busy.store(false, Ordering::Relaxed);
    }

    /// Whether the connection has been idle, or reading a request's headers, for `limit` at
    /// `now`.
    fn is_over(&self, now: std::time::Instant, limit: Duration) -> bool {
        if self.busy.load(Ordering::Relaxed) {
            return false;
        }
        let since = self.opened + Duration::from_millis(self.idle_since_ms.load(Ordering::Relaxed));
        since + limit <= now
    }
}

/// Every open connection's [`Watch`], for [`sweep`].
///
/// One task looks at them all, so a connection arms no timer of its own: tokio wakes its I/O
/// driver whenever a new timer is the earliest (an eventfd write and one more `epoll_wait`),
/// which a client that opens a connection per call (python-hessian, Python's `xmlrpc.client`
/// over plain HTTP) paid on every call.
#[derive(Default)]
pub(super) struct Guards {
    next: AtomicU64,
    open: std::sync::Mutex<std::collections::HashMap<u64, Arc<Watch>>>,
}

/// A connection's place among the [`Guards`], given up when the connection ends.
pub(super) struct Guarded<'a> {
    guards: &'a Guards,
    id: u64,
}

impl Guards {
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

/// Every quarter of the header timeout (at most every second, at least every 10 ms), raises
/// the [`Watch`] of each connection over it; stops with the server.
pub(super) async fn sweep(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let limit = shared.config.header_timeout;
    let period = (limit / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {}
        }
        let now = std::time::Instant::now();
        let open = shared.guards.open.lock().unwrap_or_else(|p| p.into_inner());
        for w in open.values().filter(|w| w.is_over(now, limit)) {
            w.expired.notify_one();
        }
    }
}
