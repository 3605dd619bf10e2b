//! A Pyro name server of tether's own, which Python's Pyro5 and Pyro4 clients use unchanged
//! (`locate_ns`, `PYRONAME:`, `PYROMETA:`, the `nsc` operations):
//!
//! - `service.rs`: [`NameServer`], the `Pyro.NameServer` object and its API;
//! - `store.rs`: [`Store`], its registrations in memory or in an SQLite file;
//! - `broadcast.rs`: the UDP responder for `locate_ns()` discovery, and the client side of it;
//! - `server.rs`: [`NameServerHandle::start`], a daemon with both.

pub mod broadcast;
#[cfg(feature = "name-server")]
mod server;
#[cfg(feature = "name-server")]
mod service;
#[cfg(feature = "name-server")]
mod store;

#[cfg(feature = "name-server")]
pub use server::{NameServerConfig, NameServerHandle};
#[cfg(feature = "name-server")]
pub use service::NameServer;
#[cfg(feature = "name-server")]
pub use store::{Entry, Store};

/// The name server's port unless told otherwise (Pyro's 9090).
pub const NS_PORT: u16 = crate::uri::NS_PORT;
/// The name server's object id (`Pyro.NameServer`).
pub const NAME_SERVER_ID: &str = "Pyro.NameServer";

use crate::{Proxy, PyroUri};
use tether_core::RemoteError;

/// Finds a name server as Python's `locate_ns` does: at `host:port` when a host is given
/// (port default 9090); otherwise at `localhost:9090` (port: the given one), and failing that by
/// broadcast (`GET_NSURI` to port 9091 of the local network and of this host). The proxy has
/// `via`'s settings (serializer, wire, key, TLS, timeout), or the defaults.
pub async fn locate_ns(
    host: Option<&str>,
    port: Option<u16>,
    via: Option<&Proxy>,
) -> Result<Proxy, RemoteError> {
    let default;
    let via = match via {
        Some(v) => v,
        None => {
            default = Proxy::new(&format!("PYRO:{NAME_SERVER_ID}@localhost:{NS_PORT}"))?;
            &default
        }
    };
    let at = |h: &str, p: u16| {
        let loc = crate::uri::Location::Tcp {
            host: h.to_string(),
            port: p,
        };
        via.sibling(&format!("PYRO:{NAME_SERVER_ID}@{loc}"))
    };
    if let Some(h) = host {
        return at(h, port.unwrap_or(NS_PORT));
    }
    let local = at("localhost", port.unwrap_or(NS_PORT))?;
    let tried = tokio::time::timeout(std::time::Duration::from_secs(2), local.ping()).await;
    if matches!(tried, Ok(Ok(()))) {
        return Ok(local);
    }
    let bc = broadcast::BC_PORT;
    let targets = [
        std::net::SocketAddr::from(([255, 255, 255, 255], bc)),
        std::net::SocketAddr::from(([127, 0, 0, 1], bc)),
    ];
    let uri = broadcast::locate(&targets).await.ok_or_else(|| {
        RemoteError::connection(
            "failed to locate the name server (nothing at localhost:9090, no answer to broadcast on port 9091)",
        )
    })?;
    PyroUri::parse(&uri)?;
    via.sibling(&uri)
}
