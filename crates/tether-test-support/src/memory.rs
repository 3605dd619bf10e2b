//! An in-process protocol for tests (no sockets), registered the way a real wire is. Calls go
//! straight to the registered dispatcher; it behaves like a wire where the container can see
//! it: an address in use is an error, a proxy does nothing until its first call, an unknown
//! name is a `NamingError`.
//!
//! Two shapes: [`MemoryProtocol::posing_as_pyro`] takes the Pyro class names and URLs (so
//! Spring Python's fixtures run without sockets on their fixed ports), and
//! [`MemoryProtocol::own`] is a protocol of its own (`tether.memory.*`, `mem://host:port/name`).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tether_core::{BoxFuture, Call, Dispatch, Invoker, RemoteError, Value};
use tether_pyro::seam as pyro5;
use tether_remoting::{
    ClassFamily, ClientOptions, ExportServer, Protocol, ServerOptions, TransportError,
    TransportErrorKind,
};

type Objects = Arc<Mutex<HashMap<String, Arc<dyn Dispatch>>>>;

#[derive(Default)]
struct Shared {
    servers: Mutex<HashMap<SocketAddr, Objects>>,
    next_port: AtomicU16,
    connects: AtomicUsize,
    binds: AtomicUsize,
    last_options: Mutex<Option<ServerOptions>>,
}

/// The family of the protocol of its own.
pub const MEMORY: ClassFamily = ClassFamily::plain(
    "tether.memory.ServiceExporter",
    "tether.memory.ProxyFactory",
    "Memory",
);

const PYRO_FAMILIES: [ClassFamily; 3] =
    [pyro5::SPRING_PYRO, pyro5::SPRING_PYRO4, pyro5::TETHER_PYRO];

/// An in-process protocol; clones share one "network".
#[derive(Clone)]
pub struct MemoryProtocol {
    shared: Arc<Shared>,
    pyro: bool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl MemoryProtocol {
    /// Takes the Pyro class names and URLs.
    pub fn posing_as_pyro() -> Self {
        MemoryProtocol {
            shared: Arc::default(),
            pyro: true,
        }
    }

    /// A protocol of its own: `tether.memory.*`, `mem://host:port/name`.
    pub fn own() -> Self {
        MemoryProtocol {
            shared: Arc::default(),
            pyro: false,
        }
    }

    /// How many first calls (connections) proxies have made.
    pub fn connects(&self) -> usize {
        self.shared.connects.load(Ordering::SeqCst)
    }

    /// How many servers were bound.
    pub fn binds(&self) -> usize {
        self.shared.binds.load(Ordering::SeqCst)
    }

    /// The options of the last bind.
    pub fn last_options(&self) -> Option<ServerOptions> {
        lock(&self.shared.last_options).clone()
    }

    /// The addresses of running servers.
    pub fn running(&self) -> Vec<SocketAddr> {
        let mut v: Vec<SocketAddr> = lock(&self.shared.servers).keys().copied().collect();
        v.sort();
        v
    }

    /// Marks `addr` as in use (as if another process had bound it).
    pub fn occupy(&self, addr: SocketAddr) {
        lock(&self.shared.servers).insert(addr, Objects::default());
    }

    fn parse(&self, url: &str) -> Result<(String, String, u16), TransportError> {
        let bad = |m: String| TransportError::new(TransportErrorKind::BadUrl, m);
        if self.pyro {
            let u = tether_pyro::uri::PyroUri::parse(url).map_err(|e| bad(e.to_string()))?;
            let (name, loc) = u.direct().map_err(|e| bad(e.to_string()))?;
            match loc {
                tether_pyro::uri::Location::Tcp { host, port } => {
                    Ok((name.to_string(), host.clone(), *port))
                }
                other => Err(bad(format!("no unix sockets in memory: {other}"))),
            }
        } else {
            let rest = url
                .strip_prefix("mem://")
                .ok_or_else(|| bad(format!("{url:?} is not mem://host:port/name")))?;
            let (hp, name) = rest
                .split_once('/')
                .ok_or_else(|| bad(format!("{url:?} has no /name")))?;
            let (h, p) = hp
                .rsplit_once(':')
                .ok_or_else(|| bad(format!("{url:?} has no port")))?;
            let port = p.parse().map_err(|_| bad(format!("{url:?}: bad port")))?;
            Ok((name.to_string(), h.to_string(), port))
        }
    }
}

struct MemServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    objects: Objects,
    pyro: bool,
}

