//! [`AdminServer`]: the process's admin endpoint over HTTP: `/metrics` (Prometheus text),
//! `/healthz` (200 while the process runs) and `/readyz` (200 when every exporter serves;
//! 503 while starting and while draining, before directory entries are removed), on its own
//! address, apart from the wires.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use tether_core::{BoxFuture, RemoteError};
use tether_http::{Handler, HttpConfig, HttpRequest, HttpResponse, HttpServer};

/// Where the process is in its life, as `/readyz` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Binding and starting exporters: not ready.
    Starting = 0,
    /// Every exporter serves: ready.
    Serving = 1,
    /// Shutting down (still answering calls in flight): not ready.
    Draining = 2,
}

/// The readiness a process reports: set by whoever runs the exporters (`tether run`, an
/// [`AdminServer`] object in a context, a program), read by `/readyz`.
#[derive(Clone, Default)]
pub struct Readiness {
    phase: Arc<AtomicU8>,
    probe: Option<Arc<dyn Fn() -> Phase + Send + Sync>>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Readiness").field(&self.phase()).finish()
    }
}

impl Readiness {
    /// Starting.
    pub fn new() -> Self {
        Self::default()
    }

    /// Readiness read from `probe` each time it is asked (a context's state), unless set to
    /// draining.
    pub fn from_probe(probe: impl Fn() -> Phase + Send + Sync + 'static) -> Self {
        Readiness {
            phase: Arc::default(),
            probe: Some(Arc::new(probe)),
        }
    }

    /// Sets the phase.
    pub fn set(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::SeqCst);
    }

    /// The phase now.
    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::SeqCst) {
            2 => Phase::Draining,
            1 => Phase::Serving,
            _ => match &self.probe {
                Some(p) => p(),
                None => Phase::Starting,
            },
        }
    }
}

struct Admin {
    readiness: Readiness,
}

impl Handler for Admin {
    fn handle(&self, req: HttpRequest) -> BoxFuture<'_, HttpResponse> {
        Box::pin(async move {
            if req.method != tether_http::Method::GET && req.method != tether_http::Method::HEAD {
                return HttpResponse::new(405, "text/plain; charset=utf-8", "use GET\n");
            }
            match req.path() {
                "/metrics" => HttpResponse::new(
                    200,
                    "text/plain; version=0.0.4; charset=utf-8",
                    crate::metrics::render(),
                ),
                "/healthz" | "/livez" => {
                    HttpResponse::new(200, "text/plain; charset=utf-8", "ok\n")
                }
                "/readyz" => match self.readiness.phase() {
                    Phase::Serving => {
                        HttpResponse::new(200, "text/plain; charset=utf-8", "ready\n")
                    }
                    Phase::Starting => {
                        HttpResponse::new(503, "text/plain; charset=utf-8", "starting\n")
                    }
                    Phase::Draining => {
                        HttpResponse::new(503, "text/plain; charset=utf-8", "draining\n")
                    }
                },
                _ => HttpResponse::new(
                    404,
                    "text/plain; charset=utf-8",
                    "not found: /metrics, /healthz and /readyz are served here\n",
                ),
            }
        })
    }
}

/// A running admin endpoint. Metrics are turned on for the whole process when it binds.
#[derive(Clone, Debug)]
pub struct AdminServer {
    http: HttpServer,
    readiness: Readiness,
}

impl AdminServer {
    /// Binds `host:port` (0: a free port) and serves; installs the metrics observer.
    pub async fn bind(host: &str, port: u16, readiness: Readiness) -> Result<Self, RemoteError> {
        crate::enable_metrics();
        let config = HttpConfig {
            host: host.to_string(),
            port,
            max_body: 0,
            max_connections: 64,
            header_timeout: std::time::Duration::from_secs(10),
            protocol: "admin",
            ..HttpConfig::default()
        };
        let http = HttpServer::bind(
            config,
            Arc::new(Admin {
                readiness: readiness.clone(),
            }),
        )
        .await?;
        Ok(AdminServer { http, readiness })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.http.local_addr()
    }

    /// `http://host:port`.
    pub fn url(&self) -> &str {
        self.http.base_url()
    }

    /// Its readiness.
    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    /// Stops serving.
    pub async fn shutdown(&self) {
        self.http.shutdown().await
    }
}

/// Splits `HOST:PORT` (`[::1]:0` for IPv6) for `--admin`.
pub fn split_host_port(text: &str) -> Result<(String, u16), String> {
    let (h, p) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("{text:?} is not HOST:PORT"))?;
    let port = p
        .parse::<u16>()
        .map_err(|_| format!("{text:?}: the port {p:?} is not a number from 0 to 65535"))?;
    let host = h.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("{text:?}: the host is missing"));
    }
    Ok((host.to_string(), port))
}
