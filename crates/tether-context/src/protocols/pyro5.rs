//! The Pyro5 wire ([`tether_pyro::Daemon`] and [`tether_pyro::Proxy`]) behind [`Protocol`].
//!
//! Class names: Spring Python's `PyroServiceExporter`/`PyroProxyFactory` (Pyro 3 in Spring
//! Python) speak the Pyro5 wire in a build without the `pyro3` feature (with it, `pyro3.rs`
//! registers them again for Pyro 3), and tether's `tether.pyro.ServiceExporter`/
//! `tether.pyro.ProxyFactory`. The Pyro4 names are in `pyro4.rs`; both protocols share one
//! daemon per address ([`Protocol::server_key`] `"pyro"`), which answers both wires.
//!
//! Server options: `max_message_size`, `max_connections`, `idle_timeout` and
//! `handshake_timeout` map to [`DaemonConfig`]; TLS settings become [`DaemonConfig::tls`]
//! (Pyro5 over TLS, what Python's Pyro5 does with `SSL=True`; the TLS handshake shares the
//! handshake timeout); `hmac_key` becomes [`DaemonConfig::hmac_key`] (Pyro4 clients must
//! sign, Pyro5 clients are refused). Client options: `timeout`, `serializer` (`serpent`,
//! `json`, `msgpack`), TLS ([`Proxy::with_tls`]); `hmac_key` only on the Pyro4 names.
//!
//! `Daemon::bind` is async while lifecycle hooks are not; the bind runs on a short-lived helper
//! thread through the current runtime's handle, so it works on multi-thread and current-thread
//! runtimes alike and the accept loop is spawned onto the caller's runtime.

use crate::remoting::{
    ClassFamily, ClientOptions, ExportServer, LogSite, Protocol, ServerOptions, TransportError,
    TransportErrorKind,
};
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use tether_core::python::BytesForm;
use tether_core::{BoxFuture, Dispatch, Invoker, Value};
use tether_pyro::serializer::Serializer;
use tether_pyro::{Daemon, DaemonConfig, HmacKey, Proxy, WireVersion};

fn log_pyro(site: LogSite, args: fmt::Arguments<'_>) {
    match site {
        LogSite::Exporter => {
            tracing::debug!(target: "springpython.remoting.pyro.PyroServiceExporter", "{args}")
        }
        LogSite::Holder => {
            tracing::debug!(target: "springpython.remoting.pyro.PyroDaemonHolder", "{args}")
        }
        _ => {
            tracing::debug!(target: "springpython.remoting.pyro.PyroDaemonHolder._PyroThread", "{args}")
        }
    }
}

fn log_pyro4(site: LogSite, args: fmt::Arguments<'_>) {
    match site {
        LogSite::Exporter => {
            tracing::debug!(target: "springpython.remoting.pyro.Pyro4ServiceExporter", "{args}")
        }
        LogSite::Holder => {
            tracing::debug!(target: "springpython.remoting.pyro.Pyro4DaemonHolder", "{args}")
        }
        _ => {
            tracing::debug!(target: "springpython.remoting.pyro.Pyro4DaemonHolder._Pyro4Thread", "{args}")
        }
    }
}

fn log_tether(site: LogSite, args: fmt::Arguments<'_>) {
    match site {
        LogSite::Exporter => tracing::debug!(target: "tether.pyro.ServiceExporter", "{args}"),
        _ => tracing::debug!(target: "tether.pyro.DaemonHolder", "{args}"),
    }
}

/// Spring Python's Pyro 3 class names (`PYROLOC://host:port/name` URLs).
pub const SPRING_PYRO: ClassFamily = ClassFamily {
    exporter: "springpython.remoting.pyro.PyroServiceExporter",
    proxy: "springpython.remoting.pyro.PyroProxyFactory",
    word: "Pyro",
    log: log_pyro,
};

/// Spring Python's Pyro4 class names.
pub const SPRING_PYRO4: ClassFamily = ClassFamily {
    exporter: "springpython.remoting.pyro.Pyro4ServiceExporter",
    proxy: "springpython.remoting.pyro.Pyro4ProxyFactory",
    word: "Pyro4",
    log: log_pyro4,
};

/// tether's own names.
pub const TETHER_PYRO: ClassFamily = ClassFamily {
    exporter: "tether.pyro.ServiceExporter",
    proxy: "tether.pyro.ProxyFactory",
    word: "Pyro",
    log: log_tether,
};

const FAMILIES: [ClassFamily; 2] = [SPRING_PYRO, TETHER_PYRO];

/// The Pyro5 protocol.
#[derive(Clone, Debug, Default)]
pub struct Pyro5 {
    /// Settings for new daemons (host and port are set per bind, limits from the options).
    /// Default `None`: [`DaemonConfig::default`].
    pub config: Option<DaemonConfig>,
}

/// A [`ServiceExporter`](crate::remoting::ServiceExporter) with Spring Python's
/// `PyroServiceExporter` name over Pyro5.
pub fn exporter() -> crate::remoting::ServiceExporter {
    crate::remoting::ServiceExporter::new(SPRING_PYRO, Arc::new(Pyro5::default()))
}

