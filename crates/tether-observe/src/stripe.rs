//! Stripes: counters and queues that every worker thread writes on each call are split into
//! a few parts, each on its own cache lines, and a thread uses its own part. Two workers
//! updating one atomic or one lock on every call would pass its cache line back and forth
//! between CPUs, which costs more than the update itself.

use std::sync::atomic::{AtomicUsize, Ordering};

/// How many stripes (more than the workers of a typical server; a few share when there are
/// more threads).
pub(crate) const STRIPES: usize = 4;

/// This thread's stripe, handed out round robin as threads first ask.
pub(crate) fn mine() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static MINE: usize = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
    }
    MINE.with(|m| *m)
}

/// `T` alone on its cache lines (128 bytes: two lines, as adjacent-line prefetch pairs them).
#[derive(Default)]
#[repr(align(128))]
pub(crate) struct Padded<T>(pub T);
