//! Observers: what the process watches every call with (spans, metrics), applied at the seam
//! so that every wire, every exporter, every proxy and every pool gets them without knowing.
//!
//! A [`ProtocolSet`](crate::ProtocolSet) hands out each protocol wrapped in [`Observed`]: a
//! server it binds wraps each object it registers ([`observe_dispatch`]), a client it makes is
//! wrapped too ([`observe_invoker`]), each as the [installed](install) observers watch that
//! [`CallSite`]. Pools ask for theirs with [`CallSite::pool`]. Nothing is installed by default,
//! and then nothing wraps anything but the server-side deadline: a call whose caller's
//! deadline has passed stops (the caller gets a timeout error) instead of running on for no
//! one; a call without a deadline runs as the object's own future, with nothing added.

use crate::error::TransportError;
use crate::interceptor::Interceptor;
use crate::options::{ClientOptions, ServerOptions, WireOptions};
use crate::protocol::{ClassFamily, ExportServer, Protocol};
use crate::shell::Shell;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use tether_core::{
    AttrInfo, BoxFuture, Call, Dispatch, Invoker, MethodInfo, RemoteError, Reply, Value,
    ValueStream,
};

/// Which end of a call an interceptor sits at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// A proxy sending calls to one remote object (one attempt, in a pool).
    Client,
    /// An exporter's server running calls for one object.
    Server,
    /// A pool sending a call to one of its members (each attempt is a [`Side::Client`]).
    Pool,
    /// A chain of the user's around an object (an interceptor put in by name).
    Local,
}

/// Where calls are observed: the side, the wire, the object, and the server's address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallSite {
    /// Client, server or pool.
    pub side: Side,
    /// The wire (`pyro5`, `hessian`, ...; `pool` for a pool). On a server shared by two wires
    /// (Pyro4 and Pyro5), each call's [`CallContext::protocol`](tether_core::CallContext) says
    /// which one it came over.
    pub system: &'static str,
    /// The remote object's name (Pyro object id, HTTP path, pool name).
    pub service: String,
    /// The server's host, when known.
    pub host: Option<String>,
    /// The server's port, when known.
    pub port: Option<u16>,
}

impl CallSite {
    /// A client of `url` over `system`: the object and the server read off the URL's usual
    /// forms (`PYRO:obj@host:port`, `PYRONAME:name@host:port`, `PYROLOC://host:port/name`,
    /// `scheme://host:port/path`).
    pub fn client(system: &'static str, url: &str) -> CallSite {
        let (service, hostport) = if let Some(rest) = url.split_once("://").map(|(_, r)| r) {
            let (hp, path) = rest.split_once('/').unwrap_or((rest, ""));
            (path.to_string(), hp)
        } else if let Some((_, rest)) = url.split_once(':') {
            let (obj, hp) = rest.rsplit_once('@').unwrap_or((rest, ""));
            (obj.to_string(), hp)
        } else {
            (url.to_string(), "")
        };
        let hostport = hostport.split(['?', '#']).next().unwrap_or("");
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                (h.trim_matches(['[', ']']).to_string(), p.parse().ok())
            }
            _ => (hostport.to_string(), None),
        };
        CallSite {
            side: Side::Client,
            system,
            service,
            host: (!host.is_empty()).then_some(host),
            port,
        }
    }

    /// A server of `system` at `addr` serving the object `name`.
    pub fn server(system: &'static str, name: &str, addr: SocketAddr) -> CallSite {
        CallSite {
            side: Side::Server,
            system,
            service: name.to_string(),
            host: Some(addr.ip().to_string()),
            port: Some(addr.port()),
        }
    }

    /// The pool called `name`.
    pub fn pool(name: &str) -> CallSite {
        CallSite {
            side: Side::Pool,
            system: "pool",
            service: name.to_string(),
            host: None,
            port: None,
        }
    }
}

