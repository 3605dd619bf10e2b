//! [`Periodic`]: a thread of its own that runs a task every interval and once more when
//! stopped, waiting a bounded time for that last run: what the OTLP metrics and logs
//! exporters share (the span pipeline, which also wakes on a full batch, has its own).

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A task run every interval on its own thread.
pub(crate) struct Periodic {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Periodic {
    /// Runs `tick` every `interval` on a thread named `name`, and once more when stopped.
    pub(crate) fn start(
        name: &str,
        interval: Duration,
        mut tick: impl FnMut() + Send + 'static,
    ) -> std::io::Result<Periodic> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let s = stop.clone();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let (lock, wake) = &*s;
                let mut stopped = lock.lock().unwrap_or_else(|p| p.into_inner());
                while !*stopped {
                    let (g, waited) = wake
                        .wait_timeout(stopped, interval)
                        .unwrap_or_else(|p| p.into_inner());
                    stopped = g;
                    if waited.timed_out() && !*stopped {
                        drop(stopped);
                        tick();
                        stopped = lock.lock().unwrap_or_else(|p| p.into_inner());
                    }
                }
                drop(stopped);
                tick();
            })?;
        Ok(Periodic {
            stop,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Runs the task a last time and stops, waiting at most `timeout` for it. Returns whether
    /// it finished in time (a second call returns `true` at once).
    pub(crate) fn shutdown(&self, timeout: Duration) -> bool {
        *self.stop.0.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.stop.1.notify_all();
        let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) else {
            return true;
        };
        let end = Instant::now() + timeout;
        while !t.is_finished() {
            if Instant::now() >= end {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        t.join().is_ok()
    }
}

impl Drop for Periodic {
    fn drop(&mut self) {
        self.shutdown(Duration::from_secs(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The task runs on its interval and once more at shutdown, which waits for it.
    #[test]
    fn runs_every_interval_and_once_at_the_end() {
        let runs = Arc::new(AtomicUsize::new(0));
        let r = runs.clone();
        let p = Periodic::start("test-periodic", Duration::from_millis(10), move || {
            r.fetch_add(1, Ordering::SeqCst);
        })
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
}
