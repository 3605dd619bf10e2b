//! [`Protocol`]: the seam between the container and a wire. Everything the container knows
//! about a wire comes through this trait; the container itself names none.

use crate::error::{TransportError, TransportErrorKind};
use crate::options::{ClientOptions, ServerOptions, WireOptions};
use crate::shell::{DefaultShell, Shell};
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use tether_core::{BoxFuture, Dispatch, Invoker};

/// Where a log line of the remoting classes comes from; each [`ClassFamily`] maps these to its
/// own logger names (Spring Python's, for Spring Python's class names).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LogSite {
    /// The service exporter ("Exporting X as a Pyro service at host:port").
    Exporter,
    /// The holder of the shared servers (registering, starting, shutting down).
    Holder,
    /// The server's own thread or task (started, signalled to stop).
    Thread,
}

/// One family of class names a protocol answers to: an exporter class, a proxy factory class,
/// and how their log lines read. A protocol usually has several (Spring Python's names and
/// tether's own).
#[derive(Clone, Copy)]
pub struct ClassFamily {
    /// The exporter's class name (`springpython.remoting.pyro.PyroServiceExporter`).
    pub exporter: &'static str,
    /// The proxy factory's class name (`springpython.remoting.pyro.PyroProxyFactory`).
    pub proxy: &'static str,
    /// The protocol's word in log texts ("Pyro", "Pyro4", "Hessian").
    pub word: &'static str,
    /// Emits one DEBUG line under this family's logger for `site`. A function rather than a
    /// name because `tracing` targets must be static: each protocol module writes one `match`
    /// with its literal targets.
    pub log: fn(LogSite, fmt::Arguments<'_>),
    /// The exporter's positional constructor arguments, in order, by property name. Default
    /// [`EXPORTER_PARAMS`].
    pub exporter_params: &'static [&'static str],
    /// The proxy factory's positional constructor arguments, in order. Default
    /// [`PROXY_PARAMS`].
    pub proxy_params: &'static [&'static str],
}

/// An exporter's positional constructor arguments unless its family says otherwise.
pub const EXPORTER_PARAMS: &[&str] = &["service", "service_name", "service_host", "service_port"];

/// A proxy factory's positional constructor argument unless its family says otherwise.
pub const PROXY_PARAMS: &[&str] = &["service_url"];

impl fmt::Debug for ClassFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClassFamily")
            .field("exporter", &self.exporter)
            .field("proxy", &self.proxy)
            .field("word", &self.word)
            .finish()
    }
}

impl ClassFamily {
    /// A family with the default constructor arguments.
    pub const fn new(
        exporter: &'static str,
        proxy: &'static str,
        word: &'static str,
        log: fn(LogSite, fmt::Arguments<'_>),
    ) -> Self {
        ClassFamily {
            exporter,
            proxy,
            word,
            log,
            exporter_params: EXPORTER_PARAMS,
            proxy_params: PROXY_PARAMS,
        }
    }

    /// The same family with its own positional constructor arguments (Spring Python's
    /// `SSLServer(host, port, keyfile, ...)`).
    pub const fn with_params(
        mut self,
        exporter: &'static [&'static str],
        proxy: &'static [&'static str],
    ) -> Self {
        self.exporter_params = exporter;
        self.proxy_params = proxy;
        self
    }

    /// A family whose lines all go to the `tether::remoting` target.
    pub const fn plain(exporter: &'static str, proxy: &'static str, word: &'static str) -> Self {
        Self::new(
            exporter,
            proxy,
            word,
            |_, args| tracing::debug!(target: "tether::remoting", "{args}"),
        )
    }
}

