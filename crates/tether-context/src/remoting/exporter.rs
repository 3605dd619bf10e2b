//! [`ServiceExporter`]: Spring Python's `PyroServiceExporter` (and `Pyro4ServiceExporter`,
//! and tether's `tether.pyro.ServiceExporter`).
//!
//! Properties (also accepted as named or positional constructor arguments, in this order):
//! `service` (a ref to the object to export; required), `service_name` (required),
//! `service_host` (default `localhost`), `service_port` (default 7766; `"7000"` or 7000).
//! `after_properties_set` registers the service with the [`DaemonHolder`] (binding the server
//! at once when it is the first on its address); `destroy` deregisters it.

use super::holder::{DaemonHolder, Registration};
use super::transport::Transport;
use super::{log_exporter, Flavor};
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
    flavor: Flavor,
    transport: Arc<dyn Transport>,
    service: Option<ServiceTarget>,
    service_name: Option<String>,
    service_host: Option<String>,
    service_port: Option<u16>,
    state: Mutex<Option<(Arc<DaemonHolder>, Registration)>>,
}

const PARAMS: [&str; 4] = ["service", "service_name", "service_host", "service_port"];

impl ServiceExporter {
    /// A Pyro exporter with Spring Python's defaults (`localhost`, 7766) over `transport`.
    pub fn new(flavor: Flavor, transport: Arc<dyn Transport>) -> Self {
        ServiceExporter {
            flavor,
            transport,
            service: None,
            service_name: None,
            service_host: Some("localhost".to_string()),
            service_port: Some(7766),
            state: Mutex::new(None),
        }
    }

    /// `springpython.remoting.pyro.PyroServiceExporter` over the default Pyro5 transport.
    pub fn pyro() -> Self {
        Self::new(Flavor::Pyro, crate::remoting::Transports::default().pyro)
    }

    pub(crate) fn from_args(flavor: Flavor, args: CtorArgs) -> Result<Self, String> {
        let transport = args.transports.pyro.clone();
        let (pos, named) = args.into_parts();
        let mut e = Self::new(flavor, transport);
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

    /// Starts serving with the process-wide [`DaemonHolder::global`] (the programmatic API,
    /// Spring Python's explicit `after_properties_set()` call).
    pub fn after_properties_set(&self) -> Result<(), String> {
        Component::after_properties_set(self, &InitContext::standalone())
    }

    /// The URI clients use, once serving (`PYRO:ServiceName@127.0.0.1:7000`).
    pub fn uri(&self) -> Option<String> {
        self.lock().as_ref().map(|(_, r)| r.uri.clone())
    }

    /// The bound address, once serving (the real port when 0 was configured).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.lock().as_ref().map(|(_, r)| r.local_addr)
    }

    /// Stops serving this service and, if it was the last on its server, waits for the server
    /// to shut down gracefully.
    pub async fn close(&self) {
        let taken = self.lock().take();
        if let Some((holder, reg)) = taken {
            holder.deregister(&reg);
            holder.shutdown_idle().await;
        }
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
            other => {
                return Err(format!(
                    "has no property '{other}' (expected one of {})",
                    PARAMS.join(", ")
                ))
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
        log_exporter!(
            self.flavor,
            "Exporting {name} as a {} service at {host}:{port}",
            self.flavor.word()
        );
        let dispatcher = service.dispatcher()?;
        let reg =
            init.holder()
                .register(self.flavor, &self.transport, name, host, port, dispatcher)?;
        *self.lock() = Some((init.holder().clone(), reg));
        Ok(())
    }

    fn destroy(&self) -> Result<(), String> {
        if let Some((holder, reg)) = self.lock().take() {
            holder.deregister(&reg);
        }
        Ok(())
    }
}
