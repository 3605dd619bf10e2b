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
use std::sync::{Arc, Mutex, Weak};
use tether_core::{Remotable, Value};

const CONTAINER: &str = "springpython.container.ObjectContainer";
const CONTEXT: &str = "springpython.context.ApplicationContext";
const FACTORY: &str = "springpython.factory.ReflectiveObjectFactory";

/// Collects the sources of a context, then starts it.
pub struct ContextBuilder {
    registry: Option<ClassRegistry>,
    sources: Vec<Source>,
    holder: Option<Arc<DaemonHolder>>,
}

enum Source {
    File(PathBuf),
    Str(String, Option<PathBuf>),
    Defs(Vec<ObjectDef>),
}

impl ContextBuilder {
    /// Uses `registry` instead of [`ClassRegistry::from_inventory`].
    pub fn registry(mut self, registry: ClassRegistry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Adds an XML file.
    pub fn xml_file(mut self, path: impl AsRef<Path>) -> Self {
        self.sources.push(Source::File(path.as_ref().to_path_buf()));
        self
    }

    /// Adds XML text; `name` appears in error messages.
    pub fn xml_str(mut self, text: impl Into<String>, name: Option<&str>) -> Self {
        self.sources
            .push(Source::Str(text.into(), name.map(PathBuf::from)));
        self
    }

    /// Adds definitions built in code.
    pub fn definitions(mut self, defs: impl IntoIterator<Item = ObjectDef>) -> Self {
        self.sources.push(Source::Defs(defs.into_iter().collect()));
        self
    }

    /// Shares servers with `holder` (by default each context has its own).
    pub fn holder(mut self, holder: Arc<DaemonHolder>) -> Self {
        self.holder = Some(holder);
        self
    }

    /// Reads the sources, creates the eager objects and runs the lifecycle (see the module docs).
    /// Needs a tokio runtime when the context exports services.
    pub async fn start(self) -> Result<ApplicationContext> {
        let registry = self.registry.unwrap_or_default();
        let mut defs: HashMap<String, Arc<ObjectDef>> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        tracing::debug!(target: CONTAINER, "=== Scanning configuration for object definitions ===");
        for source in self.sources {
            let list = match source {
                Source::File(p) => crate::xml::parse_file(&p)?,
                Source::Str(t, name) => crate::xml::parse_str(&t, name.map(Arc::new))?,
                Source::Defs(d) => d,
            };
            for def in list {
                if defs.contains_key(&def.id) {
                    tracing::debug!(target: CONTAINER, "Overriding previous definition of {}", def.id);
                } else {
                    tracing::debug!(target: CONTAINER, "{} object definition does not exist. Adding to list of definitions.", def.id);
                    order.push(def.id.clone());
                }
                defs.insert(def.id.clone(), Arc::new(def));
            }
        }
        tracing::debug!(target: CONTAINER, "=== Done reading object definitions. ===");
        let inner = Arc::new(Inner {
            facets: Arc::new(registry.facet_table()),
            registry,
            defs,
            order,
            state: Mutex::new(State::default()),
            create_lock: Mutex::new(()),
            holder: self.holder.unwrap_or_default(),
            started: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        });
        let ctx = ApplicationContext { inner };
        ctx.inner.validate()?;
        match ctx.eager_phase() {
            Ok(()) => {
                ctx.inner.started.store(true, Ordering::SeqCst);
                Ok(ctx)
            }
            Err(e) => {
                ctx.close().await;
                Err(e)
            }
        }
    }
}

#[derive(Default)]
struct State {
    singletons: HashMap<String, ObjectRef>,
    /// Singleton ids in creation order (for hooks and for destroy, newest first).
    created: Vec<String>,
    /// Objects whose `after_properties_set` ran (destroyed on close even if prototypes).
    initialised: Vec<ObjectRef>,
    post_processors: Vec<ObjectRef>,
}

struct Inner {
    registry: ClassRegistry,
    facets: Arc<FacetTable>,
    defs: HashMap<String, Arc<ObjectDef>>,
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

/// A handle that does not keep the context alive (what `set_app_context` receives).
#[derive(Clone)]
pub struct WeakContext(Weak<Inner>);

impl WeakContext {
    /// The context, if it still exists.
    pub fn upgrade(&self) -> Option<ApplicationContext> {
        self.0.upgrade().map(|inner| ApplicationContext { inner })
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
    stack: Vec<String>,
    made: Vec<ObjectRef>,
}

fn loc(e: ContextError, origin: &Origin) -> ContextError {
    e.at(origin.file.as_deref().map(|p| p.as_path()), origin.line)
}

impl ApplicationContext {
    /// A builder with no sources.
    pub fn builder() -> ContextBuilder {
        ContextBuilder {
            registry: None,
            sources: Vec::new(),
            holder: None,
        }
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
        WeakContext(Arc::downgrade(&self.inner))
    }