/// A [`ProxyFactory`](crate::remoting::ProxyFactory) with Spring Python's `PyroProxyFactory`
/// name over Pyro5.
pub fn proxy_factory() -> crate::remoting::ProxyFactory {
    crate::remoting::ProxyFactory::new(SPRING_PYRO, Arc::new(Pyro5::default()))
}

struct PyroServer {
    daemon: Daemon,
    addr: SocketAddr,
}

impl ExportServer for PyroServer {
    fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    fn register(&self, name: &str, target: Arc<dyn Dispatch>) -> Result<String, TransportError> {
        self.daemon
            .register(name, target)
            .map_err(|e| TransportError::new(TransportErrorKind::Conflict, e.message()))
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

impl Protocol for Pyro5 {
    fn name(&self) -> &'static str {
        "pyro5"
    }

    fn server_key(&self) -> &'static str {
        "pyro"
    }

    fn families(&self) -> &[ClassFamily] {
        &FAMILIES
    }

    fn url_prefixes(&self) -> &[&'static str] {
        &["PYRO:", "PYRONAME:", "PYROMETA:", "PYROLOC://"]
    }

    fn bind(
        &self,
        host: &str,
        addr: SocketAddr,
        options: &ServerOptions,
    ) -> Result<Arc<dyn ExportServer>, TransportError> {
        let mut config = self.daemon_config(options)?;
        config.host = addr.ip().to_string();
        config.port = addr.port();
        if host != config.host {
            config.advertised_host = Some(host.to_string());
        }
        self.start(config, None)
    }

    fn bind_unix(
        &self,
        path: &std::path::Path,
        options: &ServerOptions,
    ) -> Result<Arc<dyn ExportServer>, TransportError> {
        let config = self.daemon_config(options)?;
        self.start(config, Some(path))
    }

    fn repr(&self, value: &Value, options: &ClientOptions) -> String {
        // A Python serpent client gets bytes as serpent's base64 dict; msgpack hands bytes.
        let form = match options
            .serializer
            .as_deref()
            .and_then(Serializer::from_name)
        {
            Some(Serializer::Msgpack) => BytesForm::Bytes,
            _ => BytesForm::Base64Dict,
        };
        tether_core::python::repr_with(value, form)
    }

    fn proxy(
        &self,
        url: &str,
        options: &ClientOptions,
    ) -> Result<Arc<dyn Invoker>, TransportError> {
        Ok(Arc::new(self.make_proxy(
            url,
            options,
            WireVersion::Pyro5,
        )?))
    }

    /// Registers in a Pyro name server (`register(name, uri, metadata=...)`).
    fn publish(
        &self,
        directory: &str,
        name: &str,
        url: &str,
        metadata: &[String],
        options: &ClientOptions,
    ) -> Result<(), TransportError> {
        let call = register_call(name, url, metadata);
        self.name_server_call(directory, call, options, WireVersion::Pyro5)
    }

    /// Removes from a Pyro name server (`remove(name)`).
    fn unpublish(
        &self,
        directory: &str,
        name: &str,
        options: &ClientOptions,
    ) -> Result<(), TransportError> {
        let call = tether_core::Call::new("remove", vec![Value::str(name)]);
        self.name_server_call(directory, call, options, WireVersion::Pyro5)
    }
}

/// `register(name, url, metadata=tags)`.
pub(crate) fn register_call(name: &str, url: &str, metadata: &[String]) -> tether_core::Call {
    let tags = Value::Set(metadata.iter().map(|t| Value::str(t.as_str())).collect());
    tether_core::Call::new("register", vec![Value::str(name), Value::str(url)])
        .kwarg("metadata", tags)
}

/// Where a name server is, from an exporter's `name_server` property: its URL
/// (`PYRO:Pyro.NameServer@host:port`), `host[:port]` (port 9090), or `locate` (or empty): find
/// it as Python's `locate_ns` does.
fn name_server_location(directory: &str) -> Result<(Option<String>, Option<u16>), TransportError> {
    let d = directory.trim();
    let bad = |why: String| TransportError::new(TransportErrorKind::BadUrl, why);
    if d.is_empty() || d.eq_ignore_ascii_case("locate") {
        return Ok((None, None));
    }
    if d.contains(':') && d.to_ascii_uppercase().starts_with("PYRO") {
        return match tether_pyro::PyroUri::parse(d).map_err(|e| bad(e.message().to_string()))? {
            tether_pyro::PyroUri::Direct {
                location: tether_pyro::Location::Tcp { host, port },
                ..
            } => Ok((Some(host), Some(port))),
            other => Err(bad(format!(
                "name server {other}: expected PYRO:Pyro.NameServer@host:port, host[:port] or locate"
            ))),
        };
    }
    match d.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') || h.ends_with(']') => {
            let port = p
                .parse::<u16>()
                .map_err(|_| bad(format!("name server {d:?}: bad port {p:?}")))?;
            Ok((Some(h.trim_matches(['[', ']']).to_string()), Some(port)))
        }
        _ => Ok((Some(d.trim_matches(['[', ']']).to_string()), None)),
    }
}

