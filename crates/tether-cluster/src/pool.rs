//! [`Pool`]: an [`Invoker`] over endpoints of any wire (see the crate docs).

use crate::balance::{Balance, Balancer};
use crate::deadline::Deadline;
use crate::endpoint::{Endpoint, EndpointStats, InFlight};
use crate::health::{Health, HealthPolicy};
use crate::mode::Mode;
use crate::retry::Retry;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tether_core::{BoxFuture, Call, ErrorKind, Invoker, RemoteError, Value};

const LOG: &str = "tether::cluster";

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
    health: Arc<Health>,
    endpoints: RwLock<Vec<Arc<Endpoint>>>,
    name: String,
    /// Attempts after the first, over every call.
    retries: std::sync::atomic::AtomicU64,
    /// Makes a fresh client for a member's URL, for stall checks on a connection of their own
    /// (set by whoever knows the wires: the XML pool class).
    checker: std::sync::OnceLock<crate::discovery::MakeInvoker>,
}

/// The pool's figures for the metrics endpoint: each endpoint's state and counters, and the
/// retries.
impl tether_core::stats::StatsSource for Inner {
    fn samples(&self, out: &mut dyn FnMut(tether_core::stats::Sample<'_>)) {
        use tether_core::stats::{Sample, SampleKind};
        let eps: Vec<EndpointStats> = self
            .endpoints
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|e| e.stats())
            .collect();
        out(Sample {
            name: "tether_pool_retries_total",
            help: "Attempts a pool made after a call's first (failover retries).",
            kind: SampleKind::Counter,
            labels: &[("pool", self.name.as_str())],
            value: self.retries.load(std::sync::atomic::Ordering::Relaxed) as f64,
        });
        for e in &eps {
            let labels = [("pool", self.name.as_str()), ("endpoint", e.url.as_str())];
            for (name, help, kind, value) in [
                (
                    "tether_pool_endpoint_up",
                    "1 while an endpoint is in its pool, 0 while it is ejected.",
                    SampleKind::Gauge,
                    if e.ejected { 0.0 } else { 1.0 },
                ),
                (
                    "tether_pool_endpoint_active",
                    "Calls in flight on an endpoint.",
                    SampleKind::Gauge,
                    e.active as f64,
                ),
                (
                    "tether_pool_endpoint_calls_total",
                    "Calls a pool sent to an endpoint.",
                    SampleKind::Counter,
                    e.calls as f64,
                ),
                (
                    "tether_pool_endpoint_failures_total",
                    "Calls to an endpoint that failed at the transport.",
                    SampleKind::Counter,
                    e.failures as f64,
                ),
                (
                    "tether_pool_endpoint_ejections_total",
                    "Times an endpoint was ejected from its pool.",
                    SampleKind::Counter,
                    e.ejections as f64,
                ),
            ] {
                out(Sample {
                    name,
                    help,
                    kind,
                    labels: &labels,
                    value,
                });
            }
        }
    }
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

impl Pool {
    /// An empty pool named `name` (for logs and errors).
    pub fn new(name: &str, config: PoolConfig) -> Pool {
        let inner = Arc::new(Inner {
            balancer: Balancer::new(config.balance.clone()),
            health: Health::new(name, config.health.clone()),
            config,
            endpoints: RwLock::new(Vec::new()),
            name: name.to_string(),
            retries: std::sync::atomic::AtomicU64::new(0),
            checker: std::sync::OnceLock::new(),
        });
        let weak: std::sync::Weak<dyn tether_core::stats::StatsSource> =
            Arc::downgrade(&inner) as std::sync::Weak<dyn tether_core::stats::StatsSource>;
        tether_core::stats::register(weak);
        Pool { inner }
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

    /// Lets the pool check a member whose calls wait too long on a connection of its own,
    /// made by `make` from the member's URL ([`HealthPolicy::stall_check_after`](crate::HealthPolicy)).
    /// Members added by reference (no URL) are not checked.
    pub fn set_stall_checker(&self, make: crate::discovery::MakeInvoker) {
        let _ = self.inner.checker.set(make);
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

    /// One attempt on one endpoint, within the call's deadline; its outcome goes to the
    /// endpoint's health.
    async fn attempt(
        &self,
        e: &Arc<Endpoint>,
        call: Call,
        deadline: &Deadline,
    ) -> Result<Value, RemoteError> {
        let guard = InFlight::new(e.clone());
        let method = call.method.clone();
        let attempt = deadline.run(&method, &e.url, e.invoker.invoke(call));
        let r = match (
            self.inner.config.health.stall_check_after,
            self.inner.checker.get(),
        ) {
            (Some(after), Some(make)) if !e.url.starts_with("ref:") => {
                self.watched(e, attempt, after, make).await
            }
            _ => attempt.await,
        };
        drop(guard);
        // A server shutting down gracefully has unregistered the object before its directory
        // entry is gone: Pyro answers "unknown object" and nothing ran. For the pool that is a
        // member that cannot take the call, so another may (any method: it did not run).
        let r = r.map_err(|err| {
            if object_gone(&err) {
                RemoteError::connection(format!(
                    "{}: {err} (the object is no longer served there)",
                    e.url
                ))
                .not_sent()
            } else {
                err
            }
        });
        self.inner.health.record(e, &r);
        r
    }

    /// Runs an attempt; if it has not answered after `after`, checks on a fresh connection that
    /// the member answers at all, and ends the attempt when it does not.
    async fn watched(
        &self,
        e: &Arc<Endpoint>,
        attempt: impl std::future::Future<Output = Result<Value, RemoteError>>,
        after: std::time::Duration,
        make: &crate::discovery::MakeInvoker,
    ) -> Result<Value, RemoteError> {
        tokio::pin!(attempt);
        tokio::select! {
            r = &mut attempt => return r,
            _ = tokio::time::sleep(after) => {}
        }
        let policy = &self.inner.config.health;
        let check = async {
            let probe_client = make(&e.url).ok()?;
            let mut probe = Call::new(policy.probe_method.as_str(), Vec::new());
            probe.context.deadline = Some(std::time::Instant::now() + policy.probe_timeout);
            match tokio::time::timeout(policy.probe_timeout, probe_client.invoke(probe)).await {
                // Any answer, even an exception, is a live server.
                Ok(Ok(_)) => Some(true),
                Ok(Err(err)) if err.kind() == tether_core::ErrorKind::Remote => Some(true),
                _ => Some(false),
            }
        };
        tokio::pin!(check);
        tokio::select! {
            r = &mut attempt => r,
            alive = &mut check => {
                if alive == Some(false) {
                    tracing::warn!(target: LOG, pool = %self.inner.name, url = %e.url, "member stopped answering (its calls waited {:.1} s and a check on a new connection failed): ejected", after.as_secs_f64());
                    let err = RemoteError::timeout(format!(
                        "{}: the member stopped answering (a check on a new connection failed); the call may have reached it",
                        e.url
                    ));
                    self.inner.health.silent(e, &err);
                    Err(err)
                } else {
                    attempt.await
                }
            }
        }
    }

    fn pick(&self, call: &Call, tried: &[usize]) -> Option<Arc<Endpoint>> {
        if tried.is_empty() {
            // The common case, every member live and none tried yet: pick from the members as
            // they are, cloning only the one chosen (copying the live set cost a clone of every
            // member per call: a pool of 1,000 took 42 µs a call instead of 17).
            let now = Instant::now();
            let eps = self.read();
            if !eps.is_empty() && eps.iter().all(|e| e.is_live(now)) {
                let i = self.inner.balancer.pick(&eps, call);
                return eps.get(i).cloned();
            }
        }
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

    async fn failover(
        &self,
        call: Call,
        retries: u32,
        deadline: &Deadline,
    ) -> Result<Value, RemoteError> {
        let config = &self.inner.config;
        let mut retry = Retry::new(
            retries,
            config.idempotent.contains(&call.method),
            config.retry_backoff.unwrap_or(Duration::from_millis(10)),
        );
        let mut tried: Vec<usize> = Vec::new();
        let mut last: Option<RemoteError> = None;
        while retry.attempts_left() {
            if deadline.passed() {
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
            match self.attempt(&e, call.clone(), deadline).await {
                Ok(v) => return Ok(v),
                Err(err) => {
                    let Some(pause) = retry.after_failure(&err, deadline) else {
                        return Err(err);
                    };
                    tracing::debug!(target: LOG, pool = %self.inner.name, url = %e.url, "retrying {}() elsewhere: {err}", call.method);
                    self.inner
                        .retries
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    last = Some(err);
                    if !pause.is_zero() {
                        tokio::time::sleep(pause).await;
                    }
                }
            }
        }
        Err(last.unwrap_or_else(|| self.no_live_server(&call)))
    }

    async fn forking(
        &self,
        call: Call,
        n: usize,
        deadline: &Deadline,
    ) -> Result<Value, RemoteError> {
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
                Box::pin(async move { self.attempt(e, c, deadline).await })
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

    async fn broadcast(&self, call: Call, deadline: &Deadline) -> Result<Value, RemoteError> {
        let live = self.live(&[]);
        if live.is_empty() {
            return Err(self.no_live_server(&call));
        }
        let mut last = Value::None;
        let mut first_err = None;
        for e in &live {
            match self.attempt(e, call.clone(), deadline).await {
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
        let deadline = Deadline::for_call(&mut call, self.inner.config.deadline);
        let deadline = &deadline;
        match self.inner.config.mode.clone() {
            Mode::Failover { retries } => self.failover(call.clone(), retries, deadline).await,
            Mode::Failfast => self.failover(call.clone(), 0, deadline).await,
            Mode::Failsafe => match self.failover(call.clone(), 0, deadline).await {
                Ok(v) => Ok(v),
                Err(e) => {
                    tracing::warn!(target: LOG, pool = %self.inner.name, "failsafe: {}() failed, answering None: {e}", call.method);
                    Ok(Value::None)
                }
            },
            Mode::Forking { n } => self.forking(call.clone(), n, deadline).await,
            Mode::Broadcast => self.broadcast(call.clone(), deadline).await,
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

/// Whether a member answered that it does not serve the object (Pyro's `DaemonError: unknown
/// object`, during a graceful shutdown): the call did not run there.
fn object_gone(e: &RemoteError) -> bool {
    e.kind() == tether_core::ErrorKind::Remote
        && e.class().is_some_and(|c| c.ends_with("DaemonError"))
        && e.message().contains("unknown object")
}

impl Invoker for Pool {
    fn invoke(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(self.call(call))
    }

    /// What the first member that answers says (members are one service).
    fn describe(&self) -> BoxFuture<'_, Result<Option<tether_core::Description>, RemoteError>> {
        Box::pin(async move {
            let members: Vec<Arc<dyn Invoker>> =
                self.read().iter().map(|e| e.invoker.clone()).collect();
            let mut last = None;
            for m in members {
                match m.describe().await {
                    Ok(d) => return Ok(d),
                    Err(e) => last = Some(e),
                }
            }
            match last {
                Some(e) => Err(e),
                None => Ok(None),
            }
        })
    }
}
