//! XML-RPC over HTTP and HTTPS ([`XmlRpcServer`], [`XmlRpcProxy`])
//! behind [`Protocol`]: Spring Python's secure XML-RPC.
//!
//! Class names: Spring Python's `springpython.remoting.xmlrpc.SSLServer` (as an exporter) and
//! `springpython.remoting.xmlrpc.SSLClient` (as a proxy factory), tether's
//! `tether.xmlrpc.ServiceExporter` and `tether.xmlrpc.ProxyFactory`. The server answers at `/`
//! and `/RPC2`; every exporter on one address shares it, each service's methods under their
//! own names and as `service_name.method`. URLs (`http://`, `https://`) are not claimed: they
//! are Hessian's by default; `tether call --protocol xmlrpc` picks this wire.
//!
//! The seed's constructor arguments: `service_host`/`service_port` (host, port), the TLS
//! properties (`keyfile`, `certfile`, `ca_certs`, `cert_reqs`, `verify_fields`), and these
//! wire-specific ones:
//!
//! | property | exporter | proxy | default |
//! |---|---|---|---|
//! | `ssl_version` | yes | yes | TLS 1.2 or 1.3; applied: `ssl.PROTOCOL_SSLv23`, `PROTOCOL_TLS(_SERVER/_CLIENT)` (or 2) negotiate TLS 1.2 or 1.3, `PROTOCOL_TLSv1_2` (or 5) pins TLS 1.2, `TLSv1_3` pins TLS 1.3; Spring Python's default `PROTOCOL_TLSv1` and anything older are refused, saying what to write |
//! | `ciphers` | yes | yes | an OpenSSL cipher string choosing among rustls's TLS 1.2 suites (names, aliases such as `HIGH`, `ECDHE+AESGCM`, `!`/`-`/`+`); one that leaves none is an error; TLS 1.3 suites are not chosen by it, as in OpenSSL |
//! | `log_requests` | yes | – | `true`: an access line per request on stderr |
//! | `allow_none` | yes | yes | `true` (`None` as `<nil/>`) |
//! | `use_datetime` | yes | yes | accepted: dates are always `Value::DateTime` |
//! | `fault_codes` | yes | – | `python` (always 1), or `interop` (-32700, -32601, -32500) |
//! | `verbose` | – | yes | `false`: print each HTTP exchange to stdout, as Python does |
//! | `logger_name` | yes | – | none: the TLS lines go to `springpython.remoting.xmlrpc.SSLServer`; a name (the seed logs under its subclass's, e.g. `MySSLServer`) goes in their `logger` field, which `--log-format python` prints as the logger |
//! | `encoding` | – | yes | the request's character set: `utf-8` (default), `iso-8859-1`, `us-ascii`, written as Python does (named in the declaration, other characters as character references); another is refused. The server reads all three |
//! | `do_handshake_on_connect` | yes | – | accepted, no effect: the TLS handshake always completes before a request is read |
//! | `suppress_ragged_eofs` | yes | – | accepted, no effect: a peer that closes without `close_notify` is a closed connection either way |
//! | `transport` | – | yes | accepted, no effect: a Python class in the seed; tether's client is its own transport (keep-alive, TLS with host name checks) |
//! | `strict` | – | yes | accepted, no effect: Python 2 httplib's status-line strictness; tether's parser is strict |
//!
//! Spring Python's names also take the seed's names and positional order: `SSLServer(host,
//! port, keyfile, certfile, ca_certs, cert_reqs, ssl_version, do_handshake_on_connect,
//! suppress_ragged_eofs, ciphers, log_requests)` (`host`/`port` are `service_host`/
//! `service_port`) and `SSLClient(uri, ca_certs, keyfile, certfile, cert_reqs, ssl_version,
//! transport, encoding, verbose, allow_none, use_datetime, timeout, strict)`; a client's
//! `cert_reqs` is `ssl.CERT_REQUIRED` by default (the server's certificate must chain to
//! `ca_certs`); `ssl.CERT_NONE` skips every check of it, with a WARN.
//!
//! `timeout` (proxy) is the shared option.

