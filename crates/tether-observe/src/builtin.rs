//! The interceptors a user puts in a chain by name: a deadline, retries of idempotent
//! methods, call logging, a performance monitor. (Spans and metrics come from the observers
//! for every call; [`crate::tracing_span::TracingInterceptor`] and
//! [`crate::metrics::MetricsInterceptor`] can also be put in a chain of their own.)

use regex::Regex;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tether_core::{BoxFuture, Call, RemoteError, Value};
use tether_remoting::{Interceptor, Next};

/// Gives each call a deadline: the earlier of the caller's and `timeout` from now. The wire
/// carries it to a tether server, which stops the call when it passes; here the call fails
/// with a timeout error at the deadline.
pub struct DeadlineInterceptor {
    timeout: Duration,
}

impl DeadlineInterceptor {
    /// Calls get at most `timeout`.
    pub fn new(timeout: Duration) -> Self {
        DeadlineInterceptor { timeout }
    }
}

impl Interceptor for DeadlineInterceptor {
    fn invoke<'a>(
        &'a self,
        mut call: Call,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Value, RemoteError>> {
        let mine = Instant::now() + self.timeout;
        let deadline = call.context.deadline.map_or(mine, |d| d.min(mine));
        call.context.deadline = Some(deadline);
        let method = call.method.clone();
        Box::pin(async move {
            tokio::time::timeout_at(deadline.into(), next.proceed(call))
                .await
                .unwrap_or_else(|_| {
                    Err(RemoteError::timeout(format!(
                        "{method}: no answer before the deadline"
                    )))
                })
        })
    }
}

/// Names matched against `patterns` (regular expressions, anchored at both ends).
#[derive(Clone, Debug)]
pub struct MethodPatterns(Vec<Regex>);

impl MethodPatterns {
    /// Compiles `patterns` (each must match a whole method name).
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, regex::Error> {
        patterns
            .iter()
            .map(|p| Regex::new(&format!("^(?:{})$", p.as_ref())))
            .collect::<Result<Vec<_>, _>>()
            .map(MethodPatterns)
    }

    /// Whether `method` matches one of them.
    pub fn matches(&self, method: &str) -> bool {
        self.0.iter().any(|r| r.is_match(method))
    }
}

/// Tries a call again when it failed in a way another try may fix: a method matching
/// `idempotent` on any connection failure or timeout (it may run twice), any other method only
/// when the call never left (it cannot run twice). Remote exceptions are answers, never
/// retried. Waits `backoff`, doubled each time, between tries.
pub struct RetryInterceptor {
    idempotent: MethodPatterns,
    attempts: u32,
    backoff: Duration,
}

impl RetryInterceptor {
    /// At most `attempts` tries in all (at least 1).
    pub fn new(idempotent: MethodPatterns, attempts: u32, backoff: Duration) -> Self {
        RetryInterceptor {
            idempotent,
            attempts: attempts.max(1),
            backoff,
        }
    }
}

impl Interceptor for RetryInterceptor {
    fn invoke<'a>(
        &'a self,
        call: Call,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Value, RemoteError>> {
        Box::pin(async move {
            let idempotent = self.idempotent.matches(&call.method);
            let mut wait = self.backoff;
            let mut tried = 1;
            loop {
                let r = next.proceed(call.clone()).await;
                let e = match r {
                    Ok(v) => return Ok(v),
                    Err(e) => e,
                };
                let again = if idempotent {
                    e.is_retryable()
                } else {
                    e.is_safe_to_retry()
                };
                let past_deadline = call
                    .context
                    .deadline
                    .is_some_and(|d| Instant::now() + wait >= d);
                if !again || tried >= self.attempts || past_deadline {
                    return Err(e);
                }
                tracing::debug!(target: "tether::retry", "{} failed ({e}); try {} of {}", call.method, tried + 1, self.attempts);
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2);
                tried += 1;
            }
        })
    }
}

/// How loud a call-logging line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// DEBUG.
    Debug,
    /// INFO.
    Info,
}

/// One line before and one after each call, under the `tether.calls` logger (`--log-format
/// python` prints them in Python's layout): the method with its arguments as Python shows
/// them, then what it returned or raised and how long it took.
pub struct CallLoggingInterceptor {
    level: LogLevel,
}

impl CallLoggingInterceptor {
    /// Lines at `level`.
    pub fn new(level: LogLevel) -> Self {
        CallLoggingInterceptor { level }
    }
}

