//! Observers: what the process watches every call with (spans, metrics), applied at the seam
//! so that every wire, every exporter, every proxy and every pool gets them without knowing.
//!
//! A [`ProtocolSet`](crate::ProtocolSet) hands out each protocol wrapped in [`Observed`]: a
//! server it binds wraps each object it registers, a client it makes is wrapped too, each in
//! the interceptors the [installed](install) observers give for that [`CallSite`]. Pools ask
//! for theirs with [`CallSite::pool`]. Nothing is installed by default, and then nothing wraps
//! anything but the server-side deadline: a call whose caller's deadline has passed stops
//! (the caller gets a timeout error) instead of running on for no one.

use crate::error::TransportError;
use crate::interceptor::Interceptor;
use crate::options::{ClientOptions, ServerOptions, WireOptions};
use crate::protocol::{ClassFamily, ExportServer, Protocol};
use crate::shell::Shell;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
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

/// Something that watches calls: for each site, the interceptor it puts around its calls.
pub trait Observer: Send + Sync + 'static {
    /// The interceptor for calls at `site`, or `None` to leave them alone.
    fn interceptor(&self, site: &Arc<CallSite>) -> Option<Arc<dyn Interceptor>>;
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

/// The interceptors the installed observers put around calls at `site`, outermost first.
pub fn interceptors(site: CallSite) -> Vec<Arc<dyn Interceptor>> {
    let list = OBSERVERS.read().unwrap_or_else(|p| p.into_inner());
    if list.is_empty() {
        return Vec::new();
    }
    let site = Arc::new(site);
    list.iter().filter_map(|o| o.interceptor(&site)).collect()
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
        let chain = interceptors(CallSite::client(self.0.name(), url));
        Ok(crate::Intercepted::wrap(&chain, inner))
    }
}

/// A server whose objects are registered behind the observers' interceptors and the
/// deadline.
struct ObservedServer {
    system: &'static str,
    inner: Arc<dyn ExportServer>,
}

impl ExportServer for ObservedServer {
    fn local_addr(&self) -> SocketAddr {
        self.inner.local_addr()
    }

    fn register(&self, name: &str, target: Arc<dyn Dispatch>) -> Result<String, TransportError> {
        let observed = Arc::new(ObservedDispatch {
            chain: std::sync::OnceLock::new(),
            target,
        });
        let url = self.inner.register(name, observed.clone())?;
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
        let _ = observed.chain.set(interceptors(site).into());
        Ok(url)
    }

    fn unregister(&self, name: &str) {
        self.inner.unregister(name)
    }

    fn shutdown(&self) -> BoxFuture<'static, ()> {
        self.inner.shutdown()
    }
}

/// An object behind observers: streamed replies stay streamed (the interceptors see the call
/// that opened the stream), and a call past its deadline stops.
pub struct ObservedDispatch {
    /// Set once the object is registered (calls before that see no interceptor).
    chain: std::sync::OnceLock<crate::Chain>,
    target: Arc<dyn Dispatch>,
}

impl ObservedDispatch {
    /// `target` behind `chain` (the deadline is kept even with an empty chain).
    pub fn new(chain: Vec<Arc<dyn Interceptor>>, target: Arc<dyn Dispatch>) -> Self {
        ObservedDispatch {
            chain: std::sync::OnceLock::from(crate::Chain::from(chain)),
            target,
        }
    }

    fn chain(&self) -> &[Arc<dyn Interceptor>] {
        self.chain.get().map(|c| &c[..]).unwrap_or(&[])
    }
}

/// Runs `fut` until `deadline` if there is one: past it, the work is dropped and the answer
/// is a timeout.
async fn until_deadline<T>(
    deadline: Option<std::time::Instant>,
    fut: impl std::future::Future<Output = Result<T, RemoteError>>,
) -> Result<T, RemoteError> {
    match deadline {
        None => fut.await,
        Some(d) => tokio::time::timeout_at(d.into(), fut)
            .await
            .unwrap_or_else(|_| {
                Err(RemoteError::timeout(
                    "the caller's deadline passed before the call completed",
                ))
            }),
    }
}

/// The end of a server chain: the object itself, bounded by the call's deadline (inside the
/// chain, so an observer records the timeout), with a streamed reply kept aside.
struct KeepStream<'a> {
    target: &'a dyn Dispatch,
    stream: &'a Mutex<Option<ValueStream>>,
}

impl crate::interceptor::RunEnd for KeepStream<'_> {
    fn run(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        // The object's call is started here, so the box holds only its future and not the
        // call as well (moving a large future into its box costs per call).
        let deadline = call.context.deadline;
        let reply = self.target.dispatch_reply(call);
        Box::pin(async move {
            match until_deadline(deadline, reply).await? {
                Reply::Value(v) => Ok(v),
                Reply::Stream(s) => {
                    *self.stream.lock().unwrap_or_else(|p| p.into_inner()) = Some(s);
                    Ok(Value::None)
                }
            }
        })
    }
}

/// The end of a server chain for a plain dispatch: the object, bounded by the deadline.
struct Bounded<'a>(&'a dyn Dispatch);

impl crate::interceptor::RunEnd for Bounded<'_> {
    fn run(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        let deadline = call.context.deadline;
        Box::pin(until_deadline(deadline, self.0.dispatch(call)))
    }
}

impl Dispatch for ObservedDispatch {
    fn methods(&self) -> &[MethodInfo] {
        self.target.methods()
    }

    fn attrs(&self) -> &[AttrInfo] {
        self.target.attrs()
    }

    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        if self.chain().is_empty() {
            return Bounded(&*self.target).run_owned(call);
        }
        Box::pin(async move {
            let end = Bounded(&*self.target);
            crate::interceptor::run_with(self.chain(), &end, call).await
        })
    }

    fn dispatch_reply(&self, call: Call) -> BoxFuture<'_, Result<Reply, RemoteError>> {
        if self.chain().is_empty() {
            let deadline = call.context.deadline;
            return Box::pin(until_deadline(deadline, self.target.dispatch_reply(call)));
        }
        Box::pin(async move {
            let stream = Mutex::new(None);
            let keep = KeepStream {
                target: &*self.target,
                stream: &stream,
            };
            let v = crate::interceptor::run_with(self.chain(), &keep, call).await?;
            match stream.into_inner().unwrap_or_else(|p| p.into_inner()) {
                Some(s) => Ok(Reply::Stream(s)),
                None => Ok(Reply::Value(v)),
            }
        })
    }
}

impl<'a> Bounded<'a> {
    fn run_owned(self, call: Call) -> BoxFuture<'a, Result<Value, RemoteError>> {
        let deadline = call.context.deadline;
        Box::pin(until_deadline(deadline, self.0.dispatch(call)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