    /// The object `id` (creating it if it is lazy or a prototype).
    pub fn get_object(&self, id: &str) -> Result<ObjectRef> {
        if let Some(def) = self.inner.defs.get(id) {
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
            .map_err(|m| self.located(id, K::WrongType, m))
    }

    /// The object `id` as its concrete type `S`.
    pub fn get_as<S: Send + Sync + 'static>(&self, id: &str) -> Result<Arc<S>> {
        let obj = self.get_object(id)?;
        obj.downcast::<S>().ok_or_else(|| {
            self.located(
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
            self.located(
                id,
                K::WrongType,
                format!("is an object of class {}, not a plain value", obj.class()),
            )
        })
    }

    /// Whether `id` is defined.
    pub fn contains(&self, id: &str) -> bool {
        self.inner.defs.contains_key(id)
    }

    /// Every defined id, in document order.
    pub fn ids(&self) -> &[String] {
        &self.inner.order
    }

    /// The definition of `id`.
    pub fn definition(&self, id: &str) -> Option<&ObjectDef> {
        self.inner.defs.get(id).map(|d| d.as_ref())
    }

    /// The ids of the singletons created so far, in creation order.
    pub fn singleton_ids(&self) -> Vec<String> {
        self.inner.lock().created.clone()
    }

    /// Every singleton created so far whose type is `S`, in creation order (Spring Python's
    /// `get_objects_by_type` over the singleton cache).
    pub fn objects_of_type<S: Send + Sync + 'static>(&self) -> Vec<(String, Arc<S>)> {
        let st = self.inner.lock();
        st.created
            .iter()
            .filter_map(|id| Some((id.clone(), st.singletons.get(id)?.downcast::<S>()?)))
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

    /// Runs every `destroy` hook (newest first; errors logged and swallowed), then shuts every
    /// server down gracefully and waits for in-flight calls. Idempotent.
    pub async fn close(&self) {
        if self.inner.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        self.inner.destroy_all();
        self.inner.holder.shutdown_all().await;
    }

    fn located(&self, id: &str, kind: K, msg: String) -> ContextError {
        let e = ContextError::new(kind, msg).for_object(id);
        match self.inner.defs.get(id) {
            Some(d) => loc(e, &d.origin),
            None => e,
        }
    }

    /// Top-level fetch: create under the creation lock, then run hooks (lock released).
    fn fetch(&self, id: &str) -> Result<ObjectRef> {
        if let Some(o) = self.inner.lock().singletons.get(id) {
            return Ok(o.clone());
        }
        if !self.inner.defs.contains_key(id) {
            tracing::error!(target: CONTEXT, "Object '{id}' has no definition!");
            return Err(
                ContextError::new(K::MissingRef, format!("no object '{id}' is defined"))
                    .for_object(id),
            );
        }
        let mut c = Creation::default();
        let obj = {
            let _g = self
                .inner
                .create_lock
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            self.inner.create(id, &mut c)?
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

    fn eager_phase(&self) -> Result<()> {
        let mut c = Creation::default();
        {
            let _g = self
                .inner
                .create_lock
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            for id in &self.inner.order {
                let Some(def) = self.inner.defs.get(id) else {
                    continue;
                };
                if def.lazy_init || def.is_abstract || def.scope == Scope::Prototype {
                    continue;
                }
                if self.inner.lock().singletons.contains_key(id) {
                    continue;
                }
                tracing::debug!(target: CONTEXT, "Eagerly fetching {id}");
                self.inner.create(id, &mut c)?;
            }
        }
        self.run_hooks(&c.made).map(|_| ())
    }

    /// Applies one post-processor stage to every object that is not itself a post-processor,
    /// replacing each cached singleton with what the processors return.
    fn post_process(
        &self,
        objs: &mut [ObjectRef],
        pps: &[ObjectRef],
        stage: &str,
        apply: impl Fn(
            &dyn ObjectPostProcessor,
            ObjectRef,
            &str,
        ) -> std::result::Result<ObjectRef, String>,
    ) -> Result<()> {
        for o in objs.iter_mut() {
            if pps.iter().any(|p| p.ptr_eq(o)) {
                continue;
            }
            for pp in pps {
                if let Some(p) = pp.component().and_then(|c| c.post_processor()) {
                    let id = o.id().to_string();
                    *o = apply(p, o.clone(), &id)
                        .map_err(|m| self.located(&id, K::Lifecycle, format!("{stage}: {m}")))?;
                }
            }
            self.inner.replace_singleton(o);
        }
        Ok(())
    }

    /// Post-processors, `after_properties_set`, `set_app_context`, post-processors, for `made`.
    fn run_hooks(&self, made: &[ObjectRef]) -> Result<Vec<ObjectRef>> {
        {
            let mut st = self.inner.lock();
            for o in made {
                if o.component().and_then(|c| c.post_processor()).is_some() {
                    st.post_processors.push(o.clone());
                }
            }
        }
        let pps = self.inner.lock().post_processors.clone();
        let mut objs: Vec<ObjectRef> = made.to_vec();
        self.post_process(
            &mut objs,
            &pps,
            "post_process_before_initialization",
            |p, o, id| p.post_process_before_initialization(o, id),
        )?;
        let init = InitContext {
            holder: self.inner.holder.clone(),
            id: String::new(),
        };
        let weak = self.downgrade();
        for o in &objs {
            if o.is_proxy() {
                continue;
            }
            if let Some(c) = o.component() {
                let init = InitContext {
                    id: o.id().to_string(),
                    ..init.clone()
                };
                self.inner.lock().initialised.push(o.clone());
                c.after_properties_set(&init).map_err(|m| {
                    self.located(
                        o.id(),
                        K::Lifecycle,
                        format!("after_properties_set failed: {m}"),
                    )
                })?;
                c.set_app_context(&weak);
            }
        }
        self.post_process(
            &mut objs,
            &pps,
            "post_process_after_initialization",
            |p, o, id| p.post_process_after_initialization(o, id),
        )?;
        Ok(objs)
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn replace_singleton(&self, o: &ObjectRef) {
        let mut st = self.lock();
        if let Some(slot) = st.singletons.get_mut(o.id()) {
            *slot = o.clone();
        }
    }

    fn destroy_all(&self) {
        tracing::debug!(target: CONTEXT, "Invoking the destroy_method on registered objects");
        let objs: Vec<ObjectRef> = {
            let mut st = self.lock();
            // Initialised objects (singletons and prototypes) in initialisation order, then
            // singletons whose hooks never ran (a failed start); destroyed from the end.
            let mut v: Vec<ObjectRef> = std::mem::take(&mut st.initialised);
            for id in &st.created {
                if let Some(o) = st.singletons.get(id) {
                    if !v.iter().any(|x| x.id() == o.id()) {
                        v.push(o.clone());
                    }
                }
            }
            v
        };
        for o in objs.iter().rev() {
            let Some(c) = o.component() else { continue };
            if o.is_proxy() {
                continue;
            }
            tracing::debug!(target: CONTEXT, "About to destroy object '{}'", o.id());
            match c.destroy() {
                Ok(()) => {
                    tracing::debug!(target: CONTEXT, "Successfully destroyed object '{}'", o.id())
                }
                Err(e) => {
                    tracing::error!(target: CONTEXT, "Failed to destroy object '{}': {e}", o.id())
                }
            }
        }
        tracing::debug!(target: CONTEXT, "Successfully invoked the destroy_method on registered objects");
    }

    /// The chain of definitions from `def` up to its topmost ancestor (nearest first).
    fn chain(&self, def: &Arc<ObjectDef>) -> Result<Vec<Arc<ObjectDef>>> {
        let mut chain = vec![def.clone()];
        let mut cur = def.clone();
        while let Some(pid) = cur.parent.clone() {
            let parent = self.defs.get(&pid).ok_or_else(|| {
                loc(
                    ContextError::new(K::Definition, format!("parent '{pid}' is not defined")),
                    &cur.origin,
                )
                .for_object(&cur.id)
            })?;
            if !parent.is_abstract {
                return Err(loc(
                    ContextError::new(
                        K::Definition,
                        format!("parent '{pid}' is not abstract (add abstract=\"true\" to it)"),
                    ),
                    &cur.origin,
                )
                .for_object(&cur.id));
            }
            if chain.iter().any(|d| d.id == pid) || chain.len() > 64 {
                return Err(loc(
                    ContextError::new(K::Cycle, format!("parent chain loops back to '{pid}'")),
                    &def.origin,
                )
                .for_object(&def.id));
            }
            chain.push(parent.clone());
            cur = parent.clone();
        }
        Ok(chain)
    }

    /// The definition with its abstract parents merged in (Spring Python's rules: the class of
    /// the topmost ancestor; positional args by index, named args and properties by name,
    /// nearer wins; scope, lazy-init and abstract from the child).
    fn merged(&self, def: &Arc<ObjectDef>) -> Result<ObjectDef> {
        let chain = self.chain(def)?;
        if chain.len() == 1 {
            return Ok(def.as_ref().clone());
        }
        let top = chain.last().unwrap_or(def);
        let mut m = def.as_ref().clone();
        if def.class.is_some() && def.class != top.class {
            tracing::warn!(target: CONTEXT,
                "object '{}': its class attribute {:?} is ignored; the class comes from the topmost parent '{}' ({:?}), as in Spring Python",
                def.id, def.class.as_deref().unwrap_or(""), top.id, top.class.as_deref().unwrap_or(""));
        }
        m.class = top.class.clone();
        m.ctor_args = Vec::new();
        m.named_args = Vec::new();
        m.props = Vec::new();
        for d in chain.iter().rev() {
            for (i, a) in d.ctor_args.iter().enumerate() {
                if i < m.ctor_args.len() {
                    m.ctor_args[i] = a.clone();
                } else {
                    m.ctor_args.push(a.clone());
                }
            }
            merge_named(&mut m.named_args, &d.named_args);
            merge_named(&mut m.props, &d.props);
        }
        Ok(m)
    }

    /// Up-front checks of every definition.
    fn validate(&self) -> Result<()> {
        for id in &self.order {
            let Some(def) = self.defs.get(id) else {
                continue;
            };
            let m = self.merged(def)?;
            let class = m.class.as_deref().ok_or_else(|| {
                loc(
                    ContextError::new(K::Definition, "no class (and no parent with one)"),
                    &def.origin,
                )
                .for_object(id)
            })?;
            match self.registry.spec(class) {
                None => return Err(self.unknown_class(class, def)),
                Some(spec) => {
                    if let Some(reason) = spec.not_built {
                        if !def.is_abstract {
                            return Err(loc(
                                ContextError::new(K::NotBuilt, format!("class {class}: {reason}")),
                                &def.origin,
                            )
                            .for_object(id));
                        }
                    }
                }
            }
            let mut refs = Vec::new();
            for v in m
                .ctor_args
                .iter()
                .chain(m.named_args.iter().map(|n| &n.value))
                .chain(m.props.iter().map(|n| &n.value))
            {
                collect_refs(v, &mut refs);
            }
            for (rid, origin) in refs {
                if !self.defs.contains_key(&rid) {
                    return Err(loc(
                        ContextError::new(K::MissingRef, format!("reference to '{rid}', which is not defined in any file of the context")),
                        &origin,
                    )
                    .for_object(id));
                }
            }
        }
        Ok(())
    }

    fn unknown_class(&self, class: &str, def: &ObjectDef) -> ContextError {
        let names = self.registry.names();
        let user: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| {
                !n.starts_with("springpython.")
                    && !n.starts_with("builtins.")
                    && !n.starts_with("decimal.")
                    && !n.starts_with("tether.")
            })
            .collect();
        loc(
            ContextError::new(
                K::UnknownClass,
                format!(
                    "unknown class '{class}'; registered classes: [{}] plus the built-ins [{}]. Register it with \
                     #[tether::component(\"{class}\")] or ClassRegistry::register (if it is registered in a library \
                     crate, add `use that_crate as _;` to your binary so the linker keeps it)",
                    user.join(", "),
                    names.iter().copied().filter(|n| !user.contains(n)).collect::<Vec<_>>().join(", ")
                ),
            ),
            &def.origin,
        )
        .for_object(&def.id)
    }

    /// Creates (or returns the cached) object `id`; `c.made` collects every new object.
    fn create(&self, id: &str, c: &mut Creation) -> Result<ObjectRef> {
        if let Some(o) = self.lock().singletons.get(id) {
            return Ok(o.clone());
        }
        tracing::debug!(target: CONTEXT, "Did NOT find object '{id}' in the singleton storage.");
        let def = self.defs.get(id).ok_or_else(|| {
            tracing::error!(target: CONTEXT, "Object '{id}' has no definition!");
            ContextError::new(K::MissingRef, format!("no object '{id}' is defined")).for_object(id)
        })?;
        if let Some(pos) = c.stack.iter().position(|s| s == id) {
            let mut chain: Vec<&str> = c.stack[pos..].iter().map(String::as_str).collect();
            chain.push(id);
            return Err(loc(
                ContextError::new(
                    K::Cycle,
                    format!("dependency cycle: {}", chain.join(" -> ")),
                ),
                &def.origin,
            )
            .for_object(id));
        }
        if c.stack.len() > 256 {
            return Err(loc(
                ContextError::new(K::Cycle, "dependencies nested more than 256 deep"),
                &def.origin,
            )
            .for_object(id));
        }
        c.stack.push(id.to_string());
        let result = self.build(def, c);
        c.stack.pop();
        let obj = result.map_err(|e| e.for_object(id))?;
        c.made.push(obj.clone());
        if def.scope == Scope::Singleton {
            let mut st = self.lock();
            st.singletons.insert(id.to_string(), obj.clone());
            st.created.push(id.to_string());
            tracing::debug!(target: CONTEXT, "Stored object '{id}' in container's singleton storage");
        }
        Ok(obj)
    }

    fn build(&self, def: &Arc<ObjectDef>, c: &mut Creation) -> Result<ObjectRef> {
        let m = self.merged(def)?;
        let class = m
            .class
            .clone()
            .ok_or_else(|| loc(ContextError::new(K::Definition, "no class"), &def.origin))?;
        let spec = self
            .registry
            .spec(&class)
            .ok_or_else(|| self.unknown_class(&class, def))?
            .clone();
        if let Some(reason) = spec.not_built {
            return Err(loc(
                ContextError::new(K::NotBuilt, format!("class {class}: {reason}")),
                &def.origin,
            ));
        }
        tracing::debug!(target: CONTEXT, "Creating an instance of id={} props={:?} scope=scope.{} factory=ReflectiveObjectFactory({class})",
            def.id, m.props.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            if m.scope == Scope::Singleton { "SINGLETON" } else { "PROTOTYPE" });
        let mut positional = Vec::with_capacity(m.ctor_args.len());
        for a in &m.ctor_args {
            positional.push(self.resolve(a, c)?);
        }
        let mut named = Vec::with_capacity(m.named_args.len());
        for n in &m.named_args {
            named.push((n.name.clone(), self.resolve(&n.value, c)?));
        }
        tracing::debug!(target: FACTORY, "Creating an instance of {class}");
        let args = CtorArgs {
            positional,
            named,
            protocols: self.registry.protocols().clone(),
        };
        let mut pending = (spec.factory)(args).map_err(|msg| {
            loc(
                ContextError::new(K::BadProperty, format!("class {class}: constructor: {msg}")),
                &def.origin,
            )
        })?;
        for p in &m.props {
            let v = self.resolve(&p.value, c)?;
            pending.set_property(&p.name, v).map_err(|msg| {
                let msg = if msg.starts_with("property") {
                    msg
                } else {
                    format!("property '{}': {msg}", p.name)
                };
                loc(
                    ContextError::new(K::BadProperty, format!("class {class}: {msg}")),
                    &p.origin,
                )
            })?;
        }
        Ok(ObjectRef::new(
            def.id.clone(),
            class,
            pending.finish(),
            self.facets.clone(),
        ))
    }

    fn resolve(&self, v: &ValueDef, c: &mut Creation) -> Result<ContextValue> {
        let seq =
            |this: &Self, items: &[ValueDef], c: &mut Creation| -> Result<Vec<ContextValue>> {
                items.iter().map(|i| this.resolve(i, c)).collect()
            };
        Ok(match v {
            ValueDef::Literal(v) => ContextValue::Value(v.clone()),
            ValueDef::Null => ContextValue::Value(Value::None),
            ValueDef::Ref { id, origin: ro } => {
                if let Some(d) = self.defs.get(id) {
                    if d.is_abstract {
                        return Err(loc(
                            ContextError::new(
                                K::Abstract,
                                format!("reference to '{id}', which is abstract"),
                            ),
                            ro,
                        ));
                    }
                }
                let obj = self.create(id, c).map_err(|e| loc(e, ro))?;
                match obj.value() {
                    Some(v) => ContextValue::Value(v.clone()),
                    None => ContextValue::Object(obj),
                }
            }
            ValueDef::Inner(id) => ContextValue::Object(self.create(id, c)?),
            ValueDef::List(items) => ContextValue::List(seq(self, items, c)?),
            ValueDef::Tuple(items) => ContextValue::Tuple(seq(self, items, c)?),
            ValueDef::Set(items) => ContextValue::Set(dedup(seq(self, items, c)?)),
            ValueDef::FrozenSet(items) => ContextValue::FrozenSet(dedup(seq(self, items, c)?)),
            ValueDef::Dict(entries) => {
                let mut out: Vec<(String, ContextValue)> = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let v = self.resolve(v, c)?;
                    match out.iter_mut().find(|(ek, _)| ek == k) {
                        Some(slot) => slot.1 = v,
                        None => out.push((k.clone(), v)),
                    }
                }
                ContextValue::Dict(out)
            }
        })
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if !self.closed.swap(true, Ordering::SeqCst) {
            self.destroy_all();
        }
    }
}

fn dedup(items: Vec<ContextValue>) -> Vec<ContextValue> {
    let mut out: Vec<ContextValue> = Vec::with_capacity(items.len());
    for i in items {
        if !out.iter().any(|o| o.same(&i)) {
            out.push(i);
        }
    }
    out
}

fn merge_named(into: &mut Vec<NamedDef>, from: &[NamedDef]) {
    for n in from {
        match into.iter_mut().find(|e| e.name == n.name) {
            Some(slot) => *slot = n.clone(),
            None => into.push(n.clone()),
        }
    }
}

fn collect_refs(v: &ValueDef, out: &mut Vec<(String, Origin)>) {
    match v {
        ValueDef::Ref { id, origin } => out.push((id.clone(), origin.clone())),
        ValueDef::List(i) | ValueDef::Tuple(i) | ValueDef::Set(i) | ValueDef::FrozenSet(i) => {
            i.iter().for_each(|x| collect_refs(x, out))
        }
        ValueDef::Dict(e) => e.iter().for_each(|(_, x)| collect_refs(x, out)),
        ValueDef::Literal(_) | ValueDef::Null | ValueDef::Inner(_) => {}
    }
}
