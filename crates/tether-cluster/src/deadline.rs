//! The one place a pool's deadline lives: a call's deadline is the sooner of its own and the
//! pool's ([`Deadline::for_call`]); every attempt runs within it ([`Deadline::run`], so a hung
//! server is recorded as that server's timeout); retries stop when it has passed and never
//! sleep past it ([`Deadline::passed`], [`Deadline::cap`]).

use std::future::Future;
use std::time::{Duration, Instant};
use tether_core::{Call, RemoteError};

/// The deadline of one call through a pool, if it has one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline(Option<Instant>);

impl Deadline {
    /// Sets `call`'s deadline to the sooner of its own and `pool` from now (so the wires see it
    /// too), and returns it.
    pub(crate) fn for_call(call: &mut Call, pool: Option<Duration>) -> Deadline {
        if let Some(d) = pool {
            let mine = Instant::now() + d;
            call.context.deadline = Some(call.context.deadline.map_or(mine, |c| c.min(mine)));
        }
        Deadline(call.context.deadline)
    }

    /// Whether it has passed.
    pub(crate) fn passed(&self) -> bool {
        self.0.is_some_and(|d| Instant::now() >= d)
    }

    /// `pause`, shortened so as not to sleep past the deadline.
    pub(crate) fn cap(&self, pause: Duration) -> Duration {
        match self.0 {
            Some(d) => pause.min(d.saturating_duration_since(Instant::now())),
            None => pause,
        }
    }

    /// Runs one attempt within the deadline; past it, the attempt is a timeout of `url`.
    pub(crate) async fn run<T>(
        &self,
        method: &str,
        url: &str,
        attempt: impl Future<Output = Result<T, RemoteError>>,
    ) -> Result<T, RemoteError> {
        match self.0 {
            Some(d) => tokio::time::timeout_at(d.into(), attempt)
                .await
                .unwrap_or_else(|_| {
                    Err(RemoteError::timeout(format!(
                        "{method}() got no answer from {url} within the deadline"
                    )))
                }),
            None => attempt.await,
        }
    }
}
