//! [`Transport`]: the seam between the container and a wire protocol's server and client.

use std::net::SocketAddr;
use std::sync::Arc;
use tether_core::{BoxFuture, Dispatch, Invoker};

/// A wire protocol as the container sees it: bind a server, or make a lazy client for a URL.
pub trait Transport: Send + Sync + 'static {
    /// A short protocol name ("pyro"); servers are shared per (protocol, address).
    fn protocol(&self) -> &'static str;

    /// Binds a server at `addr` now (an address in use is an error; no port scanning) and
    /// starts serving in the background. Needs a tokio runtime for network transports.
    fn bind(&self, addr: SocketAddr) -> Result<Arc<dyn ExportServer>, String>;

    /// A client for `url` that connects on its first call (no network here).
    fn proxy(&self, url: &str) -> Result<Arc<dyn Invoker>, String>;
}

/// One running server holding named objects.
pub trait ExportServer: Send + Sync + 'static {
    /// The bound address (the real port when 0 was asked for).
    fn local_addr(&self) -> SocketAddr;

    /// Registers `target` under `name`; returns its URI (`PYRO:name@host:port`).
    fn register(&self, name: &str, target: Arc<dyn Dispatch>) -> Result<String, String>;

    /// Removes `name` (unknown names are ignored).
    fn unregister(&self, name: &str);

    /// Stops accepting, lets in-flight calls finish, then closes.
    fn shutdown(&self) -> BoxFuture<'static, ()>;
}

/// The transports the built-in classes use.
#[derive(Clone)]
pub struct Transports {
    /// Serves and reaches every Pyro class name (Pyro5 wire).
    pub pyro: Arc<dyn Transport>,
}

impl Default for Transports {
    fn default() -> Self {
        Transports {
            pyro: Arc::new(super::PyroTransport::default()),
        }
    }
}

impl std::fmt::Debug for Transports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transports")
            .field("pyro", &self.pyro.protocol())
            .finish()
    }
}
