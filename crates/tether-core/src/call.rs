//! One call, and the two traits it flows through: [`Invoker`] on the client side (send a call,
//! get a value back) and [`Dispatch`] on the server side (route a call to an object).
//!
//! Both are object-safe and return boxed futures, so a protocol client, a pool of clients, an
//! in-memory loopback and a generated proxy all fit behind `Arc<dyn Invoker>`, and any
//! implementation (generated dispatcher, hand-written dynamic service, router) fits behind
//! `Arc<dyn Dispatch>`.

use crate::{RemoteError, Reply, Value, ValueStream};
use std::future::Future;
use std::pin::Pin;

/// A boxed, `Send` future: the return type of the object-safe async traits.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Method name used for reading an exposed attribute (Pyro's convention, kept for every wire).
pub const GETATTR: &str = "__getattr__";
/// Method name used for writing an exposed attribute.
pub const SETATTR: &str = "__setattr__";

/// One method call on one remote object.
///
/// There is no object name in it: an [`Invoker`] is bound to one remote object (the object id
/// is part of its URL, `PYRO:obj@host:port`), and a [`Dispatch`] *is* one object.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The method name (or [`GETATTR`]/[`SETATTR`] for attribute access).
    pub method: String,
    /// Positional arguments.
    pub args: Vec<Value>,
    /// Keyword arguments, in the order given.
    pub kwargs: Vec<(String, Value)>,
    /// Fire and forget: the caller wants no reply and gets `Value::None` at once.
    pub oneway: bool,
}

impl Call {
    /// A call with positional arguments.
    pub fn new(method: impl Into<String>, args: Vec<Value>) -> Self {
        Call {
            method: method.into(),
            args,
            kwargs: Vec::new(),
            oneway: false,
        }
    }

    /// Adds a keyword argument.
    pub fn kwarg(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.kwargs.push((name.into(), value.into()));
        self
    }

    /// Marks the call oneway.
    pub fn oneway(mut self) -> Self {
        self.oneway = true;
        self
    }

    /// A read of attribute `name`.
    pub fn get_attr(name: impl Into<String>) -> Self {
        Call::new(GETATTR, vec![Value::Str(name.into())])
    }

    /// A write of `value` to attribute `name`.
    pub fn set_attr(name: impl Into<String>, value: Value) -> Self {
        Call::new(SETATTR, vec![Value::Str(name.into()), value])
    }
}

/// Client side: sends a call to one remote object and returns its result.
///
/// Implemented by each protocol's proxy transport, by pools (retry, round robin) wrapping other
/// invokers, and by in-memory loopbacks in tests. Framework failures and remote exceptions both
/// come back as `Err(RemoteError)`; [`RemoteError::kind`] tells them apart.
pub trait Invoker: Send + Sync + 'static {
    /// Performs the call. A oneway call resolves once the request is sent, with `Value::None`.
    fn invoke(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>>;

    /// Performs a call whose result is iterated: a method that streams (returns an iterator
    /// or generator on the server) yields its items one by one, fetched as they are asked for.
    ///
    /// The default, for transports that cannot stream, invokes the call and streams the items
    /// of the list, tuple or set it returned (any other result is a `builtins.TypeError`).
    fn invoke_stream(&self, call: Call) -> BoxFuture<'_, Result<ValueStream, RemoteError>> {
        Box::pin(async move { Reply::Value(self.invoke(call).await?).into_stream() })
    }
}

/// Describes one exposed method: what a Pyro proxy learns in its handshake, and what the
/// dispatcher uses to bind positional and keyword arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MethodInfo {
    /// The method name on the wire.
    pub name: &'static str,
    /// Parameter names in order (keyword arguments bind to these).
    pub params: &'static [&'static str],
    /// Whether the method is oneway (the caller does not wait for it).
    pub oneway: bool,
}

/// Describes one exposed attribute (a property readable through [`GETATTR`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttrInfo {
    /// The attribute name on the wire.
    pub name: &'static str,
    /// Whether [`SETATTR`] may change it.
    pub writable: bool,
}

