//! The Spring Python "objects" XML format (namespaces 1.0, 1.1, any other, or none) → [`ObjectDef`]s.
//!
//! Faithful to Spring Python's `XMLConfig` for valid files: the namespace comes from the root tag,
//! every top-level child is a definition, typed shorthands (`<int id="p">7000</int>`) become
//! objects, inner objects become top-level definitions with Spring Python's path ids
//! (`Outer.prop.<anonymous>`, `Outer.prop.list[0].<anonymous>`, `Outer.Outer.constr.<anonymous>`),
//! and values stay strings except the exact texts `True` and `False`.
//!
//! Deliberate fixes (documented in the crate docs): `lazy-init`/`abstract` are booleans (`"false"`
//! means false), an empty `<value/>` is `""`, `<null/>` is `None`, `<description>` is ignored,
//! and anything the parser does not understand (an unknown element, `<import>`, an empty
//! `<property>`, a duplicate id within one file) is an error with its line instead of being
//! silently skipped.

use crate::def::{NamedDef, ObjectDef, Origin, Scope, ValueDef};
use crate::error::{ContextError, ContextErrorKind as K, Result};
use roxmltree::{Document, Node};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tether_core::Value;

/// Largest configuration file accepted (a context file is hand-written; 16 MiB is generous).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Deepest nesting of collections and inner objects accepted.
pub const MAX_DEPTH: usize = 64;
/// Deepest nesting of XML elements accepted, checked by a linear scan before the document is
/// parsed (the XML parser recurses per level; a hostile file must not exhaust the stack).
pub const MAX_ELEMENT_DEPTH: usize = 256;
/// Most attributes on one element, checked by the same scan (the XML parser's duplicate check
/// is quadratic in them).
pub const MAX_ATTRIBUTES: usize = 256;

/// The typed shorthand elements and the built-in class each one maps to.
pub const SHORTHANDS: &[(&str, &str)] = &[
    ("str", "builtins.str"),
    ("unicode", "builtins.str"),
    ("int", "builtins.int"),
    ("long", "builtins.int"),
    ("float", "builtins.float"),
    ("decimal", "decimal.Decimal"),
    ("bool", "builtins.bool"),
    ("complex", "builtins.complex"),
];

/// Attributes Spring Python's parser silently ignores; tether warns about them instead.
const IGNORED_OBJECT_ATTRS: &[&str] = &[
    "init-method",
    "destroy-method",
    "factory-method",
    "depends-on",
    "autowire",
    "name",
];

