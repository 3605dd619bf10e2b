//! [`Pool`]: an [`Invoker`] over endpoints of any wire (see the crate docs).

use crate::balance::{Balance, Balancer};
use crate::endpoint::{Endpoint, EndpointStats, InFlight};
use crate::mode::Mode;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tether_core::{BoxFuture, Call, ErrorKind, Invoker, RemoteError, Value};

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
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy {
            eject_after: 3,
            base_ejection: Duration::from_secs(1),
            max_ejection: Duration::from_secs(30),
            probe_timeout: Duration::from_secs(1),
            probe_method: "__tether_probe__".into(),
        }
    }
}

/// A pool's policy.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PoolConfig {
    /// Which endpoint takes a call. Default round-robin.
    pub balance: Balance,
    /// What a call does with the endpoints. Default failover with 2 retries.
    pub mode: Mode,
    /// Methods that may run twice, so may be retried even after their request was sent.
    /// Default none.
    pub idempotent: HashSet<String>,
    /// The longest a call may take, retries included (a call's own deadline, if sooner,
    /// wins). Default none.
    pub deadline: Option<Duration>,
    /// Pause before the second retry, doubling for each further one (the first retry goes
    /// to another endpoint at once: the failed one is usually the only one in trouble).
    /// Default 10 ms.
    pub retry_backoff: Option<Duration>,
    /// Ejection and re-admission.
    pub health: HealthPolicy,
}

pub(crate) struct Inner {
    config: PoolConfig,
    balancer: Balancer,
    endpoints: RwLock<Vec<Arc<Endpoint>>>,
    name: String,
}

/// A pool proxy over endpoints of any wire; an [`Invoker`]. Cheap to clone (shared state).
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("name", &self.inner.name)
            .field("endpoints", &self.urls())
            .finish()
    }
}

/// Whether a failure says the endpoint is unwell (and counts toward ejecting it), as opposed
/// to an answer (a remote exception) or a problem of the call itself.
fn endpoint_failure(e: &RemoteError) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Connection | ErrorKind::Timeout | ErrorKind::Protocol | ErrorKind::Shutdown
    )
}