/// A wire protocol as the container sees it.
///
/// Implement it in one module behind one cargo feature and register it with
/// `ClassRegistry::register_protocol` (tether-context): that
/// registers every class name of [`families`](Protocol::families) (exporters and proxy
/// factories), and lets the generic `tether.ProxyFactory` and `tether call` pick the protocol
/// for a URL it [`claims`](Protocol::claims).
pub trait Protocol: Send + Sync + 'static {
    /// A short name (`pyro5`); servers are shared per (name, address), and `tether
    /// echo-server --protocol NAME` finds the protocol by it.
    fn name(&self) -> &'static str;

    /// Which servers it shares: exporters on one address share one server when their
    /// protocols have the same key. Default: [`name`](Protocol::name). Pyro4 and Pyro5 both
    /// return `"pyro"`: one daemon answers both wires on one port.
    fn server_key(&self) -> &'static str {
        self.name()
    }

    /// Exporter properties only this wire knows (Pyro4's `hmac_key`, XML-RPC's
    /// `log_requests`, ...): the exporter passes them on in [`ServerOptions::wire`].
    /// Default none.
    fn server_option_names(&self) -> &[&'static str] {
        &[]
    }

    /// Which of [`server_option_names`](Protocol::server_option_names) belong to one exporter
    /// rather than to the server it shares (Pyro's `name_server`, `metadata`): they reach
    /// [`directory_of`](Protocol::directory_of) but not [`bind`](Protocol::bind), and exporters
    /// sharing a server may differ in them. Default none.
    fn exporter_option_names(&self) -> &[&'static str] {
        &[]
    }

    /// Proxy-factory properties only this wire knows, passed on in [`ClientOptions::wire`].
    /// Default none.
    fn client_option_names(&self) -> &[&'static str] {
        &[]
    }

    /// Checks the wire's own server settings as they stand (called after each one is set, so a
    /// bad value is reported at its property). Default: every value is accepted here and
    /// checked again by [`bind`](Protocol::bind).
    fn check_server_options(&self, options: &WireOptions) -> Result<(), TransportError> {
        let _ = options;
        Ok(())
    }

    /// The directory URL the wire's own server settings ask an exporter to list itself in
    /// (Pyro's `name_server` property names a Pyro name server: `pyro-ns://host:port/`).
    /// Default: none.
    fn directory_of(&self, options: &ServerOptions) -> Result<Option<String>, TransportError> {
        let _ = options;
        Ok(None)
    }

    /// What the command line needs of this wire (echo object, printing, argument literals).
    /// Default: [`DefaultShell`].
    fn shell(&self) -> &dyn Shell {
        &DefaultShell
    }

    /// The class names it answers to.
    fn families(&self) -> &[ClassFamily];

    /// The URL prefixes it claims (`PYRO:`, `PYROLOC://`), for [`claims`](Protocol::claims)
    /// and for messages listing what is understood.
    fn url_prefixes(&self) -> &[&'static str];

    /// Whether `url` is for this protocol. Default: it starts with one of
    /// [`url_prefixes`](Protocol::url_prefixes).
    fn claims(&self, url: &str) -> bool {
        self.url_prefixes().iter().any(|p| url.starts_with(p))
    }

    /// Binds a server at `addr` now (an address in use is an error; no port scanning) with
    /// `options`, and starts serving in the background. Called from synchronous lifecycle
    /// hooks inside a tokio runtime; network protocols spawn onto that runtime.
    /// `host` is the name to put in the URLs the server hands out (the configured host, or
    /// `addr`'s IP when several hosts share the server).
    fn bind(
        &self,
        host: &str,
        addr: SocketAddr,
        options: &ServerOptions,
    ) -> Result<Arc<dyn ExportServer>, TransportError>;

    /// Binds a server on a Unix domain socket at `path`. Default: unsupported.
    fn bind_unix(
        &self,
        path: &std::path::Path,
        options: &ServerOptions,
    ) -> Result<Arc<dyn ExportServer>, TransportError> {
        let _ = options;
        Err(TransportError::new(
            TransportErrorKind::Unsupported,
            format!(
                "the {} protocol cannot serve on a Unix socket ({})",
                self.name(),
                path.display()
            ),
        ))
    }

    /// The URL an exporter of this protocol shows for `name` on a server that registered it
    /// as `server_uri` (servers are shared by [`Self::server_key`], so the server's own form
    /// may be another protocol's). Default: `server_uri` as it is.
    fn object_url(&self, server_uri: &str, name: &str) -> String {
        let _ = name;
        server_uri.to_string()
    }

    /// Whether this is already wrapped in the seam's observing wrapper (`observe::Observed`).
    /// Default `false`; only the wrapper says `true`.
    fn is_observed(&self) -> bool {
        false
    }

    /// A client for `url` that connects on its first call (no network here; a bad URL or a
    /// bad option is an error now).
    fn proxy(&self, url: &str, options: &ClientOptions)
        -> Result<Arc<dyn Invoker>, TransportError>;
}

/// One running server holding named objects.
pub trait ExportServer: Send + Sync + 'static {
    /// The bound address (the real port when 0 was asked for).
    fn local_addr(&self) -> SocketAddr;

    /// Registers `target` under `name`; returns the URL clients use for it.
    fn register(&self, name: &str, target: Arc<dyn Dispatch>) -> Result<String, TransportError>;

    /// Removes `name` (unknown names are ignored).
    fn unregister(&self, name: &str);

    /// Stops accepting, lets in-flight calls finish, then closes; resolves once the address can
    /// be bound again.
    fn shutdown(&self) -> BoxFuture<'static, ()>;
}