use crate::{FaultCodes, XmlRpcConfig, XmlRpcProxy, XmlRpcServer};
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use tether_core::{BoxFuture, Dispatch, Invoker};
use tether_remoting::{
    ClassFamily, ClientOptions, ExportServer, LogSite, Protocol, ServerOptions, Shell,
    TransportError, TransportErrorKind, WireOptions,
};
use tether_tls::TlsVersions;

fn log_spring(site: LogSite, args: fmt::Arguments<'_>) {
    match site {
        LogSite::Exporter => {
            tracing::debug!(target: "springpython.remoting.xmlrpc.SSLServer", "{args}")
        }
        _ => tracing::debug!(target: "springpython.remoting.xmlrpc.SSLClient", "{args}"),
    }
}

fn log_tether(site: LogSite, args: fmt::Arguments<'_>) {
    match site {
        LogSite::Exporter => tracing::debug!(target: "tether.xmlrpc.ServiceExporter", "{args}"),
        _ => tracing::debug!(target: "tether.xmlrpc.Server", "{args}"),
    }
}

/// The TLS lines of an XML-RPC server (client refused, subject fields that do not match,
/// client connected), under Spring Python's `SSLServer` logger as the seed writes them; with a
/// `logger_name`, that name goes in the `logger` field, which the Python log layout prints as
/// the logger's name (the seed logs under its subclass's name, e.g. `MySSLServer`).
fn log_tls(level: tracing::Level, name: Option<&str>, args: fmt::Arguments<'_>) {
    use tracing::Level;
    const T: &str = "springpython.remoting.xmlrpc.SSLServer";
    match (level, name) {
        (Level::ERROR, Some(n)) => tracing::error!(target: T, logger = n, "{args}"),
        (Level::ERROR, None) => tracing::error!(target: T, "{args}"),
        (Level::WARN, Some(n)) => tracing::warn!(target: T, logger = n, "{args}"),
        (Level::WARN, None) => tracing::warn!(target: T, "{args}"),
        (Level::INFO, Some(n)) => tracing::info!(target: T, logger = n, "{args}"),
        (Level::INFO, None) => tracing::info!(target: T, "{args}"),
        (_, Some(n)) => tracing::debug!(target: T, logger = n, "{args}"),
        (_, None) => tracing::debug!(target: T, "{args}"),
    }
}

/// Spring Python's names.
/// Their positional constructor arguments are the seed's, in its order.
pub const SPRING_XMLRPC: ClassFamily = ClassFamily::new(
    "springpython.remoting.xmlrpc.SSLServer",
    "springpython.remoting.xmlrpc.SSLClient",
    "XML-RPC",
    log_spring,
)
.with_params(&SSL_SERVER_PARAMS, &SSL_CLIENT_PARAMS);

/// `SSLServer(host, port, keyfile, certfile, ca_certs, cert_reqs, ssl_version,
/// do_handshake_on_connect, suppress_ragged_eofs, ciphers, log_requests)`.
const SSL_SERVER_PARAMS: [&str; 11] = [
    "host",
    "port",
    "keyfile",
    "certfile",
    "ca_certs",
    "cert_reqs",
    "ssl_version",
    "do_handshake_on_connect",
    "suppress_ragged_eofs",
    "ciphers",
    "log_requests",
];

/// `SSLClient(uri, ca_certs, keyfile, certfile, cert_reqs, ssl_version, transport, encoding,
/// verbose, allow_none, use_datetime, timeout, strict)`.
const SSL_CLIENT_PARAMS: [&str; 13] = [
    "uri",
    "ca_certs",
    "keyfile",
    "certfile",
    "cert_reqs",
    "ssl_version",
    "transport",
    "encoding",
    "verbose",
    "allow_none",
    "use_datetime",
    "timeout",
    "strict",
];

/// tether's own names.
pub const TETHER_XMLRPC: ClassFamily = ClassFamily::new(
    "tether.xmlrpc.ServiceExporter",
    "tether.xmlrpc.ProxyFactory",
    "XML-RPC",
    log_tether,
);

