//! Periods kept by a thread of their own, for work done rarely (an HTTP server's idle sweep, a
//! lease renewed every few seconds, a list read again every minute): [`PeriodThread`] runs a
//! function on its thread every period; [`Ticker`] wakes an async task every period.
//!
//! A tokio timer that is always pending makes every park of the runtime's workers read the
//! clock once more and pass a timeout to `epoll_wait`, for which the kernel arms and cancels a
//! timer of its own: every call of every server on that runtime pays for a timer that fires
//! once in thousands of calls. A thread sleeps out the period instead, so between ticks the
//! runtime has nothing to time.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// A thread that runs a function every period, until the function says to stop or the
/// `PeriodThread` is stopped or dropped. A period counts from the end of the last run: a run
/// held up (a stopped process, a starved thread) is not followed by a burst of catch-up runs.
pub struct PeriodThread {
    stop: Arc<StopFlag>,
}

#[derive(Default)]
struct StopFlag {
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl PeriodThread {
    /// Runs `tick` on a thread named `name` every `period` (the first run one period from
    /// now) for as long as it returns `true`.
    pub fn spawn(
        name: &str,
        period: Duration,
        mut tick: impl FnMut() -> bool + Send + 'static,
    ) -> std::io::Result<PeriodThread> {
        let stop = Arc::new(StopFlag::default());
        let s = stop.clone();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let mut next = Instant::now() + period;
                let mut stopped = s.stopped.lock().unwrap_or_else(|p| p.into_inner());
                while !*stopped {
                    let left = next.saturating_duration_since(Instant::now());
                    if !left.is_zero() {
                        // (A wake-up before the period is up, spurious or not, waits again.)
                        stopped = s
                            .wake
                            .wait_timeout(stopped, left)
                            .unwrap_or_else(|p| p.into_inner())
                            .0;
                        continue;
                    }
                    drop(stopped);
                    if !tick() {
                        return;
                    }
                    next = Instant::now() + period;
                    stopped = s.stopped.lock().unwrap_or_else(|p| p.into_inner());
                }
            })?;
        Ok(PeriodThread { stop })
    }

    /// Ends the thread (at once if it is waiting; after its run if it is running).
    pub fn stop(&self) {
        *self.stop.stopped.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.stop.wake.notify_all();
    }
}

impl Drop for PeriodThread {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A period an async task waits for with [`Ticker::tick`]; ticks missed while nobody waited
/// are one tick, not a burst. Kept by a [`PeriodThread`], or, if no thread can be started, by
/// the runtime's timer (with a warning).
pub struct Ticker {
    keeper: Keeper,
}

enum Keeper {
    /// The thread is kept only to be stopped when the ticker is dropped.
    Thread {
        _thread: PeriodThread,
        notify: Arc<Notify>,
    },
    Runtime(Duration),
}

impl Ticker {
    /// A ticker whose first tick comes one `period` from now, kept by a thread named `name`.
    pub fn every(name: &str, period: Duration) -> Ticker {
        let notify = Arc::new(Notify::new());
        let n = notify.clone();
        let keeper = match PeriodThread::spawn(name, period, move || {
            // (At most one permit is kept: ticks nobody waited for are one.)
            n.notify_one();
            true
        }) {
            Ok(thread) => Keeper::Thread {
                _thread: thread,
                notify,
            },
            Err(e) => {
                tracing::warn!(target: "tether::core", "no thread for the period of {name}, timing it on the runtime: {e}");
                Keeper::Runtime(period)
            }
        };
        Ticker { keeper }
    }

    /// Waits for the next tick (at once if one came while nobody waited).
    pub async fn tick(&self) {
        match &self.keeper {
            Keeper::Thread { notify, .. } => notify.notified().await,
            Keeper::Runtime(period) => tokio::time::sleep(*period).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Ticks come one period apart, missed ones are one tick, and the thread ends with the
    /// ticker.
    #[tokio::test]
    async fn ticks_come_each_period_and_the_thread_ends_with_the_ticker() {
        let period = Duration::from_millis(100);
        let t = Ticker::every("tether-test-tick", period);
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
        let Keeper::Thread { _thread, .. } = &t.keeper else {
            panic!("the ticker has no thread");
        };
        let weak = Arc::downgrade(&_thread.stop);
        drop(t);
        let until = Instant::now() + Duration::from_secs(10);
        while weak.strong_count() > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(weak.strong_count(), 0, "the thread outlived its ticker");
    }

    /// A period thread ends when its function says so, and runs no more once stopped.
    #[test]
    fn a_period_thread_ends_when_told() {
        let runs = Arc::new(AtomicUsize::new(0));
        let r = runs.clone();
        let thread = PeriodThread::spawn("tether-test-per", Duration::from_millis(5), move || {
            r.fetch_add(1, Ordering::Relaxed) + 1 < 3
        })
        .expect("thread");
        let weak = Arc::downgrade(&thread.stop);
        let until = Instant::now() + Duration::from_secs(10);
        while runs.load(Ordering::Relaxed) < 3 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(
            runs.load(Ordering::Relaxed),
            3,
            "it ran on after saying stop"
        );
        drop(thread);
        let until = Instant::now() + Duration::from_secs(10);
        while weak.strong_count() > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(weak.strong_count(), 0, "the thread did not end");
    }
}
