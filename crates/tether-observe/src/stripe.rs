//! Stripes: counters and queues that every worker thread writes on each call are split into
//! a few parts, each on its own cache lines, and a thread uses its own part. Two workers
//! updating one atomic or one lock on every call would pass its cache line back and forth
//! between CPUs, which costs more than the update itself.

use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};

/// How many stripes: [`OWNED`] for the first threads that ask, each its own, and the rest
/// shared by every later thread.
pub(crate) const STRIPES: usize = 8;

/// The stripes that each belong to one thread (more than the workers of a typical server).
const OWNED: usize = 6;

/// A thread's stripe: its index, and whether the thread has it to itself.
#[derive(Clone, Copy)]
pub(crate) struct Stripe {
    pub(crate) index: usize,
    /// The first [`OWNED`] threads to ask each get a stripe no other thread writes: they add
    /// with a plain load and store instead of a locked read-modify-write (which costs several
    /// times more, and holds the CPU's pipeline). Later threads share the other stripes, and
    /// add atomically.
    alone: bool,
}

/// This thread's stripe, handed out in order as threads first ask.
pub(crate) fn mine() -> Stripe {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static MINE: Stripe = {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            if n < OWNED {
                Stripe { index: n, alone: true }
            } else {
                Stripe { index: OWNED + (n - OWNED) % (STRIPES - OWNED), alone: false }
            }
        };
    }
    MINE.with(|m| *m)
}

impl Stripe {
    /// Adds `v` to `a`, a counter of this stripe.
    #[inline]
    pub(crate) fn add(self, a: &AtomicU64, v: u64) {
        if self.alone {
            // Only this thread writes `a`: no other write can fall between the two.
            a.store(a.load(Ordering::Relaxed).wrapping_add(v), Ordering::Relaxed);
        } else {
            a.fetch_add(v, Ordering::Relaxed);
        }
    }

    /// Adds `v` to `a`, a gauge of this stripe.
    #[inline]
    pub(crate) fn add_signed(self, a: &AtomicI64, v: i64) {
        if self.alone {
            a.store(a.load(Ordering::Relaxed).wrapping_add(v), Ordering::Relaxed);
        } else {
            a.fetch_add(v, Ordering::Relaxed);
        }
    }
}

/// `T` alone on its cache lines (128 bytes: two lines, as adjacent-line prefetch pairs them).
#[derive(Default)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub T);

#[cfg(test)]
mod tests {
    use super::*;

    /// Many threads adding at once lose nothing: owned stripes are written by their owner
    /// alone, shared ones atomically.
    #[test]
    fn no_add_is_lost_whichever_stripe_a_thread_has() {
        let cells: std::sync::Arc<[AtomicU64; STRIPES]> = std::sync::Arc::new(Default::default());
        let threads: Vec<_> = (0..3 * STRIPES)
            .map(|_| {
                let cells = cells.clone();
                std::thread::spawn(move || {
                    let me = mine();
                    for _ in 0..10_000 {
                        me.add(&cells[me.index], 1);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let total: u64 = cells.iter().map(|c| c.load(Ordering::Relaxed)).sum();
        assert_eq!(total, 3 * STRIPES as u64 * 10_000);
    }
}
