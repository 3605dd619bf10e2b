//! [`NameServer`]: the object `Pyro.NameServer`, with the API of Pyro5's name server (and of
//! Pyro4's, for calls that arrive on the Pyro4 wire), so Python clients use it unchanged.
//!
//! | method | Pyro5 | Pyro4 (differences) |
//! |---|---|---|
//! | `register(name, uri, safe=False, metadata=None)` | `None`; `safe` refuses a taken name | |
//! | `lookup(name, return_metadata=False)` | a URI object, or `(URI, set)` | `(URI, list)` |
//! | `list(prefix=None, regex=None, return_metadata=False)` | name → URI string (or `(uri, set)`) | `list(prefix, regex, metadata_all, metadata_any, return_metadata)`, metadata as lists |
//! | `yplookup(meta_all=None, meta_any=None, return_metadata=True)` | name → `(uri, set)` or uri | (not in Pyro4) |
//! | `set_metadata(name, metadata)`, `remove(name=None, prefix=None, regex=None)`, `count()`, `ping()` | | |
//!
//! Errors are Pyro's: an unknown name is `NamingError('unknown name: x')`, a metadata argument
//! that is a string is a `TypeError`, two filters at once a `ValueError`. `remove` never removes
//! `Pyro.NameServer`. A regex is matched at the start of the name, as Python's `re.match`; the
//! regex engine runs in linear time, so no pattern can stall the server.

use super::store::{Entry, Store};
use crate::naming::NAME_SERVER_ID;
use crate::uri::PyroUri;
use std::sync::{Arc, Mutex};
use tether_core::{
    bind_args_with_defaults, BoxFuture, Call, Dispatch, MethodInfo, RemoteError, Value,
};

const METHODS: &[MethodInfo] = &[
    MethodInfo {
        name: "count",
        params: &[],
        oneway: false,
    },
    MethodInfo {
        name: "list",
        params: &["prefix", "regex", "return_metadata"],
        oneway: false,
    },
    MethodInfo {
        name: "lookup",
        params: &["name", "return_metadata"],
        oneway: false,
    },
    MethodInfo {
        name: "ping",
        params: &[],
        oneway: false,
    },
    MethodInfo {
        name: "register",
        params: &["name", "uri", "safe", "metadata"],
        oneway: false,
    },
    MethodInfo {
        name: "remove",
        params: &["name", "prefix", "regex"],
        oneway: false,
    },
    MethodInfo {
        name: "set_metadata",
        params: &["name", "metadata"],
        oneway: false,
    },
    MethodInfo {
        name: "yplookup",
        params: &["meta_all", "meta_any", "return_metadata"],
        oneway: false,
    },
];

/// Most bytes of a regex the name server compiles (its compiled size is bounded too).
const MAX_REGEX: usize = 1000;

/// The name server object. Register it on a daemon as [`NAME_SERVER_ID`].
#[derive(Clone)]
pub struct NameServer {
    store: Arc<Mutex<Store>>,
    sqlite: bool,
}

impl std::fmt::Debug for NameServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NameServer")
            .field("sqlite", &self.sqlite)
            .finish()
    }
}

fn naming_error(msg: impl Into<String>) -> RemoteError {
    RemoteError::exception("Pyro5.errors.NamingError", msg)
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::None => false,
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Float(f) => *f != 0.0,
        Value::Str(s) => !s.is_empty(),
        Value::List(v) | Value::Tuple(v) | Value::Set(v) => !v.is_empty(),
        Value::Map(m) => !m.is_empty(),
        Value::Bytes(b) => !b.is_empty(),
        _ => true,
    }
}