impl Pyro5 {
    /// Runs one call on the name server at `directory`, on a helper thread with its own
    /// runtime (lifecycle hooks are synchronous), bounded by the options' timeout.
    pub(crate) fn name_server_call(
        &self,
        directory: &str,
        call: tether_core::Call,
        options: &ClientOptions,
        wire: WireVersion,
    ) -> Result<(), TransportError> {
        let (host, port) = name_server_location(directory)?;
        // A key means the name server's daemon speaks signed Pyro4.
        let wire = if options.hmac_key.is_some() {
            WireVersion::Pyro4
        } else {
            wire
        };
        let via = self.make_proxy(
            &format!(
                "PYRO:{}@localhost:9090",
                tether_pyro::naming::NAME_SERVER_ID
            ),
            options,
            wire,
        )?;
        let limit = options.timeout.unwrap_or(std::time::Duration::from_secs(5));
        let failed = |e: String| TransportError::new(TransportErrorKind::Bind, e);
        std::thread::scope(|s| {
            s.spawn(|| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| failed(e.to_string()))?;
                rt.block_on(async {
                    let run = async {
                        let ns = tether_pyro::naming::locate_ns(host.as_deref(), port, Some(&via))
                            .await?;
                        let r = ns.call(call).await;
                        ns.close().await;
                        r
                    };
                    match tokio::time::timeout(limit, run).await {
                        Ok(Ok(_)) => Ok(()),
                        Ok(Err(e)) => Err(failed(e.to_string())),
                        Err(_) => Err(failed(format!(
                            "no answer from the name server within {limit:?}"
                        ))),
                    }
                })
            })
            .join()
            .map_err(|_| failed("the name server helper thread panicked".into()))?
        })
    }

    /// The proxy for `url` with `options` (shared with the Pyro4 protocol).
    pub(crate) fn make_proxy(
        &self,
        url: &str,
        options: &ClientOptions,
        wire: WireVersion,
    ) -> Result<Proxy, TransportError> {
        let bad = |e: tether_core::RemoteError| {
            TransportError::new(TransportErrorKind::BadUrl, e.message())
        };
        let mut p = Proxy::new(url).map_err(bad)?;
        if let Some(name) = &options.serializer {
            let ser = Serializer::from_name(name).ok_or_else(|| {
                TransportError::new(
                    TransportErrorKind::BadOption,
                    format!("unknown Pyro serializer {name:?} (expected serpent, json or msgpack)"),
                )
            })?;
            p = p.with_serializer(ser);
        }
        if let Some(t) = options.timeout {
            p = p.with_timeout(t);
        }
        if let Some(tls) = &options.tls {
            p = p.with_tls(tether_tls::ClientTls::new(tls)?);
        }
        if let Some(key) = &options.hmac_key {
            if wire == WireVersion::Pyro5 {
                return Err(TransportError::new(
                    TransportErrorKind::Unsupported,
                    "Pyro5 has no message signing (hmac_key): use TLS, or the Pyro4 class names for Pyro4's HMAC",
                ));
            }
            p = p.with_hmac_key(HmacKey::new(key.as_bytes()));
        }
        Ok(p.with_wire(wire))
    }

    /// The daemon settings for `options` (host and port still to be set).
    pub(crate) fn daemon_config(
        &self,
        options: &ServerOptions,
    ) -> Result<DaemonConfig, TransportError> {
        let mut config = self.config.clone().unwrap_or_default();
        let l = &options.limits;
        if let Some(n) = l.max_message_size {
            config.max_message_size = n;
        }
        if let Some(n) = l.max_connections {
            config.max_connections = n;
        }
        if let Some(t) = l.idle_timeout {
            config.idle_timeout = Some(t);
        }
        if let Some(t) = l.handshake_timeout {
            config.handshake_timeout = t;
        }
        if let Some(key) = &options.hmac_key {
            config.hmac_key = Some(HmacKey::new(key.as_bytes()));
        }
        if let Some(tls) = &options.tls {
            let mut tls = tls.clone();
            tls.handshake_timeout = config.handshake_timeout;
            config.tls = Some(tether_tls::ServerTls::new(&tls)?);
        }
        // One port for every Pyro: with the feature, every daemon answers Pyro 3 clients.
        #[cfg(feature = "pyro3")]
        if config.tls.is_none() {
            config.pyro3 = Some(super::pyro3::settings(options)?);
        }
        Ok(config)
    }

    /// Binds on a helper thread through the current runtime's handle (lifecycle hooks are
    /// synchronous; the accept loop lands on the caller's runtime).
    pub(crate) fn start(
        &self,
        config: DaemonConfig,
        unix: Option<&std::path::Path>,
    ) -> Result<Arc<dyn ExportServer>, TransportError> {
        let fallback: SocketAddr = ([127, 0, 0, 1], config.port).into();
        let daemon = crate::remoting::bind_on_current_runtime(async {
            match unix {
                Some(path) => Daemon::bind_unix(path, config).await,
                None => Daemon::bind(config).await,
            }
        })?;
        let addr = daemon.local_addr().unwrap_or(fallback);
        Ok(Arc::new(PyroServer { daemon, addr }))
    }
}
