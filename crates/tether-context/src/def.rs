//! The format-neutral definition model: what a configuration file says, before anything is
//! created. The XML parser produces it; the programmatic API may build it directly.

use std::path::PathBuf;
use std::sync::Arc;
use tether_core::Value;

/// Where a definition or value came from, for error messages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// The file (`None` for definitions built in code).
    pub file: Option<Arc<PathBuf>>,
    /// The 1-based line.
    pub line: u32,
}

/// `singleton` (one shared instance per context) or `prototype` (a new instance per request).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Scope {
    /// One instance per context (the default).
    #[default]
    Singleton,
    /// A new instance each time the object is requested or injected.
    Prototype,
}

/// How a constructor argument, property or collection item gets its value.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueDef {
    /// A literal: a string (`value=`, `<value>`, `<prop>`), or `True`/`False` as a bool.
    Literal(Value),
    /// `<null/>`: Python `None`.
    Null,
    /// `ref="id"` / `<ref object="id"/>`.
    Ref {
        /// The referenced id.
        id: String,
        /// Where the reference is written.
        origin: Origin,
    },
    /// An inner `<object>`, registered as a top-level definition under this path id.
    Inner(String),
    /// `<list>`.
    List(Vec<ValueDef>),
    /// `<tuple>`.
    Tuple(Vec<ValueDef>),
    /// `<set>`.
    Set(Vec<ValueDef>),
    /// `<frozenset>`.
    FrozenSet(Vec<ValueDef>),
    /// `<dict>` or `<props>`: string keys in document order.
    Dict(Vec<(String, ValueDef)>),
}

/// One named value (a property or a named constructor argument) and where it is written.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedDef {
    /// The property or parameter name.
    pub name: String,
    /// Its value.
    pub value: ValueDef,
    /// Where it is written.
    pub origin: Origin,
}

/// One object definition (`<object>` or a typed shorthand).
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectDef {
    /// The container key.
    pub id: String,
    /// The class name (`None` for a child that takes its class from its abstract parent).
    pub class: Option<String>,
    /// The scope.
    pub scope: Scope,
    /// Created on first request instead of at context start.
    pub lazy_init: bool,
    /// A template for children; never handed out.
    pub is_abstract: bool,
    /// The id of the abstract parent whose class and values this definition inherits.
    pub parent: Option<String>,
    /// Positional constructor arguments in document order.
    pub ctor_args: Vec<ValueDef>,
    /// Named constructor arguments in document order.
    pub named_args: Vec<NamedDef>,
    /// Properties in document order.
    pub props: Vec<NamedDef>,
    /// Where the definition is written.
    pub origin: Origin,
}

impl ObjectDef {
    /// An eager singleton of `class` with nothing set.
    pub fn new(id: impl Into<String>, class: impl Into<String>) -> Self {
        ObjectDef {
            id: id.into(),
            class: Some(class.into()),
            scope: Scope::Singleton,
            lazy_init: false,
            is_abstract: false,
            parent: None,
            ctor_args: Vec::new(),
            named_args: Vec::new(),
            props: Vec::new(),
            origin: Origin::default(),
        }
    }

    /// Adds a property (builder style, for definitions written in code).
    pub fn property(mut self, name: impl Into<String>, value: ValueDef) -> Self {
        self.props.push(NamedDef {
            name: name.into(),
            value,
            origin: self.origin.clone(),
        });
        self
    }

    /// Adds a named constructor argument.
    pub fn named_arg(mut self, name: impl Into<String>, value: ValueDef) -> Self {
        self.named_args.push(NamedDef {
            name: name.into(),
            value,
            origin: self.origin.clone(),
        });
        self
    }

    /// Adds a positional constructor argument.
    pub fn arg(mut self, value: ValueDef) -> Self {
        self.ctor_args.push(value);
        self
    }

    /// Sets the scope.
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// Marks the definition lazy.
    pub fn lazy(mut self, lazy: bool) -> Self {
        self.lazy_init = lazy;
        self
    }
}

impl ValueDef {
    /// A string literal.
    pub fn str(s: impl Into<String>) -> Self {
        ValueDef::Literal(Value::Str(s.into()))
    }

    /// A reference to another object.
    pub fn reference(id: impl Into<String>) -> Self {
        ValueDef::Ref {
            id: id.into(),
            origin: Origin::default(),
        }
    }
}