/// A metadata argument: None → empty; a string is refused (Python would iterate its
/// characters); any other collection of strings is taken.
fn tags(what: &str, v: &Value) -> Result<Vec<String>, RemoteError> {
    match v {
        Value::None => Ok(Vec::new()),
        Value::Str(_) => Err(RemoteError::type_error(format!(
            "{what} should not be a str, but another iterable (set, list, etc)"
        ))),
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => items
            .iter()
            .map(|t| {
                t.as_str().map(str::to_string).ok_or_else(|| {
                    RemoteError::type_error(format!(
                        "{what} must hold strings, not {}",
                        t.type_name()
                    ))
                })
            })
            .collect(),
        other => Err(RemoteError::type_error(format!(
            "'{}' object is not iterable",
            other.type_name()
        ))),
    }
}

fn name_arg(v: &Value) -> Result<String, RemoteError> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| RemoteError::type_error("name must be a str"))
}

fn optional_str(what: &str, v: &Value) -> Result<Option<String>, RemoteError> {
    match v {
        Value::None => Ok(None),
        Value::Str(s) if s.is_empty() => Ok(None),
        Value::Str(s) => Ok(Some(s.clone())),
        other => Err(RemoteError::type_error(format!(
            "{what} must be a str, not {}",
            other.type_name()
        ))),
    }
}

fn compile(regex: &str) -> Result<regex::Regex, RemoteError> {
    if regex.len() > MAX_REGEX {
        return Err(naming_error(format!(
            "invalid regex: longer than {MAX_REGEX} bytes"
        )));
    }
    regex::RegexBuilder::new(&format!("^(?:{regex})"))
        .size_limit(1 << 20)
        .build()
        .map_err(|e| naming_error(format!("invalid regex: {e}")))
}

/// How the metadata set of a result is shaped on each wire.
#[derive(Clone, Copy, PartialEq)]
enum Dialect {
    Pyro5,
    Pyro4,
}

impl Dialect {
    fn tags(self, t: &[String]) -> Value {
        let items = t.iter().map(|s| Value::str(s.as_str())).collect();
        match self {
            Dialect::Pyro5 => Value::Set(items),
            Dialect::Pyro4 => Value::List(items),
        }
    }

    /// name → uri, or name → (uri, tags).
    fn listing(self, entries: Vec<Entry>, with_meta: bool) -> Value {
        Value::Map(
            entries
                .into_iter()
                .map(|e| {
                    let v = if with_meta {
                        Value::Tuple(vec![Value::Str(e.uri), self.tags(&e.metadata)])
                    } else {
                        Value::Str(e.uri)
                    };
                    (Value::Str(e.name), v)
                })
                .collect(),
        )
    }
}

impl NameServer {
    /// A name server over `store` that lists itself as `self_uri` (with the metadata
    /// `class:Pyro5.nameserver.NameServer`, as Python's does).
    pub fn new(store: Store, self_uri: &str) -> Result<NameServer, RemoteError> {
        let sqlite = matches!(store, Store::Sqlite(_));
        let ns = NameServer {
            store: Arc::new(Mutex::new(store)),
            sqlite,
        };
        ns.with_store(|s| {
            s.put(
                NAME_SERVER_ID,
                self_uri,
                vec!["class:Pyro5.nameserver.NameServer".to_string()],
            )
        })?;
        Ok(ns)
    }

