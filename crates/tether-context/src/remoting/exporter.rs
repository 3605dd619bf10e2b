//! [`ServiceExporter`]: the exporter class of every protocol (Spring Python's
//! `PyroServiceExporter`, tether's `tether.pyro.ServiceExporter`, ...), bound to its
//! [`Protocol`] when its class name is registered.
//!
//! Properties (the first four also as named or positional constructor arguments, in this
//! order): `service` (a ref to the object to export; required), `service_name` (required),
//! `service_host` (default `localhost`), `service_port` (default 7766; `"7000"` or 7000), and
//! the server options of [`super::options`] (TLS and limits).
//! `after_properties_set` registers the service with the [`DaemonHolder`] (binding the server
//! at once when it is the first on its address); `destroy` deregisters it.

use super::directory::{DirectorySet, Listed, Listing, Role};
use super::holder::{DaemonHolder, Registration};
use super::options::{ServerLimits, ServerOptions, TlsProps, LIMIT_PROPS, TLS_PROPS};
use super::protocol::{ClassFamily, LogSite, Protocol};
use crate::component::{Component, CtorArgs, InitContext};
use crate::object::ObjectRef;
use crate::value::ContextValue;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tether_core::{Dispatch, Remotable};

/// What an exporter serves.
#[derive(Clone)]
pub enum ServiceTarget {
    /// An object of a context (served through its facets or its own dispatcher).
    Object(ObjectRef),
    /// A ready dispatcher (the programmatic API).
    Dispatch(Arc<dyn Dispatch>),
}

impl ServiceTarget {
    fn dispatcher(&self) -> Result<Arc<dyn Dispatch>, String> {
        match self {
            ServiceTarget::Object(o) => o.dispatcher(),
            ServiceTarget::Dispatch(d) => Ok(d.clone()),
        }
    }
}

/// Exports one service under a name at a host and port.
pub struct ServiceExporter {
    family: ClassFamily,
    protocol: Arc<dyn Protocol>,
    tls: TlsProps,
    limits: ServerLimits,
    hmac_key: Option<String>,
    name_server: Option<String>,
    metadata: Vec<String>,
    extra: Vec<(String, String)>,
    service: Option<ServiceTarget>,
    service_name: Option<String>,
    service_host: Option<String>,
    service_port: Option<u16>,
    options_override: Option<ServerOptions>,
    state: Mutex<Option<(Arc<DaemonHolder>, Registration)>>,
    /// The directories `discovery` may name (the registry's).
    directories: DirectorySet,
    /// A directory to list the service in (`etcd://host:port/prefix/`), and the lease's TTL.
    discovery: Option<String>,
    discovery_ttl: u64,
    listed: Mutex<Option<Box<dyn Listed>>>,
}

const PARAMS: [&str; 4] = ["service", "service_name", "service_host", "service_port"];

