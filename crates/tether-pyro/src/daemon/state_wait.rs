//! [`StateWait`]: waiting for the daemon's lifecycle [`State`] to reach a stage, cheaply
//! enough to sit in a `select!` around every read and every call of every connection.
//!
//! A fresh `watch::Receiver::wait_for` per read registers a waiter with the channel (a lock
//! and a list insert) and removes it again when the read wins, on every message of every
//! connection, all on the one channel the daemon shares. A `StateWait` keeps a single waiting
//! future alive for the session's whole life instead: it registers once, later polls only
//! refresh its waker, and once the stage is reached it stays reached without being polled again.

use super::State;
use std::future::Future;
use std::pin::Pin;
use tokio::sync::watch;

/// Completes once the daemon's state is at least a given stage (or the daemon is gone).
pub(super) struct StateWait {
    wait: Pin<Box<dyn Future<Output = ()> + Send>>,
    reached: bool,
}

impl StateWait {
    /// Waits on `rx` for a state `>= stage` (states only ever advance).
    pub(super) fn new(mut rx: watch::Receiver<State>, stage: State) -> StateWait {
        StateWait {
            wait: Box::pin(async move {
                // An error means the daemon (the sender) is gone: as good as closed.
                let _ = rx.wait_for(|s| *s >= stage).await;
            }),
            reached: false,
        }
    }

    /// Resolves when the stage is reached; cancel-safe (dropping this future keeps the
    /// registration for the next call), and immediately ready on every call after that.
    pub(super) async fn reached(&mut self) {
        if !self.reached {
            (&mut self.wait).await;
            self.reached = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn fires_once_the_stage_is_reached_and_stays_fired() {
        let (tx, rx) = watch::channel(State::Running);
        let mut w = StateWait::new(rx, State::Closing);
        // not yet: dropped after a timeout, as a select! would drop it
        for _ in 0..3 {
            assert!(tokio::time::timeout(Duration::from_millis(5), w.reached())
                .await
                .is_err());
        }
        tx.send(State::Stopping).unwrap();
        assert!(tokio::time::timeout(Duration::from_millis(5), w.reached())
            .await
            .is_err());
        tx.send(State::Closing).unwrap();
        tokio::time::timeout(Duration::from_secs(5), w.reached())
            .await
            .unwrap();
        // and ready again without the channel
        drop(tx);
        tokio::time::timeout(Duration::from_secs(5), w.reached())
            .await
            .unwrap();
        // a dropped sender counts as reached
        let (tx, rx) = watch::channel(State::Running);
        let mut w = StateWait::new(rx, State::Stopping);
        drop(tx);
        tokio::time::timeout(Duration::from_secs(5), w.reached())
            .await
            .unwrap();
    }
}