/// Server side: one object that calls can be routed to.
pub trait Dispatch: Send + Sync + 'static {
    /// The exposed methods.
    fn methods(&self) -> Vec<&'static MethodInfo>;

    /// The exposed attributes (empty by default).
    fn attrs(&self) -> Vec<&'static AttrInfo> {
        Vec::new()
    }

    /// Runs one call. Unknown methods are a `builtins.AttributeError`, bad arguments a
    /// `builtins.TypeError`; a panic in the implementation is the caller's (the server's) to catch.
    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>>;

    /// Runs one call that may answer with a stream ([`Reply::Stream`]) instead of one value.
    /// Servers that can stream (Pyro's daemon) call this; the default wraps
    /// [`Dispatch::dispatch`], so only objects with streaming methods override it. Such an
    /// object's `dispatch` should still answer those methods with a value (e.g. the collected
    /// list), for servers and batches that cannot stream.
    fn dispatch_reply(&self, call: Call) -> BoxFuture<'_, Result<Reply, RemoteError>> {
        Box::pin(async move { self.dispatch(call).await.map(Reply::Value) })
    }

    /// Looks up an exposed method by name.
    fn method(&self, name: &str) -> Option<&'static MethodInfo> {
        self.methods().into_iter().find(|m| m.name == name)
    }
}

/// Binds positional and keyword arguments to parameter names by Python's rules and returns
/// exactly one value per parameter, or a `TypeError` worded like Python's.
pub fn bind_args(
    method: &str,
    params: &[&str],
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
) -> Result<Vec<Value>, RemoteError> {
    if args.len() > params.len() {
        return Err(RemoteError::type_error(format!(
            "{method}() takes {} positional argument(s) but {} were given",
            params.len(),
            args.len()
        )));
    }
    let mut slots: Vec<Option<Value>> = args.into_iter().map(Some).collect();
    slots.resize_with(params.len(), || None);
    for (name, value) in kwargs {
        let Some(i) = params.iter().position(|p| *p == name) else {
            return Err(RemoteError::type_error(format!(
                "{method}() got an unexpected keyword argument '{name}'"
            )));
        };
        if slots[i].is_some() {
            return Err(RemoteError::type_error(format!(
                "{method}() got multiple values for argument '{name}'"
            )));
        }
        slots[i] = Some(value);
    }
    let missing: Vec<String> = params
        .iter()
        .zip(&slots)
        .filter(|(_, s)| s.is_none())
        .map(|(p, _)| format!("'{p}'"))
        .collect();
    if !missing.is_empty() {
        return Err(RemoteError::type_error(format!(
            "{method}() missing {} required argument(s): {}",
            missing.len(),
            missing.join(", ")
        )));
    }
    Ok(slots.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(r: Result<Vec<Value>, RemoteError>) -> String {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn binds_like_python() {
        let ok = bind_args(
            "f",
            &["a", "b"],
            vec![Value::Int(1)],
            vec![("b".into(), Value::Int(2))],
        );
        assert_eq!(ok.ok(), Some(vec![Value::Int(1), Value::Int(2)]));
        assert_eq!(
            err(bind_args("f", &["a"], vec![], vec![])),
            "TypeError: f() missing 1 required argument(s): 'a'"
        );
        assert_eq!(
            err(bind_args(
                "f",
                &["a"],
                vec![Value::None, Value::None],
                vec![]
            )),
            "TypeError: f() takes 1 positional argument(s) but 2 were given"
        );
        assert_eq!(
            err(bind_args(
                "f",
                &["a"],
                vec![Value::None],
                vec![("a".into(), Value::None)]
            )),
            "TypeError: f() got multiple values for argument 'a'"
        );
        assert_eq!(
            err(bind_args(
                "f",
                &["a"],
                vec![],
                vec![("z".into(), Value::None)]
            )),
            "TypeError: f() got an unexpected keyword argument 'z'"
        );
    }
}
