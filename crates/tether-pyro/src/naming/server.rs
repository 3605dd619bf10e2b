//! Starting a name server: a daemon holding [`NameServer`] as `Pyro.NameServer` (answering
//! Pyro4 and Pyro5 clients alike), and the broadcast responder.

use super::{broadcast::Responder, NameServer, Store, NAME_SERVER_ID};
use crate::naming::NS_PORT;
use crate::{Daemon, DaemonConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tether_core::RemoteError;

/// How to run a name server. Defaults: `localhost:9090`, in-memory storage, the broadcast
/// responder on port 9091.
#[derive(Clone, Debug)]
pub struct NameServerConfig {
    /// Host to bind and advertise. Default `"localhost"`.
    pub host: String,
    /// TCP port. Default 9090 (0 picks a free one).
    pub port: u16,
    /// An SQLite file to keep registrations in across restarts. Default `None` (memory).
    pub storage: Option<PathBuf>,
    /// UDP port of the broadcast responder; `None` turns it off. Default `Some(9091)`.
    pub broadcast_port: Option<u16>,
    /// Address the responder binds. Default `None`: the name server's host (use `0.0.0.0`
    /// to hear real broadcasts on every interface).
    pub broadcast_host: Option<String>,
    /// A Unix domain socket to serve on instead of TCP (`host` and `port` are then unused,
    /// and no broadcast responder runs, as with Pyro's `-u`). Default `None`.
    pub unixsocket: Option<PathBuf>,
    /// Everything else about the daemon (limits, TLS, HMAC key). Host and port are set from
    /// the fields above.
    pub daemon: DaemonConfig,
}

impl Default for NameServerConfig {
    fn default() -> Self {
        NameServerConfig {
            host: "localhost".into(),
            port: NS_PORT,
            storage: None,
            broadcast_port: Some(super::broadcast::BC_PORT),
            broadcast_host: None,
            unixsocket: None,
            daemon: DaemonConfig::default(),
        }
    }
}

/// A running name server.
#[derive(Debug)]
pub struct NameServerHandle {
    daemon: Daemon,
    uri: String,
    ns: NameServer,
    responder: Option<Responder>,
}

impl NameServerHandle {
    /// Binds and starts serving.
    pub async fn start(config: NameServerConfig) -> Result<NameServerHandle, RemoteError> {
        let store = match &config.storage {
            Some(path) => Store::open(path)?,
            None => Store::memory(),
        };
        let advertised_host = config.daemon.advertised_host.clone();
        let daemon = match &config.unixsocket {
            Some(path) => Daemon::bind_unix(path, config.daemon.clone()).await?,
            None => {
                Daemon::bind(DaemonConfig {
                    host: config.host.clone(),
                    port: config.port,
                    ..config.daemon.clone()
                })
                .await?
            }
        };
        let uri = daemon.uri_for(NAME_SERVER_ID);
        let ns = NameServer::new(store, &uri)?;
        // Behind the process's observers, as every exporter's object is (spans and call
        // metrics; its calls come over Pyro4 or Pyro5, which each call's context names).
        let object: Arc<dyn tether_core::Dispatch> = Arc::new(ns.clone());
        let object = match daemon.local_addr() {
            Some(addr) => tether_remoting::observe::observe_dispatch(
                tether_remoting::observe::CallSite::server("pyro5", NAME_SERVER_ID, addr),
                object,
            ),
            None => object,
        };
        daemon.register(NAME_SERVER_ID, object)?;
        let port = daemon.local_addr().map(|a| a.port()).unwrap_or(config.port);
        let responder = match config
            .broadcast_port
            .filter(|_| config.unixsocket.is_none())
        {
            None => None,
            Some(bc) => {
                let bc_host = config
                    .broadcast_host
                    .clone()
                    .unwrap_or_else(|| config.host.clone());
                let host = bc_host.trim_start_matches('[').trim_end_matches(']');
                let bind = tokio::net::lookup_host((host, bc))
                    .await
                    .ok()
                    .and_then(|mut a| a.find(SocketAddr::is_ipv4))
                    .ok_or_else(|| {
                        RemoteError::config(format!("cannot resolve broadcast host {bc_host:?}"))
                    })?;
                let advertised = advertised_host.clone().unwrap_or_else(|| {
                    daemon
                        .local_addr()
                        .map(|a| a.ip().to_string())
                        .unwrap_or_else(|| config.host.clone())
                });
                Some(
                    Responder::start(bind, advertised, port)
                        .await
                        .map_err(|e| {
                            RemoteError::connection(format!(
                                "cannot bind the broadcast responder on {bc_host}:{bc}: {e}"
                            ))
                        })?,
                )
            }
        };
        Ok(NameServerHandle {
            daemon,
            uri,
            ns,
            responder,
        })
    }

    /// The name server's URI (`PYRO:Pyro.NameServer@host:port`).
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The bound TCP address.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.daemon.local_addr()
    }

    /// The broadcast responder's UDP address, if it runs.
    pub fn broadcast_addr(&self) -> Option<SocketAddr> {
        self.responder.as_ref().map(Responder::local_addr)
    }

    /// The name server object (e.g. to list its registrations).
    pub fn name_server(&self) -> &NameServer {
        &self.ns
    }

    /// The daemon (e.g. to register more objects beside the name server).
    pub fn daemon(&self) -> &Daemon {
        &self.daemon
    }

    /// Stops the responder and shuts the daemon down.
    pub async fn shutdown(&self) {
        if let Some(r) = &self.responder {
            r.stop();
        }
        self.daemon.shutdown().await;
    }
}
