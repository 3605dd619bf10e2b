//! [`ContextBuilder`]: sources, registry, holder; `start` runs the whole start-up sequence.

use super::*;

/// Collects the sources of a context, then starts it.
#[derive(Default)]
pub struct ContextBuilder {
    registry: Option<ClassRegistry>,
    sources: Vec<Source>,
    holder: Option<Arc<DaemonHolder>>,
}

pub(super) enum Source {
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
    /// Needs a tokio runtime when the context exports services. The lifecycle hooks run on the
    /// runtime's blocking pool ([`tether_remoting::run_sync_hooks`]) while this task waits, so
    /// a hook's network work (a directory listing) completes on either runtime flavour.
    pub async fn start(self) -> Result<ApplicationContext> {
        let registry = self.registry.unwrap_or_default();
        let mut defs: Vec<Arc<ObjectDef>> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        tracing::debug!(target: CONTAINER, "=== Scanning configuration for object definitions ===");
        for source in self.sources {
            let list = match source {
                Source::File(p) => crate::xml::parse_file(&p)?,
                Source::Str(t, name) => crate::xml::parse_str(&t, name.map(Arc::new))?,
                Source::Defs(d) => d,
            };
            defs.reserve(list.len());
            index.reserve(list.len());
            order.reserve(list.len());
            for def in list {
                match index.get(&def.id) {
                    Some(&i) => {
                        tracing::debug!(target: CONTAINER, "Overriding previous definition of {}", def.id);
                        defs[i] = Arc::new(def);
                    }
                    None => {
                        tracing::debug!(target: CONTAINER, "{} object definition does not exist. Adding to list of definitions.", def.id);
                        index.insert(def.id.clone(), defs.len());
                        order.push(def.id.clone());
                        defs.push(Arc::new(def));
                    }
                }
            }
        }
        tracing::debug!(target: CONTAINER, "=== Done reading object definitions. ===");
        let inner = Arc::new(Inner {
            facets: Arc::new(registry.facet_table()),
            registry,
            state: Mutex::new(State {
                singletons: vec![None; defs.len()],
                hooked: vec![false; defs.len()],
                ..State::default()
            }),
            defs,
            index,
            order,
            create_lock: Mutex::new(()),
            holder: self.holder.unwrap_or_default(),
            started: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        });
        let ctx = ApplicationContext { inner };
        ctx.inner.validate()?;
        // On the blocking pool: the hooks may wait for network work this thread must drive.
        let starting = ctx.clone();
        match tether_remoting::run_sync_hooks(move || starting.eager_phase()).await {
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