fn log_line(level: LogLevel, text: std::fmt::Arguments<'_>) {
    match level {
        LogLevel::Debug => tracing::debug!(target: "tether.calls", "{text}"),
        LogLevel::Info => tracing::info!(target: "tether.calls", "{text}"),
    }
}

impl Interceptor for CallLoggingInterceptor {
    fn invoke<'a>(
        &'a self,
        call: Call,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Value, RemoteError>> {
        Box::pin(async move {
            let args: Vec<String> = call
                .args
                .iter()
                .map(tether_core::python::repr)
                .chain(
                    call.kwargs
                        .iter()
                        .map(|(k, v)| format!("{k}={}", tether_core::python::repr(v))),
                )
                .collect();
            let method = call.method.clone();
            log_line(
                self.level,
                format_args!("Calling {method}({})", args.join(", ")),
            );
            let start = Instant::now();
            let r = next.proceed(call).await;
            let ms = start.elapsed().as_secs_f64() * 1000.0;
            match &r {
                Ok(v) => log_line(
                    self.level,
                    format_args!(
                        "{method} returned {} in {ms:.3} ms",
                        tether_core::python::repr(v)
                    ),
                ),
                Err(e) => log_line(
                    self.level,
                    format_args!("{method} raised {e} after {ms:.3} ms"),
                ),
            }
            r
        })
    }
}

/// Per-method figures of a [`PerformanceMonitorInterceptor`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MethodTimes {
    /// Calls.
    pub calls: u64,
    /// Calls that failed.
    pub failures: u64,
    /// Total time.
    pub total: Duration,
    /// Shortest call.
    pub min: Duration,
    /// Longest call.
    pub max: Duration,
}

/// Times every call by method: each call's time at DEBUG under `tether.performance`, a WARN
/// for a call slower than `warn_over`, and the figures so far from
/// [`times`](Self::times) (and in a summary line when it is dropped).
pub struct PerformanceMonitorInterceptor {
    warn_over: Option<Duration>,
    times: Mutex<BTreeMap<String, MethodTimes>>,
}

impl PerformanceMonitorInterceptor {
    /// A monitor warning about calls over `warn_over` (none when `None`).
    pub fn new(warn_over: Option<Duration>) -> Self {
        PerformanceMonitorInterceptor {
            warn_over,
            times: Mutex::new(BTreeMap::new()),
        }
    }

    /// The figures so far, by method.
    pub fn times(&self) -> BTreeMap<String, MethodTimes> {
        self.times.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// One line per method: calls, failures, mean, min, max.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for (m, t) in self.times() {
            let mean = t.total.as_secs_f64() * 1000.0 / t.calls.max(1) as f64;
            out.push_str(&format!(
                "{m}: {} calls, {} failed, mean {mean:.3} ms, min {:.3} ms, max {:.3} ms\n",
                t.calls,
                t.failures,
                t.min.as_secs_f64() * 1000.0,
                t.max.as_secs_f64() * 1000.0
            ));
        }
        out
    }
}

impl Drop for PerformanceMonitorInterceptor {
    fn drop(&mut self) {
        let s = self.summary();
        if !s.is_empty() {
            tracing::info!(target: "tether.performance", "call times:\n{}", s.trim_end());
        }
    }
}

impl Interceptor for PerformanceMonitorInterceptor {
    fn invoke<'a>(
        &'a self,
        call: Call,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Value, RemoteError>> {
        Box::pin(async move {
            let method = call.method.clone();
            let start = Instant::now();
            let r = next.proceed(call).await;
            let took = start.elapsed();
            tracing::debug!(target: "tether.performance", "{method} took {:.3} ms", took.as_secs_f64() * 1000.0);
            if self.warn_over.is_some_and(|w| took > w) {
                tracing::warn!(target: "tether.performance", "{method} took {:.3} ms", took.as_secs_f64() * 1000.0);
            }
            let mut map = self.times.lock().unwrap_or_else(|p| p.into_inner());
            let t = map.entry(method).or_default();
            t.min = if t.calls == 0 { took } else { t.min.min(took) };
            t.max = t.max.max(took);
            t.calls += 1;
            t.total += took;
            if r.is_err() {
                t.failures += 1;
            }
            drop(map);
            r
        })
    }
}

