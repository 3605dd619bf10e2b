//! [`Component`]: how a user class takes properties and joins the lifecycle.
//!
//! Spring Python sets properties by plain attribute assignment and finds lifecycle hooks by duck
//! typing (`hasattr(obj, "after_properties_set")`). The Rust equivalent is one trait whose
//! methods all have do-nothing defaults: implement `set_property` to take properties, and the
//! hooks you need. A class with no properties and no hooks does not need it at all
//! (`#[tether::component]` / [`crate::ClassRegistry::register_plain`]).
//!
//! ```
//! use tether_context::{Component, ContextError, ContextValue};
//! #[derive(Default)]
//! struct Finder { path: String, retries: i64 }
//! impl Component for Finder {
//!     fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError> {
//!         match name {
//!             "path" => self.path = value.to_string_value()?,
//!             "retries" => self.retries = value.to_i64()?,
//!             _ => return Err(format!("has no property '{name}' (expected path or retries)").into()),
//!         }
//!         Ok(())
//!     }
//! }
//! ```

use crate::context::weak::WeakContext;
use crate::error::ContextError;
use crate::object::ObjectRef;
use crate::remoting::{DaemonHolder, DirectorySet, ProtocolSet};
use crate::value::ContextValue;
use std::sync::Arc;
use tether_core::{Dispatch, Invoker};

/// A class the container creates, configures and runs hooks on. Every method has a default.
pub trait Component: Send + Sync + 'static {
    /// Sets one property (`<property name=... >`). The error text says what was expected; the
    /// container adds the file, line and object id.
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError> {
        let _ = value;
        Err(format!("has no property '{name}' (its class takes no properties)").into())
    }

    /// Properties that also take a class name, standing for a new instance of that class
    /// (Spring Python's `ProxyFactoryObject` accepts `<value>pkg.Class</value>` as its
    /// `target`): when such a property's value is text naming a registered class, the
    /// container makes an object of it and sets that instead. Default none.
    fn class_name_properties(&self) -> &'static [&'static str] {
        &[]
    }

    /// Runs once every constructor argument and `<property>` of this object is set, before any
    /// lifecycle hook, for every component (proxy factories too, which get no lifecycle hooks):
    /// check here the settings that depend on each other, so the file may give them in any
    /// order. No network and no side effects. An error names the object's definition.
    fn properties_set(&mut self) -> Result<(), ContextError> {
        Ok(())
    }

    /// Spring's `InitializingObject.after_properties_set`: runs once every eager object exists
    /// (or at creation for lazy singletons and prototypes). Exporters start serving here. An
    /// error fails context start.
    fn after_properties_set(&self, init: &InitContext) -> Result<(), ContextError> {
        let _ = init;
        Ok(())
    }

    /// Spring's `ApplicationContextAware.set_app_context`, right after `after_properties_set`.
    /// Keep the [`WeakContext`]: a strong handle would keep the context alive forever.
    fn set_app_context(&self, ctx: &WeakContext) {
        let _ = ctx;
    }

    /// Spring's `DisposableObject.destroy`, on context close, newest object first. Errors are
    /// logged and swallowed, as in Spring Python.
    fn destroy(&self) -> Result<(), ContextError> {
        Ok(())
    }

    /// `Some` if this object is an [`ObjectPostProcessor`].
    fn post_processor(&self) -> Option<&dyn ObjectPostProcessor> {
        None
    }

    /// `Some` for proxy factories: the (lazily connecting) invoker that `get::<dyn T>` wraps.
    /// Proxy factories get no lifecycle hooks, so a hook can never trigger a connection.
    fn invoker(&self) -> Option<Arc<dyn Invoker>> {
        None
    }

    /// `Some` for interceptors (and advisors): what an `interceptors` list of a proxy factory,
    /// an exporter or an AOP proxy runs around each call.
    fn interceptor(&self) -> Option<Arc<dyn tether_remoting::Interceptor>> {
        None
    }

    /// `Some` for objects that are their own dispatcher (a dynamic service such as echo), so an
    /// exporter can serve them without a `#[tether::service]` facet.
    fn dispatcher(&self) -> Option<Arc<dyn Dispatch>> {
        None
    }
}