/// How long a graceful shutdown waits for a directory to remove the entry (its lease lapses
/// anyway).
const WITHDRAW_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl ServiceExporter {
    /// An exporter of class `family` over `protocol`, with Spring Python's defaults
    /// (`localhost`, 7766) and the protocol's default server options.
    pub fn new(family: ClassFamily, protocol: Arc<dyn Protocol>) -> Self {
        ServiceExporter {
            family,
            protocol,
            tls: TlsProps::default(),
            hmac_key: None,
            name_server: None,
            metadata: Vec::new(),
            extra: Vec::new(),
            limits: ServerLimits::default(),
            service: None,
            service_name: None,
            service_host: Some("localhost".to_string()),
            service_port: Some(7766),
            options_override: None,
            state: Mutex::new(None),
            directories: crate::builtins::directories(),
            discovery: None,
            discovery_ttl: 10,
            listed: Mutex::new(None),
        }
    }

    pub(crate) fn from_args(
        family: ClassFamily,
        protocol: Arc<dyn Protocol>,
        args: CtorArgs,
    ) -> Result<Self, String> {
        let mut e = Self::new(family, protocol);
        e.directories = args.directories().clone();
        let (pos, named) = args.into_parts();
        if pos.len() > PARAMS.len() {
            return Err(format!(
                "takes at most {} positional arguments ({}), {} given",
                PARAMS.len(),
                PARAMS.join(", "),
                pos.len()
            ));
        }
        for (name, v) in PARAMS.iter().zip(pos) {
            e.set_property(name, v)?;
        }
        for (name, v) in named {
            e.set_property(&name, v)?;
        }
        Ok(e)
    }

    /// Sets the object to export.
    pub fn set_service(&mut self, target: ServiceTarget) -> &mut Self {
        self.service = Some(target);
        self
    }

    /// Sets the object to export as an implementation of service trait `T`.
    pub fn set_service_impl<T: ?Sized + Remotable>(&mut self, service: Arc<T>) -> &mut Self {
        self.service = Some(ServiceTarget::Dispatch(T::dispatcher(service)));
        self
    }

    /// Sets the exported name.
    pub fn set_service_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.service_name = Some(name.into());
        self
    }

    /// Sets the host to bind (default `localhost`).
    pub fn set_service_host(&mut self, host: impl Into<String>) -> &mut Self {
        self.service_host = Some(host.into());
        self
    }

    /// Sets the port to bind (default 7766; 0 picks a free one).
    pub fn set_service_port(&mut self, port: u16) -> &mut Self {
        self.service_port = Some(port);
        self
    }

    /// Sets the server options (TLS, limits) as a whole, replacing those set by properties.
    pub fn set_server_options(&mut self, options: ServerOptions) -> &mut Self {
        self.options_override = Some(options);
        self
    }

    /// The server options the properties make.
    pub fn server_options(&self) -> Result<ServerOptions, String> {
        if let Some(o) = &self.options_override {
            return Ok(o.clone());
        }
        Ok(ServerOptions {
            tls: self.tls.server()?,
            limits: self.limits,
            hmac_key: self.hmac_key.clone(),
            extra: self.extra.clone(),
        })
    }

    /// Starts serving with the process-wide [`DaemonHolder::global`] (the programmatic API,
    /// Spring Python's explicit `after_properties_set()` call).
    pub fn after_properties_set(&self) -> Result<(), String> {
        Component::after_properties_set(self, &InitContext::standalone())
    }

    /// The URI clients use, once serving (`PYRO:ServiceName@127.0.0.1:7000`).
    pub fn uri(&self) -> Option<String> {
        let name = self.service_name.as_deref().unwrap_or("");
        self.lock()
            .as_ref()
            .map(|(_, r)| self.protocol.object_url(&r.uri, name))
    }

    /// The bound address, once serving (the real port when 0 was configured).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.lock().as_ref().map(|(_, r)| r.local_addr)
    }

    /// Stops serving this service and, if it was the last on its server, waits for the server
    /// to shut down gracefully.
    pub async fn close(&self) {
        let taken = self.lock().take();
        let listed = self.listed.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(l) = listed {
            let _ = tokio::time::timeout(WITHDRAW_WAIT, l.withdraw()).await;
        }
        if let Some((holder, reg)) = taken {
            self.unpublish(&reg);
            holder.deregister(&reg);
            holder.shutdown_idle().await;
        }
    }

    /// How the name server is reached: with the exporter's key (a keyed Pyro4 daemon's name
    /// server wants it too) and a bounded wait.
    fn directory_options(&self) -> super::ClientOptions {
        let mut o = super::ClientOptions::new();
        o.timeout = Some(std::time::Duration::from_secs(5));
        o.hmac_key = self.hmac_key.clone();
        o
    }

    /// Removes the name from the name server, if one was named (best effort: a name server
    /// that is gone is logged, not an error).
    fn unpublish(&self, reg: &Registration) {
        if let Some(ns) = &self.name_server {
            match self
                .protocol
                .unpublish(ns, &reg.name, &self.directory_options())
            {
                Ok(()) => (self.family.log)(
                    LogSite::Exporter,
                    format_args!("Removed {} from the name server {ns}", reg.name),
                ),
                Err(e) => tracing::warn!(
                    target: "tether::context",
                    "could not remove {} from the name server {ns}: {e}",
                    reg.name
                ),
            }
        }
    }

    /// Lists the service in the directory `url` (from a lifecycle hook: blocks on the
    /// runtime until the directory answered).
    fn list_in(
        &self,
        url: &str,
        name: &str,
        reg: &Registration,
    ) -> Result<Box<dyn Listed>, String> {
        let listing = Listing {
            name: name.to_string(),
            url: self.protocol.object_url(&reg.uri, name),
            addr: reg.local_addr,
            ttl: std::time::Duration::from_secs(self.discovery_ttl),
        };
        let listed = self.directories.for_url(url)?.list(url, listing);
        super::bind_on_current_runtime(listed).map_err(|e| e.message().to_string())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Arc<DaemonHolder>, Registration)>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Component for ServiceExporter {
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), String> {
        let none = value.is_none();
        match name {
            "service" => {
                self.service = match value {
                    ContextValue::Object(o) => Some(ServiceTarget::Object(o)),
                    _ if none => None,
                    other => {
                        return Err(format!(
                            "property 'service' expects a ref to an object, got {}",
                            other.describe()
                        ))
                    }
                }
            }
            "service_name" => {
                self.service_name = if none {
                    None
                } else {
                    Some(
                        value
                            .to_string_value()
                            .map_err(|e| format!("property 'service_name': {e}"))?,
                    )
                }
            }
            "service_host" => {
                self.service_host = if none {
                    None
                } else {
                    Some(
                        value
                            .to_string_value()
                            .map_err(|e| format!("property 'service_host': {e}"))?,
                    )
                }
            }
            "service_port" => {
                self.service_port = if none {
                    None
                } else {
                    Some(
                        value
                            .to_port()
                            .map_err(|e| format!("property 'service_port': {e}"))?,
                    )
                }
            }
            "hmac_key" => self.hmac_key = super::options::text_prop(name, &value)?,
            "name_server" => self.name_server = super::options::text_prop(name, &value)?,
            "discovery" => {
                let v = super::options::text_prop(name, &value)?;
                if let Some(v) = &v {
                    self.directories
                        .for_url(v)?
                        .check(v, Role::List)
                        .map_err(|e| format!("property 'discovery': {e}"))?;
                }
                self.discovery = v;
            }
            "discovery_ttl" => {
                self.discovery_ttl = u64::try_from(value.to_i64()?)
                    .map_err(|_| {
                        "property 'discovery_ttl' must be a positive number of seconds".to_string()
                    })?
                    .max(2)
            }
            "metadata" => {
                self.metadata = match &value {
                    v if v.is_none() => Vec::new(),
                    ContextValue::List(items)
                    | ContextValue::Tuple(items)
                    | ContextValue::Set(items)
                    | ContextValue::FrozenSet(items) => items
                        .iter()
                        .map(|i| {
                            i.to_string_value()
                                .map_err(|e| format!("property 'metadata': {e}"))
                        })
                        .collect::<Result<_, _>>()?,
                    other => {
                        return Err(format!(
                            "property 'metadata' expects a <list> or <set> of tags, got {}",
                            other.describe()
                        ))
                    }
                }
            }
            other if self.protocol.server_option_names().contains(&other) => {
                let v = super::options::extra_prop(other, &value)?;
                self.extra.retain(|(k, _)| k != other);
                self.extra.push((other.to_string(), v));
            }
            other => {
                if self.tls.set(other, &value)? || self.limits.set(other, &value)? {
                    return Ok(());
                }
                let wire = self.protocol.server_option_names();
                return Err(format!(
                    "has no property '{other}' (expected one of {}, hmac_key, name_server, metadata, discovery, discovery_ttl, {}, {}{}{})",
                    PARAMS.join(", "),
                    TLS_PROPS.join(", "),
                    LIMIT_PROPS.join(", "),
                    if wire.is_empty() { "" } else { ", " },
                    wire.join(", ")
                ));
            }
        }
        Ok(())
    }

    fn after_properties_set(&self, init: &InitContext) -> Result<(), String> {
        let service = self.service.as_ref().ok_or("service must NOT be None")?;
        let name = self
            .service_name
            .as_deref()
            .ok_or("service_name must NOT be None")?;
        let host = self
            .service_host
            .as_deref()
            .ok_or("service_host must NOT be None")?;
        let port = self.service_port.ok_or("service_port must NOT be None")?;
        if self.lock().is_some() {
            return Ok(());
        }
        let options = self.server_options()?;
        (self.family.log)(
            LogSite::Exporter,
            format_args!(
                "Exporting {name} as a {} service at {host}:{port}",
                self.family.word
            ),
        );
        let dispatcher = service.dispatcher()?;
        let reg = init.holder().register(
            &self.family,
            &self.protocol,
            &init.id,
            name,
            (host, port),
            options,
            dispatcher,
        )?;
        if let Some(ns) = &self.name_server {
            let published = self.protocol.publish(
                ns,
                name,
                &reg.uri,
                &self.metadata,
                &self.directory_options(),
            );
            if let Err(e) = published {
                init.holder().deregister(&reg);
                return Err(format!(
                    "cannot register {name} in the name server {ns}: {e}"
                ));
            }
            (self.family.log)(
                LogSite::Exporter,
                format_args!("Registered {name} in the name server {ns}"),
            );
        }
        if let Some(d) = &self.discovery {
            match self.list_in(d, name, &reg) {
                Ok(l) => *self.listed.lock().unwrap_or_else(|p| p.into_inner()) = Some(l),
                Err(e) => {
                    self.unpublish(&reg);
                    init.holder().deregister(&reg);
                    return Err(format!("cannot register {name} in {d}: {e}"));
                }
            }
            (self.family.log)(LogSite::Exporter, format_args!("Registered {name} in {d}"));
        }
        *self.lock() = Some((init.holder().clone(), reg));
        Ok(())
    }

    fn destroy(&self) -> Result<(), String> {
        let listed = self.listed.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(l) = listed {
            let _ = super::bind_on_current_runtime(async move {
                let _ = tokio::time::timeout(WITHDRAW_WAIT, l.withdraw()).await;
                Ok(())
            });
        }
        if let Some((holder, reg)) = self.lock().take() {
            self.unpublish(&reg);
            holder.deregister(&reg);
        }
        Ok(())
    }
}
