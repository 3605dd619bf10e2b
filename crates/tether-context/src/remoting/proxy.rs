//! [`ProxyFactory`]: the proxy factory class of every protocol (Spring Python's
//! `PyroProxyFactory`, tether's `tether.pyro.ProxyFactory`, the generic `tether.ProxyFactory`
//! that picks the protocol from the URL): a lazy client for `service_url`.
//!
//! Setting a property only parses and checks; the first call connects. The container never
//! runs lifecycle hooks on a proxy factory (Spring Python skips them by class name for the same
//! reason: no hook may open a connection), and `ctx.get::<dyn T>(id)` wraps its invoker in
//! `T::proxy`, cached per trait. Properties: `service_url` (also the one positional
//! constructor argument), the client options of [`super::props`], and the wire's own (named
//! by its [`Protocol::client_option_names`]).

use super::props::{text_prop, timeout_prop, wire_prop, TlsProps, TLS_PROPS};
use crate::component::{Component, CtorArgs};
use crate::error::ContextError;
use crate::value::ContextValue;
use std::sync::Arc;
use tether_core::{BoxFuture, Call, Invoker, Remotable, RemoteError, Value};
use tether_remoting::{ClassFamily, ClientOptions, Protocol, ProtocolSet};

/// Which protocol a factory speaks.
#[derive(Clone)]
enum Wire {
    /// Fixed by its class name.
    Fixed(Arc<dyn Protocol>),
    /// Whichever protocol of the set claims the URL.
    ByUrl(ProtocolSet),
}

/// A lazy remote object.
pub struct ProxyFactory {
    family: ClassFamily,
    wire: Wire,
    service_url: Option<String>,
    tls: TlsProps,
    options: ClientOptions,
    invoker: Option<Arc<dyn Invoker>>,
    /// Run around each call.
    interceptors: Vec<Arc<dyn tether_remoting::Interceptor>>,
    /// The methods a gateway answers with (`methods`); default: the target's own list.
    methods: Option<Vec<String>>,
    /// This proxy served as an object (a gateway), made when an exporter first asks.
    forward: std::sync::OnceLock<Arc<dyn tether_core::Dispatch>>,
}

impl std::fmt::Debug for ProxyFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyFactory")
            .field("class", &self.family.proxy)
            .field("service_url", &self.service_url)
            .finish()
    }
}

struct NoUrl;

impl Invoker for NoUrl {
    fn invoke(&self, _call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(async { Err(RemoteError::config("proxy factory has no service_url")) })
    }
}

const PROPS: [&str; 5] = [
    "service_url",
    "timeout",
    "serializer",
    "interceptors",
    "methods",
];

impl ProxyFactory {
    /// A proxy factory of class `family` speaking `protocol`, with no URL yet.
    pub fn new(family: ClassFamily, protocol: Arc<dyn Protocol>) -> Self {
        Self::with_wire(family, Wire::Fixed(protocol))
    }

    /// A proxy factory that speaks whichever protocol of `protocols` claims its URL (the
    /// generic `tether.ProxyFactory`).
    pub fn by_url(family: ClassFamily, protocols: ProtocolSet) -> Self {
        Self::with_wire(family, Wire::ByUrl(protocols))
    }

    fn with_wire(family: ClassFamily, wire: Wire) -> Self {
        ProxyFactory {
            family,
            wire,
            service_url: None,
            tls: TlsProps::default(),
            options: ClientOptions::default(),
            invoker: None,
            methods: None,
            forward: std::sync::OnceLock::new(),
            interceptors: Vec::new(),
        }
    }

