//! The XML classes: the built-in interceptors and the admin endpoint as context objects.
//!
//! | class | property | meaning | default |
//! |---|---|---|---|
//! | `tether.observe.DeadlineInterceptor` | `timeout` | seconds each call may take | 10 |
//! | `tether.observe.RetryInterceptor` | `idempotent` | pattern or list of patterns (whole method names) that may run twice | none |
//! | | `attempts` | tries in all | 3 |
//! | | `backoff` | seconds before the second try, doubled after | 0.05 |
//! | `tether.observe.CallLoggingInterceptor` | `level` | `DEBUG` or `INFO` | `INFO` |
//! | `tether.observe.PerformanceMonitorInterceptor` | `warn_over` | seconds over which a call is a WARN | none |
//! | `springpython.aop.PerformanceMonitorInterceptor` (Spring Python's own, its lines) | `prefix` | the lines' first word | `None` |
//! | | `level` | a Python level: a number (`20`) or a name (`INFO`) | DEBUG |
//! | `tether.observe.TracingInterceptor` | `name` | the span's object name | the object's id |
//! | `tether.observe.MetricsInterceptor` | `name` | the `rpc_service` label | the object's id |
//! | `tether.observe.AdminServer` | `host` | address to bind | `127.0.0.1` |
//! | | `port` | port (0: a free one, logged) | 0 |
//!
//! Each interceptor goes into an `interceptors` list (of an exporter, a proxy factory, a pool or
//! a `springpython.aop.ProxyFactoryObject`) or an advisor's `advice`. The tracing interceptor
//! records into the process's span pipeline when one is set up ([`crate::init`]) and only
//! passes the trace context on otherwise.

use crate::admin::{AdminServer, Phase, Readiness};
use crate::builtin::{
    CallLoggingInterceptor, DeadlineInterceptor, LogLevel, MethodPatterns,
    PerformanceMonitorInterceptor, PythonLevel, RetryInterceptor, SpringPerformanceMonitor,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tether_context::remoting::props::{text_prop, timeout_prop};
use tether_context::{ClassRegistry, Component, ContextError, ContextValue, InitContext};
use tether_remoting::observe::{CallSite, Side};
use tether_remoting::Interceptor;

/// Registers every class of this module.
pub fn register(r: &mut ClassRegistry) {
    r.register::<Deadline>("tether.observe.DeadlineInterceptor");
    r.register::<Retry>("tether.observe.RetryInterceptor");
    r.register::<CallLogging>("tether.observe.CallLoggingInterceptor");
    r.register::<PerfMonitor>("tether.observe.PerformanceMonitorInterceptor");
    r.register::<SpringPerfMonitor>("springpython.aop.PerformanceMonitorInterceptor");
    r.register_with("tether.observe.TracingInterceptor", |args| {
        Named::from_args(crate::local_tracing, args)
    });
    r.register_with("tether.observe.MetricsInterceptor", |args| {
        Named::from_args(
            |site| Arc::new(crate::metrics::MetricsInterceptor::new(site)),
            args,
        )
    });
    r.register::<AdminObject>("tether.observe.AdminServer");
}

/// Applies named constructor arguments as properties; positional ones are an error.
fn named_only<C: Component>(c: &mut C, args: tether_context::CtorArgs) -> Result<(), ContextError> {
    let (positional, named) = args.into_parts();
    if !positional.is_empty() {
        return Err("takes no positional constructor arguments; use <property>".into());
    }
    for (n, v) in named {
        c.set_property(&n, v)?;
    }
    Ok(())
}

fn unknown(name: &str, known: &str) -> ContextError {
    format!("has no property '{name}' (expected {known})").into()
}

#[derive(Default)]
struct Deadline {
    timeout: Option<Duration>,
}

impl Component for Deadline {
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError> {
        match name {
            "timeout" => self.timeout = timeout_prop(name, &value)?,
            _ => return Err(unknown(name, "timeout")),
        }
        Ok(())
    }

    fn interceptor(&self) -> Option<Arc<dyn Interceptor>> {
        Some(Arc::new(DeadlineInterceptor::new(
            self.timeout.unwrap_or(Duration::from_secs(10)),
        )))
    }
}

struct Retry {
    idempotent: Vec<String>,
    attempts: u32,
    backoff: Duration,
    built: Option<Arc<dyn Interceptor>>,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            idempotent: Vec::new(),
            attempts: 3,
            backoff: Duration::from_millis(50),
            built: None,
        }
    }
}

