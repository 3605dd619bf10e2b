//! The Pyro4 wire behind [`Protocol`]: Spring Python's `Pyro4ServiceExporter`/
//! `Pyro4ProxyFactory` and tether's `tether.pyro4.ServiceExporter`/`tether.pyro4.ProxyFactory`.
//!
//! Exporters start (or join) the same daemon as the Pyro5 names ([`Protocol::server_key`]
//! `"pyro"`): a tether daemon answers Pyro4 and Pyro5 clients on one port, each in its own
//! wire. Proxies speak Pyro4 (protocol 48) to the URL's daemon, which may be Python's Pyro4.
//! Options are the Pyro5 protocol's (see `pyro5.rs`); TLS works as Pyro4's `SSL=True`.

use super::pyro5::{Pyro5, SPRING_PYRO4};
use crate::WireVersion;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use tether_core::Invoker;
use tether_remoting::{
    ClassFamily, ClientOptions, ExportServer, LogSite, Protocol, ServerOptions, Shell,
    TransportError, WireOptions,
};

fn log_tether4(site: LogSite, args: fmt::Arguments<'_>) {
    match site {
        LogSite::Exporter => tracing::debug!(target: "tether.pyro4.ServiceExporter", "{args}"),
        _ => tracing::debug!(target: "tether.pyro4.DaemonHolder", "{args}"),
    }
}

/// tether's own Pyro4 names.
pub const TETHER_PYRO4: ClassFamily = ClassFamily::new(
    "tether.pyro4.ServiceExporter",
    "tether.pyro4.ProxyFactory",
    "Pyro4",
    log_tether4,
);

const FAMILIES: [ClassFamily; 2] = [SPRING_PYRO4, TETHER_PYRO4];

/// The Pyro4 protocol.
#[derive(Clone, Debug, Default)]
pub struct Pyro4 {
    /// The daemon side and the proxy options are the Pyro5 protocol's.
    pub pyro: Pyro5,
}

impl Protocol for Pyro4 {
    fn name(&self) -> &'static str {
        "pyro4"
    }

    fn server_key(&self) -> &'static str {
        "pyro"
    }

    fn families(&self) -> &[ClassFamily] {
        &FAMILIES
    }

    fn url_prefixes(&self) -> &[&'static str] {
        &["PYRO:", "PYRONAME:", "PYROMETA:"]
    }

    /// Never: `PYRO:` URLs look the same on both wires, and the generic
    /// `tether.ProxyFactory` and `tether call` take them as Pyro5; Pyro4 is chosen by its class
    /// names or by name (`tether call --protocol pyro4`).
    fn claims(&self, _url: &str) -> bool {
        false
    }

    fn bind(
        &self,
        host: &str,
        addr: SocketAddr,
        options: &ServerOptions,
    ) -> Result<Arc<dyn ExportServer>, TransportError> {
        self.pyro.bind(host, addr, options)
    }

    fn bind_unix(
        &self,
        path: &std::path::Path,
        options: &ServerOptions,
    ) -> Result<Arc<dyn ExportServer>, TransportError> {
        self.pyro.bind_unix(path, options)
    }

    // The Pyro5 protocol's options: one daemon serves both wires.
    fn server_option_names(&self) -> &[&'static str] {
        self.pyro.server_option_names()
    }

    fn exporter_option_names(&self) -> &[&'static str] {
        self.pyro.exporter_option_names()
    }

    fn client_option_names(&self) -> &[&'static str] {
        self.pyro.client_option_names()
    }

    fn check_server_options(&self, options: &WireOptions) -> Result<(), TransportError> {
        self.pyro.check_server_options(options)
    }

    fn directory_of(&self, options: &ServerOptions) -> Result<Option<String>, TransportError> {
        self.pyro.directory_of(options)
    }

    fn shell(&self) -> &dyn Shell {
        &Pyro4Shell
    }

    fn proxy(
        &self,
        url: &str,
        options: &ClientOptions,
    ) -> Result<Arc<dyn Invoker>, TransportError> {
        Ok(Arc::new(self.pyro.make_proxy(
            url,
            options,
            WireVersion::Pyro4,
        )?))
    }
}

/// Pyro4's shell: Pyro5's, plus the warning Pyro4's own echo server prints without a key.
struct Pyro4Shell;

impl Shell for Pyro4Shell {
    fn check_header(&self, name: &str) -> Result<(), String> {
        super::pyro5::check_annotation(name)
    }

    fn repr(&self, value: &tether_core::Value, options: &ClientOptions) -> String {
        super::pyro5::PyroShell.repr(value, options)
    }

    fn literal(&self, text: &str) -> Option<Result<tether_core::Value, tether_core::RemoteError>> {
        super::pyro5::PyroShell.literal(text)
    }

    fn echo_error_text(&self) -> Option<&'static str> {
        Some(crate::pyro4::ECHO_ERROR_TEXT)
    }

    fn echo_server_notes(&self, options: &ServerOptions) -> Vec<String> {
        if options.wire.text("hmac_key").is_none() {
            vec!["Warning: HMAC key not set. Anyone can connect to this server!".into()]
        } else {
            Vec::new()
        }
    }
}
