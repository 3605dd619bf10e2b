//! The lifecycle after creation: eager singletons, post-processors, `after_properties_set`
//! and `set_app_context`, and destruction on close.
//!
//! The hooks are synchronous (Spring's), yet some do network work: an exporter binds and lists
//! itself in a directory (etcd, Pyro's name server), a gateway asks its target for its methods,
//! an exporter withdraws its listing on `destroy`. They run that work through
//! [`tether_remoting::bind_on_current_runtime`], which waits for it. The context's async `start`
//! and `close` therefore run the hooks through [`tether_remoting::run_sync_hooks`] (on the
//! runtime's blocking pool): the thread that awaits them stays free to drive the runtime's I/O
//! and timers, so the hooks' network work completes on every runtime flavour, a current-thread
//! one included (where the awaiting thread is the only one that can drive them).

use super::*;

impl ApplicationContext {
    pub(super) fn eager_phase(&self) -> Result<()> {
        let mut c = Creation::default();
        {
            let _g = self
                .inner
                .create_lock
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            for (i, def) in self.inner.defs.iter().enumerate() {
                if def.lazy_init || def.is_abstract || def.scope == Scope::Prototype {
                    continue;
                }
                if self.inner.singleton(i).is_some() {
                    continue;
                }
                tracing::debug!(target: CONTEXT, "Eagerly fetching {}", def.id);
                self.inner.create_at(i, &mut c)?;
            }
        }
        self.run_hooks(&c.made).map(|_| ())
    }

    /// Applies one post-processor stage to every object that is not itself a post-processor,
    /// replacing each cached singleton with what the processors return.
    pub(super) fn post_process(
        &self,
        objs: &mut [ObjectRef],
        pps: &[ObjectRef],
        stage: &str,
        apply: impl Fn(
            &dyn ObjectPostProcessor,
            ObjectRef,
            &str,
        ) -> std::result::Result<ObjectRef, ContextError>,
    ) -> Result<()> {
        // Nothing to apply: every object stays what it is (and the cache holds it already).
        if pps.is_empty() {
            return Ok(());
        }
        for o in objs.iter_mut() {
            if pps.iter().any(|p| p.ptr_eq(o)) {
                continue;
            }
            for pp in pps {
                if let Some(p) = pp.component().and_then(|c| c.post_processor()) {
                    let id = o.id().to_string();
                    *o = apply(p, o.clone(), &id)
                        .map_err(|e| self.located(&id, e.in_phase(K::Lifecycle).context(stage)))?;
                }
            }
            self.inner.replace_singleton(o);
        }
        Ok(())
    }

    /// Post-processors, `after_properties_set`, `set_app_context`, post-processors, for `made`
    /// (each with its definition's position).
    pub(super) fn run_hooks(&self, made: &[(ObjectRef, Option<usize>)]) -> Result<Vec<ObjectRef>> {
        {
            let mut st = self.inner.lock();
            for (o, _) in made {
                if o.component().and_then(|c| c.post_processor()).is_some() {
                    st.post_processors.push(o.clone());
                }
            }
        }
        let pps = self.inner.lock().post_processors.clone();
        let mut objs: Vec<ObjectRef> = made.iter().map(|(o, _)| o.clone()).collect();
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
        for (o, (_, at)) in objs.iter().zip(made) {
            if o.is_proxy() {
                continue;
            }
            if let Some(c) = o.component() {
                let init = InitContext {
                    id: o.id().to_string(),
                    ..init.clone()
                };
                {
                    let mut st = self.inner.lock();
                    st.initialised.push(o.clone());
                    if let Some(slot) = at.and_then(|i| st.hooked.get_mut(i)) {
                        *slot = true;
                    }
                }
                c.after_properties_set(&init).map_err(|e| {
                    self.located(
                        o.id(),
                        e.in_phase(K::Lifecycle)
                            .context("after_properties_set failed"),
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
    pub(super) fn destroy_all(&self) {
        tracing::debug!(target: CONTEXT, "Invoking the destroy_method on registered objects");
        let objs: Vec<ObjectRef> = {
            let mut st = self.lock();
            // Initialised objects (singletons and prototypes) in initialisation order, then
            // singletons whose hooks never ran (a failed start); destroyed from the end.
            // (Marked by definition position as the hooks run: a scan of the list per object
            // made shutdown quadratic, over 15 s for 180,000 objects, and a set of the ids
            // seen still grew faster than the context.)
            let never_started: Vec<ObjectRef> = st
                .created
                .iter()
                .filter(|&&i| !st.hooked.get(i).copied().unwrap_or(false))
                .filter_map(|&i| st.singletons.get(i)?.clone())
                .collect();
            let mut v: Vec<ObjectRef> = std::mem::take(&mut st.initialised);
            v.extend(never_started);
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
}
