//! Binding a TCP listener the way every tether server does: resolve the host, prefer IPv4 for
//! names like `localhost` (as Python's Pyro does), try each address, and name the host, port
//! and last error when none binds.

use crate::RemoteError;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// Binds `host:port` (`[v6]` brackets allowed) now, so bind errors surface at the caller.
pub async fn bind_tcp(host: &str, port: u16) -> Result<TcpListener, RemoteError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let mut addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
        .await
        .map_err(|e| RemoteError::config(format!("cannot resolve host {host:?}: {e}")))?
        .collect();
    addrs.sort_by_key(|a| !a.is_ipv4());
    let mut last_err = None;
    for addr in addrs {
        match TcpListener::bind(addr).await {
            Ok(l) => return Ok(l),
            Err(e) => last_err = Some(e),
        }
    }
    Err(RemoteError::connection(format!(
        "cannot bind {host}:{port}: {}",
        last_err.map_or_else(|| "no address".to_string(), |e| e.to_string())
    )))
}
