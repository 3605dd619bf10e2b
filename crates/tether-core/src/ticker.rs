//! [`Ticker`]: a period kept by a thread of its own, for async work done rarely (a lease
//! renewed every few seconds, a list read again every minute).
//!
//! A tokio timer that is always pending makes every park of the runtime's workers read the
//! clock once more and pass a timeout to `epoll_wait`, for which the kernel arms and cancels a
//! timer of its own: every call of every server on that runtime pays for a timer that fires
//! once in thousands of calls. A ticker's thread sleeps out the period and wakes the task that
//! waits for it, so between ticks the runtime has nothing to time.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// A period, kept by a thread of its own; [`Ticker::tick`] waits for the next one. Ticks
/// missed while nobody waited are one tick, not a burst. The thread ends when the ticker is
/// dropped.
pub struct Ticker {
    shared: Arc<Shared>,
}

struct Shared {
    /// Given a permit every period (at most one is kept).
    notify: Notify,
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Ticker {
    /// A ticker whose first tick comes one `period` from now, on a thread named `name`.
    pub fn every(name: &str, period: Duration) -> std::io::Result<Ticker> {
        let shared = Arc::new(Shared {
            notify: Notify::new(),
            stopped: Mutex::new(false),
            wake: Condvar::new(),
        });
        let s = shared.clone();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let mut next = Instant::now() + period;
                let mut stopped = s.stopped.lock().unwrap_or_else(|p| p.into_inner());
                while !*stopped {
                    let left = next.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        s.notify.notify_one();
                        next = Instant::now() + period;
                        continue;
                    }
                    // (A wake-up before the period is up, spurious or not, waits again.)
                    stopped = s
                        .wake
                        .wait_timeout(stopped, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
            })?;
        Ok(Ticker { shared })
    }

    /// Waits for the next tick (at once if one came while nobody waited).
    pub async fn tick(&self) {
        self.shared.notify.notified().await
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        *self
            .shared
            .stopped
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = true;
        self.shared.wake.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ticks come one period apart, missed ones are one tick, and the thread ends with the
    /// ticker.
    #[tokio::test]
    async fn ticks_come_each_period_and_the_thread_ends_with_the_ticker() {
        let period = Duration::from_millis(100);
        let t = Ticker::every("tether-test-tick", period).expect("ticker");
        let start = Instant::now();
        for _ in 0..3 {
            tokio::time::timeout(Duration::from_secs(10), t.tick())
                .await
                .expect("a tick within 10 s");
        }
        assert!(start.elapsed() >= period * 3, "{:?}", start.elapsed());
        // Several periods with nobody waiting leave one tick, not a burst: one is there at
        // once, a second is not.
        std::thread::sleep(period * 3);
        use futures_util::FutureExt;
        assert!(
            t.tick().now_or_never().is_some(),
            "the missed ticks left none"
        );
        assert!(
            t.tick().now_or_never().is_none(),
            "a missed tick was kept twice"
        );
        let weak = Arc::downgrade(&t.shared);
        drop(t);
        let until = Instant::now() + Duration::from_secs(10);
        while weak.strong_count() > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(weak.strong_count(), 0, "the thread outlived its ticker");
    }
}
