//! [`ServiceExporter`]: the exporter class of every protocol (Spring Python's
//! `PyroServiceExporter`, tether's `tether.pyro.ServiceExporter`, ...), bound to its
//! [`Protocol`] when its class name is registered.
//!
//! Properties (the first four also as named or positional constructor arguments, in this
//! order): `service` (a ref to the object to export; required), `service_name` (required),
//! `service_host` (default `localhost`), `service_port` (default 7766; `"7000"` or 7000), the
//! server options of [`super::props`] (TLS and limits), the wire's own options (named by its
//! [`Protocol::server_option_names`]), `discovery` (a directory URL such as
//! `etcd://host:port/prefix/`, default none) and `discovery_ttl` (seconds, default 10).
//! `after_properties_set` registers the service with the [`DaemonHolder`] (binding the server
//! at once when it is the first on its address) and lists it in the directories named by
//! `discovery` and by the wire's options ([`Protocol::directory_of`]: Pyro's `name_server`);
//! `destroy` withdraws and deregisters it.

use super::props::{set_limit, wire_prop, TlsProps, LIMIT_PROPS, TLS_PROPS};
use crate::component::{Component, CtorArgs, InitContext};
use crate::error::ContextError;
use crate::object::ObjectRef;
use crate::value::ContextValue;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tether_core::{Dispatch, Remotable};
use tether_remoting::{
    ClassFamily, ClientOptions, DaemonHolder, DirectorySet, Listed, Listing, LogSite, Protocol,
    Registration, Role, ServerLimits, ServerOptions, WireOptions,
};

/// What an exporter serves.
#[derive(Clone)]
pub enum ServiceTarget {
    /// An object of a context (served through its facets or its own dispatcher).
    Object(ObjectRef),
    /// A ready dispatcher (the programmatic API).
    Dispatch(Arc<dyn Dispatch>),
}

