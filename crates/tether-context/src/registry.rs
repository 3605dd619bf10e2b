//! [`ClassRegistry`]: class names (`server.Service`) → constructors, plus the facets that let
//! the container view objects as service traits.
//!
//! Explicit registration is the base (`reg.register::<Config>("server.Config")`); classes and
//! facets submitted by `#[tether::component]` / `#[tether::service] impl` through `inventory`
//! are merged by [`ClassRegistry::from_inventory`]. Linkers drop crates the binary never names,
//! so the unknown-class error lists the registered names and hints at `use your_crate as _;`.
//!
//! Three ways to register a class:
//! - [`register_plain`](ClassRegistry::register_plain): a `Default` type with no properties and no
//!   hooks (what `#[tether::component]` submits);
//! - [`register`](ClassRegistry::register): a `Default + Component` type; named constructor
//!   arguments are applied as properties first (Spring Python's exporters take both ways);
//! - [`register_with`](ClassRegistry::register_with): a closure gets the [`CtorArgs`] and builds
//!   the object (positional constructor arguments, custom validation).

use crate::component::{Component, CtorArgs};
use crate::error::ContextError;
use crate::object::{FacetTable, Parts};
use crate::remoting::{
    Directory, DirectorySet, Protocol, ProtocolSet, ProxyFactory, ServiceExporter,
};

use crate::value::ContextValue;
use std::any::TypeId;
use std::collections::HashMap;
use std::sync::Arc;
use tether_core::{AnyArc, ClassEntry, FacetEntry, UpcastFrom, Value};

/// An object under construction: properties can still be set.
pub struct Pending(Box<dyn PendingObject>);

trait PendingObject: Send {
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError>;
    fn class_name_properties(&self) -> &'static [&'static str] {
        &[]
    }
    fn properties_set(&mut self) -> Result<(), ContextError> {
        Ok(())
    }
    fn finish(self: Box<Self>) -> Parts;
}

struct ComponentPending<S: Component>(S);

impl<S: Component> PendingObject for ComponentPending<S> {
    fn class_name_properties(&self) -> &'static [&'static str] {
        self.0.class_name_properties()
    }
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError> {
        self.0.set_property(name, value)
    }
    fn properties_set(&mut self) -> Result<(), ContextError> {
        self.0.properties_set()
    }
    fn finish(self: Box<Self>) -> Parts {
        let arc = Arc::new(self.0);
        Parts {
            object: arc.clone(),
            type_id: TypeId::of::<S>(),
            type_name: std::any::type_name::<S>(),
            hooks: Some(Arc::new(crate::component::ComponentHooks(arc))),
            value: None,
        }
    }
}

struct PlainPending {
    object: AnyArc,
    type_id: TypeId,
    type_name: &'static str,
    value: Option<Value>,
}

impl PendingObject for PlainPending {
    fn set_property(&mut self, name: &str, _value: ContextValue) -> Result<(), ContextError> {
        Err(format!(
            "has no property '{name}': its class ({}) was registered without properties; implement \
             tether_context::Component for it and register it with ClassRegistry::register",
            self.type_name
        )
        .into())
    }
    fn finish(self: Box<Self>) -> Parts {
        Parts {
            object: self.object,
            type_id: self.type_id,
            type_name: self.type_name,
            hooks: None,
            value: self.value,
        }
    }
}

impl Pending {
    /// A [`Component`] under construction.
    pub fn component<S: Component>(s: S) -> Self {
        Pending(Box::new(ComponentPending(s)))
    }

    /// A plain object (no properties, no hooks).
    pub fn plain<S: Send + Sync + 'static>(s: S) -> Self {
        Pending(Box::new(PlainPending {
            object: Arc::new(s),
            type_id: TypeId::of::<S>(),
            type_name: std::any::type_name::<S>(),
            value: None,
        }))
    }

    /// A plain value object (the typed shorthands): injected by `ref` as the value itself.
    pub fn value(v: Value) -> Self {
        Pending(Box::new(PlainPending {
            object: Arc::new(v.clone()),
            type_id: TypeId::of::<Value>(),
            type_name: "tether_core::Value",
            value: Some(v),
        }))
    }

    fn entry(e: &ClassEntry) -> Self {
        Pending(Box::new(PlainPending {
            object: (e.construct)(),
            type_id: (e.type_id)(),
            type_name: (e.type_name)(),
            value: None,
        }))
    }

    pub(crate) fn set_property(
        &mut self,
        name: &str,
        value: ContextValue,
    ) -> Result<(), ContextError> {
        self.0.set_property(name, value)
    }

    pub(crate) fn properties_set(&mut self) -> Result<(), ContextError> {
        self.0.properties_set()
    }

    pub(crate) fn class_name_properties(&self) -> &'static [&'static str] {
        self.0.class_name_properties()
    }

    pub(crate) fn finish(self) -> Parts {
        self.0.finish()
    }
}

type Factory = Arc<dyn Fn(CtorArgs) -> Result<Pending, ContextError> + Send + Sync>;

#[derive(Clone)]
pub(crate) struct ClassSpec {
    pub factory: Factory,
    /// `Some(reason)` for names that are known but not built (Hessian).
    pub not_built: Option<&'static str>,
}

/// Class names → constructors, facets, and the wire protocols.
#[derive(Clone)]
pub struct ClassRegistry {
    /// By name (a hash map: every object a context builds looks its class up).
    classes: HashMap<String, ClassSpec>,
    facets: FacetTable,
    protocols: ProtocolSet,
    directories: DirectorySet,
}

impl std::fmt::Debug for ClassRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClassRegistry")
            .field("classes", &self.names())
            .finish()
    }
}

