//! Creating one object from its definition: the parent chain, validation up front, the
//! constructor, properties and inner values, with cycle detection.

use super::*;

impl Inner {
    /// The chain of definitions from `def` up to its topmost ancestor (nearest first).
    pub(super) fn chain(&self, def: &Arc<ObjectDef>) -> Result<Vec<Arc<ObjectDef>>> {
        let mut chain = vec![def.clone()];
        let mut cur = def.clone();
        while let Some(pid) = cur.parent.clone() {
            let parent = self.def(&pid).ok_or_else(|| {
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
    /// (A definition without a parent is itself: shared, not copied.)
    pub(super) fn merged(&self, def: &Arc<ObjectDef>) -> Result<Arc<ObjectDef>> {
        if def.parent.is_none() {
            return Ok(def.clone());
        }
        let chain = self.chain(def)?;
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
        Ok(Arc::new(m))
    }

    /// Up-front checks of every definition.
    pub(super) fn validate(&self) -> Result<()> {
        for def in &self.defs {
            let id = &def.id;
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
                if !self.index.contains_key(&rid) {
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

    pub(super) fn unknown_class(&self, class: &str, def: &ObjectDef) -> ContextError {
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
    pub(super) fn create(&self, id: &str, c: &mut Creation) -> Result<ObjectRef> {
        let i = self.position(id).ok_or_else(|| {
            tracing::error!(target: CONTEXT, "Object '{id}' has no definition!");
            ContextError::new(K::MissingRef, format!("no object '{id}' is defined")).for_object(id)
        })?;
        self.create_at(i, c)
    }

    /// [`create`](Self::create) for the definition at position `i`.
    pub(super) fn create_at(&self, i: usize, c: &mut Creation) -> Result<ObjectRef> {
        if let Some(o) = self.singleton(i) {
            return Ok(o);
        }
        let def = &self.defs[i];
        let id = def.id.as_str();
        tracing::debug!(target: CONTEXT, "Did NOT find object '{id}' in the singleton storage.");
        if let Some(pos) = c.stack.iter().position(|&s| s == i) {
            let mut chain: Vec<&str> = c.stack[pos..]
                .iter()
                .map(|&s| self.defs[s].id.as_str())
                .collect();
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
        c.stack.push(i);
        let result = self.build(def, c);
        c.stack.pop();
        let obj = result.map_err(|e| e.for_object(id))?;
        c.made.push((obj.clone(), Some(i)));
        if def.scope == Scope::Singleton {
            let mut st = self.lock();
            st.singletons[i] = Some(obj.clone());
            st.created.push(i);
            tracing::debug!(target: CONTEXT, "Stored object '{id}' in container's singleton storage");
        }
        Ok(obj)
    }

    pub(super) fn build(&self, def: &Arc<ObjectDef>, c: &mut Creation) -> Result<ObjectRef> {
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
            directories: self.registry.directories().clone(),
            object_id: def.id.clone(),
        };
        let mut pending = (spec.factory)(args).map_err(|e| {
            loc(
                e.in_phase(K::BadProperty)
                    .context(format!("class {class}: constructor")),
                &def.origin,
            )
        })?;
        let class_props = pending.class_name_properties();
        for p in &m.props {
            let v = match &p.value {
                // A class name where an object is expected: a new object of that class.
                ValueDef::Literal(Value::Str(name))
                    if class_props.contains(&p.name.as_str())
                        && self.registry.spec(name).is_some() =>
                {
                    let inner = Arc::new(ObjectDef {
                        origin: p.origin.clone(),
                        ..ObjectDef::new(format!("{}.{}", def.id, p.name), name.clone())
                    });
                    let obj = self.build(&inner, c)?;
                    c.made.push((obj.clone(), None));
                    ContextValue::Object(obj)
                }
                other => self.resolve(other, c)?,
            };
            pending.set_property(&p.name, v).map_err(|e| {
                let e = e.in_phase(K::BadProperty);
                let e = if e.message().starts_with("property") {
                    e
                } else {
                    e.context(format!("property '{}'", p.name))
                };
                loc(e.context(format!("class {class}")), &p.origin)
            })?;
        }
        pending.properties_set().map_err(|e| {
            loc(
                e.in_phase(K::BadProperty).context(format!("class {class}")),
                &def.origin,
            )
        })?;
        Ok(ObjectRef::new(
            def.id.clone(),
            class,
            pending.finish(),
            self.facets.clone(),
        ))
    }

    pub(super) fn resolve(&self, v: &ValueDef, c: &mut Creation) -> Result<ContextValue> {
        let seq =
            |this: &Self, items: &[ValueDef], c: &mut Creation| -> Result<Vec<ContextValue>> {
                items.iter().map(|i| this.resolve(i, c)).collect()
            };
        Ok(match v {
            ValueDef::Literal(v) => ContextValue::Value(v.clone()),
            ValueDef::Null => ContextValue::Value(Value::None),
            ValueDef::Ref { id, origin: ro } => {
                if let Some(d) = self.def(id) {
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

pub(super) fn dedup(items: Vec<ContextValue>) -> Vec<ContextValue> {
    let mut out: Vec<ContextValue> = Vec::with_capacity(items.len());
    for i in items {
        if !out.iter().any(|o| o.same(&i)) {
            out.push(i);
        }
    }
    out
}

pub(super) fn merge_named(into: &mut Vec<NamedDef>, from: &[NamedDef]) {
    for n in from {
        match into.iter_mut().find(|e| e.name == n.name) {
            Some(slot) => *slot = n.clone(),
            None => into.push(n.clone()),
        }
    }
}

pub(super) fn collect_refs(v: &ValueDef, out: &mut Vec<(String, Origin)>) {
    match v {
        ValueDef::Ref { id, origin } => out.push((id.clone(), origin.clone())),
        ValueDef::List(i) | ValueDef::Tuple(i) | ValueDef::Set(i) | ValueDef::FrozenSet(i) => {
            i.iter().for_each(|x| collect_refs(x, out))
        }
        ValueDef::Dict(e) => e.iter().for_each(|(_, x)| collect_refs(x, out)),
        ValueDef::Literal(_) | ValueDef::Null | ValueDef::Inner(_) => {}
    }
}
