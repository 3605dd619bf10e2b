//! Hessian over HTTP ([`HessianServer`] and [`HessianProxy`])
//! behind [`Protocol`].
//!
//! Class names: Spring Python's `springpython.remoting.hessian.HessianProxyFactory` (the seed's
//! client), Spring Java's `org.springframework.remoting.caucho.HessianServiceExporter` (Spring
//! Python never had an exporter), and tether's `tether.hessian.ServiceExporter` /
//! `tether.hessian.ProxyFactory`. An exporter serves its service at `/service_name`
//! (`http://host:port/name`); exporters on one address share one HTTP server.
//!
//! Server options: TLS (HTTPS, client certificates, `verify_fields`), `max_message_size` (the
//! request body limit, default 64 MiB), `max_connections` (1024), `idle_timeout` (time between
//! requests on a kept-alive connection, and for a request's headers; 60 s), `handshake_timeout`
//! (TLS). Client options: `timeout`, TLS (`ca_certs`, ... for `https://`), `serializer`
//! (`hessian2`, the default, or `hessian1`: the request format). Hessian has no message signing
//! (use TLS).

use crate::{HessianProxy, HessianServer, ServerConfig};
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use tether_core::{BoxFuture, Dispatch, Invoker};
use tether_remoting::{
    ClassFamily, ClientOptions, ExportServer, LogSite, Protocol, ServerOptions, Shell,
    TransportError, TransportErrorKind,
};

fn log_spring(site: LogSite, args: fmt::Arguments<'_>) {
    match site {
        LogSite::Exporter => {
            tracing::debug!(target: "springpython.remoting.hessian.HessianServiceExporter", "{args}")
        }
        _ => tracing::debug!(target: "springpython.remoting.hessian.HessianProxyFactory", "{args}"),
    }
}

fn log_tether(site: LogSite, args: fmt::Arguments<'_>) {
    match site {
        LogSite::Exporter => tracing::debug!(target: "tether.hessian.ServiceExporter", "{args}"),
        _ => tracing::debug!(target: "tether.hessian.Server", "{args}"),
    }
}

/// Spring's names: Spring Python's proxy factory, Spring Java's exporter.
pub const SPRING_HESSIAN: ClassFamily = ClassFamily::new(
    "org.springframework.remoting.caucho.HessianServiceExporter",
    "springpython.remoting.hessian.HessianProxyFactory",
    "Hessian",
    log_spring,
);

/// tether's own names.
pub const TETHER_HESSIAN: ClassFamily = ClassFamily::new(
    "tether.hessian.ServiceExporter",
    "tether.hessian.ProxyFactory",
    "Hessian",
    log_tether,
);

const FAMILIES: [ClassFamily; 2] = [SPRING_HESSIAN, TETHER_HESSIAN];

/// The Hessian protocol.
#[derive(Clone, Debug, Default)]
pub struct Hessian {
    /// Settings for new servers (host and port are set per bind). Default `None`:
    /// [`ServerConfig::default`].
    pub config: Option<ServerConfig>,
}

struct Server(HessianServer);

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

impl Protocol for Hessian {
    fn name(&self) -> &'static str {
        "hessian"
    }

    fn shell(&self) -> &dyn Shell {
        &HttpShell
    }

    fn families(&self) -> &[ClassFamily] {
        &FAMILIES
    }

    fn url_prefixes(&self) -> &[&'static str] {
        &["http://", "https://"]
    }

    fn bind(
        &self,
        host: &str,
        addr: SocketAddr,
        options: &ServerOptions,
    ) -> Result<Arc<dyn ExportServer>, TransportError> {
        let mut config = self.config.clone().unwrap_or_default();
        config.host = addr.ip().to_string();
        config.port = addr.port();
        if host != config.host {
            config.advertised_host = Some(host.to_string());
        }
        let l = &options.limits;
        if let Some(n) = l.max_message_size {
            config.max_body = n;
        }
        if let Some(n) = l.max_connections {
            config.max_connections = n;
        }
        if let Some(t) = l.idle_timeout {
            config.header_timeout = t;
        }
        if let Some(tls) = &options.tls {
            let mut tls = tls.clone();
            if let Some(t) = l.handshake_timeout {
                tls.handshake_timeout = t;
            }
            config.tls = Some(tether_tls::ServerTls::new(&tls)?);
        }
        let server = tether_remoting::bind_on_current_runtime(HessianServer::bind(config))?;
        Ok(Arc::new(Server(server)))
    }

    fn proxy(
        &self,
        url: &str,
        options: &ClientOptions,
    ) -> Result<Arc<dyn Invoker>, TransportError> {
        let mut p = HessianProxy::new(url)
            .map_err(|e| TransportError::new(TransportErrorKind::BadUrl, e.message()))?;
        match options.serializer.as_deref() {
            None | Some("hessian2") | Some("hessian") => {}
            Some("hessian1") => p = p.with_hessian1(),
            Some(other) => {
                return Err(TransportError::new(
                    TransportErrorKind::BadOption,
                    format!(
                        "unknown Hessian request format {other:?} (expected hessian2 or hessian1)"
                    ),
                ))
            }
        }
        if let Some(t) = options.timeout {
            p = p.with_timeout(t);
        }
        if let Some(tls) = &options.tls {
            p = p.with_tls(tether_tls::ClientTls::new(tls)?);
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

    /// python-hessian's client hands over dates as `datetime.datetime` and objects (also
    /// Hessian 1's typed maps) as instances of their class.
    fn repr(&self, value: &tether_core::Value, _options: &ClientOptions) -> String {
        use tether_core::python::{repr_styled, DateForm, ObjectForm, Style};
        repr_styled(value, &Style::new(ObjectForm::Instance, DateForm::Datetime))
    }

    fn narrow_int_arguments(&self) -> bool {
        true
    }

    /// An annotation travels over HTTP as a header of its own name.
    fn check_header(&self, name: &str) -> Result<(), String> {
        tether_http::check_header_name(name)
    }
}