fn texts(name: &str, v: &ContextValue) -> Result<Vec<String>, ContextError> {
    match v.as_seq() {
        Some(items) => items
            .iter()
            .map(|i| {
                i.to_string_value()
                    .map_err(|e| ContextError::from(format!("property '{name}': {e}")))
            })
            .collect(),
        None => Ok(text_prop(name, v)?.into_iter().collect()),
    }
}

impl Component for Retry {
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError> {
        match name {
            "idempotent" => self.idempotent = texts(name, &value)?,
            "attempts" => {
                let n = value.to_i64()?;
                if !(1..=100).contains(&n) {
                    return Err(format!("property 'attempts' must be 1 to 100, got {n}").into());
                }
                self.attempts = n as u32;
            }
            "backoff" => self.backoff = timeout_prop(name, &value)?.unwrap_or_default(),
            _ => return Err(unknown(name, "idempotent, attempts, backoff")),
        }
        Ok(())
    }

    fn properties_set(&mut self) -> Result<(), ContextError> {
        let patterns = MethodPatterns::new(&self.idempotent)
            .map_err(|e| ContextError::from(format!("property 'idempotent': {e}")))?;
        self.built = Some(Arc::new(RetryInterceptor::new(
            patterns,
            self.attempts,
            self.backoff,
        )));
        Ok(())
    }

    fn interceptor(&self) -> Option<Arc<dyn Interceptor>> {
        self.built.clone()
    }
}

struct CallLogging {
    level: LogLevel,
}

impl Default for CallLogging {
    fn default() -> Self {
        CallLogging {
            level: LogLevel::Info,
        }
    }
}

impl Component for CallLogging {
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError> {
        match name {
            "level" => {
                let t = text_prop(name, &value)?.unwrap_or_default();
                self.level = match t.to_ascii_uppercase().as_str() {
                    "DEBUG" => LogLevel::Debug,
                    "INFO" => LogLevel::Info,
                    _ => {
                        return Err(
                            format!("property 'level' must be DEBUG or INFO, got {t:?}").into()
                        )
                    }
                };
            }
            _ => return Err(unknown(name, "level")),
        }
        Ok(())
    }

    fn interceptor(&self) -> Option<Arc<dyn Interceptor>> {
        Some(Arc::new(CallLoggingInterceptor::new(self.level)))
    }
}

#[derive(Default)]
struct PerfMonitor {
    warn_over: Option<Duration>,
    built: Option<Arc<dyn Interceptor>>,
}

impl Component for PerfMonitor {
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError> {
        match name {
            "warn_over" => self.warn_over = timeout_prop(name, &value)?,
            _ => return Err(unknown(name, "warn_over")),
        }
        Ok(())
    }

    fn properties_set(&mut self) -> Result<(), ContextError> {
        // One monitor per object: every chain it is in adds to the same figures.
        self.built = Some(Arc::new(PerformanceMonitorInterceptor::new(self.warn_over)));
        Ok(())
    }

    fn interceptor(&self) -> Option<Arc<dyn Interceptor>> {
        self.built.clone()
    }
}

/// `springpython.aop.PerformanceMonitorInterceptor`.
struct SpringPerfMonitor {
    prefix: String,
    level: PythonLevel,
}

impl Default for SpringPerfMonitor {
    fn default() -> Self {
        // Spring Python's defaults: `prefix=None` (printed as `None`), `logging.DEBUG`.
        SpringPerfMonitor {
            prefix: "None".into(),
            level: PythonLevel::Debug,
        }
    }
}

impl Component for SpringPerfMonitor {
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError> {
        match name {
            "prefix" => self.prefix = text_prop(name, &value)?.unwrap_or_else(|| "None".into()),
            "level" => {
                self.level = match value.to_i64() {
                    Ok(n) => PythonLevel::from_number(n),
                    Err(_) => {
                        let t = text_prop(name, &value)?.unwrap_or_default();
                        PythonLevel::from_name(&t).ok_or_else(|| {
                            ContextError::from(format!(
                                "property 'level' must be a Python logging level (a number such as 20, or DEBUG, INFO, WARNING, ERROR, CRITICAL), got {t:?}"
                            ))
                        })?
                    }
                };
            }
            _ => return Err(unknown(name, "prefix, level")),
        }
        Ok(())
    }

