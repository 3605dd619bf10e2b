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

pub use crate::uri::NsDefaults;

/// Finds a name server as Python's `locate_ns` does, with Pyro's configuration from the
/// environment ([`NsDefaults`]): at `host:port` when a host is given (port default
/// `NS_PORT`); otherwise at `NS_HOST` when that is this machine (port: the given one, else
/// `NS_PORT`), then by broadcast (`GET_NSURI` to `NS_BCPORT` of the local network and of this
/// host), then at `NS_HOST:NS_PORT` directly. The proxy has `via`'s settings (serializer, wire,
/// key, TLS, timeout), or the defaults.
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
    let defaults = NsDefaults::from_env();
    if let Some(h) = host {
        return at(h, port.unwrap_or(defaults.port));
    }
    let ping = |p: Proxy| async move {
        let tried = tokio::time::timeout(std::time::Duration::from_secs(2), p.ping()).await;
        matches!(tried, Ok(Ok(()))).then_some(p)
    };
    if defaults.local() {
        if let Some(p) = ping(at(&defaults.host, port.unwrap_or(defaults.port))?).await {
            return Ok(p);
        }
    }
    let bc = defaults.bcport;
    let targets = [
        std::net::SocketAddr::from(([255, 255, 255, 255], bc)),
        std::net::SocketAddr::from(([127, 0, 0, 1], bc)),
    ];
    if let Some(uri) = broadcast::locate(&targets).await {
        PyroUri::parse(&uri)?;
        return via.sibling(&uri);
    }
    if !defaults.local() {
        if let Some(p) = ping(at(&defaults.host, defaults.port)?).await {
            return Ok(p);
        }
    }
    Err(RemoteError::connection(format!(
        "failed to locate the name server (nothing at {}:{}, no answer to broadcast on port {bc})",
        defaults.host,
        port.unwrap_or(defaults.port)
    )))
}
