//! # tether: configuration-driven remoting for Rust
//!
//! After the remoting chapter of Spring Python: a service is a Rust trait plus an
//! implementation, and whether a caller holds the local object or a proxy to another process is
//! decided by an application context file, not by code. The same service can be exported over
//! several wire protocols at once.
//!
//! This crate is the one users depend on. It re-exports the pieces, which live in:
//!
//! | crate | holds | here as |
//! |---|---|---|
//! | `tether-core` | [`Value`], [`RemoteError`], [`Call`], the [`Invoker`] (client) and [`Dispatch`] (server) traits, [`to_value`]/[`from_value`], the registry glue ([`Remotable`], [`FacetEntry`], [`ClassEntry`]), [`LocalInvoker`], the blocking facade ([`Blocking`]) | the crate root |
//! | `tether-macros` | [`#[service]`](service) and [`#[component]`](component) | [`service`], [`component`] |
//! | `tether-remoting` | the protocol seam: protocol and directory traits, options, the shared servers | [`remoting`] |
//! | `tether-pyro` | Pyro5, Pyro4 and (feature `pyro3`) Pyro 3: serializers, daemon, proxy, name server | [`pyro`] |
//! | `tether-hessian` | Hessian 1.0/2.0 over HTTP | [`hessian`] |
//! | `tether-xmlrpc` | XML-RPC over HTTP(S) | [`xmlrpc`] |
//! | `tether-cluster` | pools, balancing, failover, discovery (etcd) | [`cluster`] |
//! | `tether-context` | the IoC container (Spring Python "objects" XML contexts) | [`context`] |
//!
//! Each wire, the pool and the container sit behind cargo features (`pyro`, `hessian`,
//! `xmlrpc`, `pyro3`, `cluster`, `context`: all on by default), so a program that only
//! needs the data model and the macros can leave them out. This crate is the one place that
//! knows every wire: [`register_builtins`] registers each one compiled in.
//!
//! ## The flow of one call
//!
//! client code → generated proxy `XProxy` (typed args → [`Value`]s with [`to_value`]) →
//! [`Invoker`] (a protocol client, a pool, or a [`LocalInvoker`]) → codec → socket → codec →
//! [`Dispatch`] (generated `XDispatcher`: binds positional and keyword arguments by parameter
//! name, [`from_value`] into typed args, calls the implementation) → result [`Value`] → back
//! the same way. Typed ↔ `Value` conversion happens once at each end; codecs only see values.
//!
//! ## What `#[tether::service]` generates
//!
//! For `trait DataService`:
//! - the trait itself in a dyn-compatible shape (boxed `Send` futures, `Send + Sync`
//!   supertraits), so `Arc<dyn DataService>` is the type for a local object and a proxy alike;
//! - `DataServiceProxy` (`DataServiceProxy::new(Arc<dyn Invoker>)`), which implements the trait
//!   by sending [`Call`]s;
//! - `DataServiceDispatcher<S: ?Sized>(pub Arc<S>)`, a [`Dispatch`] over any implementation;
//! - `impl Remotable for dyn DataService` and `impl<S: DataService> UpcastFrom<S> for dyn
//!   DataService`, which the container and exporters use (`<dyn DataService as
//!   Remotable>::proxy(..)` / `::dispatcher(..)`);
//! - `trait DataServiceBlocking`, the same methods without `async`, implemented for
//!   [`Blocking<dyn DataService>`](Blocking).
//!
//! Put the **same attribute on the impl block** (`#[tether::service] impl DataService for
//! Service`): it makes the impl match the rewritten trait and registers the facet "`Service`
//! provides `dyn DataService`". `#[tether::component("server.Service")]` registers the class
//! name that XML contexts use (the type must implement `Default`).
//!
//! Parameters bind like Python's: positionally or by keyword (the Rust parameter name), and an
//! `Option<T>` parameter may be omitted (it reads as `None`). A `&str`, `&[T]` or `&T`
//! parameter is received as `String`, `Vec<T>` or `T` and lent to the implementation. A
//! parameter or result of type [`Value`] passes through unchanged (tuple stays tuple, 32-bit
//! int stays 32-bit), which makes fully dynamic services easy.
//!
//! Method options go in `#[tether(...)]` on trait methods: `name = "getData"` (the wire name,
//! e.g. for camelCase Java services), `oneway` (no reply; returns `Result<(), E>`),
//! `getter = "attr"` / `setter = "attr"` (a Pyro attribute read and written through
//! `__getattr__` / `__setattr__`).
//!
//! ## Example
//!
//! ```
//! use std::sync::Arc;
//! use tether::{LocalInvoker, Remotable, RemoteError};
//!
//! #[tether::service]
//! pub trait DataService {
//!     async fn get_data(&self, param: String) -> Result<String, RemoteError>;
//! }
//!
//! #[tether::component("server.Service")]
//! #[derive(Default)]
//! pub struct Service;
//!
//! #[tether::service]
//! impl DataService for Service {
//!     async fn get_data(&self, param: String) -> Result<String, RemoteError> {
//!         Ok(format!("You got remote data => {param}"))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), RemoteError> {
//! // The local object and a proxy to it have the same type and give the same answer.
//! let local: Arc<dyn DataService> = Arc::new(Service);
//! let proxy = <dyn DataService>::proxy(Arc::new(LocalInvoker::of(local.clone())));
//! assert_eq!(local.get_data("Hello".into()).await?, "You got remote data => Hello");
//! assert_eq!(proxy.get_data("Hello".into()).await?, "You got remote data => Hello");
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub use tether_core::*;
pub use tether_macros::{component, service};