    fn interceptor(&self) -> Option<Arc<dyn Interceptor>> {
        Some(Arc::new(SpringPerformanceMonitor::new(
            self.prefix.clone(),
            self.level,
        )))
    }
}

/// A site of the user's own (`name`, else the object's id).
fn local_site(name: &Option<String>, init_id: &Mutex<String>) -> Arc<CallSite> {
    let service = name
        .clone()
        .unwrap_or_else(|| init_id.lock().map(|s| s.clone()).unwrap_or_default());
    Arc::new(CallSite {
        side: Side::Local,
        system: "local",
        service,
        host: None,
        port: None,
    })
}

/// An interceptor of the user's chain named by its `name` (default: its object id): the
/// tracing and the metrics classes.
struct Named {
    name: Option<String>,
    id: Mutex<String>,
    make: fn(Arc<CallSite>) -> Arc<dyn Interceptor>,
}

impl Named {
    fn from_args(
        make: fn(Arc<CallSite>) -> Arc<dyn Interceptor>,
        args: tether_context::CtorArgs,
    ) -> Result<Named, ContextError> {
        let mut n = Named {
            name: None,
            id: Mutex::new(args.object_id().to_string()),
            make,
        };
        named_only(&mut n, args)?;
        Ok(n)
    }
}

impl Component for Named {
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError> {
        match name {
            "name" => self.name = text_prop(name, &value)?,
            _ => return Err(unknown(name, "name")),
        }
        Ok(())
    }

    fn interceptor(&self) -> Option<Arc<dyn Interceptor>> {
        Some((self.make)(local_site(&self.name, &self.id)))
    }
}

/// `tether.observe.AdminServer`: the admin endpoint as a context object, ready while its
/// context serves.
pub struct AdminObject {
    host: String,
    port: u16,
    server: Mutex<Option<AdminServer>>,
    context: Arc<Mutex<Option<tether_context::WeakContext>>>,
}

impl Default for AdminObject {
    fn default() -> Self {
        AdminObject {
            host: "127.0.0.1".into(),
            port: 0,
            server: Mutex::new(None),
            context: Arc::default(),
        }
    }
}

impl AdminObject {
    /// The running endpoint (once the context started it).
    pub fn server(&self) -> Option<AdminServer> {
        self.server.lock().ok().and_then(|s| s.clone())
    }
}

impl Component for AdminObject {
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError> {
        match name {
            "host" => self.host = text_prop(name, &value)?.unwrap_or_else(|| "127.0.0.1".into()),
            "port" => self.port = value.to_port()?,
            _ => return Err(unknown(name, "host, port")),
        }
        Ok(())
    }

    fn after_properties_set(&self, _init: &InitContext) -> Result<(), ContextError> {
        let weak = self.context.clone();
        // Ready while the context serves: after its start, until its close begins (before
        // exporters leave their directories).
        let readiness = Readiness::from_probe(move || {
            let ctx = weak
                .lock()
                .ok()
                .and_then(|w| w.as_ref().and_then(|w| w.upgrade()));
            match ctx {
                Some(c) if c.is_serving() => Phase::Serving,
                Some(c) if c.is_closing() => Phase::Draining,
                Some(_) => Phase::Starting,
                None => Phase::Draining,
            }
        });
        let (host, port) = (self.host.clone(), self.port);
        let server = tether_remoting::bind_on_current_runtime(async move {
            AdminServer::bind(&host, port, readiness).await
        })
        .map_err(|e| ContextError::from(format!("cannot bind the admin endpoint: {e}")))?;
        tracing::info!(target: "tether::observe", "admin uri: {}", server.url());
        if let Ok(mut s) = self.server.lock() {
            *s = Some(server);
        }
        Ok(())
    }

    fn set_app_context(&self, ctx: &tether_context::WeakContext) {
        if let Ok(mut c) = self.context.lock() {
            *c = Some(ctx.clone());
        }
    }

    fn destroy(&self) -> Result<(), ContextError> {
        // Stays up (answering 503) while the context drains; stopped when the object goes.
        Ok(())
    }
}

impl Drop for AdminObject {
    fn drop(&mut self) {
        if let Some(s) = self.server.get_mut().ok().and_then(Option::take) {
            if let Ok(h) = tokio::runtime::Handle::try_current() {
                h.spawn(async move { s.shutdown().await });
            }
        }
    }
}
