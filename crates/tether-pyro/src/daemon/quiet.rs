//! Warnings caused by clients, rate-limited: a flood of bad connections must not become a
//! flood of log lines. Up to [`BURST`] warnings per second are written; the rest are counted,
//! and the next warning written says how many were left out.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use tokio::time::Instant;

/// Warnings written per one-second window.
pub(crate) const BURST: u64 = 10;

/// One limiter per daemon.
pub(crate) struct WarnLimit {
    window: Mutex<(Instant, u64)>,
    suppressed: AtomicU64,
}

impl Default for WarnLimit {
    fn default() -> Self {
        WarnLimit {
            window: Mutex::new((Instant::now(), 0)),
            suppressed: AtomicU64::new(0),
        }
    }
}

impl WarnLimit {
    /// `Some(n)` if a warning may be written now (`n` = how many were left out before it),
    /// `None` if it is to be left out.
    pub(crate) fn allow(&self) -> Option<u64> {
        let mut w = self.window.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if now.duration_since(w.0).as_secs() >= 1 {
            *w = (now, 0);
        }
        if w.1 < BURST {
            w.1 += 1;
            Some(self.suppressed.swap(0, Ordering::Relaxed))
        } else {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

/// `tracing::warn!` through the daemon's [`WarnLimit`].
macro_rules! warn_limited {
    ($limit:expr, $($arg:tt)+) => {
        if let Some(left_out) = $limit.allow() {
            if left_out > 0 {
                tracing::warn!(target: "tether::pyro::daemon", "({left_out} similar warnings left out)");
            }
            tracing::warn!(target: "tether::pyro::daemon", $($arg)+);
        }
    };
}

pub(crate) use warn_limited;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_silence_then_a_count() {
        let l = WarnLimit::default();
        for _ in 0..BURST {
            assert_eq!(l.allow(), Some(0));
        }
        for _ in 0..1000 {
            assert_eq!(l.allow(), None);
        }
        // A new window reports what was left out.
        *l.window.lock().unwrap() = (Instant::now() - std::time::Duration::from_secs(2), 0);
        assert_eq!(l.allow(), Some(1000));
        assert_eq!(l.allow(), Some(0));
    }
}