const FAMILIES: [ClassFamily; 2] = [SPRING_XMLRPC, TETHER_XMLRPC];

/// The XML-RPC protocol.
#[derive(Clone, Debug, Default)]
pub struct XmlRpc;

struct Server(XmlRpcServer);

impl ExportServer for Server {
    fn local_addr(&self) -> SocketAddr {
        self.0.local_addr()
    }

    fn register(&self, name: &str, target: Arc<dyn Dispatch>) -> Result<String, TransportError> {
        self.0
            .register(name, target)
            .map_err(|e| TransportError::new(TransportErrorKind::Conflict, e.message()))
    }

    fn unregister(&self, name: &str) {
        self.0.unregister(name);
    }

    fn shutdown(&self) -> BoxFuture<'static, ()> {
        let s = self.0.clone();
        Box::pin(async move { s.shutdown().await })
    }
}

fn bad(what: String) -> TransportError {
    TransportError::new(TransportErrorKind::BadOption, what)
}

use tether_remoting::flag_option as flag;

fn check_tls_option(name: &str, v: &str) -> Result<(), TransportError> {
    match name {
        "ssl_version" => ssl_version(v).map(|_| ()),
        "ciphers" => Ok(tether_tls::check_ciphers(v)?),
        _ => Ok(()),
    }
}

/// The TLS versions `ssl_version` pins (Python's `ssl.PROTOCOL_*`; see [`TlsVersions`]).
fn ssl_version(v: &str) -> Result<TlsVersions, TransportError> {
    Ok(v.parse::<TlsVersions>()?)
}

/// The versions the wire options ask for, if `ssl_version` is set.
fn versions(options: &tether_remoting::WireOptions) -> Result<Option<TlsVersions>, TransportError> {
    options.text("ssl_version").map(ssl_version).transpose()
}

/// The request encoding (Python's `encoding`): UTF-8, ISO-8859-1 or US-ASCII.
fn request_encoding(v: &str) -> Result<crate::RequestEncoding, TransportError> {
    crate::RequestEncoding::parse(v).ok_or_else(|| {
        bad(format!(
            "encoding {v:?}: tether's XML-RPC client writes utf-8, iso-8859-1 or us-ascii"
        ))
    })
}

fn fault_codes(v: &str) -> Result<FaultCodes, TransportError> {
    match v.trim() {
        "python" => Ok(FaultCodes::Python),
        "interop" => Ok(FaultCodes::Interop),
        other => Err(bad(format!(
            "fault_codes {other:?}: expected python or interop"
        ))),
    }
}

const SERVER_OPTIONS: [&str; 9] = [
    "logger_name",
    "ssl_version",
    "ciphers",
    "log_requests",
    "allow_none",
    "use_datetime",
    "fault_codes",
    // Accepted, no effect: the handshake always completes before a request is read, and a
    // TLS peer that closes without close_notify is a closed connection either way.
    "do_handshake_on_connect",
    "suppress_ragged_eofs",
];
const CLIENT_OPTIONS: [&str; 8] = [
    "ssl_version",
    "ciphers",
    "allow_none",
    "use_datetime",
    "verbose",
    "encoding",
    // Accepted, no effect: `transport` is a Python class (tether's client is its own
    // transport), `strict` was Python 2 httplib's status-line strictness (tether's is strict).
    "transport",
    "strict",
];