/// Runs a server's async bind from a synchronous lifecycle hook: on a short-lived helper
/// thread through the current runtime's handle, so the server's tasks land on the caller's
/// runtime. A bind error becomes [`TransportErrorKind::Bind`]; no runtime,
/// [`TransportErrorKind::NoRuntime`].
///
/// The future completes when some thread drives the runtime's I/O and timers while the hook
/// waits here: on a multi-thread runtime the other workers do, and inside [`run_sync_hooks`]
/// (how a context's `start` and `close` run their hooks) the thread awaiting the hooks does, on
/// either flavour, so any future works there (a directory listing, a gateway asking its
/// target). A hook called straight from a current-thread runtime's own thread (a lazy object
/// made by a `get` in async code) has nobody to drive them: a future that needs no I/O
/// readiness and no timer (binding a socket, resolving a name on the blocking pool) completes,
/// and one that does could never complete, so after [`CURRENT_THREAD_WAIT`] it is dropped and
/// the hook gets [`TransportErrorKind::NoRuntime`] saying so, instead of hanging.
pub fn bind_on_current_runtime<T: Send>(
    bind: impl std::future::Future<Output = Result<T, tether_core::RemoteError>> + Send,
) -> Result<T, TransportError> {
    run_beside(bind, CURRENT_THREAD_WAIT)
}

/// How long [`bind_on_current_runtime`] waits on a current-thread runtime (see there).
pub const CURRENT_THREAD_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

fn run_beside<T: Send>(
    bind: impl std::future::Future<Output = Result<T, tether_core::RemoteError>> + Send,
    wait: std::time::Duration,
) -> Result<T, TransportError> {
    let handle = tokio::runtime::Handle::try_current().map_err(|_| {
        TransportError::new(
            TransportErrorKind::NoRuntime,
            "exporters need a tokio runtime: start the context from async code (or use tether's blocking facade)",
        )
    })?;
    // Only a current-thread runtime whose one thread is this caller's needs the bounded wait.
    let current_thread = handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread
        && !DRIVEN_ELSEWHERE.with(std::cell::Cell::get);
    let outcome = std::thread::scope(|s| {
        s.spawn(|| {
            if current_thread {
                poll_within(&handle, bind, wait)
            } else {
                Some(handle.block_on(bind))
            }
        })
        .join()
        .map_err(|_| {
            TransportError::new(TransportErrorKind::Bind, "the bind helper thread panicked")
        })
    })?;
    match outcome {
        Some(r) => r.map_err(|e| TransportError::new(TransportErrorKind::Bind, e.message())),
        None => Err(TransportError::new(
            TransportErrorKind::NoRuntime,
            format!(
                "this step needs network I/O or a timer, which a current-thread tokio runtime cannot drive while its thread waits for a synchronous lifecycle hook (gave up after {wait:?}): start the context on a multi-thread runtime (`#[tokio::main]`'s default, or `#[tokio::test(flavor = \"multi_thread\")]`)"
            ),
        )),
    }
}

thread_local! {
    /// Set on a thread running [`run_sync_hooks`]'s work: another thread (the one awaiting it)
    /// drives the runtime meanwhile.
    static DRIVEN_ELSEWHERE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs synchronous lifecycle hooks (`work`) from async code: on the current runtime's
/// blocking pool, awaited here, so this task's thread stays free to drive the runtime's I/O
/// and timers while a hook waits in [`bind_on_current_runtime`] for network work (a directory
/// listing, a withdrawal, a gateway asking its target). With it a context starts and closes on
/// a current-thread runtime as on a multi-thread one.
///
/// The caller's tracing subscriber and span go with the work (the hooks' log lines land where
/// they would inline). Without a runtime, or when the runtime no longer takes blocking work (it
/// is shutting down), `work` runs inline. A panic in `work` resumes in the caller.
pub async fn run_sync_hooks<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return work();
    };
    // Shared so that the work can be taken back and run here if the pool never starts it.
    let slot = Arc::new(std::sync::Mutex::new(Some(work)));
    let taken = slot.clone();
    let dispatch = tracing::dispatcher::get_default(|d| d.clone());
    let span = tracing::Span::current();
    let joined = handle
        .spawn_blocking(move || {
            let work = taken.lock().unwrap_or_else(|p| p.into_inner()).take()?;
            DRIVEN_ELSEWHERE.with(|d| d.set(true));
            let out = tracing::dispatcher::with_default(&dispatch, || span.in_scope(work));
            DRIVEN_ELSEWHERE.with(|d| d.set(false));
            Some(out)
        })
        .await;
    let work = match joined {
        Ok(Some(v)) => return v,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Cancelled before it started (the runtime is shutting down): run it here.
        Ok(None) | Err(_) => slot.lock().unwrap_or_else(|p| p.into_inner()).take(),
    };
    match work {
        Some(w) => w(),
        // The pool took the work and ended without an answer: only a panic does that, and a
        // panic is resumed above.
        None => unreachable!("the blocking pool took the lifecycle work and returned nothing"),
    }
}