/// Something that watches calls: what it puts around the calls at each site.
///
/// The one method to write is [`interceptor`](Observer::interceptor): every object, client and
/// pool is then wrapped in a chain of it. An observer that only looks at where a call starts
/// and how it ends (a span, a count) can wrap objects and clients itself
/// ([`observe_dispatch`](Observer::observe_dispatch),
/// [`observe_invoker`](Observer::observe_invoker)): one future per call around the object's
/// own, in place of a chain's, and streamed replies pass through as streams.
pub trait Observer: Send + Sync + 'static {
    /// The interceptor for calls at `site`, or `None` to leave them alone.
    fn interceptor(&self, site: &Arc<CallSite>) -> Option<Arc<dyn Interceptor>>;

    /// `object`, served at `site`, as this observer watches it. Default: behind
    /// [`interceptor`](Observer::interceptor)'s interceptor (a streamed reply stays a stream;
    /// the interceptor sees the call that opened it).
    fn observe_dispatch(
        &self,
        site: &Arc<CallSite>,
        object: Arc<dyn Dispatch>,
    ) -> Arc<dyn Dispatch> {
        match self.interceptor(site) {
            Some(i) => Arc::new(ChainDispatch {
                chain: crate::Chain::from(vec![i]),
                target: object,
            }),
            None => object,
        }
    }

    /// `client`, calling out at `site`, as this observer watches it. Default: behind
    /// [`interceptor`](Observer::interceptor)'s interceptor.
    fn observe_invoker(&self, site: &Arc<CallSite>, client: Arc<dyn Invoker>) -> Arc<dyn Invoker> {
        match self.interceptor(site) {
            Some(i) => crate::Intercepted::wrap(&[i], client),
            None => client,
        }
    }
}

static OBSERVERS: RwLock<Vec<Arc<dyn Observer>>> = RwLock::new(Vec::new());

/// Installs `observer` for the whole process: every server bound, proxy made and pool built
/// from now on is watched by it (ones made before are not).
pub fn install(observer: Arc<dyn Observer>) {
    OBSERVERS
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .push(observer);
}

/// Removes every installed observer (tests, and programs that turn observation off).
pub fn uninstall_all() {
    OBSERVERS.write().unwrap_or_else(|p| p.into_inner()).clear();
}

/// `target`, served at `site`, as the installed observers watch it (the first installed
/// outermost), over the server-side deadline: a call whose caller's deadline has passed stops
/// (inside the observers, so they see the timeout).
pub fn observe_dispatch(site: CallSite, target: Arc<dyn Dispatch>) -> Arc<dyn Dispatch> {
    watched_dispatch(site, target.clone()).unwrap_or_else(|| Arc::new(Deadline(target)))
}

/// [`observe_dispatch`]'s object when an observer is installed; `None` when none is (the
/// object is then only bounded by the deadline).
fn watched_dispatch(site: CallSite, target: Arc<dyn Dispatch>) -> Option<Arc<dyn Dispatch>> {
    let list = OBSERVERS.read().unwrap_or_else(|p| p.into_inner());
    if list.is_empty() {
        return None;
    }
    let mut object: Arc<dyn Dispatch> = Arc::new(Deadline(target));
    let site = Arc::new(site);
    for o in list.iter().rev() {
        object = o.observe_dispatch(&site, object);
    }
    Some(object)
}

/// `client`, calling out at `site`, as the installed observers watch it (the first installed
/// outermost); `client` itself when none is installed.
pub fn observe_invoker(site: CallSite, client: Arc<dyn Invoker>) -> Arc<dyn Invoker> {
    let list = OBSERVERS.read().unwrap_or_else(|p| p.into_inner());
    if list.is_empty() {
        return client;
    }
    let site = Arc::new(site);
    let mut client = client;
    for o in list.iter().rev() {
        client = o.observe_invoker(&site, client);
    }
    client
}

/// A protocol whose servers and clients are watched by the installed observers (what a
/// [`ProtocolSet`](crate::ProtocolSet) hands out).
pub struct Observed(pub Arc<dyn Protocol>);

