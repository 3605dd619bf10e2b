//! [`ObjectRef`]: one object of a context, with the views the container hands out: the
//! concrete type (`downcast`), a service trait (`get::<dyn T>`, through the facet registry or,
//! for proxy factories, `T::proxy(invoker)`), and a dispatcher for exporters.

use crate::error::ContextError;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use tether_core::{
    AnyArc, AttrInfo, BoxFuture, Call, Dispatch, FacetEntry, Invoker, MethodInfo, Remotable,
    RemoteError, Value,
};

/// Facets ("class `S` provides `dyn T`") by implementing type.
#[derive(Default, Debug, Clone)]
pub struct FacetTable {
    by_impl: HashMap<TypeId, Vec<FacetEntry>>,
}

impl FacetTable {
    /// Adds one facet (ignored if the same impl/trait pair is there already).
    pub fn add(&mut self, f: FacetEntry) {
        let list = self.by_impl.entry((f.impl_type)()).or_default();
        if !list.iter().any(|e| (e.trait_type)() == (f.trait_type)()) {
            list.push(f);
        }
    }

    fn of(&self, t: TypeId) -> &[FacetEntry] {
        self.by_impl.get(&t).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// What an object's cell keeps of a component: the views the container hands out, and the
/// component itself (type-erased here, so the cell does not depend on the component trait;
/// `ObjectRef::component` in `component.rs` gives it back).
pub(crate) trait Hooks: Send + Sync {
    /// The invoker, for proxy factories.
    fn invoker(&self) -> Option<Arc<dyn Invoker>>;
    /// The object's own dispatcher, for dynamic services.
    fn dispatcher(&self) -> Option<Arc<dyn Dispatch>>;
    /// The interceptor, for interceptors and advisors.
    fn interceptor(&self) -> Option<Arc<dyn tether_remoting::Interceptor>>;
    /// The component, as `Any`.
    fn as_any(&self) -> &dyn Any;
}

/// The finished parts of a new object.
pub(crate) struct Parts {
    pub object: AnyArc,
    pub type_id: TypeId,
    pub type_name: &'static str,
    /// The component's views and hooks, when the class is a component.
    pub hooks: Option<Arc<dyn Hooks>>,
    pub value: Option<Value>,
}

struct Cell {
    id: String,
    class: String,
    parts: Parts,
    facets: Arc<FacetTable>,
    proxies: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
}

/// A shared handle to one object of a context (cheap to clone; singletons are the same cell).
#[derive(Clone)]
pub struct ObjectRef(Arc<Cell>);

impl fmt::Debug for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectRef")
            .field("id", &self.0.id)
            .field("class", &self.0.class)
            .field("type", &self.0.parts.type_name)
            .finish()
    }
}

impl ObjectRef {
    pub(crate) fn new(id: String, class: String, parts: Parts, facets: Arc<FacetTable>) -> Self {
        ObjectRef(Arc::new(Cell {
            id,
            class,
            parts,
            facets,
            proxies: Mutex::new(HashMap::new()),
        }))
    }