/// Reads and parses one file.
pub fn parse_file(path: &Path) -> Result<Vec<ObjectDef>> {
    let err = |m: String| ContextError::new(K::Io, m).at(Some(path), 0);
    // Capped by the bytes actually read, not by metadata: `/dev/zero` or a FIFO report 0.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            use std::io::Read;
            f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)
        })
        .map_err(|e| err(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(err(format!(
            "file is larger than the {MAX_FILE_BYTES} bytes allowed"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        err(format!(
            "not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    tracing::debug!(target: "springpython.config.XMLConfig", "* Parsing {}", path.display());
    parse_str(&text, Some(Arc::new(path.to_path_buf())))
}

/// Parses one document; `file` is used for error messages only.
pub fn parse_str(text: &str, file: Option<Arc<PathBuf>>) -> Result<Vec<ObjectDef>> {
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(ContextError::new(
            K::Io,
            format!(
                "document is {} bytes, more than the {MAX_FILE_BYTES} allowed",
                text.len()
            ),
        )
        .at(file.as_deref().map(|p| p.as_path()), 0));
    }
    if let Some((line, what)) = prescan(text) {
        return Err(
            ContextError::new(K::Malformed, what).at(file.as_deref().map(|p| p.as_path()), line)
        );
    }
    let doc = Document::parse(text).map_err(|e| {
        let pos = e.pos();
        ContextError::new(K::Malformed, format!("malformed XML: {e}"))
            .at(file.as_deref().map(|p| p.as_path()), pos.row)
    })?;
    // Room for every top-level definition at once: growing these piece by piece copies them
    // over and over at 100,000 objects, and each large reallocation makes the allocator sweep
    // every small free chunk (a cost that grew with the file).
    let top_level = elements(doc.root_element()).count();
    let mut p = Parser {
        doc: &doc,
        file,
        ns: doc
            .root_element()
            .tag_name()
            .namespace()
            .map(str::to_string),
        out: Vec::with_capacity(top_level),
        seen: HashSet::with_capacity(top_level),
        line_starts: line_starts(text),
    };
    p.document()?;
    Ok(p.out)
}

/// The first place where elements nest deeper than [`MAX_ELEMENT_DEPTH`] or an element has
/// more than [`MAX_ATTRIBUTES`] attributes (line, what); see [`tether_core::markup::prescan`].
fn prescan(text: &str) -> Option<(u32, String)> {
    tether_core::markup::prescan(text, MAX_ELEMENT_DEPTH, MAX_ATTRIBUTES)
}

struct Parser<'a, 'i> {
    doc: &'a Document<'i>,
    file: Option<Arc<PathBuf>>,
    ns: Option<String>,
    out: Vec<ObjectDef>,
    seen: HashSet<String>,
    /// Byte offset of each line's start, so a node's line is a binary search (the XML
    /// parser's own position lookup scans from the start: quadratic over a large file).
    line_starts: Vec<usize>,
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

fn elements<'a, 'i>(n: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children().filter(|c| c.is_element())
}

fn literal(s: &str) -> Value {
    match s {
        "True" => Value::Bool(true),
        "False" => Value::Bool(false),
        _ => Value::Str(s.to_string()),
    }
}

impl<'a, 'i> Parser<'a, 'i> {
    /// The 1-based line a node starts on.
    fn line(&self, n: Node) -> u32 {
        let at = n.range().start;
        let line = self.line_starts.partition_point(|&start| start <= at);
        u32::try_from(line).unwrap_or(u32::MAX)
    }

    fn origin(&self, n: Node) -> Origin {
        Origin {
            file: self.file.clone(),
            line: self.line(n),
        }
    }

    fn err(&self, n: Node, kind: K, msg: impl Into<String>) -> ContextError {
        ContextError::new(kind, msg).at(self.file.as_deref().map(|p| p.as_path()), self.line(n))
    }

    /// The local name of an element in the document's namespace, or an error for a foreign one.
    fn name(&self, n: Node<'a, 'i>) -> Result<&'a str> {
        if n.tag_name().namespace() != self.ns.as_deref() {
            return Err(self.err(
                n,
                K::UnknownElement,
                format!(
                    "element <{}> is in namespace {:?}, expected the document's namespace {:?}",
                    n.tag_name().name(),
                    n.tag_name().namespace().unwrap_or(""),
                    self.ns.as_deref().unwrap_or("")
                ),
            ));
        }
        Ok(n.tag_name().name())
    }

    fn document(&mut self) -> Result<()> {
        let root = self.doc.root_element();
        for child in elements(root) {
            match self.name(child)? {
                "object" => {
                    let id = self.attr_required(child, "id", "a top-level <object>")?;
                    self.object(child, id, 0)?;
                }
                "description" => {}
                "import" | "alias" => {
                    return Err(self.err(
                        child,
                        K::UnknownElement,
                        format!(
                            "<{}> is not supported (Spring Python does not support it either); \
                             list every file in the context instead",
                            child.tag_name().name()
                        ),
                    ))
                }
                other => {
                    if let Some((_, class)) = SHORTHANDS.iter().find(|(n, _)| *n == other) {
                        self.shorthand(child, class)?;
                    } else {
                        return Err(self.err(
                            child,
                            K::UnknownElement,
                            format!(
                                "unknown element <{other}>: expected <object>, <description> or a typed \
                                 shorthand (str, unicode, int, long, float, decimal, bool, complex)"
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn attr_required(&self, n: Node, attr: &str, what: &str) -> Result<String> {
        match n.attribute(attr) {
            Some(v) if !v.is_empty() => Ok(v.to_string()),
            _ => Err(self.err(
                n,
                K::Definition,
                format!("{what} needs a non-empty '{attr}' attribute"),
            )),
        }
    }

    fn register(&mut self, n: Node, def: ObjectDef) -> Result<()> {
        if !self.seen.insert(def.id.clone()) {
            return Err(self
                .err(
                    n,
                    K::Definition,
                    "duplicate id in one file (across files the later definition wins, within one file \
                     it is almost certainly a mistake)",
                )
                .for_object(&def.id));
        }
        tracing::debug!(target: "springpython.config.XMLConfig", "Parsed id={} class={}", def.id, def.class.as_deref().unwrap_or("(from parent)"));
        self.out.push(def);
        Ok(())
    }

    fn shorthand(&mut self, n: Node<'a, 'i>, class: &str) -> Result<()> {
        let id = self.attr_required(n, "id", "a typed shorthand")?;
        if let Some(bad) = n.attributes().find(|a| a.name() != "id") {
            return Err(self
                .err(
                    n,
                    K::UnknownElement,
                    format!("unknown attribute '{}' on a typed shorthand", bad.name()),
                )
                .for_object(&id));
        }
        if let Some(child) = elements(n).next() {
            return Err(self
                .err(
                    child,
                    K::UnknownElement,
                    "a typed shorthand holds text only",
                )
                .for_object(&id));
        }
        let text = n.text().unwrap_or("").to_string();
        let mut def = ObjectDef::new(id, class);
        def.origin = self.origin(n);
        def.ctor_args.push(ValueDef::Literal(Value::Str(text)));
        self.register(n, def)
    }

    fn bool_attr(&self, n: Node, attr: &str, id: &str) -> Result<bool> {
        match n.attribute(attr) {
            None | Some("") | Some("default") => Ok(false),
            Some("true" | "True" | "TRUE") => Ok(true),
            Some("false" | "False" | "FALSE") => Ok(false),
            Some(other) => Err(self
                .err(
                    n,
                    K::Definition,
                    format!("{attr}=\"{other}\": expected true or false"),
                )
                .for_object(id)),
        }
    }

    /// One `<object>` (top-level or inner) registered under `id`.
    fn object(&mut self, n: Node<'a, 'i>, id: String, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(self
                .err(n, K::Definition, format!("nesting deeper than {MAX_DEPTH}"))
                .for_object(&id));
        }
        for a in n.attributes() {
            match a.name() {
                "id" | "class" | "scope" | "lazy-init" | "abstract" | "parent" => {}
                name if IGNORED_OBJECT_ATTRS.contains(&name) => {
                    tracing::warn!(target: "springpython.config.XMLConfig",
                        "object '{id}': attribute '{name}' is ignored (Spring Python ignores it too)");
                }
                name => {
                    return Err(self
                        .err(
                            n,
                            K::UnknownElement,
                            format!("unknown attribute '{name}' on <object>"),
                        )
                        .for_object(&id))
                }
            }
        }
        let scope = match n.attribute("scope") {
            None | Some("singleton") => Scope::Singleton,
            Some("prototype") => Scope::Prototype,
            Some(other) => {
                return Err(self
                    .err(
                        n,
                        K::Definition,
                        format!("scope=\"{other}\": expected singleton or prototype"),
                    )
                    .for_object(&id))
            }
        };
        let class = n.attribute("class").map(str::to_string);
        let parent = n
            .attribute("parent")
            .filter(|p| !p.is_empty())
            .map(str::to_string);
        if class.is_none() && parent.is_none() {
            return Err(self
                .err(
                    n,
                    K::Definition,
                    "<object> needs a 'class' attribute (or a 'parent' to inherit it from)",
                )
                .for_object(&id));
        }
        let mut def = ObjectDef {
            id: id.clone(),
            class,
            scope,
            lazy_init: self.bool_attr(n, "lazy-init", &id)?,
            is_abstract: self.bool_attr(n, "abstract", &id)?,
            parent,
            ctor_args: Vec::new(),
            named_args: Vec::new(),
            props: Vec::new(),
            origin: self.origin(n),
        };
        let mut pos_index = 0usize;
        for child in elements(n) {
            match self.name(child)? {
                "constructor-arg" => {
                    let base = format!("{id}.{id}.constr");
                    let value = self
                        .value_holder(child, &base, depth)
                        .map_err(|e| e.for_object(&id))?;
                    match child.attribute("name") {
                        Some(name) => def.named_args.push(NamedDef {
                            name: name.to_string(),
                            value,
                            origin: self.origin(child),
                        }),
                        None => {
                            def.ctor_args.push(value);
                            pos_index += 1;
                        }
                    }
                }
                "property" => {
                    let name = self
                        .attr_required(child, "name", "<property>")
                        .map_err(|e| e.for_object(&id))?;
                    let base = format!("{id}.{name}");
                    let value = self
                        .value_holder(child, &base, depth)
                        .map_err(|e| e.for_object(&id))?;
                    def.props.push(NamedDef {
                        name,
                        value,
                        origin: self.origin(child),
                    });
                }
                "description" => {}
                other => {
                    return Err(self
                        .err(
                            child,
                            K::UnknownElement,
                            format!("unknown element <{other}> in <object>: expected <property> or <constructor-arg>"),
                        )
                        .for_object(&id))
                }
            }
        }
        let _ = pos_index;
        self.register(n, def)
    }

    /// The value of a `<property>` or `<constructor-arg>`, by Spring Python's precedence.
    fn value_holder(&mut self, n: Node<'a, 'i>, base: &str, depth: usize) -> Result<ValueDef> {
        if let Some(r) = n.attribute("ref") {
            return Ok(ValueDef::Ref {
                id: r.to_string(),
                origin: self.origin(n),
            });
        }
        let children: Vec<Node<'a, 'i>> = elements(n)
            .filter(|c| c.tag_name().name() != "description")
            .collect();
        for c in &children {
            if self.name(*c)? == "ref" {
                return self.ref_element(*c);
            }
        }
        if let Some(v) = n.attribute("value") {
            return Ok(ValueDef::Literal(literal(v)));
        }
        match children.as_slice() {
            [] => Err(self.err(
                n,
                K::Definition,
                format!(
                    "<{}> has no value: expected value=\"...\", ref=\"...\", or one child element",
                    n.tag_name().name()
                ),
            )),
            [only] => self.item(*only, base, None, depth + 1, false),
            [_, second, ..] => Err(self.err(
                *second,
                K::Definition,
                format!(
                    "<{}> takes one value element, found more",
                    n.tag_name().name()
                ),
            )),
        }
    }

    fn ref_element(&self, n: Node) -> Result<ValueDef> {
        match n.attribute("object") {
            Some(id) if !id.is_empty() => Ok(ValueDef::Ref {
                id: id.to_string(),
                origin: self.origin(n),
            }),
            _ => Err(self.err(
                n,
                K::Definition,
                "<ref> needs an 'object' attribute (local= and bean= are not supported, as in Spring Python)",
            )),
        }
    }

    /// One value element: an item of a collection, a dict entry value, or the single child of a
    /// property. `slot` is the path segment of an inner object in a collection (`list[0]`).
    fn item(
        &mut self,
        n: Node<'a, 'i>,
        base: &str,
        slot: Option<String>,
        depth: usize,
        in_dict: bool,
    ) -> Result<ValueDef> {
        if depth > MAX_DEPTH {
            return Err(self.err(n, K::Definition, format!("nesting deeper than {MAX_DEPTH}")));
        }
        let path = match &slot {
            Some(s) => format!("{base}.{s}"),
            None => base.to_string(),
        };
        match self.name(n)? {
            "value" => {
                let text = n.text().unwrap_or("");
                match elements(n).next() {
                    None => Ok(ValueDef::Literal(literal(text))),
                    Some(c) if in_dict && text.trim().is_empty() => self.item(c, base, slot, depth + 1, false),
                    Some(c) => Err(self.err(
                        c,
                        K::UnknownElement,
                        "<value> holds text only here (Spring Python reads nested collections in <value> \
                         only inside <dict> entries); write the collection element directly",
                    )),
                }
            }
            "ref" => self.ref_element(n),
            "null" => Ok(ValueDef::Null),
            "object" => {
                let id = match n.attribute("id") {
                    Some(inner) if !inner.is_empty() => format!("{path}.{inner}"),
                    _ => format!("{path}.<anonymous>"),
                };
                self.object(n, id.clone(), depth)?;
                Ok(ValueDef::Inner(id))
            }
            kind @ ("list" | "tuple" | "set" | "frozenset") => {
                let mut items = Vec::new();
                for (i, c) in elements(n).filter(|c| c.tag_name().name() != "description").enumerate() {
                    let seg = match kind {
                        "list" => format!("list[{i}]"),
                        "tuple" => format!("tuple({i})"),
                        "set" => format!("set({i})"),
                        _ => format!("frozenset({i})"),
                    };
                    items.push(self.item(c, &path, Some(seg), depth + 1, false)?);
                }
                Ok(match kind {
                    "list" => ValueDef::List(items),
                    "tuple" => ValueDef::Tuple(items),
                    "set" => ValueDef::Set(items),
                    _ => ValueDef::FrozenSet(items),
                })
            }
            "dict" => {
                let mut entries = Vec::new();
                for e in elements(n).filter(|c| c.tag_name().name() != "description") {
                    if self.name(e)? != "entry" {
                        return Err(self.err(e, K::UnknownElement, format!("<dict> holds <entry> elements, found <{}>", e.tag_name().name())));
                    }
                    let (key, value) = self.entry(e, &path, depth + 1)?;
                    entries.push((key, value));
                }
                Ok(ValueDef::Dict(entries))
            }
            "props" => {
                let mut entries = Vec::new();
                for p in elements(n) {
                    if self.name(p)? != "prop" {
                        return Err(self.err(p, K::UnknownElement, format!("<props> holds <prop> elements, found <{}>", p.tag_name().name())));
                    }
                    let key = p
                        .attribute("key")
                        .ok_or_else(|| self.err(p, K::Definition, "<prop> needs a 'key' attribute"))?;
                    entries.push((key.to_string(), ValueDef::Literal(literal(p.text().unwrap_or("")))));
                }
                Ok(ValueDef::Dict(entries))
            }
            other => Err(self.err(
                n,
                K::UnknownElement,
                format!(
                    "unknown element <{other}>: expected value, ref, null, object, list, tuple, set, frozenset, dict or props"
                ),
            )),
        }
    }

    fn entry(&mut self, e: Node<'a, 'i>, base: &str, depth: usize) -> Result<(String, ValueDef)> {
        let mut key: Option<String> = e.attribute("key").map(str::to_string);
        let mut value = None;
        for c in elements(e) {
            if self.name(c)? == "key" {
                let v = elements(c)
                    .next()
                    .filter(|v| v.tag_name().name() == "value" && elements(*v).next().is_none())
                    .ok_or_else(|| {
                        self.err(
                            c,
                            K::Definition,
                            "<key> holds one <value>text</value> (keys are strings)",
                        )
                    })?;
                key = Some(v.text().unwrap_or("").to_string());
            } else if value.is_some() {
                return Err(self.err(
                    c,
                    K::Definition,
                    "<entry> takes one value element, found more",
                ));
            } else {
                value = Some(c);
            }
        }
        let key = key.ok_or_else(|| {
            self.err(
                e,
                K::Definition,
                "<entry> needs a <key><value>...</value></key>",
            )
        })?;
        let v = value.ok_or_else(|| {
            self.err(
                e,
                K::Definition,
                format!("<entry> for key '{key}' has no value"),
            )
        })?;
        let item = self.item(v, base, Some(format!("dict['{key}']")), depth, true)?;
        Ok((key, item))
    }
}