impl ServiceTarget {
    fn dispatcher(&self) -> Result<Arc<dyn Dispatch>, ContextError> {
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
    wire: WireOptions,
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
    listed: Mutex<Vec<Box<dyn Listed>>>,
    /// Run around each call the exporter dispatches.
    interceptors: Vec<Arc<dyn tether_remoting::Interceptor>>,
}

const PARAMS: [&str; 4] = ["service", "service_name", "service_host", "service_port"];

/// How long a graceful shutdown waits for a directory to remove the entry (its lease lapses
/// anyway).
const WITHDRAW_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl ServiceExporter {
    /// An exporter of class `family` over `protocol`, with Spring Python's defaults
    /// (`localhost`, 7766), the protocol's default server options and no directories
    /// ([`set_directories`](Self::set_directories) gives it a registry's).
    pub fn new(family: ClassFamily, protocol: Arc<dyn Protocol>) -> Self {
        ServiceExporter {
            family,
            protocol,
            tls: TlsProps::default(),
            wire: WireOptions::new(),
            limits: ServerLimits::default(),
            service: None,
            service_name: None,
            service_host: Some("localhost".to_string()),
            service_port: Some(7766),
            options_override: None,
            state: Mutex::new(None),
            directories: DirectorySet::default(),
            discovery: None,
            discovery_ttl: 10,
            listed: Mutex::new(Vec::new()),
            interceptors: Vec::new(),
        }
    }

    pub(crate) fn from_args(
        family: ClassFamily,
        protocol: Arc<dyn Protocol>,
        args: CtorArgs,
    ) -> Result<Self, ContextError> {
        let mut e = Self::new(family, protocol);
        e.directories = args.directories().clone();
        let (pos, named) = args.into_parts();
        let params = family.exporter_params;
        if pos.len() > params.len() {
            return Err(format!(
                "takes at most {} positional arguments ({}), {} given",
                params.len(),
                params.join(", "),
                pos.len()
            )
            .into());
        }
        for (name, v) in params.iter().zip(pos) {
            e.set_property(name, v)?;
        }
        for (name, v) in named {
            e.set_property(&name, v)?;
        }
        Ok(e)
    }

    /// The directories `discovery` and the wire's options may name.
    pub fn set_directories(&mut self, directories: DirectorySet) -> &mut Self {
        self.directories = directories;
        self
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
    pub fn server_options(&self) -> Result<ServerOptions, ContextError> {
        if let Some(o) = &self.options_override {
            return Ok(o.clone());
        }
        let mut o = ServerOptions::new().with_limits(self.limits);
        o.tls = self.tls.server()?;
        o.wire = self.wire.clone();
        Ok(o)
    }

    /// Starts serving with the process-wide [`DaemonHolder::global`] (the programmatic API,
    /// Spring Python's explicit `after_properties_set()` call).
    pub fn after_properties_set(&self) -> Result<(), ContextError> {
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
        let listed = std::mem::take(&mut *self.listed.lock().unwrap_or_else(|p| p.into_inner()));
        for l in listed {
            let _ = tokio::time::timeout(WITHDRAW_WAIT, l.withdraw()).await;
        }
        if let Some((holder, reg)) = taken {
            holder.deregister(&reg);
            holder.shutdown_idle().await;
        }
    }

    /// Lists the service in the directory `url` (from a lifecycle hook: blocks on the
    /// runtime until the directory answered).
    fn list_in(
        &self,
        url: &str,
        name: &str,
        reg: &Registration,
    ) -> Result<Box<dyn Listed>, ContextError> {
        let mut options = ClientOptions::new();
        options.timeout = Some(std::time::Duration::from_secs(5));
        options.wire = self.wire.clone();
        let listing = Listing {
            name: name.to_string(),
            url: self.protocol.object_url(&reg.uri, name),
            addr: reg.local_addr,
            ttl: std::time::Duration::from_secs(self.discovery_ttl),
            protocol: self.protocol.name(),
            options,
        };
        let listed = self
            .directories
            .for_url(url)
            .map_err(ContextError::from)?
            .list(url, listing);
        tether_remoting::bind_on_current_runtime(listed).map_err(ContextError::from)
    }

    /// Withdraws every listing (best effort, bounded) from a synchronous hook.
    fn withdraw_all(&self) {
        let listed = std::mem::take(&mut *self.listed.lock().unwrap_or_else(|p| p.into_inner()));
        if listed.is_empty() {
            return;
        }
        let _ = tether_remoting::bind_on_current_runtime(async move {
            for l in listed {
                let _ = tokio::time::timeout(WITHDRAW_WAIT, l.withdraw()).await;
            }
            Ok(())
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Arc<DaemonHolder>, Registration)>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Component for ServiceExporter {
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError> {
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
                        )
                        .into())
                    }
                }
            }
            "service_name" => {
                self.service_name =
                    if none {
                        None
                    } else {
                        Some(value.to_string_value().map_err(|e| {
                            ContextError::from(format!("property 'service_name': {e}"))
                        })?)
                    }
            }
            // `host` and `port` are Spring Python's SSLServer's names for them.
            "service_host" | "host" => {
                self.service_host =
                    if none {
                        None
                    } else {
                        Some(value.to_string_value().map_err(|e| {
                            ContextError::from(format!("property 'service_host': {e}"))
                        })?)
                    }
            }
            "service_port" | "port" => {
                self.service_port =
                    if none {
                        None
                    } else {
                        Some(value.to_port().map_err(|e| {
                            ContextError::from(format!("property 'service_port': {e}"))
                        })?)
                    }
            }
            "interceptors" => {
                self.interceptors = super::props::interceptors_prop(name, &value)?;
            }
            "discovery" => {
                let v = super::props::text_prop(name, &value)?;
                if let Some(v) = &v {
                    self.directories
                        .for_url(v)
                        .and_then(|d| d.check(v, Role::List))
                        .map_err(|e| ContextError::from(format!("property 'discovery': {e}")))?;
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
            other if self.protocol.server_option_names().contains(&other) => {
                if none {
                    self.wire.remove(other);
                } else {
                    self.wire.set(other, wire_prop(other, &value)?);
                }
                self.protocol
                    .check_server_options(&self.wire)
                    .map_err(|e| ContextError::from(format!("property '{other}': {e}")))?;
            }
            other => {
                if self.tls.set(other, &value)? || set_limit(&mut self.limits, other, &value)? {
                    return Ok(());
                }
                let wire = self.protocol.server_option_names();
                return Err(format!(
                    "has no property '{other}' (expected one of {}, interceptors, discovery, discovery_ttl, {}, {}{}{})",
                    PARAMS.join(", "),
                    TLS_PROPS.join(", "),
                    LIMIT_PROPS.join(", "),
                    if wire.is_empty() { "" } else { ", " },
                    wire.join(", ")
                ).into());
            }
        }
        Ok(())
    }

    fn after_properties_set(&self, init: &InitContext) -> Result<(), ContextError> {
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
        let dispatcher =
            tether_remoting::InterceptedDispatch::wrap(&self.interceptors, service.dispatcher()?);
        // The server is shared: the options that are this exporter's own stay out of it.
        let mut server_options = options.clone();
        for own in self.protocol.exporter_option_names() {
            server_options.wire.remove(own);
        }
        let reg = init
            .holder()
            .register(
                &self.family,
                &self.protocol,
                &init.id,
                name,
                (host, port),
                server_options,
                dispatcher,
            )
            .map_err(ContextError::from)?;
        let wire_directory = match self.protocol.directory_of(&options) {
            Ok(d) => d,
            Err(e) => {
                init.holder().deregister(&reg);
                return Err(ContextError::from(e));
            }
        };
        for d in self.discovery.iter().chain(wire_directory.iter()) {
            match self.list_in(d, name, &reg) {
                Ok(l) => self
                    .listed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(l),
                Err(e) => {
                    self.withdraw_all();
                    init.holder().deregister(&reg);
                    return Err(format!("cannot register {name} in {d}: {e}").into());
                }
            }
            (self.family.log)(LogSite::Exporter, format_args!("Registered {name} in {d}"));
        }
        *self.lock() = Some((init.holder().clone(), reg));
        Ok(())
    }

    fn destroy(&self) -> Result<(), ContextError> {
        self.withdraw_all();
        if let Some((holder, reg)) = self.lock().take() {
            holder.deregister(&reg);
        }
        Ok(())
    }
}