impl Observed {
    /// `p` wrapped (once: an already wrapped protocol is returned as it is).
    pub fn wrap(p: Arc<dyn Protocol>) -> Arc<dyn Protocol> {
        if p.is_observed() {
            p
        } else {
            Arc::new(Observed(p))
        }
    }
}

impl Protocol for Observed {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn server_key(&self) -> &'static str {
        self.0.server_key()
    }
    fn server_option_names(&self) -> &[&'static str] {
        self.0.server_option_names()
    }
    fn exporter_option_names(&self) -> &[&'static str] {
        self.0.exporter_option_names()
    }
    fn client_option_names(&self) -> &[&'static str] {
        self.0.client_option_names()
    }
    fn check_server_options(&self, options: &WireOptions) -> Result<(), TransportError> {
        self.0.check_server_options(options)
    }
    fn directory_of(&self, options: &ServerOptions) -> Result<Option<String>, TransportError> {
        self.0.directory_of(options)
    }
    fn shell(&self) -> &dyn Shell {
        self.0.shell()
    }
    fn families(&self) -> &[ClassFamily] {
        self.0.families()
    }
    fn url_prefixes(&self) -> &[&'static str] {
        self.0.url_prefixes()
    }
    fn claims(&self, url: &str) -> bool {
        self.0.claims(url)
    }
    fn object_url(&self, server_uri: &str, name: &str) -> String {
        self.0.object_url(server_uri, name)
    }
    fn is_observed(&self) -> bool {
        true
    }

    fn bind(
        &self,
        host: &str,
        addr: SocketAddr,
        options: &ServerOptions,
    ) -> Result<Arc<dyn ExportServer>, TransportError> {
        let inner = self.0.bind(host, addr, options)?;
        Ok(Arc::new(ObservedServer {
            system: self.0.name(),
            inner,
        }))
    }

    fn bind_unix(
        &self,
        path: &std::path::Path,
        options: &ServerOptions,
    ) -> Result<Arc<dyn ExportServer>, TransportError> {
        let inner = self.0.bind_unix(path, options)?;
        Ok(Arc::new(ObservedServer {
            system: self.0.name(),
            inner,
        }))
    }

    fn proxy(
        &self,
        url: &str,
        options: &ClientOptions,
    ) -> Result<Arc<dyn Invoker>, TransportError> {
        let inner = self.0.proxy(url, options)?;
        Ok(observe_invoker(CallSite::client(self.0.name(), url), inner))
    }
}

/// A server whose objects are registered behind the observers and the deadline.
struct ObservedServer {
    system: &'static str,
    inner: Arc<dyn ExportServer>,
}

impl ExportServer for ObservedServer {
    fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr()
    }

    fn register(&self, name: &str, target: Arc<dyn Dispatch>) -> Result<String, TransportError> {
        let registered = Arc::new(Registered {
            observed: OnceLock::new(),
            target,
        });
        let url = self.inner.register(name, registered.clone())?;
        // The object as its clients name it: read off the URL it is reached at (an XML-RPC
        // object is its path), so a client's span and the server's say the same service.
        let mut site = CallSite::client(self.system, &url);
        if site.service.is_empty() {
            site.service = name.to_string();
        }
        let site = CallSite {
            side: Side::Server,
            ..CallSite::server(self.system, &site.service, self.local_addr())
        };
        let _ = registered
            .observed
            .set(watched_dispatch(site, registered.target.clone()));
        Ok(url)
    }

    fn unregister(&self, name: &str) {
        self.inner.unregister(name)
    }

    fn shutdown(&self) -> BoxFuture<'static, ()> {
        self.inner.shutdown()
    }
}

/// An object as a server registered it: its observed form is known only once the server has
/// said where the object is reached (its site), so the calls of that moment see the object
/// bounded by the deadline and nothing else. Unobserved (`None` once known), it stays so, and
/// its calls are bounded here rather than through a [`Deadline`] of their own (one hop and one
/// move of the call fewer on every call of a server nobody observes).
struct Registered {
    observed: OnceLock<Option<Arc<dyn Dispatch>>>,
    target: Arc<dyn Dispatch>,
}