/// The Pyro5 wire protocol (serializers, daemon, proxy): the `tether-pyro` crate (feature `pyro`).
#[cfg(feature = "pyro")]
pub use tether_pyro as pyro;

/// Hessian 1.0 and 2.0 over HTTP (codec, server, proxy): the `tether-hessian` crate (feature
/// `hessian`).
#[cfg(feature = "hessian")]
pub use tether_hessian as hessian;

/// XML-RPC over HTTP and HTTPS (codec, server, client): the `tether-xmlrpc` crate (feature
/// `xmlrpc`).
#[cfg(feature = "xmlrpc")]
pub use tether_xmlrpc as xmlrpc;

/// Pools and discovery (feature `cluster`).
#[cfg(feature = "cluster")]
pub use tether_cluster as cluster;

/// The IoC container for Spring Python "objects" XML contexts: the `tether-context` crate
/// (feature `context`).
#[cfg(feature = "context")]
pub use tether_context as context;
/// Observability: spans exported over OTLP, Prometheus metrics, the admin endpoint, the
/// built-in interceptors (feature `observe`). Call [`observe::init`] once in `main`.
#[cfg(feature = "observe")]
pub use tether_observe as observe;

/// The container types most programs need, at the crate root: `tether::ApplicationContext`.
#[cfg(feature = "context")]
pub use tether_context::{ApplicationContext, BlockingContext, ClassRegistry};

/// The protocol seam (`tether-remoting`): what a wire, a directory and a shell adapter
/// implement.
pub use tether_remoting as remoting;

/// Registers every wire, directory and pool class this build's cargo features compiled in,
/// one line per feature, into `registry`. [`ClassRegistry::from_inventory`] (and so
/// `ApplicationContext::from_xml_files`) calls it through [`context::Builtins`]; call it
/// yourself on a registry made with `ClassRegistry::empty()`.
#[cfg(feature = "context")]
pub fn register_builtins(registry: &mut tether_context::ClassRegistry) {
    #[cfg(feature = "hessian")]
    registry.register_protocol(std::sync::Arc::new(tether_hessian::seam::Hessian::default()));
    #[cfg(feature = "xmlrpc")]
    registry.register_protocol(std::sync::Arc::new(tether_xmlrpc::seam::XmlRpc));
    #[cfg(feature = "pyro")]
    registry
        .register_protocol(std::sync::Arc::new(tether_pyro::seam::Pyro5::default()))
        .register_protocol(std::sync::Arc::new(tether_pyro::seam::Pyro4::default()))
        .register_directory(std::sync::Arc::new(
            tether_pyro::seam::PyroNameServerDirectory,
        ))
        .set_default_protocol("pyro5");
    // After Pyro5: Spring Python's Pyro names and PYROLOC:// URLs become Pyro 3's.
    #[cfg(feature = "pyro3")]
    registry.register_protocol(std::sync::Arc::new(tether_pyro::seam::Pyro3::default()));
    #[cfg(feature = "cluster")]
    {
        tether_cluster::component::register(registry);
        registry.register_directory(std::sync::Arc::new(
            tether_cluster::discovery::EtcdDirectory,
        ));
    }
    #[cfg(feature = "observe")]
    tether_observe::register(registry);
    #[cfg(not(feature = "hessian"))]
    for name in [
        "springpython.remoting.hessian.HessianProxyFactory",
        "tether.hessian.ProxyFactory",
    ] {
        registry.register_not_built(name, HESSIAN_NOT_BUILT);
    }
}

/// The message for Hessian class names when the `hessian` feature is off.
#[cfg(all(feature = "context", not(feature = "hessian")))]
pub const HESSIAN_NOT_BUILT: &str =
    "Hessian is not compiled into this build (cargo feature `hessian` of tether): HessianProxyFactory cannot be loaded";

#[cfg(feature = "context")]
inventory::submit!(tether_context::Builtins(register_builtins));

/// Re-exports for generated code; not a public API. User crates need only `tether` in their
/// `Cargo.toml` because the macros name everything through here.
#[doc(hidden)]
pub mod __private {
    pub use async_trait;
    pub use inventory;
    pub use tether_core;
}
