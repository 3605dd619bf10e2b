//! One member of a pool: its invoker, how busy it is, and its health.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tether_core::Invoker;

/// The health record of an endpoint.
#[derive(Debug, Default)]
pub(crate) struct Health {
    /// Transport failures since the last success.
    pub consecutive_failures: u32,
    /// Out of the pool until then (a probe decides after that).
    pub ejected_until: Option<Instant>,
    /// The next ejection's length (doubles each time, back to the base on a success).
    pub backoff: Duration,
    /// A probe task is running for it.
    pub probing: bool,
    /// Why it last failed.
    pub last_error: Option<String>,
}

/// One endpoint of a pool.
pub(crate) struct Endpoint {
    pub url: String,
    pub invoker: Arc<dyn Invoker>,
    pub weight: u32,
    pub health: Mutex<Health>,
    pub active: AtomicUsize,
    pub calls: AtomicU64,
    pub failures: AtomicU64,
    pub ejections: AtomicU64,
    /// Left the pool (membership changed): its probe stops.
    pub removed: std::sync::atomic::AtomicBool,
    /// Whether the health record says anything but "fine" (failures counted, ejected or
    /// probing): the hot path reads this flag instead of taking the lock.
    pub troubled: std::sync::atomic::AtomicBool,
}

/// What a user can read of one endpoint ([`crate::Pool::stats`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointStats {
    /// The endpoint's URL.
    pub url: String,
    /// Calls sent to it.
    pub calls: u64,
    /// Calls that failed at the transport (connection, timeout, protocol).
    pub failures: u64,
    /// Times it was ejected.
    pub ejections: u64,
    /// Calls in flight now.
    pub active: usize,
    /// Out of the pool now.
    pub ejected: bool,
    /// Why it last failed, if it did.
    pub last_error: Option<String>,
}

impl Endpoint {
    pub fn new(url: String, invoker: Arc<dyn Invoker>, weight: u32, base: Duration) -> Endpoint {
        Endpoint {
            url,
            invoker,
            weight: weight.max(1),
            health: Mutex::new(Health {
                backoff: base,
                ..Health::default()
            }),
            active: AtomicUsize::new(0),
            calls: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            ejections: AtomicU64::new(0),
            removed: std::sync::atomic::AtomicBool::new(false),
            troubled: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether it may take calls now.
    pub fn is_live(&self, now: Instant) -> bool {
        if !self.troubled.load(Ordering::Relaxed) {
            return true;
        }
        let h = self.health();
        h.ejected_until.is_none_or(|t| t <= now) && !h.probing
    }

    pub fn stats(&self) -> EndpointStats {
        let h = self.health();
        EndpointStats {
            url: self.url.clone(),
            calls: self.calls.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            ejections: self.ejections.load(Ordering::Relaxed),
            active: self.active.load(Ordering::Relaxed),
            ejected: h.ejected_until.is_some() || h.probing,
            last_error: h.last_error.clone(),
        }
    }

    /// Why it is out, for the "no live server" error.
    pub fn why_out(&self, now: Instant) -> String {
        let h = self.health();
        let err = h.last_error.as_deref().unwrap_or("no error recorded");
        match h.ejected_until {
            Some(t) if t > now => format!(
                "{} (ejected for {:.1} s more after {} consecutive failures: {err})",
                self.url,
                (t - now).as_secs_f64(),
                h.consecutive_failures
            ),
            Some(_) | None if h.probing => format!("{} (being probed: {err})", self.url),
            _ => format!("{} (failed: {err})", self.url),
        }
    }
}

/// Counts one call in flight for as long as it lives.
pub(crate) struct InFlight(pub Arc<Endpoint>);

impl InFlight {
    pub fn new(e: Arc<Endpoint>) -> InFlight {
        e.active.fetch_add(1, Ordering::Relaxed);
        e.calls.fetch_add(1, Ordering::Relaxed);
        InFlight(e)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Relaxed);
    }
}