impl ClassRegistry {
    /// A registry with nothing in it (not even the built-ins).
    pub fn empty() -> Self {
        ClassRegistry {
            classes: HashMap::new(),
            facets: FacetTable::default(),
            protocols: ProtocolSet::default(),
            directories: DirectorySet::default(),
        }
    }

    /// Registers a class with no properties and no hooks (a later registration replaces it).
    pub fn register_plain<S: Default + Send + Sync + 'static>(&mut self, name: &str) -> &mut Self {
        self.register_factory(name, |args| {
            no_args(&args)?;
            Ok(Pending::plain(S::default()))
        })
    }

    /// Registers a class submitted by `#[tether::component]`.
    pub fn register_entry(&mut self, e: &ClassEntry) -> &mut Self {
        let e = *e;
        self.register_factory(e.name, move |args| {
            no_args(&args)?;
            Ok(Pending::entry(&e))
        })
    }

    /// Registers a [`Component`] built by `S::default()`; named constructor arguments are set as
    /// properties before the `<property>`s (positional ones are refused).
    pub fn register<S: Component + Default>(&mut self, name: &str) -> &mut Self {
        self.register_factory(name, |args| {
            if !args.positional.is_empty() {
                return Err(format!(
                    "takes no positional constructor arguments ({} given); use <constructor-arg name=...> or <property>",
                    args.positional.len()
                ).into());
            }
            let mut s = S::default();
            for (n, v) in args.named {
                s.set_property(&n, v)?;
            }
            Ok(Pending::component(s))
        })
    }

    /// Registers a [`Component`] built by `f` from the constructor arguments.
    pub fn register_with<S: Component>(
        &mut self,
        name: &str,
        f: impl Fn(CtorArgs) -> Result<S, ContextError> + Send + Sync + 'static,
    ) -> &mut Self {
        self.register_factory(name, move |args| f(args).map(Pending::component))
    }

    /// Registers a raw factory (the most general form).
    pub fn register_factory(
        &mut self,
        name: &str,
        f: impl Fn(CtorArgs) -> Result<Pending, ContextError> + Send + Sync + 'static,
    ) -> &mut Self {
        self.classes.insert(
            name.to_string(),
            ClassSpec {
                factory: Arc::new(f),
                not_built: None,
            },
        );
        self
    }

    /// Registers a name that is known but not built yet: loading it gives `reason`.
    pub fn register_not_built(&mut self, name: &str, reason: &'static str) -> &mut Self {
        self.classes.insert(
            name.to_string(),
            ClassSpec {
                factory: Arc::new(move |_| Err(ContextError::from(reason))),
                not_built: Some(reason),
            },
        );
        self
    }

    /// Declares that `S` provides the service trait `T` (what `#[tether::service] impl` submits).
    pub fn provides<S: Send + Sync + 'static, T: ?Sized + UpcastFrom<S>>(&mut self) -> &mut Self {
        self.facets.add(FacetEntry::of::<S, T>());
        self
    }

    /// Adds a facet entry.
    pub fn add_facet(&mut self, f: FacetEntry) -> &mut Self {
        self.facets.add(f);
        self
    }

    /// Registers a wire protocol: each of its class families' exporter and proxy factory names
    /// (replacing earlier registrations of those names), and the URLs it claims for the generic
    /// `tether.ProxyFactory`, `tether call` and `tether bench`. A protocol of the same
    /// [`name`](Protocol::name) is replaced.
    pub fn register_protocol(&mut self, protocol: std::sync::Arc<dyn Protocol>) -> &mut Self {
        let protocol = self.protocols.push(protocol);
        for family in protocol.families().to_vec() {
            let p = protocol.clone();
            self.register_with(family.exporter, move |args| {
                ServiceExporter::from_args(family, p.clone(), args)
            });
            let p = protocol.clone();
            self.register_with(family.proxy, move |args| {
                ProxyFactory::from_args(ProxyFactory::new(family, p.clone()), args)
            });
        }
        self
    }

    /// Makes the protocol called `name` the default wire (`tether echo-server` without
    /// `--protocol`); without one, the first registered is.
    pub fn set_default_protocol(&mut self, name: &'static str) -> &mut Self {
        self.protocols.set_default(name);
        self
    }

    /// The registered protocols.
    pub fn protocols(&self) -> &ProtocolSet {
        &self.protocols
    }

    /// Registers a directory for exporters' `discovery` URLs of its scheme (replacing one of
    /// the same scheme).
    pub fn register_directory(&mut self, directory: std::sync::Arc<dyn Directory>) -> &mut Self {
        self.directories.push(directory);
        self
    }

    /// The registered directories.
    pub fn directories(&self) -> &DirectorySet {
        &self.directories
    }

    /// Every registered class name, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.classes.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Whether `name` is registered.
    pub fn contains(&self, name: &str) -> bool {
        self.classes.contains_key(name)
    }

    pub(crate) fn spec(&self, name: &str) -> Option<&ClassSpec> {
        self.classes.get(name)
    }

    pub(crate) fn facet_table(&self) -> FacetTable {
        let mut t = FacetTable::default();
        for list in self.facets_iter() {
            t.add(list);
        }
        t
    }

    fn facets_iter(&self) -> impl Iterator<Item = FacetEntry> + '_ {
        self.facets.all()
    }
}

fn no_args(args: &CtorArgs) -> Result<(), ContextError> {
    if args.positional.is_empty() && args.named.is_empty() {
        Ok(())
    } else {
        Err(ContextError::from(
            "takes no constructor arguments (its class was registered without any)",
        ))
    }
}