/// Polls `fut` on this thread, inside `handle`'s runtime (its tasks, I/O and timers register
/// there), woken by whatever wakes it, until it completes (`Some`) or `wait` has passed (`None`:
/// the future is dropped).
fn poll_within<F: std::future::Future>(
    handle: &tokio::runtime::Handle,
    fut: F,
    wait: std::time::Duration,
) -> Option<F::Output> {
    /// Wakes the polling thread.
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let _inside = handle.enter();
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    let until = std::time::Instant::now() + wait;
    loop {
        if let std::task::Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return Some(v);
        }
        let left = until.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return None;
        }
        std::thread::park_timeout(left);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn current_thread() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    /// On a current-thread runtime a bind that needs no I/O readiness completes, its tasks on
    /// the caller's runtime; one that waits for a timer (or a reply) ends in a clear error
    /// instead of hanging.
    #[test]
    fn a_current_thread_runtime_binds_and_refuses_what_it_cannot_drive() {
        current_thread().block_on(async {
            let bound = bind_on_current_runtime(async {
                let l = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .map_err(|e| tether_core::RemoteError::connection(e.to_string()))?;
                let addr = l.local_addr().expect("addr");
                tokio::spawn(async move {
                    let _ = l.accept().await;
                });
                Ok(addr)
            })
            .expect("a bind needs no driver");
            // The accept loop runs on this runtime once the hook has returned.
            let connected = tokio::time::timeout(
                Duration::from_secs(5),
                tokio::net::TcpStream::connect(bound),
            )
            .await;
            assert!(matches!(connected, Ok(Ok(_))), "{connected:?}");

            let started = Instant::now();
            let e = run_beside(
                async {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    Ok(())
                },
                Duration::from_millis(300),
            )
            .expect_err("a timer cannot fire while the runtime's thread waits");
            assert_eq!(e.kind(), TransportErrorKind::NoRuntime);
            assert!(e.message().contains("multi-thread"), "{e}");
            assert!(started.elapsed() < Duration::from_secs(5));
        });
    }

    /// On a multi-thread runtime the other workers drive what the future waits for.
    #[test]
    fn a_multi_thread_runtime_drives_timers_and_io_for_a_hook() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let r = bind_on_current_runtime(async {
                tokio::time::sleep(Duration::from_millis(10)).await;
                Ok(7)
            });
            assert_eq!(r, Ok(7));
        });
    }

    /// Hooks run through `run_sync_hooks` on a current-thread runtime: their network work (a
    /// timer here) completes, because the thread awaiting them drives the runtime; the caller's
    /// tracing subscriber sees their events; a panic comes back to the caller.
    #[test]
    fn sync_hooks_run_off_a_current_thread_runtimes_thread() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        /// Counts events.
        struct Count(Arc<AtomicUsize>);
        impl tracing::Subscriber for Count {
            fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
                true
            }
            fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
                tracing::span::Id::from_u64(1)
            }
            fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
            fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
            fn event(&self, _: &tracing::Event<'_>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
            fn enter(&self, _: &tracing::span::Id) {}
            fn exit(&self, _: &tracing::span::Id) {}
        }
        let events = Arc::new(AtomicUsize::new(0));
        let _seen = tracing::subscriber::set_default(Count(events.clone()));
        current_thread().block_on(async {
            let waited = run_sync_hooks(|| {
                tracing::info!("a hook's log line");
                bind_on_current_runtime(async {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    Ok(7)
                })
            })
            .await;
            assert_eq!(waited, Ok(7));
            let panicked = tokio::spawn(run_sync_hooks(|| panic!("a hook panicked"))).await;
            assert!(panicked.is_err_and(|e| e.is_panic()));
        });
        assert_eq!(events.load(Ordering::SeqCst), 1);
        // Without a runtime the hooks run inline: the first poll has the answer.
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let inline = std::future::Future::poll(std::pin::pin!(run_sync_hooks(|| 3)), &mut cx);
        assert_eq!(inline, std::task::Poll::Ready(3));
    }

    #[test]
    fn no_runtime_is_an_error() {
        let e = bind_on_current_runtime(async { Ok(()) }).expect_err("no runtime");
        assert_eq!(e.kind(), TransportErrorKind::NoRuntime);
    }
}
