//! [`LoopbackTransport`]: an in-process [`Transport`] (no sockets). Calls go straight to the
//! registered dispatcher. It exists for tests and for trying a configuration without a
//! network; it behaves like a real wire where the container can see it: an address in use is
//! an error, a proxy does nothing until its first call, an unknown name is a `NamingError`.

use super::transport::{ExportServer, Transport};
use super::url::parse_pyro_url;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tether_core::{BoxFuture, Call, Dispatch, Invoker, RemoteError, Value};

type Objects = Arc<Mutex<HashMap<String, Arc<dyn Dispatch>>>>;

#[derive(Default)]
struct Shared {
    servers: Mutex<HashMap<SocketAddr, Objects>>,
    next_port: AtomicU16,
    connects: AtomicUsize,
    binds: AtomicUsize,
}

/// An in-process transport; clones share one "network".
#[derive(Clone, Default)]
pub struct LoopbackTransport {
    shared: Arc<Shared>,
}

impl LoopbackTransport {
    /// A new, empty in-process network.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many first calls (connections) proxies have made.
    pub fn connects(&self) -> usize {
        self.shared.connects.load(Ordering::SeqCst)
    }

    /// How many servers were bound.
    pub fn binds(&self) -> usize {
        self.shared.binds.load(Ordering::SeqCst)
    }

    /// The addresses of running servers.
    pub fn running(&self) -> Vec<SocketAddr> {
        let mut v: Vec<SocketAddr> = self
            .shared
            .servers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .copied()
            .collect();
        v.sort();
        v
    }

    /// Marks `addr` as in use (as if another process had bound it).
    pub fn occupy(&self, addr: SocketAddr) {
        self.shared
            .servers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(addr, Objects::default());
    }
}

struct LoopServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    objects: Objects,
}

impl ExportServer for LoopServer {
    fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    fn register(&self, name: &str, target: Arc<dyn Dispatch>) -> Result<String, String> {
        self.objects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), target);
        Ok(format!(
            "PYRO:{name}@{}:{}",
            self.addr.ip(),
            self.addr.port()
        ))
    }

    fn unregister(&self, name: &str) {
        self.objects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
    }

    fn shutdown(&self) -> BoxFuture<'static, ()> {
        self.shared
            .servers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.addr);
        Box::pin(async {})
    }
}

impl Transport for LoopbackTransport {
    fn protocol(&self) -> &'static str {
        "pyro"
    }

    fn bind(&self, mut addr: SocketAddr) -> Result<Arc<dyn ExportServer>, String> {
        let mut servers = self
            .shared
            .servers
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if addr.port() == 0 {
            let n = self.shared.next_port.fetch_add(1, Ordering::SeqCst);
            addr.set_port(40000u16.wrapping_add(n));
        }
        if servers.contains_key(&addr) {
            return Err(format!("Address already in use ({addr})"));
        }
        let objects = Objects::default();
        servers.insert(addr, objects.clone());
        self.shared.binds.fetch_add(1, Ordering::SeqCst);
        Ok(Arc::new(LoopServer {
            shared: self.shared.clone(),
            addr,
            objects,
        }))
    }

    fn proxy(&self, url: &str) -> Result<Arc<dyn Invoker>, String> {
        let u = parse_pyro_url(url)?;
        Ok(Arc::new(LoopInvoker {
            shared: self.shared.clone(),
            host: u.host,
            port: u.port,
            name: u.name,
            connected: std::sync::atomic::AtomicBool::new(false),
        }))
    }
}

struct LoopInvoker {
    shared: Arc<Shared>,
    host: String,
    port: u16,
    name: String,
    connected: std::sync::atomic::AtomicBool,
}

impl Invoker for LoopInvoker {
    fn invoke(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(async move {
            if !self.connected.swap(true, Ordering::SeqCst) {
                self.shared.connects.fetch_add(1, Ordering::SeqCst);
            }
            let ip: IpAddr = if self.host == "localhost" {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            } else {
                self.host
                    .parse()
                    .map_err(|_| RemoteError::connection(format!("cannot resolve {}", self.host)))?
            };
            let addr = SocketAddr::new(ip, self.port);
            let objects = self
                .shared
                .servers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&addr)
                .cloned()
                .ok_or_else(|| RemoteError::connection(format!("connection refused: {addr}")))?;
            let target = objects
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&self.name)
                .cloned()
                .ok_or_else(|| {
                    RemoteError::exception(
                        "Pyro5.errors.NamingError",
                        format!("unknown object: {}", self.name),
                    )
                })?;
            target.dispatch(call).await
        })
    }
}
