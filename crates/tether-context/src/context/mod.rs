//! [`ApplicationContext`]: definitions in, objects out, with Spring Python's lifecycle.
//!
//! Start (async, [`ContextBuilder::start`]):
//! 1. read every source in order; a later definition of an id replaces an earlier one (DEBUG
//!    "Overriding previous definition of X");
//! 2. check every definition up front: parents exist and are abstract, classes are registered,
//!    refs point at defined ids (each error names file, line and object id);
//! 3. create the eager singletons in document order (prototypes, abstract and lazy objects are
//!    skipped; lazy singletons they reference are created with them);
//! 4. `post_process_before_initialization` of every post-processor on every other object;
//! 5. `after_properties_set` then `set_app_context` on every created object in creation order,
//!    except proxy factories (exporters start serving here);
//! 6. `post_process_after_initialization`.
//!
//! If any step fails, everything already started is stopped before the error is returned.
//!
//! Afterwards, a lazy singleton or a prototype gets the same hooks when it is created.
//! [`ApplicationContext::close`] runs `destroy` newest first and shuts every server down
//! gracefully.

use crate::component::{CtorArgs, InitContext, ObjectPostProcessor};
use crate::def::{NamedDef, ObjectDef, Origin, Scope, ValueDef};
use crate::error::{ContextError, ContextErrorKind as K, Result};
use crate::object::{FacetTable, ObjectRef};
use crate::registry::ClassRegistry;
use crate::remoting::DaemonHolder;
use crate::value::ContextValue;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tether_core::{Remotable, Value};

mod builder;
mod create;
mod lifecycle;
pub(crate) mod weak;

pub use builder::ContextBuilder;

const CONTAINER: &str = "springpython.container.ObjectContainer";
const CONTEXT: &str = "springpython.context.ApplicationContext";
const FACTORY: &str = "springpython.factory.ReflectiveObjectFactory";

/// Objects are kept by their definition's position (see [`Inner::defs`]).
#[derive(Default)]
struct State {
    /// The singleton of each definition, once created.
    singletons: Vec<Option<ObjectRef>>,
    /// Singletons' positions in creation order (for hooks and for destroy, newest first).
    created: Vec<usize>,
    /// Objects whose `after_properties_set` ran (destroyed on close even if prototypes).
    initialised: Vec<ObjectRef>,
    /// By definition position: whether an object of that definition is in `initialised`.
    hooked: Vec<bool>,
    post_processors: Vec<ObjectRef>,
}

struct Inner {
    registry: ClassRegistry,
    facets: Arc<FacetTable>,
    /// The definitions in document order (an id defined again keeps its first place and takes
    /// the later definition). Everything about an object is kept by this position, so a start
    /// looks each id up once, not in every phase: at 180,000 objects a lookup in a table that
    /// size is a few cache misses, and they made the start grow faster than the context.
    defs: Vec<Arc<ObjectDef>>,
    /// Each id's position in `defs`.
    index: HashMap<String, usize>,
    /// The ids in document order (`ids()`).
    order: Vec<String>,
    state: Mutex<State>,
    create_lock: Mutex<()>,
    holder: Arc<DaemonHolder>,
    started: AtomicBool,
    closed: AtomicBool,
}

/// An application context: shared (clone it freely), closed explicitly with [`close`](Self::close).
#[derive(Clone)]
pub struct ApplicationContext {
    inner: Arc<Inner>,
}

pub use weak::WeakContext;

impl WeakContext {
    /// The context, if it still exists.
    pub fn upgrade(&self) -> Option<ApplicationContext> {
        let inner = self.0.upgrade()?.downcast::<Inner>().ok()?;
        Some(ApplicationContext { inner })
    }
}

impl std::fmt::Debug for ApplicationContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplicationContext")
            .field("ids", &self.inner.order)
            .finish()
    }
}

/// One creation request: the chain of ids being created (for cycle reports) and what was made.
#[derive(Default)]
struct Creation {
    /// Positions of the definitions being created.
    stack: Vec<usize>,
    /// Each new object with its definition's position (`None` for an object a property's
    /// class name made).
    made: Vec<(ObjectRef, Option<usize>)>,
}

fn loc(e: ContextError, origin: &Origin) -> ContextError {
    e.at(origin.file.as_deref().map(|p| p.as_path()), origin.line)
}

impl ApplicationContext {
    /// A builder with no sources.
    pub fn builder() -> ContextBuilder {
        ContextBuilder::default()
    }

    /// Starts a context from XML files with [`ClassRegistry::from_inventory`].
    pub async fn from_xml_files<P: AsRef<Path>>(
        files: impl IntoIterator<Item = P>,
    ) -> Result<Self> {
        let mut b = Self::builder();
        for f in files {
            b = b.xml_file(f);
        }
        b.start().await
    }

    /// A weak handle.
    pub fn downgrade(&self) -> WeakContext {
        let any: Arc<dyn std::any::Any + Send + Sync> = self.inner.clone();
        WeakContext(Arc::downgrade(&any))
    }

    /// The object `id` (creating it if it is lazy or a prototype).
    pub fn get_object(&self, id: &str) -> Result<ObjectRef> {
        if let Some(def) = self.inner.def(id) {
            if def.is_abstract {
                return Err(loc(
                    ContextError::new(K::Abstract, format!("Object [{id}] is an abstract one.")),
                    &def.origin,
                )
                .for_object(id));
            }
        }
        self.fetch(id)
    }

    /// The object `id` as service trait `T`: the local object, or a proxy if `id` is a proxy factory.
    pub fn get<T: ?Sized + Remotable>(&self, id: &str) -> Result<Arc<T>> {
        let obj = self.get_object(id)?;
        obj.get::<T>()
            .map_err(|e| self.located(id, e.in_phase(K::WrongType)))
    }

