//! How the daemon tells one connection's session to stop: the bits of its
//! [`Latch`](tether_core::latch::Latch) (see there for why a latch and not a channel).
//!
//! Three things end a session from outside: its connection is shed to make room for a new
//! client ([`SHED`]), the daemon stops ([`STOPPING`]: finish the call in progress, read no
//! more), and the shutdown's grace period ends ([`CLOSING`]: abort the call in progress).
//! Only the session's own task waits on its connection's latch (oneway calls, which run on
//! tasks of their own, do not).

use super::State;
use std::sync::Arc;
pub(crate) use tether_core::latch::Latch;

/// The connection is closed to make room for a new client.
pub(crate) const SHED: u8 = 1;
/// The daemon is stopping: read no more calls.
pub(crate) const STOPPING: u8 = 2;
/// The grace period is over: abort the call in progress.
pub(crate) const CLOSING: u8 = 4;

/// The bits every connection has once the daemon is in `state`.
pub(crate) fn bits_of(state: State) -> u8 {
    match state {
        State::Running => 0,
        State::Stopping => STOPPING,
        State::Closing | State::Stopped => STOPPING | CLOSING,
    }
}

/// Waits for any of some bits of one connection's [`Latch`].
pub(super) struct LatchWait {
    latch: Arc<Latch>,
    mask: u8,
}

impl LatchWait {
    /// Waits on `latch` for any bit of `mask`.
    pub(super) fn new(latch: Arc<Latch>, mask: u8) -> LatchWait {
        LatchWait { latch, mask }
    }

    /// Resolves with the bits of the mask that are set; cancel-safe, and immediately ready on
    /// every call once a bit is set.
    pub(super) async fn reached(&mut self) -> u8 {
        std::future::poll_fn(|cx| self.latch.poll_any(cx, self.mask)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn fires_once_a_bit_is_raised_and_stays_fired() {
        let latch = Arc::new(Latch::default());
        let mut closing = LatchWait::new(latch.clone(), CLOSING);
        let mut stop = LatchWait::new(latch.clone(), SHED | STOPPING);
        // not yet: dropped after a timeout, as a select! would drop it
        for _ in 0..3 {
            assert!(
                tokio::time::timeout(Duration::from_millis(5), closing.reached())
                    .await
                    .is_err()
            );
        }
        // raised while the session waits: it wakes with the bit it waited for
        let waiting = tokio::spawn(async move { stop.reached().await });
        tokio::time::sleep(Duration::from_millis(5)).await;
        latch.raise(bits_of(State::Stopping));
        let got = tokio::time::timeout(Duration::from_secs(5), waiting).await;
        assert_eq!(got.unwrap().unwrap(), STOPPING);
        assert!(
            tokio::time::timeout(Duration::from_millis(5), closing.reached())
                .await
                .is_err()
        );
        latch.raise(bits_of(State::Closing));
        for _ in 0..2 {
            let got = tokio::time::timeout(Duration::from_secs(5), closing.reached()).await;
            assert_eq!(got.unwrap(), CLOSING);
        }
    }
}