/// A Python logging level, as `tracing` has levels: a number below 20 is DEBUG (what a logger
/// set to INFO leaves out), below 30 INFO, below 40 WARNING, else ERROR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PythonLevel {
    /// `logging.DEBUG` (10).
    Debug,
    /// `logging.INFO` (20).
    Info,
    /// `logging.WARNING` (30).
    Warning,
    /// `logging.ERROR` (40) and `CRITICAL` (50).
    Error,
}

impl PythonLevel {
    /// The level of Python's number `n`.
    pub fn from_number(n: i64) -> PythonLevel {
        match n {
            ..20 => PythonLevel::Debug,
            20..30 => PythonLevel::Info,
            30..40 => PythonLevel::Warning,
            _ => PythonLevel::Error,
        }
    }

    /// The level Python calls `name` (`DEBUG`, `INFO`, `WARNING`/`WARN`, `ERROR`,
    /// `CRITICAL`/`FATAL`, any case), or `None`.
    pub fn from_name(name: &str) -> Option<PythonLevel> {
        Some(match name.to_ascii_uppercase().as_str() {
            "DEBUG" => PythonLevel::Debug,
            "INFO" => PythonLevel::Info,
            "WARNING" | "WARN" => PythonLevel::Warning,
            "ERROR" | "CRITICAL" | "FATAL" => PythonLevel::Error,
            _ => return None,
        })
    }
}

/// Spring Python's own `springpython.aop.PerformanceMonitorInterceptor`, line for line: before
/// each call `PREFIX BEGIN`, after one that returned `PREFIX END => SECONDS` (whole
/// milliseconds as seconds, as Python 2's `timing.milli()/1000.0` prints them: `0.0`,
/// `0.012`), at one level under the `springpython.aop` logger (`--log-format python` prints
/// them as Spring Python's logging does). A call that fails logs no END line, as there.
pub struct SpringPerformanceMonitor {
    prefix: String,
    level: PythonLevel,
}

impl SpringPerformanceMonitor {
    /// Lines starting with `prefix` (Spring Python's default is `None`, printed as `None`) at
    /// `level` (its default is DEBUG).
    pub fn new(prefix: impl Into<String>, level: PythonLevel) -> Self {
        SpringPerformanceMonitor {
            prefix: prefix.into(),
            level,
        }
    }

    fn line(&self, text: std::fmt::Arguments<'_>) {
        match self.level {
            PythonLevel::Debug => tracing::debug!(target: "springpython.aop", "{text}"),
            PythonLevel::Info => tracing::info!(target: "springpython.aop", "{text}"),
            PythonLevel::Warning => tracing::warn!(target: "springpython.aop", "{text}"),
            PythonLevel::Error => tracing::error!(target: "springpython.aop", "{text}"),
        }
    }
}

/// Whole milliseconds as Python 2 prints `ms / 1000.0`: `0.0`, `0.012`, `1.5`.
fn python_seconds(ms: u128) -> String {
    let mut out = Vec::new();
    tether_core::python::push_float_repr(ms as f64 / 1000.0, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

impl Interceptor for SpringPerformanceMonitor {
    fn invoke<'a>(
        &'a self,
        call: Call,
        next: Next<'a>,
    ) -> BoxFuture<'a, Result<Value, RemoteError>> {
        Box::pin(async move {
            self.line(format_args!("{} BEGIN", self.prefix));
            let start = Instant::now();
            let v = next.proceed(call).await?;
            let ms = start.elapsed().as_millis();
            self.line(format_args!(
                "{} END => {}",
                self.prefix,
                python_seconds(ms)
            ));
            Ok(v)
        })
    }
}

/// A shared handle, for chains that take `Arc<dyn Interceptor>`.
pub fn shared<I: Interceptor>(i: I) -> Arc<dyn Interceptor> {
    Arc::new(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_levels_and_seconds() {
        use PythonLevel::*;
        for (n, l) in [
            (0, Debug),
            (10, Debug),
            (15, Debug),
            (20, Info),
            (30, Warning),
            (40, Error),
            (50, Error),
        ] {
            assert_eq!(PythonLevel::from_number(n), l, "{n}");
        }
        assert_eq!(PythonLevel::from_name("warn"), Some(Warning));
        assert_eq!(PythonLevel::from_name("CRITICAL"), Some(Error));
        assert_eq!(PythonLevel::from_name("loud"), None);
        // As Python 2 prints `timing.milli() / 1000.0`.
        for (ms, s) in [(0, "0.0"), (12, "0.012"), (1500, "1.5"), (61_000, "61.0")] {
            assert_eq!(python_seconds(ms), s);
        }
    }
}
