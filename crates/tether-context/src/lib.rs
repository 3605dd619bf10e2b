//! # tether-context: the IoC container that loads Spring Python's "objects" XML unchanged
//!
//! ```no_run
//! # async fn demo() -> Result<(), tether_context::ContextError> {
//! use tether_context::{ApplicationContext, ClassRegistry};
//! let mut registry = ClassRegistry::from_inventory(); // built-ins + #[tether::component] classes
//! // registry.register::<MyConfigurable>("server.Config");
//! let ctx = ApplicationContext::builder().registry(registry).xml_file("server.xml").start().await?;
//! // let service = ctx.get::<dyn DataService>("service")?;   // local object or proxy alike
//! ctx.close().await; // destroy hooks, then graceful server shutdown
//! # Ok(()) }
//! ```
//!
//! Rooms:
//! - `xml.rs`: the XML format (namespaces 1.0, 1.1, other, none) → `def.rs` definitions.
//! - `registry.rs`: [`ClassRegistry`], class names → constructors, facets; `builtins.rs`: the
//!   Spring Python and tether class names that every registry knows.
//! - `component.rs`: [`Component`], how a class takes properties and joins the lifecycle.
//! - `value.rs`: [`ContextValue`], what gets injected; typed sinks such as `to_port`.
//! - `object.rs`: [`ObjectRef`], one object and its views (`get::<dyn T>`, `dispatcher`).
//! - `context/`: [`ApplicationContext`] (`mod.rs`: getting objects, close), its builder
//!   (`builder.rs`), creating one object (`create.rs`) and the lifecycle (`lifecycle.rs`).
//! - `remoting/`: the generic exporter and proxy factory over the protocol seam (the
//!   `tether-remoting` crate, re-exported as [`remoting`]), and how they read options.
//! - `aop.rs`: Spring Python's AOP classes (`ProxyFactoryObject`, `RegexpMethodPointcutAdvisor`)
//!   over the seam's [`remoting::Interceptor`].
//! - `signal.rs`: [`wait_for_signal`] (SIGINT/SIGTERM) for servers' main loops.
//! - `blocking.rs`: [`BlockingContext`], the same for programs without an async runtime.
//!
//! The container names no wire, no directory and no command line: wires come in through
//! [`ClassRegistry::register_protocol`] (the `tether` facade registers the built-in ones
//! through [`Builtins`]), the command line lives in the `tether-cli` crate.
//!
//! ## Where tether differs from Spring Python on purpose
//! Valid Spring Python files load with the same ids, inner-object path ids, last-wins
//! overrides (across files), string values with the exact `True`/`False` rule, lifecycle order
//! and log lines. These Spring Python bugs are fixed:
//! - `lazy-init="false"` and `abstract="false"` mean false (Python: any non-empty text is true);
//! - an empty `<value/>` is `""` (Python: the string `"None"`); `<null/>` is `None` (Python:
//!   the property is silently skipped);
//! - a top-level `<description>` is ignored (Python: a crash at start);
//! - a bad scope is a clear error (Python: `NameError`);
//! - dependency cycles are reported with their chain (Python: `RuntimeError` recursion);
//! - property refs to prototypes work (Python: `KeyError`), and every prototype instance gets
//!   fresh collections (Python shares one list/dict between instances);
//! - eager singletons are created in document order (Python: dict order); prototypes and
//!   abstract objects are not created eagerly; lazy singletons and prototypes get their hooks
//!   when created (Python: never);
//! - a bind error fails context start (Python: Pyro 3 silently scans for a free port), and no
//!   half-started server remains;
//! - anything not understood is an error with file, line and object id: unknown elements and
//!   attributes, an empty `<property>`, an unknown class, a ref to an undefined id, a duplicate
//!   id **within one file** (across files the later definition still wins, with a DEBUG line),
//!   `<import>`/`<alias>` (unsupported, as in Spring Python), a bad port;
//! - `destroy_method` attributes do not exist; a [`Component`] implements `destroy`.
//!
//! ## User classes
//! A class name maps to a constructor in a [`ClassRegistry`]:
//! - `#[tether::component("server.Service")]` on a `Default` type (no properties, no hooks),
//!   merged by [`ClassRegistry::from_inventory`]; `#[tether::service] impl Trait for Type`
//!   adds the facet that lets `ctx.get::<dyn Trait>(id)` and exporters see it;
//! - [`ClassRegistry::register`] for a `Default` type implementing [`Component`]: each
//!   `<property>` (and each named `<constructor-arg>`) becomes a `set_property(name, value)` call
//!   with a [`ContextValue`] (a plain value, an [`ObjectRef`], or a collection of those); typed
//!   sinks such as [`ContextValue::to_port`] parse `"7000"` and `7000` alike;
//! - [`ClassRegistry::register_with`] when the constructor needs the positional/named
//!   arguments ([`CtorArgs`]).
//!
//! Lifecycle hooks are [`Component`] methods with empty defaults: `after_properties_set`,
//! `set_app_context`, `destroy`, plus `post_processor` for an [`ObjectPostProcessor`].
//! A property error is reported with the file, line and object id of the `<property>`.
//!
//! ## Getting objects
//! [`ApplicationContext::get`]`::<dyn T>(id)` returns the local object through its facet, or,
//! for a proxy factory, `T::proxy(invoker)` (built once per trait and cached), so client code is
//! the same either way. [`ApplicationContext::get_as`] gives the concrete type,
//! [`ApplicationContext::get_value`] the value of a typed shorthand. Starting a context is
//! `async` (it needs a tokio runtime when it exports); `get` is not.
//!
//! ## Class names and wires
//! The wires register their class names themselves (see each wire crate's `seam` module):
//! Spring Python's `PyroServiceExporter`/`PyroProxyFactory` (`PYROLOC://host:port/name`) speak
//! Pyro 3 with tether's `pyro3` feature (Pyro5 without it), `Pyro4ServiceExporter`/
//! `Pyro4ProxyFactory` speak Pyro4, and every Pyro daemon answers each Pyro client in its own
//! wire on one port. `HessianProxyFactory` (and Spring's `HessianServiceExporter`) speak
//! Hessian, `SSLServer`/`SSLClient` XML-RPC. `tether.cluster.PoolProxyFactory` (tether-cluster)
//! is a proxy factory over many endpoints of any wire.
//!
//! ## Adding a directory
//! Discovery is the second seam: a store is a type implementing [`remoting::Directory`] for one
//! URL scheme (`list` an exporter under a lease, `follow` what is listed), registered with
//! [`ClassRegistry::register_directory`]. Exporters and pools pick it by the scheme of their
//! `discovery` URL (tether registers `etcd://` and `pyro-ns://`).
//!
//! ## Adding a protocol
//! A wire is a type implementing [`remoting::Protocol`] (bind a server with
//! [`remoting::ServerOptions`], make a lazy client for a URL with [`remoting::ClientOptions`],
//! list its class names with their loggers and the URL prefixes it claims), in the wire's own
//! crate. A program or a test registers it with [`ClassRegistry::register_protocol`]; the
//! `tether` facade does so for the built-in ones, one line per cargo feature. Nothing in this
//! crate changes.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod aop;
mod blocking;
pub mod builtins;
mod component;
mod context;
mod def;
pub mod echo;
mod error;
mod object;
mod registry;
pub mod remoting;
mod signal;
mod value;
pub mod xml;

pub use blocking::BlockingContext;
pub use builtins::Builtins;
pub use component::{Component, CtorArgs, InitContext, ObjectPostProcessor};
pub use context::{ApplicationContext, ContextBuilder, WeakContext};
pub use def::{NamedDef, ObjectDef, Origin, Scope, ValueDef};
pub use error::{ContextError, ContextErrorKind, Result};
pub use object::{FacetTable, ObjectRef};
pub use registry::{ClassRegistry, Pending};
pub use signal::wait_for_signal;
pub use value::ContextValue;