    pub(crate) fn from_args(mut p: ProxyFactory, args: CtorArgs) -> Result<Self, ContextError> {
        let (pos, named) = args.into_parts();
        let params = p.family.proxy_params;
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
            p.set_property(name, v)?;
        }
        for (n, v) in named {
            p.set_property(&n, v)?;
        }
        Ok(p)
    }

    /// Sets the URL; parses and checks only.
    pub fn set_service_url(&mut self, url: &str) -> Result<&mut Self, ContextError> {
        self.service_url = Some(url.to_string());
        self.rebuild()?;
        Ok(self)
    }

    /// Sets the client options as a whole (TLS, timeout, serializer).
    pub fn set_client_options(
        &mut self,
        options: ClientOptions,
    ) -> Result<&mut Self, ContextError> {
        self.options = options;
        self.rebuild()?;
        Ok(self)
    }

    /// The URL.
    pub fn service_url(&self) -> Option<&str> {
        self.service_url.as_deref()
    }

    /// The remote object as service trait `T` (no network until the first call).
    pub fn service<T: ?Sized + Remotable>(&self) -> Arc<T> {
        T::proxy(self.invoker_or_missing())
    }

    /// A new client for the same URL and options (its own connection), e.g. for load tests
    /// that want several connections.
    pub fn fresh_invoker(&self) -> Result<Arc<dyn Invoker>, ContextError> {
        let url = self
            .service_url
            .as_deref()
            .ok_or("proxy factory has no service_url")?;
        let invoker = self
            .protocol_for(url)?
            .proxy(url, &self.options)
            .map_err(ContextError::from)?;
        Ok(tether_remoting::Intercepted::wrap(
            &self.interceptors,
            invoker,
        ))
    }

    /// How the protocol prints a result for a person (see
    /// [`Shell::repr`](tether_remoting::Shell::repr)).
    pub fn repr(&self, value: &Value) -> String {
        match self.service_url.as_deref().map(|u| self.protocol_for(u)) {
            Some(Ok(p)) => p.shell().repr(value, &self.options),
            _ => tether_core::python::repr(value),
        }
    }

    fn protocol_for(&self, url: &str) -> Result<Arc<dyn Protocol>, ContextError> {
        match &self.wire {
            Wire::Fixed(p) => Ok(p.clone()),
            Wire::ByUrl(set) => set.for_url(url).cloned().map_err(ContextError::from),
        }
    }

    /// Makes the client again from the URL and the options, so a mistake in either is
    /// reported at the property that made it.
    fn rebuild(&mut self) -> Result<(), ContextError> {
        let Some(url) = &self.service_url else {
            return Ok(());
        };
        let invoker = self
            .protocol_for(url)?
            .proxy(url, &self.options)
            .map_err(ContextError::from)?;
        self.invoker = Some(tether_remoting::Intercepted::wrap(
            &self.interceptors,
            invoker,
        ));
        Ok(())
    }

    fn invoker_or_missing(&self) -> Arc<dyn Invoker> {
        self.invoker.clone().unwrap_or_else(|| Arc::new(NoUrl))
    }
}

impl Component for ProxyFactory {
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError> {
        match name {
            // `uri` is Spring Python's SSLClient's name for it.
            "service_url" | "uri" => {
                let url = value
                    .to_string_value()
                    .map_err(|e| ContextError::from(format!("property 'service_url': {e}")))?;
                return self.set_service_url(&url).map(|_| ());
            }
            "timeout" => self.options.timeout = timeout_prop(name, &value)?,
            "interceptors" => self.interceptors = super::props::interceptors_prop(name, &value)?,
            "serializer" => self.options.serializer = text_prop(name, &value)?,
            "methods" => {
                self.methods = Some(super::props::text_list_prop(name, &value)?);
                return Ok(());
            }
            other if matches!(&self.wire, Wire::Fixed(p) if p.client_option_names().contains(&other)) => {
                if value.is_none() {
                    self.options.wire.remove(other);
                } else {
                    self.options.wire.set(other, wire_prop(other, &value)?);
                }
            }
            // TLS settings depend on each other (a certfile needs its ca_certs, ...): they are
            // stored here and checked together once every property is set, in any order.
            other if self.tls.set(other, &value)? => return Ok(()),
            other => {
                let wire: &[&str] = match &self.wire {
                    Wire::Fixed(p) => p.client_option_names(),
                    Wire::ByUrl(_) => &[],
                };
                return Err(format!(
                    "has no property '{other}' (expected one of {}{}{}, {})",
                    PROPS.join(", "),
                    if wire.is_empty() { "" } else { ", " },
                    wire.join(", "),
                    TLS_PROPS
                        .iter()
                        .filter(|p| *p != &"verify_fields")
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                )
                .into());
            }
        }
        self.rebuild()
    }

    fn properties_set(&mut self) -> Result<(), ContextError> {
        let tls = self.tls.client()?;
        if tls != self.options.tls {
            self.options.tls = tls;
            self.rebuild()?;
        }
        Ok(())
    }

    fn invoker(&self) -> Option<Arc<dyn Invoker>> {
        Some(self.invoker_or_missing())
    }

    /// Exported, a proxy forwards: the gateway between its wire and the exporter's.
    fn dispatcher(&self) -> Option<Arc<dyn tether_core::Dispatch>> {
        let d = self.forward.get_or_init(|| {
            tether_remoting::gateway::forwarder(self.invoker_or_missing(), self.methods.as_deref())
        });
        Some(d.clone())
    }
}
