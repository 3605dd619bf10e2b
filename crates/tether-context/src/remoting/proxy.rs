//! [`ProxyFactory`]: Spring Python's `PyroProxyFactory` / `Pyro4ProxyFactory` (and
//! `tether.pyro.ProxyFactory`): a lazy client for `service_url`.
//!
//! Setting `service_url` only parses it; the first call connects. The container never runs
//! lifecycle hooks on a proxy factory (Spring Python skips them by class name for the same
//! reason: no hook may open a connection), and `ctx.get::<dyn T>(id)` wraps its invoker in
//! `T::proxy`, cached per trait.

use super::transport::Transport;
use super::Flavor;
use crate::component::{Component, CtorArgs};
use crate::value::ContextValue;
use std::sync::Arc;
use tether_core::{BoxFuture, Call, Invoker, Remotable, RemoteError, Value};

/// A lazy remote object.
pub struct ProxyFactory {
    flavor: Flavor,
    transport: Arc<dyn Transport>,
    service_url: Option<String>,
    invoker: Option<Arc<dyn Invoker>>,
}

impl std::fmt::Debug for ProxyFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyFactory")
            .field("flavor", &self.flavor)
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

impl ProxyFactory {
    /// A proxy factory with no URL yet.
    pub fn new(flavor: Flavor, transport: Arc<dyn Transport>) -> Self {
        ProxyFactory {
            flavor,
            transport,
            service_url: None,
            invoker: None,
        }
    }

    /// `springpython.remoting.pyro.PyroProxyFactory` over the default Pyro5 transport.
    pub fn pyro() -> Self {
        Self::new(Flavor::Pyro, crate::remoting::Transports::default().pyro)
    }

    pub(crate) fn from_args(flavor: Flavor, args: CtorArgs) -> Result<Self, String> {
        let transport = args.transports.pyro.clone();
        let (pos, named) = args.into_parts();
        let mut p = Self::new(flavor, transport);
        if pos.len() > 1 {
            return Err(format!(
                "takes at most one positional argument (service_url), {} given",
                pos.len()
            ));
        }
        for v in pos {
            p.set_property("service_url", v)?;
        }
        for (n, v) in named {
            p.set_property(&n, v)?;
        }
        Ok(p)
    }

    /// Sets the URL (`PYROLOC://host:port/name` or `PYRO:name@host:port`); parses only.
    pub fn set_service_url(&mut self, url: &str) -> Result<&mut Self, String> {
        self.invoker = Some(self.transport.proxy(url)?);
        self.service_url = Some(url.to_string());
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

    fn invoker_or_missing(&self) -> Arc<dyn Invoker> {
        self.invoker.clone().unwrap_or_else(|| Arc::new(NoUrl))
    }
}

impl Component for ProxyFactory {
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), String> {
        match name {
            "service_url" => {
                let url = value
                    .to_string_value()
                    .map_err(|e| format!("property 'service_url': {e}"))?;
                self.set_service_url(&url).map(|_| ())
            }
            other => Err(format!("has no property '{other}' (expected service_url)")),
        }
    }

    fn invoker(&self) -> Option<Arc<dyn Invoker>> {
        Some(self.invoker_or_missing())
    }
}