impl ExportServer for MemServer {
    fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    fn register(&self, name: &str, target: Arc<dyn Dispatch>) -> Result<String, TransportError> {
        lock(&self.objects).insert(name.to_string(), target);
        let (ip, port) = (self.addr.ip(), self.addr.port());
        Ok(if self.pyro {
            format!("PYRO:{name}@{ip}:{port}")
        } else {
            format!("mem://{ip}:{port}/{name}")
        })
    }

    fn unregister(&self, name: &str) {
        lock(&self.objects).remove(name);
    }

    fn shutdown(&self) -> BoxFuture<'static, ()> {
        lock(&self.shared.servers).remove(&self.addr);
        Box::pin(async {})
    }
}

impl Protocol for MemoryProtocol {
    fn name(&self) -> &'static str {
        if self.pyro {
            "pyro5"
        } else {
            "memory"
        }
    }

    fn families(&self) -> &[ClassFamily] {
        if self.pyro {
            &PYRO_FAMILIES
        } else {
            std::slice::from_ref(&MEMORY)
        }
    }

    fn url_prefixes(&self) -> &[&'static str] {
        if self.pyro {
            &["PYRO:", "PYROLOC://"]
        } else {
            &["mem://"]
        }
    }

    fn bind(
        &self,
        _host: &str,
        mut addr: SocketAddr,
        options: &ServerOptions,
    ) -> Result<Arc<dyn ExportServer>, TransportError> {
        let mut servers = lock(&self.shared.servers);
        if addr.port() == 0 {
            let n = self.shared.next_port.fetch_add(1, Ordering::SeqCst);
            addr.set_port(40000u16.wrapping_add(n));
        }
        if servers.contains_key(&addr) {
            return Err(TransportError::new(
                TransportErrorKind::Bind,
                format!("Address already in use ({addr})"),
            ));
        }
        let objects = Objects::default();
        servers.insert(addr, objects.clone());
        self.shared.binds.fetch_add(1, Ordering::SeqCst);
        *lock(&self.shared.last_options) = Some(options.clone());
        Ok(Arc::new(MemServer {
            shared: self.shared.clone(),
            addr,
            objects,
            pyro: self.pyro,
        }))
    }

    fn proxy(
        &self,
        url: &str,
        _options: &ClientOptions,
    ) -> Result<Arc<dyn Invoker>, TransportError> {
        let (name, host, port) = self.parse(url)?;
        Ok(Arc::new(MemInvoker {
            shared: self.shared.clone(),
            host,
            port,
            name,
            connected: AtomicBool::new(false),
        }))
    }
}

struct MemInvoker {
    shared: Arc<Shared>,
    host: String,
    port: u16,
    name: String,
    connected: AtomicBool,
}

impl Invoker for MemInvoker {
    fn invoke(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(async move {
            if !self.connected.swap(true, Ordering::SeqCst) {
                self.shared.connects.fetch_add(1, Ordering::SeqCst);
            }
            let ip: IpAddr = if self.host == "localhost" {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            } else {
                self.host.parse().map_err(|_| {
                    RemoteError::connection(format!("cannot resolve {}", self.host)).not_sent()
                })?
            };
            let addr = SocketAddr::new(ip, self.port);
            let objects = lock(&self.shared.servers)
                .get(&addr)
                .cloned()
                .ok_or_else(|| {
                    RemoteError::connection(format!("connection refused: {addr}")).not_sent()
                })?;
            let target = lock(&objects).get(&self.name).cloned().ok_or_else(|| {
                RemoteError::exception(
                    "Pyro5.errors.NamingError",
                    format!("unknown object: {}", self.name),
                )
            })?;
            target.dispatch(call).await
        })
    }
}
