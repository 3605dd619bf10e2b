//! The Pyro5 wire ([`Daemon`] and [`Proxy`]) behind [`Protocol`].
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
//! handshake timeout). The wire's own server options ([`PyroServerSettings`]): `hmac_key`
//! becomes [`DaemonConfig::hmac_key`] (Pyro4 clients must sign, Pyro5 clients are refused);
//! `serializers_accepted` (comma-separated names) [`DaemonConfig::pyro4_serializers_accepted`];
//! `name_server` (a name server's URL `PYRO:Pyro.NameServer@host:port`, `host[:port]`, or
//! `locate`/empty to find it as `locate_ns` does) and `metadata` (tags) list the exporter in
//! that name server ([`super::PyroNameServerDirectory`]). Client options: `timeout`,
//! `serializer` (`serpent`, `json`, `msgpack`, `marshal`), TLS ([`Proxy::with_tls`]); `hmac_key` only on
//! the Pyro4 names.
//!
//! `Daemon::bind` is async while lifecycle hooks are not; the bind runs on a short-lived helper
//! thread through the current runtime's handle, so it works on multi-thread and current-thread
//! runtimes alike and the accept loop is spawned onto the caller's runtime.

use crate::serializer::Serializer;
use crate::{Daemon, DaemonConfig, HmacKey, Proxy, WireVersion};
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use tether_core::python::BytesForm;
use tether_core::{BoxFuture, Dispatch, Invoker, Value};
use tether_remoting::{
    ClassFamily, ClientOptions, ExportServer, LogSite, Protocol, ServerOptions, Shell,
    TransportError, TransportErrorKind, WireOptions,
};

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
pub const SPRING_PYRO: ClassFamily = ClassFamily::new(
    "springpython.remoting.pyro.PyroServiceExporter",
    "springpython.remoting.pyro.PyroProxyFactory",
    "Pyro",
    log_pyro,
);

/// Spring Python's Pyro4 class names.
pub const SPRING_PYRO4: ClassFamily = ClassFamily::new(
    "springpython.remoting.pyro.Pyro4ServiceExporter",
    "springpython.remoting.pyro.Pyro4ProxyFactory",
    "Pyro4",
    log_pyro4,
);

/// tether's own names.
pub const TETHER_PYRO: ClassFamily = ClassFamily::new(
    "tether.pyro.ServiceExporter",
    "tether.pyro.ProxyFactory",
    "Pyro",
    log_tether,
);

const FAMILIES: [ClassFamily; 2] = [SPRING_PYRO, TETHER_PYRO];

/// The Pyro5 protocol.
#[derive(Clone, Debug, Default)]
pub struct Pyro5 {
    /// Settings for new daemons (host and port are set per bind, limits from the options).
    /// Default `None`: [`DaemonConfig::default`].
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

    fn server_option_names(&self) -> &[&'static str] {
        &SERVER_OPTIONS
    }

    fn exporter_option_names(&self) -> &[&'static str] {
        &EXPORTER_OPTIONS
    }

    fn client_option_names(&self) -> &[&'static str] {
        &CLIENT_OPTIONS
    }

    fn check_server_options(&self, options: &WireOptions) -> Result<(), TransportError> {
        PyroServerSettings::read(options).map(|_| ())
    }

    fn directory_of(&self, options: &ServerOptions) -> Result<Option<String>, TransportError> {
        PyroServerSettings::read(&options.wire)?.directory()
    }