    /// The object `id` as its concrete type `S`.
    pub fn get_as<S: Send + Sync + 'static>(&self, id: &str) -> Result<Arc<S>> {
        let obj = self.get_object(id)?;
        obj.downcast::<S>().ok_or_else(|| {
            self.located_new(
                id,
                K::WrongType,
                format!(
                    "is a {}, not a {}",
                    obj.type_name(),
                    std::any::type_name::<S>()
                ),
            )
        })
    }

    /// The plain value of `id`: a typed shorthand (`<int id="port">7000</int>`).
    pub fn get_value(&self, id: &str) -> Result<Value> {
        let obj = self.get_object(id)?;
        obj.value().cloned().ok_or_else(|| {
            self.located_new(
                id,
                K::WrongType,
                format!("is an object of class {}, not a plain value", obj.class()),
            )
        })
    }

    /// Whether `id` is defined.
    pub fn contains(&self, id: &str) -> bool {
        self.inner.index.contains_key(id)
    }

    /// Every defined id, in document order.
    pub fn ids(&self) -> &[String] {
        &self.inner.order
    }

    /// The definition of `id`.
    pub fn definition(&self, id: &str) -> Option<&ObjectDef> {
        self.inner.def(id).map(|d| d.as_ref())
    }

    /// The ids of the singletons created so far, in creation order.
    pub fn singleton_ids(&self) -> Vec<String> {
        let st = self.inner.lock();
        st.created
            .iter()
            .map(|&i| self.inner.defs[i].id.clone())
            .collect()
    }

    /// Every singleton created so far whose type is `S`, in creation order (Spring Python's
    /// `get_objects_by_type` over the singleton cache).
    pub fn objects_of_type<S: Send + Sync + 'static>(&self) -> Vec<(String, Arc<S>)> {
        let st = self.inner.lock();
        st.created
            .iter()
            .filter_map(|&i| {
                let object = st.singletons.get(i)?.as_ref()?.downcast::<S>()?;
                Some((self.inner.defs[i].id.clone(), object))
            })
            .collect()
    }

    /// The servers this context's exporters run.
    pub fn holder(&self) -> &Arc<DaemonHolder> {
        &self.inner.holder
    }

    /// The registry the context was built with.
    pub fn registry(&self) -> &ClassRegistry {
        &self.inner.registry
    }

    /// Whether the start finished (every eager object created and initialised: exporters
    /// serve) and [`close`](Self::close) has not begun.
    pub fn is_serving(&self) -> bool {
        self.inner.started.load(Ordering::SeqCst) && !self.inner.closed.load(Ordering::SeqCst)
    }

    /// Whether [`close`](Self::close) has begun (destroy hooks run, directory entries are
    /// removed, servers drain).
    pub fn is_closing(&self) -> bool {
        self.inner.closed.load(Ordering::SeqCst)
    }

    /// Runs every `destroy` hook (newest first; errors logged and swallowed), then shuts every
    /// server down gracefully and waits for in-flight calls. Idempotent.
    pub async fn close(&self) {
        if self.inner.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        // On the blocking pool: a destroy hook may wait for network work (an exporter
        // withdrawing its directory listing) that this thread must drive.
        let inner = self.inner.clone();
        tether_remoting::run_sync_hooks(move || inner.destroy_all()).await;
        self.inner.holder.shutdown_all().await;
    }

    fn located_new(&self, id: &str, kind: K, msg: String) -> ContextError {
        self.located(id, ContextError::new(kind, msg))
    }

    fn located(&self, id: &str, e: ContextError) -> ContextError {
        let e = e.for_object(id);
        match self.inner.def(id) {
            Some(d) => loc(e, &d.origin),
            None => e,
        }
    }

    /// Top-level fetch: create under the creation lock, then run hooks (lock released).
    fn fetch(&self, id: &str) -> Result<ObjectRef> {
        let Some(i) = self.inner.position(id) else {
            tracing::error!(target: CONTEXT, "Object '{id}' has no definition!");
            return Err(
                ContextError::new(K::MissingRef, format!("no object '{id}' is defined"))
                    .for_object(id),
            );
        };
        if let Some(o) = self.inner.singleton(i) {
            return Ok(o);
        }
        let mut c = Creation::default();
        let obj = {
            let _g = self
                .inner
                .create_lock
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            self.inner.create_at(i, &mut c)?
        };
        if self.inner.started.load(Ordering::SeqCst) {
            let made = std::mem::take(&mut c.made);
            // The requested object is created last (after its dependencies), so the last
            // processed object is it, possibly replaced by a post-processor.
            let processed = self.run_hooks(&made)?;
            if let Some(o) = processed.into_iter().last().filter(|o| o.id() == id) {
                return Ok(o);
            }
        }
        Ok(obj)
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Where `id` is defined.
    fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The definition of `id`.
    fn def(&self, id: &str) -> Option<&Arc<ObjectDef>> {
        self.position(id).map(|i| &self.defs[i])
    }

    /// The singleton of the definition at `i`, if it was created.
    fn singleton(&self, i: usize) -> Option<ObjectRef> {
        self.lock().singletons.get(i).cloned().flatten()
    }

    fn replace_singleton(&self, o: &ObjectRef) {
        let Some(i) = self.position(o.id()) else {
            return;
        };
        let mut st = self.lock();
        if let Some(slot @ Some(_)) = st.singletons.get_mut(i) {
            *slot = Some(o.clone());
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if !self.closed.swap(true, Ordering::SeqCst) {
            self.destroy_all();
        }
    }
}