impl Pool {
    /// An empty pool named `name` (for logs and errors).
    pub fn new(name: &str, config: PoolConfig) -> Pool {
        Pool {
            inner: Arc::new(Inner {
                balancer: Balancer::new(config.balance.clone()),
                config,
                endpoints: RwLock::new(Vec::new()),
                name: name.to_string(),
            }),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<Endpoint>>> {
        self.inner
            .endpoints
            .read()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Arc<Endpoint>>> {
        self.inner
            .endpoints
            .write()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Adds an endpoint (weight 1); an endpoint with that URL already there is kept.
    pub fn add(&self, url: &str, invoker: Arc<dyn Invoker>) {
        self.add_weighted(url, invoker, 1)
    }

    /// Adds an endpoint with a weight (for [`Balance::WeightedRandom`]).
    pub fn add_weighted(&self, url: &str, invoker: Arc<dyn Invoker>, weight: u32) {
        let mut eps = self.write();
        if eps.iter().any(|e| e.url == url) {
            return;
        }
        tracing::info!(target: LOG, pool = %self.inner.name, %url, "endpoint joins the pool");
        eps.push(Arc::new(Endpoint::new(
            url.to_string(),
            invoker,
            weight,
            self.inner.config.health.base_ejection,
        )));
    }

    /// Removes the endpoint with this URL; calls in flight on it finish.
    pub fn remove(&self, url: &str) -> bool {
        let mut eps = self.write();
        let before = eps.len();
        eps.retain(|e| {
            let keep = e.url != url;
            if !keep {
                e.removed.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            keep
        });
        let gone = eps.len() != before;
        if gone {
            tracing::info!(target: LOG, pool = %self.inner.name, %url, "endpoint leaves the pool");
        }
        gone
    }

    /// Makes the membership exactly `urls`: new ones are added with `make`, missing ones
    /// removed, the rest kept with their health and counters. A URL `make` refuses is skipped
    /// (and logged).
    pub fn set_members<F>(&self, urls: &[String], make: &F)
    where
        F: Fn(&str) -> Result<Arc<dyn Invoker>, RemoteError> + ?Sized,
    {
        let current = self.urls();
        let wanted: std::collections::HashSet<&str> = urls.iter().map(String::as_str).collect();
        for u in current.iter().filter(|u| !wanted.contains(u.as_str())) {
            self.remove(u);
        }
        let current: std::collections::HashSet<&str> = current.iter().map(String::as_str).collect();
        for u in urls.iter().filter(|u| !current.contains(u.as_str())) {
            match make(u) {
                Ok(inv) => self.add(u, inv),
                Err(e) => {
                    tracing::warn!(target: LOG, pool = %self.inner.name, url = %u, "cannot make a proxy: {e}")
                }
            }
        }
    }

    /// The members' URLs.
    pub fn urls(&self) -> Vec<String> {
        self.read().iter().map(|e| e.url.clone()).collect()
    }

    /// Counters and state of every endpoint.
    pub fn stats(&self) -> Vec<EndpointStats> {
        self.read().iter().map(|e| e.stats()).collect()
    }

    pub(crate) fn downgrade(&self) -> std::sync::Weak<Inner> {
        Arc::downgrade(&self.inner)
    }

    pub(crate) fn upgrade(w: &std::sync::Weak<Inner>) -> Option<Pool> {
        w.upgrade().map(|inner| Pool { inner })
    }

    /// The pool's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    fn live(&self, exclude: &[usize]) -> Vec<Arc<Endpoint>> {
        let now = Instant::now();
        self.read()
            .iter()
            .filter(|e| e.is_live(now) && !exclude.contains(&(Arc::as_ptr(e) as usize)))
            .cloned()
            .collect()
    }

    fn no_live_server(&self, call: &Call) -> RemoteError {
        let now = Instant::now();
        let eps = self.read();
        let why = if eps.is_empty() {
            "the pool has no endpoints".to_string()
        } else {
            eps.iter()
                .map(|e| e.why_out(now))
                .collect::<Vec<_>>()
                .join("; ")
        };
        RemoteError::new(
            ErrorKind::NoLiveServer,
            format!(
                "no live server in pool '{}' for {}(): {why}",
                self.inner.name, call.method
            ),
        )
    }

    /// Records a success.
    fn ok(&self, e: &Endpoint) {
        if !e.troubled.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let mut h = e.health();
        h.consecutive_failures = 0;
        h.backoff = self.inner.config.health.base_ejection;
        if h.ejected_until.is_none() && !h.probing {
            e.troubled
                .store(false, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Records a failure; ejects the endpoint after enough in a row.
    fn failed(&self, e: &Arc<Endpoint>, err: &RemoteError) {
        e.failures
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let policy = &self.inner.config.health;
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
            tracing::warn!(target: LOG, pool = %self.inner.name, url = %e.url,
                "endpoint ejected for {:.1} s after {} consecutive failures: {err}",
                len.as_secs_f64(), h.consecutive_failures);
            drop(h);
            self.schedule_probe(e.clone(), len);
        }
    }

    /// When the ejection ends, probes the endpoint off the call path: alive, it is re-admitted;
    /// not, it is ejected again for twice as long.
    fn schedule_probe(&self, e: Arc<Endpoint>, after: Duration) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return; // no runtime: the ejection simply ends and traffic decides
        };
        let pool = Arc::downgrade(&self.inner);
        rt.spawn(async move {
            let mut wait = after;
            loop {
                tokio::time::sleep(wait).await;
                let Some(inner) = pool.upgrade() else { return };
                if e.removed.load(std::sync::atomic::Ordering::Relaxed) {
                    return;
                }
                let policy = inner.config.health.clone();
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
                    tracing::info!(target: LOG, pool = %inner.name, url = %e.url, "endpoint re-admitted after a probe");
                    return;
                }
                wait = h.backoff;
                h.ejected_until = Some(Instant::now() + wait);
                h.backoff = (h.backoff * 2).min(policy.max_ejection);
                e.ejections.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::debug!(target: LOG, pool = %inner.name, url = %e.url, "probe failed; ejected for {:.1} s", wait.as_secs_f64());
            }
        });
    }

    /// One attempt on one endpoint.
    async fn attempt(&self, e: &Arc<Endpoint>, call: Call) -> Result<Value, RemoteError> {
        let guard = InFlight::new(e.clone());
        // The deadline is enforced here, per endpoint, so a hung server is recorded as a
        // timeout of that server (and ejected after enough of them).
        let r = match call.context.deadline {
            Some(d) => {
                let method = call.method.clone();
                tokio::time::timeout_at(d.into(), e.invoker.invoke(call))
                    .await
                    .unwrap_or_else(|_| {
                        Err(RemoteError::timeout(format!(
                            "{method}() got no answer from {} within the deadline",
                            e.url
                        )))
                    })
            }
            None => e.invoker.invoke(call).await,
        };
        drop(guard);
        match &r {
            Ok(_) => self.ok(e),
            Err(err) if endpoint_failure(err) => self.failed(e, err),
            Err(_) => self.ok(e), // an answer: the endpoint is fine
        }
        r
    }

    fn pick(&self, call: &Call, tried: &[usize]) -> Option<Arc<Endpoint>> {
        let mut live = self.live(tried);
        if live.is_empty() && !tried.is_empty() {
            // Every live endpoint was tried: a retry may go back to one.
            live = self.live(&[]);
        }
        if live.is_empty() {
            return None;
        }
        let i = self.inner.balancer.pick(&live, call);
        Some(live.swap_remove(i))
    }

    async fn failover(&self, call: Call, retries: u32) -> Result<Value, RemoteError> {
        let idempotent = self.inner.config.idempotent.contains(&call.method);
        let mut tried: Vec<usize> = Vec::new();
        let mut backoff = self
            .inner
            .config
            .retry_backoff
            .unwrap_or(Duration::from_millis(10));
        let mut last: Option<RemoteError> = None;
        for attempt in 0..=retries {
            if call.context.deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(last.unwrap_or_else(|| {
                    RemoteError::timeout(format!("{}(): the pool's deadline passed", call.method))
                }));
            }
            let Some(e) = self.pick(&call, &tried) else {
                return Err(match last {
                    Some(l) if !l.is_retryable() => l,
                    _ => self.no_live_server(&call),
                });
            };
            tried.push(Arc::as_ptr(&e) as usize);
            match self.attempt(&e, call.clone()).await {
                Ok(v) => return Ok(v),
                Err(err) => {
                    let retry =
                        err.is_retryable() && (idempotent || !err.may_have_reached_server());
                    if !retry || attempt == retries {
                        return Err(err);
                    }
                    tracing::debug!(target: LOG, pool = %self.inner.name, url = %e.url, "retrying {}() elsewhere: {err}", call.method);
                    last = Some(err);
                    if attempt > 0 {
                        let pause = match call.context.deadline {
                            Some(d) => backoff.min(d.saturating_duration_since(Instant::now())),
                            None => backoff,
                        };
                        tokio::time::sleep(pause).await;
                        backoff *= 2;
                    }
                }
            }
        }
        Err(last.unwrap_or_else(|| self.no_live_server(&call)))
    }

    async fn forking(&self, call: Call, n: usize) -> Result<Value, RemoteError> {
        let mut chosen: Vec<Arc<Endpoint>> = Vec::new();
        let mut tried: Vec<usize> = Vec::new();
        while chosen.len() < n {
            match self.pick(&call, &tried) {
                Some(e) if !tried.contains(&(Arc::as_ptr(&e) as usize)) => {
                    tried.push(Arc::as_ptr(&e) as usize);
                    chosen.push(e);
                }
                _ => break,
            }
        }
        if chosen.is_empty() {
            return Err(self.no_live_server(&call));
        }
        let mut futs: Vec<BoxFuture<'_, Result<Value, RemoteError>>> = chosen
            .iter()
            .map(|e| {
                let c = call.clone();
                Box::pin(async move { self.attempt(e, c).await })
                    as BoxFuture<'_, Result<Value, RemoteError>>
            })
            .collect();
        let mut last = None;
        while !futs.is_empty() {
            let (r, _, rest) = select_all(futs).await;
            match r {
                Ok(v) => return Ok(v),
                Err(e) => last = Some(e),
            }
            futs = rest;
        }
        Err(last.unwrap_or_else(|| self.no_live_server(&call)))
    }

    async fn broadcast(&self, call: Call) -> Result<Value, RemoteError> {
        let live = self.live(&[]);
        if live.is_empty() {
            return Err(self.no_live_server(&call));
        }
        let mut last = Value::None;
        let mut first_err = None;
        for e in &live {
            match self.attempt(e, call.clone()).await {
                Ok(v) => last = v,
                Err(err) => {
                    first_err.get_or_insert(err);
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(last),
        }
    }

    /// Calls through the pool (see [`Mode`]).
    pub async fn call(&self, mut call: Call) -> Result<Value, RemoteError> {
        if let Some(d) = self.inner.config.deadline {
            let mine = Instant::now() + d;
            call.context.deadline = Some(call.context.deadline.map_or(mine, |c| c.min(mine)));
        }
        match self.inner.config.mode.clone() {
            Mode::Failover { retries } => self.failover(call.clone(), retries).await,
            Mode::Failfast => self.failover(call.clone(), 0).await,
            Mode::Failsafe => match self.failover(call.clone(), 0).await {
                Ok(v) => Ok(v),
                Err(e) => {
                    tracing::warn!(target: LOG, pool = %self.inner.name, "failsafe: {}() failed, answering None: {e}", call.method);
                    Ok(Value::None)
                }
            },
            Mode::Forking { n } => self.forking(call.clone(), n).await,
            Mode::Broadcast => self.broadcast(call.clone()).await,
        }
    }
}

/// Polls futures until the first finishes; returns its output, its index, and the rest.
async fn select_all<'a, T>(mut futs: Vec<BoxFuture<'a, T>>) -> (T, usize, Vec<BoxFuture<'a, T>>) {
    let (out, i) = std::future::poll_fn(|cx| {
        for (i, f) in futs.iter_mut().enumerate() {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) {
                return std::task::Poll::Ready((v, i));
            }
        }
        std::task::Poll::Pending
    })
    .await;
    drop(futs.swap_remove(i));
    (out, i, futs)
}

impl Invoker for Pool {
    fn invoke(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(self.call(call))
    }
}
