//! [`Latch`]: how a server tells one connection's task to stop (shed, stopping, closing,
//! idle too long), cheaply enough to sit in a `select!` around every read and every call.
//!
//! A latch is a few bits, one per reason, each of which stays set once raised. A
//! connection's task polls the bits it waits for with one atomic load, and registers its
//! waker (two compare-and-swaps, no lock) only while none is set. A `watch` channel or a
//! `Notify` takes a lock on every poll, and a task polls its waits each time it wakes (twice
//! a request: when its read is pending, and when it completes).
//!
//! One waker slot: only the connection's own task waits on its latch.

use futures_util::task::AtomicWaker;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};

/// One connection's latch: bits that are only ever set, and the waker of its task.
#[derive(Default, Debug)]
pub struct Latch {
    bits: AtomicU8,
    waker: AtomicWaker,
}

impl Latch {
    /// Sets `bits`, waking the task if any of them is new.
    pub fn raise(&self, bits: u8) {
        if bits != 0 && self.bits.fetch_or(bits, Ordering::AcqRel) & bits != bits {
            self.waker.wake();
        }
    }

    /// The bits of `mask` that are set (one load; registers nothing).
    pub fn raised(&self, mask: u8) -> u8 {
        self.bits.load(Ordering::Acquire) & mask
    }

    /// The bits of `mask` that are set, or `Pending` (the task's waker registered).
    pub fn poll_any(&self, cx: &mut Context<'_>, mask: u8) -> Poll<u8> {
        let set = self.raised(mask);
        if set != 0 {
            return Poll::Ready(set);
        }
        self.waker.register(cx.waker());
        // A bit raised between the load and the registration found no waker to wake.
        match self.raised(mask) {
            0 => Poll::Pending,
            set => Poll::Ready(set),
        }
    }

    /// Resolves with the bits of `mask` that are set, once any is; cancel-safe, and at once
    /// on every call after that.
    pub async fn any(&self, mask: u8) -> u8 {
        std::future::poll_fn(|cx| self.poll_any(cx, mask)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn wakes_the_waiting_task_and_stays_raised() {
        let latch = Arc::new(Latch::default());
        assert!(tokio::time::timeout(Duration::from_millis(5), latch.any(1))
            .await
            .is_err());
        let waiting = {
            let latch = latch.clone();
            tokio::spawn(async move { latch.any(2 | 4).await })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        latch.raise(1);
        latch.raise(4);
        let got = tokio::time::timeout(Duration::from_secs(5), waiting).await;
        assert_eq!(got.expect("woken").expect("task"), 4);
        assert_eq!(latch.raised(1 | 2), 1);
        assert_eq!(latch.any(1 | 4).await, 5);
    }
}