    fn shell(&self) -> &dyn Shell {
        &PyroShell
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
}

/// Where a name server is, from an exporter's `name_server` property: its URL
/// (`PYRO:Pyro.NameServer@host:port`), `host[:port]` (port 9090), or `locate` (or empty): find
/// it as Python's `locate_ns` does.
pub(crate) fn name_server_location(
    directory: &str,
) -> Result<(Option<String>, Option<u16>), TransportError> {
    let d = directory.trim();
    let bad = |why: String| TransportError::new(TransportErrorKind::BadUrl, why);
    if d.is_empty() || d.eq_ignore_ascii_case("locate") {
        return Ok((None, None));
    }
    if d.contains(':') && d.to_ascii_uppercase().starts_with("PYRO") {
        return match crate::PyroUri::parse(d).map_err(|e| bad(e.message().to_string()))? {
            crate::PyroUri::Direct {
                location: crate::Location::Tcp { host, port },
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
    /// The proxy for `url` with `options` (shared with the Pyro4 protocol).
    pub fn make_proxy(
        &self,
        url: &str,
        options: &ClientOptions,
        wire: WireVersion,
    ) -> Result<Proxy, TransportError> {
        let bad = |e: tether_core::RemoteError| {
            TransportError::new(TransportErrorKind::BadUrl, e.message())
        };
        // Spring Python 1.3's PYROLOC:// names a Pyro 3 object: never try it as Pyro5.
        #[cfg(not(feature = "pyro3"))]
        if url
            .trim_start()
            .to_ascii_uppercase()
            .starts_with("PYROLOC://")
        {
            return Err(TransportError::unsupported(format!(
                "{url}: PYROLOC:// is Spring Python 1.3's Pyro 3 URL, and this build has no Pyro 3 (cargo feature `pyro3` of tether, on by default); give a Pyro5 URL (PYRO:name@host:port) to speak Pyro5"
            )));
        }
        let mut p = Proxy::new(url).map_err(bad)?;
        if let Some(name) = &options.serializer {
            let ser = Serializer::from_name(name).ok_or_else(|| {
                TransportError::new(
                    TransportErrorKind::BadOption,
                    format!("unknown Pyro serializer {name:?} (expected serpent, json, msgpack or marshal)"),
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
        if let Some(key) = options.wire.text("hmac_key") {
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
        let settings = PyroServerSettings::read(&options.wire)?;
        if let Some(key) = settings.hmac_key {
            config.hmac_key = Some(HmacKey::new(key.as_bytes()));
        }
        if let Some(accepted) = settings.serializers_accepted {
            config.pyro4_serializers_accepted = accepted;
        }
        if let Some(tls) = &options.tls {
            let mut tls = tls.clone();
            tls.handshake_timeout = config.handshake_timeout;
            config.tls = Some(tether_tls::ServerTls::new(&tls)?);
        }
        // One port for every Pyro: with the feature, every daemon answers Pyro 3 clients.
        #[cfg(feature = "pyro3")]
        if config.tls.is_none() {
            config.pyro3 = Some(pyro3_settings(options)?);
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
        let daemon = tether_remoting::bind_on_current_runtime(async {
            match unix {
                Some(path) => Daemon::bind_unix(path, config).await,
                None => Daemon::bind(config).await,
            }
        })?;
        let addr = daemon.local_addr().unwrap_or(fallback);
        Ok(Arc::new(PyroServer { daemon, addr }))
    }
}

/// The Pyro 3 settings of the daemon for these options.
#[cfg(feature = "pyro3")]
fn pyro3_settings(options: &ServerOptions) -> Result<crate::pyro3::Pyro3Settings, TransportError> {
    let mut s = crate::pyro3::Pyro3Settings::default();
    if let Some(n) = options.limits.max_message_size {
        s.max_body = n;
    }
    if let Some(p) = options.wire.text("identification") {
        s.passphrase = Some(p.as_bytes().to_vec());
    }
    if let Some(v) = options.wire.get("send_tracebacks") {
        s.send_tracebacks = tether_remoting::flag_option("send_tracebacks", v)?;
    }
    Ok(s)
}

/// The Pyro wires' own exporter properties.
const SERVER_OPTIONS: [&str; 4] = [
    "hmac_key",
    "name_server",
    "metadata",
    "serializers_accepted",
];

/// The Pyro exporter properties that are the exporter's own, not its shared daemon's.
pub(crate) const EXPORTER_OPTIONS: [&str; 2] = ["name_server", "metadata"];

/// The Pyro wires' own proxy-factory properties (Pyro5 refuses a key: it cannot sign).
const CLIENT_OPTIONS: [&str; 1] = ["hmac_key"];

/// A Pyro exporter's own settings, read from its [`WireOptions`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PyroServerSettings {
    /// Pyro4's shared HMAC key. Default `None`: no signing.
    pub hmac_key: Option<String>,
    /// The name server to list the exporter in (`name_server`): its URL, `host[:port]`, or
    /// empty/`locate`. Default `None`: no name server.
    pub name_server: Option<String>,
    /// The tags it is listed with (`metadata`, a `<list>`; comma-separated as a text).
    /// Default none.
    pub metadata: Vec<String>,
    /// The serializers its daemon lets Pyro4 clients use (`serializers_accepted`, Pyro4's
    /// `SERIALIZERS_ACCEPTED`: comma-separated names). Default `None`: serpent, marshal and
    /// json, as Pyro4.
    pub serializers_accepted: Option<Vec<Serializer>>,
}

/// Reads a `serializers_accepted` list (comma-separated serializer names).
pub fn serializers_accepted(text: &str) -> Result<Vec<Serializer>, TransportError> {
    let mut out = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let s = Serializer::from_name(name).ok_or_else(|| {
            TransportError::new(
                TransportErrorKind::BadOption,
                format!(
                    "serializers_accepted: unknown serializer {name:?} (expected serpent, json, msgpack or marshal)"
                ),
            )
        })?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    if out.is_empty() {
        return Err(TransportError::new(
            TransportErrorKind::BadOption,
            "serializers_accepted names no serializer",
        ));
    }
    Ok(out)
}

impl PyroServerSettings {
    /// Reads and checks the settings.
    pub fn read(options: &WireOptions) -> Result<Self, TransportError> {
        let s = PyroServerSettings {
            hmac_key: options.text("hmac_key").map(str::to_string),
            name_server: options.get("name_server").map(str::to_string),
            metadata: options
                .text("metadata")
                .map(|m| {
                    m.split(',')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            serializers_accepted: options
                .text("serializers_accepted")
                .map(serializers_accepted)
                .transpose()?,
        };
        if let Some(ns) = &s.name_server {
            name_server_location(ns)?;
        }
        Ok(s)
    }

    /// The `pyro-ns://` URL of the name server to list in, with the tags.
    pub fn directory(&self) -> Result<Option<String>, TransportError> {
        let Some(ns) = &self.name_server else {
            return Ok(None);
        };
        let (host, port) = name_server_location(ns)?;
        let authority = match (host, port) {
            (None, _) => String::new(),
            (Some(h), p) => {
                let h = if h.contains(':') { format!("[{h}]") } else { h };
                format!("{h}:{}", p.unwrap_or(crate::naming::NS_PORT))
            }
        };
        let query = if self.metadata.is_empty() {
            String::new()
        } else {
            format!("?meta={}", self.metadata.join(","))
        };
        Ok(Some(format!("pyro-ns://{authority}/{query}")))
    }
}

/// The command line's view of the Pyro wires: serpent's base64 dict for bytes (what a Python
/// serpent client receives), and serpent's reader for Python literals.
pub(crate) struct PyroShell;

/// A Pyro annotation: four bytes of key, not one the wire sets itself.
pub(crate) fn check_annotation(name: &str) -> Result<(), String> {
    match name {
        "CORR" | "HMAC" | "TRPA" | "TRST" | "TMOT" => {
            Err(format!("{name} is an annotation the wire sets itself"))
        }
        n if n.len() == 4 => Ok(()),
        n => Err(format!(
            "{n:?}: Pyro annotations have keys of four bytes (e.g. XTRA)"
        )),
    }
}

impl Shell for PyroShell {
    fn check_header(&self, name: &str) -> Result<(), String> {
        check_annotation(name)
    }

    fn repr(&self, value: &Value, options: &ClientOptions) -> String {
        // A Python serpent client gets bytes as serpent's base64 dict; msgpack and marshal
        // hand bytes.
        let form = match options
            .serializer
            .as_deref()
            .and_then(Serializer::from_name)
        {
            Some(Serializer::Msgpack | Serializer::Marshal) => BytesForm::Bytes,
            _ => BytesForm::Base64Dict,
        };
        tether_core::python::repr_with(value, form)
    }

    /// Serpent is Python's literal syntax, so its parser (with its limits on size, depth and
    /// item count) reads an argument; like serpent, a dict of exactly `data` and
    /// `encoding: 'base64'` reads as bytes.
    fn literal(&self, text: &str) -> Option<Result<Value, tether_core::RemoteError>> {
        Some(crate::serializer::serpent::decode(
            text.as_bytes(),
            &crate::serializer::Limits::default(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without Pyro 3 a PYROLOC:// URL is a configuration error naming the feature, never a
    /// Pyro5 attempt at a Pyro 3 server; with it, the Pyro 3 protocol claims the URL first.
    #[cfg(not(feature = "pyro3"))]
    #[test]
    fn pyroloc_without_pyro3_names_the_feature() {
        let e = Pyro5::default()
            .proxy(
                "PYROLOC://127.0.0.1:7766/ServiceName",
                &ClientOptions::new(),
            )
            .err()
            .expect("refused");
        assert_eq!(e.kind(), TransportErrorKind::Unsupported);
        assert!(e.message().contains("`pyro3`"), "{e}");
        assert!(Pyro5::default()
            .proxy("PYRO:ServiceName@127.0.0.1:7766", &ClientOptions::new())
            .is_ok());
    }

    #[test]
    fn name_server_settings_make_a_directory_url() {
        let mut w = WireOptions::new();
        w.set("name_server", "10.0.0.1:9091").set("metadata", "a,b");
        let s = PyroServerSettings::read(&w).unwrap();
        assert_eq!(
            s.directory().unwrap().as_deref(),
            Some("pyro-ns://10.0.0.1:9091/?meta=a,b")
        );
        let w = WireOptions::new().with("name_server", "locate");
        let s = PyroServerSettings::read(&w).unwrap();
        assert_eq!(s.directory().unwrap().as_deref(), Some("pyro-ns:///"));
        let w = WireOptions::new().with("name_server", "host:notaport");
        assert!(PyroServerSettings::read(&w).is_err());
    }
}
