//! Periods kept by a thread of their own, for work done rarely (an HTTP server's idle sweep, a
//! lease renewed every few seconds, a list read again every minute, metrics and logs sent to a
//! collector): [`PeriodThread`] runs a function on its thread every period (and, for an
//! exporter, once more at the end); [`Ticker`] wakes an async task every period.
//!
//! A tokio timer that is always pending makes every park of the runtime's workers read the
//! clock once more and pass a timeout to `epoll_wait`, for which the kernel arms and cancels a
//! timer of its own: every call of every server on that runtime pays for a timer that fires
//! once in thousands of calls. A thread sleeps out the period instead, so between ticks the
//! runtime has nothing to time.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// A thread that runs a function every period, until the function says to stop or the
/// `PeriodThread` is stopped or dropped. A period counts from the end of the last run: a run
/// held up (a stopped process, a starved thread) is not followed by a burst of catch-up runs.
///
/// Made with [`PeriodThread::spawn_finishing`], the function runs once more when the thread is
/// stopped, and [`PeriodThread::shutdown`] (or dropping it) waits a bounded time for that
/// run: an exporter's last flush.
pub struct PeriodThread {
    state: Arc<State>,
    thread: Mutex<Option<JoinHandle<()>>>,
    finishing: bool,
}

#[derive(Default)]
struct State {
    flags: Mutex<Flags>,
    wake: Condvar,
}

#[derive(Default)]
struct Flags {
    stopped: bool,
    ended: bool,
}

impl State {
    fn lock(&self) -> MutexGuard<'_, Flags> {
        self.flags.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Marks the thread ended however it ends (its function panicking included).
struct Ended(Arc<State>);

impl Drop for Ended {
    fn drop(&mut self) {
        self.0.lock().ended = true;
        self.0.wake.notify_all();
    }
}

impl PeriodThread {
    /// Runs `tick` on a thread named `name` every `period` (the first run one period from
    /// now) for as long as it returns `true`.
    pub fn spawn(
        name: &str,
        period: Duration,
        tick: impl FnMut() -> bool + Send + 'static,
    ) -> std::io::Result<PeriodThread> {
        Self::start(name, period, false, tick)
    }

    /// Runs `tick` on a thread named `name` every `period`, and once more when stopped.
    pub fn spawn_finishing(
        name: &str,
        period: Duration,
        mut tick: impl FnMut() + Send + 'static,
    ) -> std::io::Result<PeriodThread> {
        Self::start(name, period, true, move || {
            tick();
            true
        })
    }

    fn start(
        name: &str,
        period: Duration,
        finishing: bool,
        mut tick: impl FnMut() -> bool + Send + 'static,
    ) -> std::io::Result<PeriodThread> {
        let state = Arc::new(State::default());
        let s = state.clone();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let _ended = Ended(s.clone());
                let mut next = Instant::now() + period;
                let mut flags = s.lock();
                while !flags.stopped {
                    let left = next.saturating_duration_since(Instant::now());
                    if !left.is_zero() {
                        // (A wake-up before the period is up, spurious or not, waits again.)
                        flags = s
                            .wake
                            .wait_timeout(flags, left)
                            .unwrap_or_else(|p| p.into_inner())
                            .0;
                        continue;
                    }
                    drop(flags);
                    if !tick() {
                        return;
                    }
                    next = Instant::now() + period;
                    flags = s.lock();
                }
                drop(flags);
                if finishing {
                    tick();
                }
            })?;
        Ok(PeriodThread {
            state,
            thread: Mutex::new(Some(thread)),
            finishing,
        })
    }

    /// Ends the thread (at once if it is waiting; after its run if it is running; after one
    /// last run if it is finishing), without waiting for it.
    pub fn stop(&self) {
        self.state.lock().stopped = true;
        self.state.wake.notify_all();
    }

    /// Stops the thread and waits at most `timeout` for it to end (a finishing thread's last
    /// run included). Returns whether it ended in time and without a panic; a second call
    /// returns `true` at once.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        self.stop();
        let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) else {
            return true;
        };
        let flags = self.state.lock();
        let (flags, _) = self
            .state
            .wake
            .wait_timeout_while(flags, timeout, |f| !f.ended)
            .unwrap_or_else(|p| p.into_inner());
        if !flags.ended {
            return false;
        }
        drop(flags);
        thread.join().is_ok()
    }
}

impl Drop for PeriodThread {
    // A finishing thread's last run is waited for (at most 5 s); any other thread is only told
    // to stop, so a drop never blocks on a run of its function.
    fn drop(&mut self) {
        if self.finishing {
            self.shutdown(Duration::from_secs(5));
        } else {
            self.stop();
        }
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
        let weak = Arc::downgrade(&_thread.state);
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
        let weak = Arc::downgrade(&thread.state);
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

    /// A finishing thread runs on its period and once more at shutdown, which waits for it.
    #[test]
    fn a_finishing_thread_runs_once_more_at_shutdown() {
        let runs = Arc::new(AtomicUsize::new(0));
        let r = runs.clone();
        let p = PeriodThread::spawn_finishing(
            "tether-test-fin",
            Duration::from_millis(10),
            move || {
                r.fetch_add(1, Ordering::SeqCst);
            },
        )
        .expect("thread");
        let end = Instant::now() + Duration::from_secs(5);
        while runs.load(Ordering::SeqCst) < 2 && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(5));
        }
        let before = runs.load(Ordering::SeqCst);
        assert!(before >= 2, "{before}");
        assert!(p.shutdown(Duration::from_secs(5)));
        assert!(runs.load(Ordering::SeqCst) > before, "the last run");
        assert!(p.shutdown(Duration::from_secs(1)), "twice is fine");
    }

    /// A shutdown that would wait longer than its bound returns `false` in time.
    #[test]
    fn shutdown_is_bounded() {
        let p =
            PeriodThread::spawn_finishing("tether-test-slow", Duration::from_secs(3600), || {
                std::thread::sleep(Duration::from_millis(500));
            })
            .expect("thread");
        let start = Instant::now();
        assert!(
            !p.shutdown(Duration::from_millis(50)),
            "the last run took 500 ms"
        );
        assert!(
            start.elapsed() < Duration::from_millis(400),
            "{:?}",
            start.elapsed()
        );
    }
}