    fn with_store<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, RemoteError>,
    ) -> Result<T, RemoteError> {
        // A panic while holding the lock leaves the store as it was after the last complete
        // statement; go on with it.
        let mut guard = self.store.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// The registrations (for tools and tests).
    pub fn entries(&self) -> Result<Vec<Entry>, RemoteError> {
        self.with_store(|s| s.all())
    }

    /// Runs one call (synchronously: the store is in memory or an SQLite file).
    pub fn handle(&self, call: Call) -> Result<Value, RemoteError> {
        let dialect = if call.context.protocol == Some("pyro4") {
            Dialect::Pyro4
        } else {
            Dialect::Pyro5
        };
        let Call {
            method,
            args,
            kwargs,
            ..
        } = call;
        let bind = |params: &[(&str, Option<Value>)]| {
            bind_args_with_defaults(format_args!("NameServer.{method}"), params, args, kwargs)
        };
        match method.as_str() {
            "ping" => bind(&[]).map(|_| Value::None),
            "count" => {
                bind(&[])?;
                self.with_store(|s| s.count()).map(|n| Value::Int(n as i64))
            }
            "register" => {
                let a = bind(&[
                    ("name", None),
                    ("uri", None),
                    ("safe", Some(Value::Bool(false))),
                    ("metadata", Some(Value::None)),
                ])?;
                let uri =
                    match &a[1] {
                        Value::Str(s) => {
                            PyroUri::parse(s).map_err(|_| {
                                RemoteError::exception("Pyro5.errors.PyroError", "invalid uri")
                            })?;
                            s.clone()
                        }
                        v @ Value::Map(_) => PyroUri::from_value(v)
                            .map(|u| u.to_string())
                            .ok_or_else(|| {
                                RemoteError::type_error("only URIs or strings can be registered")
                            })?,
                        _ => {
                            return Err(RemoteError::type_error(
                                "only URIs or strings can be registered",
                            ))
                        }
                    };
                let name = name_arg(&a[0])?;
                let meta = tags("metadata", &a[3])?;
                let safe = truthy(&a[2]);
                self.with_store(|s| {
                    if safe && s.get(&name)?.is_some() {
                        return Err(naming_error(format!("name already registered: {name}")));
                    }
                    s.put(&name, &uri, meta)
                })?;
                Ok(Value::None)
            }
            "lookup" => {
                let a = bind(&[
                    ("name", None),
                    ("return_metadata", Some(Value::Bool(false))),
                ])?;
                let name = name_arg(&a[0])?;
                let e = self
                    .with_store(|s| s.get(&name))?
                    .ok_or_else(|| naming_error(format!("unknown name: {name}")))?;
                let uri = PyroUri::parse(&e.uri)
                    .map_err(|err| naming_error(format!("stored uri of {name} is invalid: {err}")))?
                    .to_value();
                Ok(if truthy(&a[1]) {
                    Value::Tuple(vec![uri, dialect.tags(&e.metadata)])
                } else {
                    uri
                })
            }
            "set_metadata" => {
                let a = bind(&[("name", None), ("metadata", None)])?;
                let name = name_arg(&a[0])?;
                let meta = tags("metadata", &a[1])?;
                if self.with_store(|s| s.set_metadata(&name, meta))? {
                    Ok(Value::None)
                } else {
                    Err(naming_error(format!("unknown name: {name}")))
                }
            }
            "remove" => {
                let a = bind(&[
                    ("name", Some(Value::None)),
                    ("prefix", Some(Value::None)),
                    ("regex", Some(Value::None)),
                ])?;
                let name = optional_str("name", &a[0])?;
                let prefix = optional_str("prefix", &a[1])?;
                let regex = optional_str("regex", &a[2])?;
                let victims: Vec<String> = if let Some(n) = name {
                    if n == NAME_SERVER_ID {
                        Vec::new()
                    } else {
                        vec![n]
                    }
                } else if let Some(p) = prefix {
                    self.names_where(|n| n.starts_with(p.as_str()))?
                } else if let Some(r) = regex {
                    let re = compile(&r)?;
                    self.names_where(|n| re.is_match(n))?
                } else {
                    Vec::new()
                };
                let victims: Vec<String> = victims
                    .into_iter()
                    .filter(|n| n != NAME_SERVER_ID)
                    .collect();
                self.with_store(|s| s.remove(&victims))
                    .map(|n| Value::Int(n as i64))
            }
            "list" => {
                let (prefix, regex, meta_all, meta_any, with_meta) = match dialect {
                    Dialect::Pyro5 => {
                        let a = bind(&[
                            ("prefix", Some(Value::None)),
                            ("regex", Some(Value::None)),
                            ("return_metadata", Some(Value::Bool(false))),
                        ])?;
                        if truthy(&a[0]) && truthy(&a[1]) {
                            return Err(RemoteError::exception(
                                "builtins.ValueError",
                                "you can only filter on one thing at a time",
                            ));
                        }
                        (
                            a[0].clone(),
                            a[1].clone(),
                            Value::None,
                            Value::None,
                            truthy(&a[2]),
                        )
                    }
                    Dialect::Pyro4 => {
                        let a = bind(&[
                            ("prefix", Some(Value::None)),
                            ("regex", Some(Value::None)),
                            ("metadata_all", Some(Value::None)),
                            ("metadata_any", Some(Value::None)),
                            ("return_metadata", Some(Value::Bool(false))),
                        ])?;
                        if a[..4].iter().filter(|v| !matches!(v, Value::None)).count() > 1 {
                            return Err(RemoteError::exception(
                                "builtins.ValueError",
                                "you can only filter on one thing at a time",
                            ));
                        }
                        (
                            a[0].clone(),
                            a[1].clone(),
                            a[2].clone(),
                            a[3].clone(),
                            truthy(&a[4]),
                        )
                    }
                };
                let entries = self.with_store(|s| s.all())?;
                let entries: Vec<Entry> = if let Some(p) = optional_str("prefix", &prefix)? {
                    entries
                        .into_iter()
                        .filter(|e| e.name.starts_with(p.as_str()))
                        .collect()
                } else if let Some(r) = optional_str("regex", &regex)? {
                    let re = compile(&r)?;
                    entries
                        .into_iter()
                        .filter(|e| re.is_match(&e.name))
                        .collect()
                } else if truthy(&meta_all) {
                    let want = tags("metadata_all", &meta_all)?;
                    entries
                        .into_iter()
                        .filter(|e| want.iter().all(|t| e.metadata.contains(t)))
                        .collect()
                } else if truthy(&meta_any) {
                    let want = tags("metadata_any", &meta_any)?;
                    entries
                        .into_iter()
                        .filter(|e| want.iter().any(|t| e.metadata.contains(t)))
                        .collect()
                } else {
                    entries
                };
                Ok(dialect.listing(entries, with_meta))
            }
            "yplookup" => {
                let a = bind(&[
                    ("meta_all", Some(Value::None)),
                    ("meta_any", Some(Value::None)),
                    ("return_metadata", Some(Value::Bool(true))),
                ])?;
                if truthy(&a[0]) && truthy(&a[1]) {
                    return Err(RemoteError::exception(
                        "builtins.ValueError",
                        "you can't use meta_all or meta_any at the same time",
                    ));
                }
                let entries = self.with_store(|s| s.all())?;
                let found: Vec<Entry> = if truthy(&a[0]) {
                    let want = tags("metadata_all", &a[0])?;
                    entries
                        .into_iter()
                        .filter(|e| want.iter().all(|t| e.metadata.contains(t)))
                        .collect()
                } else if truthy(&a[1]) {
                    let want = tags("metadata_any", &a[1])?;
                    entries
                        .into_iter()
                        .filter(|e| want.iter().any(|t| e.metadata.contains(t)))
                        .collect()
                } else {
                    Vec::new()
                };
                Ok(dialect.listing(found, truthy(&a[2])))
            }
            other => Err(RemoteError::attribute_error(format!(
                "'NameServer' object has no attribute '{other}'"
            ))),
        }
    }

    fn names_where(&self, keep: impl Fn(&str) -> bool) -> Result<Vec<String>, RemoteError> {
        Ok(self
            .with_store(|s| s.all())?
            .into_iter()
            .map(|e| e.name)
            .filter(|n| keep(n))
            .collect())
    }
}

impl Dispatch for NameServer {
    fn methods(&self) -> &[MethodInfo] {
        METHODS
    }

    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(async move {
            if self.sqlite {
                // A file store may wait on the disk: off the async workers.
                let me = self.clone();
                tokio::task::spawn_blocking(move || me.handle(call))
                    .await
                    .map_err(|e| RemoteError::exception("builtins.RuntimeError", e.to_string()))?
            } else {
                self.handle(call)
            }
        })
    }
}
