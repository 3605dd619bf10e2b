//! [`ByteBudget`]: how many bytes all connections together may hold for large messages that
//! are still arriving, so that many clients each sending part of a big frame cannot make the
//! server hold gigabytes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A shared budget of buffered bytes.
#[derive(Debug)]
pub struct ByteBudget {
    left: AtomicUsize,
}

/// Bytes taken from a [`ByteBudget`]; given back when dropped.
#[derive(Debug)]
pub struct BudgetHold {
    budget: Arc<ByteBudget>,
    bytes: usize,
}

impl ByteBudget {
    /// A budget of `bytes`.
    pub fn new(bytes: usize) -> Arc<Self> {
        Arc::new(ByteBudget {
            left: AtomicUsize::new(bytes),
        })
    }

    /// Bytes not taken.
    pub fn left(&self) -> usize {
        self.left.load(Ordering::Relaxed)
    }

    /// Takes `bytes`, or nothing if that many are not left.
    pub fn try_take(self: &Arc<Self>, bytes: usize) -> Option<BudgetHold> {
        self.left
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                left.checked_sub(bytes)
            })
            .ok()
            .map(|_| BudgetHold {
                budget: self.clone(),
                bytes,
            })
    }
}

impl Drop for BudgetHold {
    fn drop(&mut self) {
        self.budget.left.fetch_add(self.bytes, Ordering::AcqRel);
    }
}
