//! Outlier ejection (Envoy's): an endpoint leaves the pool after enough transport failures in
//! a row, for a back-off that doubles up to a ceiling, and comes back once a probe off the call
//! path finds it alive. The pool tells [`Health`] the outcome of each attempt; nothing else
//! here knows about calls.

use crate::endpoint::Endpoint;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tether_core::{Call, ErrorKind, RemoteError};

const LOG: &str = "tether::cluster";

/// When an endpoint leaves the pool and how it comes back (Envoy's outlier detection).
#[derive(Clone, Debug, PartialEq)]
pub struct HealthPolicy {
    /// Transport failures in a row that eject an endpoint. Default 3.
    pub eject_after: u32,
    /// The first ejection's length; each further one doubles it. Default 1 s.
    pub base_ejection: Duration,
    /// The longest ejection. Default 30 s.
    pub max_ejection: Duration,
    /// How long a probe of an ejected endpoint may take (a hung server fails it). Default 1 s.
    pub probe_timeout: Duration,
    /// The method a probe calls. Any answer, even a remote exception such as "no such
    /// method", proves the server alive; only a transport failure or the timeout does not.
    /// Default `__tether_probe__`.
    pub probe_method: String,
    /// How long an attempt may wait for its answer before the pool checks, on a connection of
    /// its own, that the member still answers at all (`None`: never). A member that fails the
    /// check (a host that vanished, a process stopped) is ejected and every call waiting on it
    /// ends: a method marked idempotent is retried on another member, any other fails with an
    /// error saying it may have reached the server. A member that passes (alive, just slow)
    /// keeps its calls. Default 1 s (with the 1 s probe, no call waits much more than 2 s on a
    /// vanished member).
    pub stall_check_after: Option<Duration>,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy {
            eject_after: 3,
            base_ejection: Duration::from_secs(1),
            max_ejection: Duration::from_secs(30),
            probe_timeout: Duration::from_secs(1),
            probe_method: "__tether_probe__".into(),
            stall_check_after: Some(Duration::from_secs(1)),
        }
    }
}

/// Whether a failure says the endpoint is unwell (and counts toward ejecting it), as opposed
/// to an answer (a remote exception) or a problem of the call itself.
pub(crate) fn endpoint_failure(e: &RemoteError) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Connection | ErrorKind::Timeout | ErrorKind::Protocol | ErrorKind::Shutdown
    )
}

/// The ejection state machine of one pool (shared with its probe tasks, which stop when the
/// pool is dropped).
pub(crate) struct Health {
    policy: HealthPolicy,
    pool: String,
}

impl Health {
    pub(crate) fn new(pool: &str, policy: HealthPolicy) -> Arc<Health> {
        Arc::new(Health {
            policy,
            pool: pool.to_string(),
        })
    }

    /// Records the outcome of one attempt on `e`: an answer (even a remote exception) is a
    /// success; a transport failure counts toward ejection.
    pub(crate) fn record<T>(self: &Arc<Self>, e: &Arc<Endpoint>, r: &Result<T, RemoteError>) {
        match r {
            Err(err) if endpoint_failure(err) => self.failed(e, err),
            _ => self.ok(e),
        }
    }

    /// Records a success.
    pub(crate) fn ok(&self, e: &Endpoint) {
        if !e.troubled.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let mut h = e.health();
        h.consecutive_failures = 0;
        h.backoff = self.policy.base_ejection;
        if h.ejected_until.is_none() && !h.probing {
            e.troubled
                .store(false, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Ejects `e` now: a check found it silent (one such failure is enough).
    pub(crate) fn silent(self: &Arc<Self>, e: &Arc<Endpoint>, err: &RemoteError) {
        {
            let mut h = e.health();
            h.consecutive_failures = h
                .consecutive_failures
                .max(self.policy.eject_after.saturating_sub(1));
        }
        self.failed(e, err);
    }

    /// Records a failure; ejects the endpoint after enough in a row.
    pub(crate) fn failed(self: &Arc<Self>, e: &Arc<Endpoint>, err: &RemoteError) {
        e.failures
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let policy = &self.policy;
        let mut h = e.health();
        e.troubled.store(true, std::sync::atomic::Ordering::Relaxed);
        h.consecutive_failures += 1;
        h.last_error = Some(err.to_string());
        let now = Instant::now();
        let already = h.ejected_until.is_some_and(|t| t > now) || h.probing;
        if h.consecutive_failures >= policy.eject_after && !already {
            let len = h.backoff;
            h.ejected_until = Some(now + len);
            h.backoff = (h.backoff * 2).min(policy.max_ejection);
            h.probing = false;
            e.ejections
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::warn!(target: LOG, pool = %self.pool, url = %e.url,
                "endpoint ejected for {:.1} s after {} consecutive failures: {err}",
                len.as_secs_f64(), h.consecutive_failures);
            drop(h);
            self.schedule_probe(e.clone(), len);
        }
    }

    /// When the ejection ends, probes the endpoint off the call path: alive, it is re-admitted;
    /// not, it is ejected again for twice as long.
    fn schedule_probe(self: &Arc<Self>, e: Arc<Endpoint>, after: Duration) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return; // no runtime: the ejection simply ends and traffic decides
        };
        let health = Arc::downgrade(self);
        rt.spawn(async move {
            let mut wait = after;
            loop {
                tokio::time::sleep(wait).await;
                let Some(health) = health.upgrade() else { return };
                if e.removed.load(std::sync::atomic::Ordering::Relaxed) {
                    return;
                }
                let policy = health.policy.clone();
                e.health().probing = true;
                let mut probe = Call::new(policy.probe_method.as_str(), Vec::new());
                probe.context.deadline = Some(Instant::now() + policy.probe_timeout);
                let r = tokio::time::timeout(policy.probe_timeout, e.invoker.invoke(probe)).await;
                let alive = match r {
                    Ok(Ok(_)) => true,
                    Ok(Err(err)) => !endpoint_failure(&err),
                    Err(_) => false,
                };
                let mut h = e.health();
                h.probing = false;
                if alive {
                    h.ejected_until = None;
                    h.consecutive_failures = 0;
                    e.troubled.store(false, std::sync::atomic::Ordering::Relaxed);
                    tracing::info!(target: LOG, pool = %health.pool, url = %e.url, "endpoint re-admitted after a probe");
                    return;
                }
                wait = h.backoff;
                h.ejected_until = Some(Instant::now() + wait);
                h.backoff = (h.backoff * 2).min(policy.max_ejection);
                e.ejections.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::debug!(target: LOG, pool = %health.pool, url = %e.url, "probe failed; ejected for {:.1} s", wait.as_secs_f64());
            }
        });
    }
}