impl Registered {
    fn watched(&self) -> Option<&dyn Dispatch> {
        self.observed.get().and_then(|o| o.as_deref())
    }
}

impl Dispatch for Registered {
    fn methods(&self) -> &[MethodInfo] {
        self.target.methods()
    }
    fn attrs(&self) -> &[AttrInfo] {
        self.target.attrs()
    }
    fn method(&self, name: &str) -> Option<&MethodInfo> {
        self.target.method(name)
    }
    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        match self.watched() {
            Some(o) => o.dispatch(call),
            None => bounded_dispatch(&*self.target, call),
        }
    }
    fn dispatch_reply(&self, call: Call) -> BoxFuture<'_, Result<Reply, RemoteError>> {
        match self.watched() {
            Some(o) => o.dispatch_reply(call),
            None => bounded_reply(&*self.target, call),
        }
    }
}

/// Runs `fut` until `deadline`: past it, the work is dropped and the answer is a timeout.
async fn until_deadline<T>(
    deadline: std::time::Instant,
    fut: impl std::future::Future<Output = Result<T, RemoteError>>,
) -> Result<T, RemoteError> {
    tokio::time::timeout_at(deadline.into(), fut)
        .await
        .unwrap_or_else(|_| {
            Err(RemoteError::timeout(
                "the caller's deadline passed before the call completed",
            ))
        })
}

/// An object bounded by each call's deadline, when the call has one (a call without one is
/// the object's own, with no future added).
struct Deadline(Arc<dyn Dispatch>);

impl Dispatch for Deadline {
    fn methods(&self) -> &[MethodInfo] {
        self.0.methods()
    }
    fn attrs(&self) -> &[AttrInfo] {
        self.0.attrs()
    }
    fn method(&self, name: &str) -> Option<&MethodInfo> {
        self.0.method(name)
    }
    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        bounded_dispatch(&*self.0, call)
    }
    fn dispatch_reply(&self, call: Call) -> BoxFuture<'_, Result<Reply, RemoteError>> {
        bounded_reply(&*self.0, call)
    }
}

/// `target`'s dispatch of `call`, bounded by the call's deadline when it has one.
fn bounded_dispatch(
    target: &dyn Dispatch,
    call: Call,
) -> BoxFuture<'_, Result<Value, RemoteError>> {
    match call.context.deadline {
        None => target.dispatch(call),
        Some(d) => Box::pin(until_deadline(d, target.dispatch(call))),
    }
}

/// `target`'s `dispatch_reply` of `call`, bounded by the call's deadline when it has one.
fn bounded_reply(target: &dyn Dispatch, call: Call) -> BoxFuture<'_, Result<Reply, RemoteError>> {
    match call.context.deadline {
        None => target.dispatch_reply(call),
        Some(d) => Box::pin(until_deadline(d, target.dispatch_reply(call))),
    }
}

/// An object behind an observer's interceptors (what [`Observer::observe_dispatch`] makes by
/// default): a streamed reply stays streamed, and the interceptors see the call that opened
/// it.
struct ChainDispatch {
    chain: crate::Chain,
    target: Arc<dyn Dispatch>,
}

/// The end of an observer's chain: the object, with a streamed reply kept aside.
struct KeepStream<'a> {
    target: &'a dyn Dispatch,
    stream: &'a Mutex<Option<ValueStream>>,
}

impl crate::interceptor::RunEnd for KeepStream<'_> {
    fn run(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        // The object's call is started here, so the box holds only its future and not the
        // call as well (moving a large future into its box costs per call).
        let reply = self.target.dispatch_reply(call);
        Box::pin(async move {
            match reply.await? {
                Reply::Value(v) => Ok(v),
                Reply::Stream(s) => {
                    *self.stream.lock().unwrap_or_else(|p| p.into_inner()) = Some(s);
                    Ok(Value::None)
                }
            }
        })
    }
}