impl Protocol for XmlRpc {
    fn name(&self) -> &'static str {
        "xmlrpc"
    }

    fn shell(&self) -> &dyn Shell {
        &HttpShell
    }

    fn check_server_options(&self, options: &WireOptions) -> Result<(), TransportError> {
        for (k, v) in options.iter() {
            check_tls_option(k, v)?;
            match k {
                "log_requests" | "allow_none" | "use_datetime" => {
                    flag(k, v)?;
                }
                "fault_codes" => {
                    fault_codes(v)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn server_option_names(&self) -> &[&'static str] {
        &SERVER_OPTIONS
    }

    fn client_option_names(&self) -> &[&'static str] {
        &CLIENT_OPTIONS
    }

    fn families(&self) -> &[ClassFamily] {
        &FAMILIES
    }

    fn url_prefixes(&self) -> &[&'static str] {
        &["http://", "https://"]
    }

    fn claims(&self, _url: &str) -> bool {
        false
    }

    fn bind(
        &self,
        host: &str,
        addr: SocketAddr,
        options: &ServerOptions,
    ) -> Result<Arc<dyn ExportServer>, TransportError> {
        let mut config = XmlRpcConfig::default();
        config.http.host = addr.ip().to_string();
        config.http.port = addr.port();
        if host != config.http.host {
            config.http.advertised_host = Some(host.to_string());
        }
        for (k, v) in options.wire.iter() {
            check_tls_option(k, v)?;
            match k {
                "log_requests" => config.http.log_requests = flag(k, v)?,
                "allow_none" => config.allow_none = flag(k, v)?,
                "fault_codes" => config.fault_codes = fault_codes(v)?,
                _ => {}
            }
        }
        let l = &options.limits;
        if let Some(n) = l.max_message_size {
            config.http.max_body = n;
        }
        if let Some(n) = l.max_connections {
            config.http.max_connections = n;
        }
        if let Some(t) = l.idle_timeout {
            config.http.header_timeout = t;
        }
        if let Some(tls) = &options.tls {
            let mut tls = tls.clone();
            if let Some(t) = l.handshake_timeout {
                tls.handshake_timeout = t;
            }
            if let Some(v) = versions(&options.wire)? {
                tls.versions = v;
            }
            tls.ciphers = options.wire.text("ciphers").map(str::to_string);
            let name = options.wire.text("logger_name").map(str::to_string);
            config.http.tls = Some(tether_tls::ServerTls::new(&tls)?.with_logger(Arc::new(
                move |level, args| log_tls(level, name.as_deref(), args),
            )));
        }
        let server = tether_remoting::bind_on_current_runtime(XmlRpcServer::bind(config))?;
        Ok(Arc::new(Server(server)))
    }

    fn proxy(
        &self,
        url: &str,
        options: &ClientOptions,
    ) -> Result<Arc<dyn Invoker>, TransportError> {
        let mut p = XmlRpcProxy::new(url)
            .map_err(|e| TransportError::new(TransportErrorKind::BadUrl, e.message()))?;
        for (k, v) in options.wire.iter() {
            check_tls_option(k, v)?;
            match k {
                "allow_none" => p = p.with_allow_none(flag(k, v)?),
                "encoding" => p = p.with_encoding(request_encoding(v)?),
                "verbose" => p = p.with_verbose(flag(k, v)?),
                _ => {}
            }
        }
        if let Some(t) = options.timeout {
            p = p.with_timeout(t);
        }
        if let Some(tls) = &options.tls {
            let mut tls = tls.clone();
            if let Some(v) = versions(&options.wire)? {
                tls.versions = v;
            }
            tls.ciphers = options.wire.text("ciphers").map(str::to_string);
            p = p.with_tls(tether_tls::ClientTls::new(&tls)?);
        }
        Ok(Arc::new(p))
    }
}

/// The shell of an HTTP wire: the echo object is served at the path `echo`.
struct HttpShell;

impl Shell for HttpShell {
    fn echo_object_name(&self) -> &'static str {
        "echo"
    }

    /// Python's XML-RPC client hands over a `dateTime.iso8601` as `xmlrpc.client.DateTime`
    /// and a struct (an object's fields) as a dict.
    fn repr(&self, value: &tether_core::Value, _options: &ClientOptions) -> String {
        use tether_core::python::{repr_styled, DateForm, ObjectForm, Style};
        repr_styled(value, &Style::new(ObjectForm::ClassDict, DateForm::XmlRpc))
    }

    /// An annotation travels over HTTP as a header of its own name.
    fn check_header(&self, name: &str) -> Result<(), String> {
        tether_http::check_header_name(name)
    }
}
