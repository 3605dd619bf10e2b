//! The glue between a service trait and the code `#[tether::service]` generates for it, and the
//! link-time registry entries that `#[tether::component]` and `#[tether::service] impl` submit.
//!
//! Both glue traits are implemented **on `dyn Trait`** (a local type in the user's crate), never
//! as a blanket impl over `S: Trait`, which the orphan rule forbids across crates (E0210).

use crate::{AttrInfo, Dispatch, Invoker, MethodInfo};
use std::any::{Any, TypeId};
use std::sync::Arc;

/// A shared object of any type, as the container stores it.
pub type AnyArc = Arc<dyn Any + Send + Sync>;

/// Implemented by `#[tether::service]` for `dyn YourTrait`: everything the framework needs to
/// make a proxy of the trait or to serve an implementation of it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tether service trait object",
    label = "not a `#[tether::service]` trait object",
    note = "write `get::<dyn YourTrait>` with the exact trait that carries `#[tether::service]` (no `+ Send` or other bounds)"
)]
pub trait Remotable: Send + Sync + 'static {
    /// The trait's name (for messages and metadata).
    const NAME: &'static str;
    /// The trait's methods.
    fn methods() -> &'static [MethodInfo];
    /// The trait's exposed attributes.
    fn attrs() -> &'static [AttrInfo];
    /// A proxy implementing the trait over an invoker.
    fn proxy(invoker: Arc<dyn Invoker>) -> Arc<Self>;
    /// A dispatcher routing calls to an implementation.
    fn dispatcher(target: Arc<Self>) -> Arc<dyn Dispatch>;
}

/// `Arc<S> -> Arc<dyn Trait>` for every `S: Trait`, which stable Rust cannot write generically
/// (`Unsize` is unstable); generated as `impl<S: Trait> UpcastFrom<S> for dyn Trait`.
pub trait UpcastFrom<S: ?Sized>: Remotable {
    /// Coerces the implementation to the trait object (same allocation).
    fn upcast(s: Arc<S>) -> Arc<Self>;
}

/// A class name bound to a Rust type with a default constructor, submitted by
/// `#[tether::component("server.Service")]`.
#[derive(Clone, Copy)]
pub struct ClassEntry {
    /// The class name XML contexts use (`server.Service`).
    pub name: &'static str,
    /// The Rust type's `TypeId`.
    pub type_id: fn() -> TypeId,
    /// The Rust type's name, for messages.
    pub type_name: fn() -> &'static str,
    /// Builds a new instance.
    pub construct: fn() -> AnyArc,
}

fn default_instance<S: Default + Send + Sync + 'static>() -> AnyArc {
    Arc::new(S::default())
}

impl ClassEntry {
    /// An entry whose instances come from `S::default()`.
    pub const fn default_ctor<S: Default + Send + Sync + 'static>(name: &'static str) -> Self {
        ClassEntry {
            name,
            type_id: TypeId::of::<S>,
            type_name: std::any::type_name::<S>,
            construct: default_instance::<S>,
        }
    }
}

impl std::fmt::Debug for ClassEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClassEntry")
            .field("name", &self.name)
            .field("type_name", &(self.type_name)())
            .finish()
    }
}

inventory::collect!(ClassEntry);

/// "Type `S` provides trait `T`": lets the container view a stored object as `Arc<dyn T>` and
/// lets exporters build its dispatcher. Submitted by `#[tether::service] impl T for S`.
#[derive(Clone, Copy)]
pub struct FacetEntry {
    /// `TypeId` of the implementing type.
    pub impl_type: fn() -> TypeId,
    /// `TypeId` of `dyn T`.
    pub trait_type: fn() -> TypeId,
    /// The trait's name.
    pub trait_name: &'static str,
    /// Views the object as `Arc<dyn T>`, boxed as `Any` (`None` if the object is not an `S`).
    pub view: fn(&AnyArc) -> Option<Box<dyn Any + Send + Sync>>,
    /// Builds the dispatcher of the object for `T` (`None` if the object is not an `S`).
    pub dispatcher: fn(&AnyArc) -> Option<Arc<dyn Dispatch>>,
    /// The trait's methods.
    pub methods: fn() -> &'static [MethodInfo],
}

fn view_as<S: Send + Sync + 'static, T: ?Sized + UpcastFrom<S>>(
    obj: &AnyArc,
) -> Option<Box<dyn Any + Send + Sync>> {
    let s: Arc<S> = obj.clone().downcast::<S>().ok()?;
    let t: Arc<T> = T::upcast(s);
    Some(Box::new(t))
}

fn dispatcher_as<S: Send + Sync + 'static, T: ?Sized + UpcastFrom<S>>(
    obj: &AnyArc,
) -> Option<Arc<dyn Dispatch>> {
    let s: Arc<S> = obj.clone().downcast::<S>().ok()?;
    Some(T::dispatcher(T::upcast(s)))
}

impl FacetEntry {
    /// The facet "`S` provides `T`".
    pub const fn of<S: Send + Sync + 'static, T: ?Sized + UpcastFrom<S>>() -> Self {
        FacetEntry {
            impl_type: TypeId::of::<S>,
            trait_type: TypeId::of::<T>,
            trait_name: T::NAME,
            view: view_as::<S, T>,
            dispatcher: dispatcher_as::<S, T>,
            methods: T::methods,
        }
    }
}

impl std::fmt::Debug for FacetEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FacetEntry")
            .field("trait_name", &self.trait_name)
            .finish()
    }
}

inventory::collect!(FacetEntry);

/// Every class submitted with `#[tether::component]` in crates the binary links.
pub fn submitted_classes() -> impl Iterator<Item = &'static ClassEntry> {
    inventory::iter::<ClassEntry>.into_iter()
}

/// Every facet submitted with `#[tether::service] impl` in crates the binary links.
pub fn submitted_facets() -> impl Iterator<Item = &'static FacetEntry> {
    inventory::iter::<FacetEntry>.into_iter()
}