/// The end of an observer's chain for a plain dispatch: the object.
struct Plain<'a>(&'a dyn Dispatch);

impl crate::interceptor::RunEnd for Plain<'_> {
    fn run(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        self.0.dispatch(call)
    }
}

impl Dispatch for ChainDispatch {
    fn methods(&self) -> &[MethodInfo] {
        self.target.methods()
    }

    fn attrs(&self) -> &[AttrInfo] {
        self.target.attrs()
    }

    fn method(&self, name: &str) -> Option<&MethodInfo> {
        self.target.method(name)
    }

    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(async move {
            let end = Plain(&*self.target);
            crate::interceptor::run_with(&self.chain, &end, call).await
        })
    }

    fn dispatch_reply(&self, call: Call) -> BoxFuture<'_, Result<Reply, RemoteError>> {
        Box::pin(async move {
            let stream = Mutex::new(None);
            let keep = KeepStream {
                target: &*self.target,
                stream: &stream,
            };
            let v = crate::interceptor::run_with(&self.chain, &keep, call).await?;
            match stream.into_inner().unwrap_or_else(|p| p.into_inner()) {
                Some(s) => Ok(Reply::Stream(s)),
                None => Ok(Reply::Value(v)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    /// Answers nothing, ever; notes when its call's future is dropped.
    struct Forever(Arc<AtomicBool>);

    struct Dropped(Arc<AtomicBool>);

    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    impl Dispatch for Forever {
        fn methods(&self) -> &[MethodInfo] {
            &[]
        }
        fn dispatch(&self, _: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
            let dropped = Dropped(self.0.clone());
            Box::pin(async move {
                let _dropped = dropped;
                std::future::pending().await
            })
        }
    }

    /// A registered object nobody observes is still bounded by its caller's deadline, before
    /// the server has said where it is and after: the call ends with a timeout and the
    /// object's work is dropped, not left running for no one.
    #[tokio::test]
    async fn an_unobserved_object_stops_at_the_callers_deadline() {
        for known in [false, true] {
            let dropped = Arc::new(AtomicBool::new(false));
            let registered = Registered {
                observed: OnceLock::new(),
                target: Arc::new(Forever(dropped.clone())),
            };
            if known {
                let _ = registered.observed.set(None);
            }
            let call = Call::new("slow", vec![]).context(
                tether_core::CallContext::new()
                    .with_deadline(Instant::now() + Duration::from_millis(50)),
            );
            let answer =
                tokio::time::timeout(Duration::from_secs(10), registered.dispatch_reply(call))
                    .await
                    .expect("the deadline ends the call");
            let Err(e) = answer else {
                panic!("a timeout, not a value");
            };
            assert_eq!(e.kind(), tether_core::ErrorKind::Timeout, "{e}");
            assert!(
                dropped.load(Ordering::SeqCst),
                "the object's work was dropped"
            );
        }
    }

    #[test]
    fn client_sites_read_every_url_form() {
        let s = CallSite::client("pyro5", "PYRO:echo@127.0.0.1:9999");
        assert_eq!(
            (s.service.as_str(), s.host.as_deref(), s.port),
            ("echo", Some("127.0.0.1"), Some(9999))
        );
        let s = CallSite::client("hessian", "https://svc.example:8443/api/echo?x=1");
        assert_eq!(
            (s.service.as_str(), s.host.as_deref(), s.port),
            ("api/echo?x=1", Some("svc.example"), Some(8443))
        );
        let s = CallSite::client("pyro3", "PYROLOC://[::1]:7766/svc");
        assert_eq!(
            (s.service.as_str(), s.host.as_deref(), s.port),
            ("svc", Some("::1"), Some(7766))
        );
        let s = CallSite::client("pyro5", "PYRONAME:thing");
        assert_eq!((s.service.as_str(), s.host, s.port), ("thing", None, None));
    }
}
