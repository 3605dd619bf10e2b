//! When failover tries again (Dubbo's rule): only after a retryable failure, and only if the
//! call cannot have run (its request never left) or its method is marked idempotent; the first
//! retry goes to another endpoint at once (the failed one is usually the only one in trouble),
//! later ones back off, doubling.

use crate::deadline::Deadline;
use std::time::Duration;
use tether_core::RemoteError;

/// The retry state of one call.
pub(crate) struct Retry {
    retries: u32,
    idempotent: bool,
    backoff: Duration,
    attempt: u32,
}

impl Retry {
    /// Up to `retries` retries; `idempotent` methods may run twice; `backoff` before the
    /// second retry.
    pub(crate) fn new(retries: u32, idempotent: bool, backoff: Duration) -> Retry {
        Retry {
            retries,
            idempotent,
            backoff,
            attempt: 0,
        }
    }

    /// Whether attempts are left.
    pub(crate) fn attempts_left(&self) -> bool {
        self.attempt <= self.retries
    }

    /// After a failed attempt: the pause before the next one, or `None` when `err` is the
    /// answer (not retryable, may have run and not idempotent, or no retries left).
    pub(crate) fn after_failure(
        &mut self,
        err: &RemoteError,
        deadline: &Deadline,
    ) -> Option<Duration> {
        let retry = err.is_retryable() && (self.idempotent || !err.may_have_reached_server());
        if !retry || self.attempt >= self.retries {
            return None;
        }
        let pause = if self.attempt == 0 {
            Duration::ZERO
        } else {
            let p = deadline.cap(self.backoff);
            self.backoff *= 2;
            p
        };
        self.attempt += 1;
        Some(pause)
    }
}
