//! The Pyro 3 wire ([`tether_pyro::pyro3`]) behind [`Protocol`]: what Spring Python 1.3's
//! `PyroServiceExporter` and `PyroProxyFactory` speak, so the seed's own XML works unchanged
//! on either side of a Python 2 application.
//!
//! With the `pyro3` feature these Spring Python names belong to this protocol (it is
//! registered after Pyro5 and replaces them), as do `tether.pyro3.ServiceExporter`/
//! `tether.pyro3.ProxyFactory` and the URLs `PYROLOC://host:port/name` and
//! `PYRO://host:port/id`:
//!
//! - An exporter starts (or joins) the ordinary Pyro daemon of its address ([`Protocol::
//!   server_key`] `"pyro"`) with Pyro 3 switched on: that one port answers Pyro 3 clients
//!   (a client silent for half a second is one), and Pyro4 and Pyro5 clients as ever.
//! - A proxy factory speaks Pyro 3 to `PYROLOC://` and `PYRO://` URLs, and Pyro5 to
//!   `PYRO:obj@host:port`, `PYRONAME:` and `PYROMETA:` URLs: **to have the Spring names speak
//!   Pyro5, give them a Pyro5 URL** (or use `tether.pyro.ProxyFactory`). A build without the
//!   feature keeps the Pyro5 reading of `PYROLOC://` (see `pyro5.rs`).
//!
//! Options: the Pyro5 protocol's (limits, `timeout`, `name_server`, `metadata`); plus
//! `identification` on both sides (Pyro's connection passphrase: the daemon then admits only
//! clients that know it), and on the exporter `send_tracebacks` (default `False`: Pyro 3
//! itself sends every caller the server's full traceback). TLS and `hmac_key` do not exist in
//! Pyro 3 and are refused.

use super::pyro5::{Pyro5, PyroServerSettings, SPRING_PYRO};
use crate::pyro3::{Pyro3Proxy, Pyro3Url};
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use tether_core::{Invoker, Value};
use tether_remoting::{
    flag_option as flag, ClassFamily, ClientOptions, ExportServer, LogSite, Protocol,
    ServerOptions, Shell, TransportError, TransportErrorKind, WireOptions,
};

fn log_tether3(site: LogSite, args: fmt::Arguments<'_>) {
    match site {
        LogSite::Exporter => tracing::debug!(target: "tether.pyro3.ServiceExporter", "{args}"),
        _ => tracing::debug!(target: "tether.pyro3.DaemonHolder", "{args}"),
    }
}

/// tether's own Pyro 3 names.
pub const TETHER_PYRO3: ClassFamily = ClassFamily::new(
    "tether.pyro3.ServiceExporter",
    "tether.pyro3.ProxyFactory",
    "Pyro",
    log_tether3,
);

const FAMILIES: [ClassFamily; 2] = [SPRING_PYRO, TETHER_PYRO3];

const SERVER_OPTIONS: [&str; 6] = [
    "identification",
    "send_tracebacks",
    "hmac_key",
    "name_server",
    "metadata",
    "serializers_accepted",
];
const CLIENT_OPTIONS: [&str; 2] = ["identification", "hmac_key"];

/// The Pyro 3 protocol.
#[derive(Clone, Debug, Default)]
pub struct Pyro3 {
    /// The daemon and the Pyro5 side of the proxies.
    pub pyro: Pyro5,
}

impl Protocol for Pyro3 {
    fn name(&self) -> &'static str {
        "pyro3"
    }

    fn server_key(&self) -> &'static str {
        "pyro"
    }

    fn server_option_names(&self) -> &[&'static str] {
        &SERVER_OPTIONS
    }

    fn exporter_option_names(&self) -> &[&'static str] {
        &super::pyro5::EXPORTER_OPTIONS
    }

    fn client_option_names(&self) -> &[&'static str] {
        &CLIENT_OPTIONS
    }

    fn families(&self) -> &[ClassFamily] {
        &FAMILIES
    }

    fn url_prefixes(&self) -> &[&'static str] {
        &["PYROLOC://", "PYRO://"]
    }

    fn claims(&self, url: &str) -> bool {
        Pyro3Url::claims(url)
    }

    fn bind(
        &self,
        host: &str,
        addr: SocketAddr,
        options: &ServerOptions,
    ) -> Result<Arc<dyn ExportServer>, TransportError> {
        if options.tls.is_some() || options.wire.text("hmac_key").is_some() {
            return Err(TransportError::new(
                TransportErrorKind::Unsupported,
                "Pyro 3 has no TLS and no message signing: use the Pyro5 names (tether.pyro.*) for those",
            ));
        }
        self.pyro.bind(host, addr, options)
    }

    fn bind_unix(
        &self,
        _path: &std::path::Path,
        _options: &ServerOptions,
    ) -> Result<Arc<dyn ExportServer>, TransportError> {
        Err(TransportError::new(
            TransportErrorKind::Unsupported,
            "Pyro 3 runs over TCP only",
        ))
    }

    /// `PYROLOC://host:port/name`, Spring Python 1.3's form, for the daemon's
    /// `PYRO:name@host:port`.
    fn object_url(&self, server_uri: &str, name: &str) -> String {
        match server_uri.rsplit_once('@') {
            Some((_, location)) if server_uri.starts_with("PYRO:") => {
                format!("PYROLOC://{location}/{name}")
            }
            _ => server_uri.to_string(),
        }
    }

    fn check_server_options(&self, options: &WireOptions) -> Result<(), TransportError> {
        PyroServerSettings::read(options)?;
        if let Some(v) = options.get("send_tracebacks") {
            flag("send_tracebacks", v)?;
        }
        Ok(())
    }

    fn directory_of(&self, options: &ServerOptions) -> Result<Option<String>, TransportError> {
        // Pyro 3's own name server is not built; the daemon answers Pyro5 too, so its Pyro5
        // URL (the server's own form) goes to a Pyro5 name server.
        PyroServerSettings::read(&options.wire)?.directory()
    }

    fn shell(&self) -> &dyn Shell {
        &Pyro3Shell
    }

    fn proxy(
        &self,
        url: &str,
        options: &ClientOptions,
    ) -> Result<Arc<dyn Invoker>, TransportError> {
        if !Pyro3Url::claims(url) {
            return self.pyro.proxy(url, options);
        }
        if options.tls.is_some() || options.wire.text("hmac_key").is_some() {
            return Err(TransportError::new(
                TransportErrorKind::Unsupported,
                "Pyro 3 has no TLS and no message signing",
            ));
        }
        let mut p = Pyro3Proxy::new(url)
            .map_err(|e| TransportError::new(TransportErrorKind::BadUrl, e.message()))?;
        if let Some(t) = options.timeout {
            p = p.with_timeout(t);
        }
        if let Some(v) = options.wire.text("identification") {
            p = p.with_passphrase(v.as_bytes());
        }
        Ok(Arc::new(p))
    }
}

/// Pyro 3's shell: a Python 2 client receives bytes as `str`, and arguments read as Python
/// literals (serpent's reader).
struct Pyro3Shell;

impl Shell for Pyro3Shell {
    fn repr(&self, value: &Value, _options: &ClientOptions) -> String {
        tether_core::python::repr_with(value, tether_core::python::BytesForm::Bytes)
    }

    fn literal(&self, text: &str) -> Option<Result<Value, tether_core::RemoteError>> {
        super::pyro5::PyroShell.literal(text)
    }
}
