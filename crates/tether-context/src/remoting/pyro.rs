//! [`PyroTransport`]: the Pyro5 wire (`tether_pyro::Daemon` and `tether_pyro::Proxy`) behind
//! [`Transport`].
//!
//! `Daemon::bind` is async while lifecycle hooks are not; the bind runs on a short-lived helper
//! thread through the current runtime's handle, so it works on multi-thread and current-thread
//! runtimes alike and the accept loop is spawned onto the caller's runtime.

use super::transport::{ExportServer, Transport};
use std::net::SocketAddr;
use std::sync::Arc;
use tether_core::{BoxFuture, Dispatch, Invoker};
use tether_pyro::{Daemon, DaemonConfig, Proxy};

/// Serves and reaches every Pyro class name over the Pyro5 wire.
#[derive(Clone, Debug, Default)]
pub struct PyroTransport {
    /// Settings for new daemons (host and port are overwritten per bind).
    pub config: Option<DaemonConfig>,
}

struct PyroServer {
    daemon: Daemon,
    addr: SocketAddr,
}

impl ExportServer for PyroServer {
    fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    fn register(&self, name: &str, target: Arc<dyn Dispatch>) -> Result<String, String> {
        self.daemon
            .register(name, target)
            .map_err(|e| e.to_string())
    }

    fn unregister(&self, name: &str) {
        self.daemon.unregister(name);
    }

    fn shutdown(&self) -> BoxFuture<'static, ()> {
        let d = self.daemon.clone();
        let addr = self.addr;
        Box::pin(async move {
            d.shutdown().await;
            // `Daemon::shutdown` can return before its accept task has dropped the listener;
            // wait (bounded, 2 s) until the port can be bound again, so that "closed" means
            // the address is free for a restart.
            for _ in 0..200 {
                if std::net::TcpListener::bind(addr).is_ok() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        })
    }
}

impl Transport for PyroTransport {
    fn protocol(&self) -> &'static str {
        "pyro"
    }

    fn bind(&self, addr: SocketAddr) -> Result<Arc<dyn ExportServer>, String> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| {
            "exporters need a tokio runtime: start the context from async code (or use tether's blocking facade)".to_string()
        })?;
        let config = DaemonConfig {
            host: addr.ip().to_string(),
            port: addr.port(),
            ..self.config.clone().unwrap_or_default()
        };
        let daemon = std::thread::scope(|s| {
            s.spawn(|| handle.block_on(Daemon::bind(config)))
                .join()
                .map_err(|_| "the bind helper thread panicked".to_string())
        })?
        .map_err(|e| e.message().to_string())?;
        let addr = daemon.local_addr().unwrap_or(addr);
        Ok(Arc::new(PyroServer { daemon, addr }))
    }

    fn proxy(&self, url: &str) -> Result<Arc<dyn Invoker>, String> {
        let p = Proxy::new(url).map_err(|e| e.message().to_string())?;
        Ok(Arc::new(p))
    }
}