    /// Wraps an object built outside any context (the programmatic API), with the facets of `table`.
    pub fn from_arc<S: Send + Sync + 'static>(
        id: impl Into<String>,
        object: Arc<S>,
        facets: Arc<FacetTable>,
    ) -> Self {
        Self::new(
            id.into(),
            std::any::type_name::<S>().to_string(),
            Parts {
                object,
                type_id: TypeId::of::<S>(),
                type_name: std::any::type_name::<S>(),
                hooks: None,
                value: None,
            },
            facets,
        )
    }

    /// The id it was created under.
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// The class name it was created from.
    pub fn class(&self) -> &str {
        &self.0.class
    }

    /// The Rust type's name.
    pub fn type_name(&self) -> &'static str {
        self.0.parts.type_name
    }

    /// Whether both handles are the same object.
    pub fn ptr_eq(&self, other: &ObjectRef) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The plain value of a typed shorthand (`<int id="p">7000</int>`).
    pub fn value(&self) -> Option<&Value> {
        self.0.parts.value.as_ref()
    }

    /// The object as `Arc<S>`, if it is an `S`.
    pub fn downcast<S: Send + Sync + 'static>(&self) -> Option<Arc<S>> {
        self.0.parts.object.clone().downcast::<S>().ok()
    }

    /// The object as `Any`.
    pub fn as_any(&self) -> &AnyArc {
        &self.0.parts.object
    }

    /// The component's hooks, if the class implements the component trait.
    pub(crate) fn hooks(&self) -> Option<&Arc<dyn Hooks>> {
        self.0.parts.hooks.as_ref()
    }

    /// The invoker, if this is a proxy factory.
    pub fn invoker(&self) -> Option<Arc<dyn Invoker>> {
        self.hooks().and_then(|h| h.invoker())
    }

    /// The interceptor, if this object is one (or an advisor).
    pub fn interceptor(&self) -> Option<Arc<dyn tether_remoting::Interceptor>> {
        self.hooks().and_then(|h| h.interceptor())
    }

    /// Whether this is a proxy factory (a remote object).
    pub fn is_proxy(&self) -> bool {
        self.invoker().is_some()
    }

    /// The names of the service traits the object provides.
    pub fn provided_traits(&self) -> Vec<&'static str> {
        self.0
            .facets
            .of(self.0.parts.type_id)
            .iter()
            .map(|f| f.trait_name)
            .collect()
    }

    /// The object as `Arc<dyn T>`: the local object through its facet, or for a proxy factory a
    /// proxy (built once per trait and cached, so repeated gets return the same `Arc`).
    pub fn get<T: ?Sized + Remotable>(&self) -> Result<Arc<T>, ContextError> {
        let want = TypeId::of::<T>();
        if let Some(invoker) = self.invoker() {
            let mut cache = self.0.proxies.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(hit) = cache.get(&want).and_then(|b| b.downcast_ref::<Arc<T>>()) {
                return Ok(hit.clone());
            }
            let proxy = T::proxy(invoker);
            cache.insert(want, Box::new(proxy.clone()));
            return Ok(proxy);
        }
        if let Some(direct) = self.0.parts.object.downcast_ref::<Arc<T>>() {
            return Ok(direct.clone());
        }
        for f in self.0.facets.of(self.0.parts.type_id) {
            if (f.trait_type)() == want {
                if let Some(view) = (f.view)(&self.0.parts.object) {
                    if let Ok(arc) = view.downcast::<Arc<T>>() {
                        return Ok(*arc);
                    }
                }
            }
        }
        let provided = self.provided_traits();
        Err(format!(
            "object '{}' (class {}, Rust type {}) does not provide {}; it provides [{}]{}",
            self.id(),
            self.class(),
            self.type_name(),
            T::NAME,
            provided.join(", "),
            if provided.is_empty() {
                " (is `#[tether::service]` on its impl block, or `provides::<Type, dyn Trait>()` registered?)"
            } else {
                ""
            }
        ).into())
    }

    /// The dispatcher an exporter serves: the object's own (dynamic services), else one built
    /// from its facets (a router by method name when it provides several traits).
    pub fn dispatcher(&self) -> Result<Arc<dyn Dispatch>, ContextError> {
        if let Some(d) = self.hooks().and_then(|h| h.dispatcher()) {
            return Ok(d);
        }
        if let Some(d) = self.0.parts.object.downcast_ref::<Arc<dyn Dispatch>>() {
            return Ok(d.clone());
        }
        if self.is_proxy() {
            return Err(format!(
                "object '{}' is a proxy to a remote object; export the real object",
                self.id()
            )
            .into());
        }
        let mut parts: Vec<Arc<dyn Dispatch>> = Vec::new();
        for f in self.0.facets.of(self.0.parts.type_id) {
            if let Some(d) = (f.dispatcher)(&self.0.parts.object) {
                parts.push(d);
            }
        }
        match parts.len() {
            0 => Err(format!(
                "object '{}' (class {}, Rust type {}) provides no service trait to export \
                 (put `#[tether::service]` on its `impl Trait for Type` block, or register `provides::<Type, dyn Trait>()`)",
                self.id(),
                self.class(),
                self.type_name()
            ).into()),
            1 => Ok(parts.remove(0)),
            _ => Router::new(parts).map(|r| Arc::new(r) as Arc<dyn Dispatch>),
        }
    }
}

/// Routes calls to whichever of several dispatchers exposes the method (an object that
/// implements several service traits is exported once, under one name).
struct Router {
    parts: Vec<Arc<dyn Dispatch>>,
    /// Every part's methods and attributes, gathered once so lookups borrow.
    methods: Vec<MethodInfo>,
    attrs: Vec<AttrInfo>,
}

impl Router {
    fn new(parts: Vec<Arc<dyn Dispatch>>) -> Result<Self, ContextError> {
        let mut seen: HashMap<&'static str, usize> = HashMap::new();
        for (i, p) in parts.iter().enumerate() {
            for m in p.methods() {
                if let Some(j) = seen.insert(m.name, i) {
                    if j != i {
                        return Err(format!(
                            "method '{}' is in two of the object's service traits; export it once per trait instead",
                            m.name
                        ).into());
                    }
                }
            }
        }
        let methods = parts.iter().flat_map(|p| p.methods()).copied().collect();
        let attrs = parts.iter().flat_map(|p| p.attrs()).copied().collect();
        Ok(Router {
            parts,
            methods,
            attrs,
        })
    }
}

impl Dispatch for Router {
    fn methods(&self) -> &[MethodInfo] {
        &self.methods
    }

    fn attrs(&self) -> &[AttrInfo] {
        &self.attrs
    }

    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        let target = if call.method == tether_core::GETATTR || call.method == tether_core::SETATTR {
            let attr = call.args.first().and_then(Value::as_str).unwrap_or("");
            self.parts
                .iter()
                .find(|p| p.attrs().iter().any(|a| a.name == attr))
        } else {
            self.parts.iter().find(|p| p.method(&call.method).is_some())
        };
        match target.or(self.parts.first()) {
            Some(p) => p.dispatch(call),
            None => Box::pin(async move {
                Err(RemoteError::attribute_error(format!(
                    "remote object has no exposed method '{}'",
                    call.method
                )))
            }),
        }
    }
}

impl FacetTable {
    /// Every facet.
    pub fn all(&self) -> impl Iterator<Item = FacetEntry> + '_ {
        self.by_impl.values().flatten().copied()
    }
}