/// A component as an object's [`Hooks`](crate::object::Hooks).
pub(crate) struct ComponentHooks(pub(crate) Arc<dyn Component>);

impl crate::object::Hooks for ComponentHooks {
    fn invoker(&self) -> Option<Arc<dyn Invoker>> {
        self.0.invoker()
    }

    fn dispatcher(&self) -> Option<Arc<dyn Dispatch>> {
        self.0.dispatcher()
    }

    fn interceptor(&self) -> Option<Arc<dyn tether_remoting::Interceptor>> {
        self.0.interceptor()
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl ObjectRef {
    /// The lifecycle view, if the class implements [`Component`].
    pub fn component(&self) -> Option<&Arc<dyn Component>> {
        self.hooks()?
            .as_any()
            .downcast_ref::<ComponentHooks>()
            .map(|h| &h.0)
    }
}

/// Spring's `ObjectPostProcessor`: sees every other singleton before and after initialisation,
/// and may replace it.
pub trait ObjectPostProcessor: Send + Sync {
    /// Before any `after_properties_set`.
    fn post_process_before_initialization(
        &self,
        object: ObjectRef,
        id: &str,
    ) -> Result<ObjectRef, ContextError> {
        let _ = id;
        Ok(object)
    }

    /// After every `after_properties_set`.
    fn post_process_after_initialization(
        &self,
        object: ObjectRef,
        id: &str,
    ) -> Result<ObjectRef, ContextError> {
        let _ = id;
        Ok(object)
    }
}

/// What an initialisation hook may use: where exporters register (one server per address).
#[derive(Clone)]
pub struct InitContext {
    pub(crate) holder: Arc<DaemonHolder>,
    pub(crate) id: String,
}

impl InitContext {
    /// A context for objects used without an application context (the programmatic API): the
    /// process-wide [`DaemonHolder::global`].
    pub fn standalone() -> Self {
        InitContext {
            holder: DaemonHolder::global(),
            id: String::new(),
        }
    }

    /// A context using `holder`.
    pub fn with_holder(holder: Arc<DaemonHolder>) -> Self {
        InitContext {
            holder,
            id: String::new(),
        }
    }

    /// The servers shared by the exporters of this context.
    pub fn holder(&self) -> &Arc<DaemonHolder> {
        &self.holder
    }

    /// The id of the object being initialised (empty outside a context).
    pub fn object_id(&self) -> &str {
        &self.id
    }
}

/// The arguments of one constructor call: positional ones in document order, then named ones.
pub struct CtorArgs {
    pub(crate) positional: Vec<ContextValue>,
    pub(crate) named: Vec<(String, ContextValue)>,
    pub(crate) protocols: ProtocolSet,
    pub(crate) directories: DirectorySet,
    pub(crate) object_id: String,
}

impl CtorArgs {
    /// Arguments with no protocols and no directories known (for tests and hand-built
    /// factories).
    pub fn new(positional: Vec<ContextValue>, named: Vec<(String, ContextValue)>) -> Self {
        CtorArgs {
            positional,
            named,
            protocols: ProtocolSet::default(),
            directories: DirectorySet::default(),
            object_id: String::new(),
        }
    }

    /// The id of the object being made (empty for hand-built arguments): what a pool or an
    /// interceptor names itself by in logs, spans and metrics.
    pub fn object_id(&self) -> &str {
        &self.object_id
    }

    /// The positional arguments.
    pub fn positional(&self) -> &[ContextValue] {
        &self.positional
    }

    /// The named arguments.
    pub fn named(&self) -> &[(String, ContextValue)] {
        &self.named
    }

    /// Removes and returns the named argument `name`.
    pub fn take_named(&mut self, name: &str) -> Option<ContextValue> {
        let i = self.named.iter().position(|(n, _)| n == name)?;
        Some(self.named.remove(i).1)
    }

    /// Takes both lists.
    pub fn into_parts(self) -> (Vec<ContextValue>, Vec<(String, ContextValue)>) {
        (self.positional, self.named)
    }

    /// The protocols of the registry (for factories that pick a wire by URL).
    pub fn protocols(&self) -> &ProtocolSet {
        &self.protocols
    }

    /// The directories of the registry (for exporters that list themselves for discovery).
    pub fn directories(&self) -> &DirectorySet {
        &self.directories
    }
}
