//! One call, and the two traits it flows through: [`Invoker`] on the client side (send a call,
//! get a value back) and [`Dispatch`] on the server side (route a call to an object).
//!
//! Both are object-safe and return boxed futures, so a protocol client, a pool of clients, an
//! in-memory loopback and a generated proxy all fit behind `Arc<dyn Invoker>`, and any
//! implementation (generated dispatcher, hand-written dynamic service, router) fits behind
//! `Arc<dyn Dispatch>`.

use crate::{CallContext, RemoteError, Reply, Value, ValueStream};
use std::future::Future;
use std::pin::Pin;

/// A boxed, `Send` future: the return type of the object-safe async traits.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// `dispatch`'s future as `dispatch_reply`'s: its value as [`Reply::Value`].
///
/// The call is already handed to `dispatch`: the box made here holds only the pointer to
/// that future (an `async` block calling `dispatch` would carry the whole call into its box,
/// a copy on every call).
pub fn value_reply(
    value: BoxFuture<'_, Result<Value, RemoteError>>,
) -> BoxFuture<'_, Result<Reply, RemoteError>> {
    struct ValueReply<'a>(BoxFuture<'a, Result<Value, RemoteError>>);
    impl Future for ValueReply<'_> {
        type Output = Result<Reply, RemoteError>;
        fn poll(
            mut self: Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Self::Output> {
            self.0.as_mut().poll(cx).map(|r| r.map(Reply::Value))
        }
    }
    Box::pin(ValueReply(value))
}

/// Method name used for reading an exposed attribute (Pyro's convention, kept for every wire).
pub const GETATTR: &str = "__getattr__";
/// Method name used for writing an exposed attribute.
pub const SETATTR: &str = "__setattr__";

/// One method call on one remote object.
///
/// There is no object name in it: an [`Invoker`] is bound to one remote object (the object id
/// is part of its URL, `PYRO:obj@host:port`), and a [`Dispatch`] *is* one object.
///
/// Build one with [`Call::new`] and the builder methods; the struct is `#[non_exhaustive]` so
/// that wires can add what they carry without breaking code that builds or reads calls.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Call {
    /// The method name (or [`GETATTR`]/[`SETATTR`] for attribute access).
    pub method: String,
    /// Positional arguments.
    pub args: Vec<Value>,
    /// Keyword arguments, in the order given.
    pub kwargs: Vec<(String, Value)>,
    /// Fire and forget: the caller wants no reply and gets `Value::None` at once.
    pub oneway: bool,
    /// Who is calling and until when: deadline, peer address, verified TLS subject,
    /// annotations. Servers fill it in; service code reads it with [`CallContext::current`].
    pub context: CallContext,
}

impl Call {
    /// A call with positional arguments.
    pub fn new(method: impl Into<String>, args: Vec<Value>) -> Self {
        Call {
            method: method.into(),
            args,
            kwargs: Vec::new(),
            oneway: false,
            context: CallContext::default(),
        }
    }

    /// A call with positional and keyword arguments.
    pub fn with_args(
        method: impl Into<String>,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    ) -> Self {
        Call {
            kwargs,
            ..Call::new(method, args)
        }
    }

    /// Sets the call context.
    pub fn context(mut self, context: CallContext) -> Self {
        self.context = context;
        self
    }

    /// Sets oneway to `oneway`.
    pub fn set_oneway(mut self, oneway: bool) -> Self {
        self.oneway = oneway;
        self
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

    /// Performs a call and answers as the server did: [`Reply::Stream`] when the method
    /// streamed (a remote iterator), else [`Reply::Value`]. A gateway serves streams on with
    /// it. Default: [`invoke`](Self::invoke), always a value.
    fn invoke_reply(&self, call: Call) -> BoxFuture<'_, Result<Reply, RemoteError>> {
        Box::pin(async move { self.invoke(call).await.map(Reply::Value) })
    }

    /// What the remote object says it exposes, when its wire can ask (Pyro's metadata,
    /// XML-RPC's `system.listMethods`): a gateway answers its own clients' questions with it.
    /// Default: `Ok(None)`, the wire cannot tell (Hessian, Pyro 3).
    fn describe(&self) -> BoxFuture<'_, Result<Option<Description>, RemoteError>> {
        Box::pin(async { Ok(None) })
    }
}

/// What a remote object exposes, as its wire reports it ([`Invoker::describe`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Description {
    /// Method names.
    pub methods: Vec<String>,
    /// Which of them are oneway.
    pub oneway: Vec<String>,
    /// Attribute names.
    pub attrs: Vec<String>,
}

/// The parameter list of a method that takes whatever arguments come and passes them on (a
/// gateway's forwarder): servers check no arity against it.
pub const ANY_ARGS: &[&str] = &["*args"];

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
    /// The exposed methods. Borrowed, not built, so that looking a method up on every call
    /// allocates nothing.
    fn methods(&self) -> &[MethodInfo];

    /// The exposed attributes (empty by default).
    fn attrs(&self) -> &[AttrInfo] {
        &[]
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
        value_reply(self.dispatch(call))
    }

    /// Looks up an exposed method by name (no allocation).
    fn method(&self, name: &str) -> Option<&MethodInfo> {
        self.methods().iter().find(|m| m.name == name)
    }
}

/// Binds positional and keyword arguments to parameter names by Python's rules and returns
/// exactly one value per parameter, or a `TypeError` worded exactly as CPython 3.11 words it for
/// a bound method, so a Python client sees the same message from a tether server as from a Python
/// one. Like Python, the counts include `self`: a method with one parameter "takes 2 positional
/// arguments". `method` is the name shown before `()` (`get_data`, or `EchoServer.echo`),
/// written only into an error's text: a name to be formatted can be passed as
/// `format_args!(..)`, which costs nothing for a call that binds.
pub fn bind_args(
    method: impl std::fmt::Display,
    params: &[&str],
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
) -> Result<Vec<Value>, RemoteError> {
    // The common call, every parameter given by position: nothing to bind.
    if kwargs.is_empty() && args.len() == params.len() {
        return Ok(args);
    }
    let params: Vec<(&str, Option<Value>)> = params.iter().map(|p| (*p, None)).collect();
    bind_args_with_defaults(method, &params, args, kwargs)
}

/// [`bind_args`] for a signature with defaults, like Python's `def f(a, b=None)`: each
/// parameter is `(name, default)`, `None` meaning required. Every slot of the result is
/// filled (from the arguments or the default), in parameter order.
pub fn bind_args_with_defaults(
    method: impl std::fmt::Display,
    params: &[(&str, Option<Value>)],
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
) -> Result<Vec<Value>, RemoteError> {
    // The common call, every parameter given by position: nothing to bind.
    if kwargs.is_empty() && args.len() == params.len() {
        return Ok(args);
    }
    if args.len() > params.len() {
        let (takes, given) = (params.len() + 1, args.len() + 1);
        return Err(RemoteError::type_error(format!(
            "{method}() takes {takes} positional argument{} but {given} {} given",
            plural(takes),
            if given == 1 { "was" } else { "were" }
        )));
    }
    let mut slots: Vec<Option<Value>> = args.into_iter().map(Some).collect();
    slots.resize_with(params.len(), || None);
    for (name, value) in kwargs {
        let Some(i) = params.iter().position(|(p, _)| *p == name) else {
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
    for ((_, default), slot) in params.iter().zip(slots.iter_mut()) {
        if slot.is_none() {
            slot.clone_from(default);
        }
    }
    let missing: Vec<String> = params
        .iter()
        .zip(&slots)
        .filter(|(_, s)| s.is_none())
        .map(|((p, _), _)| format!("'{p}'"))
        .collect();
    if !missing.is_empty() {
        // CPython: 'a' / 'a' and 'b' / 'a', 'b', and 'c'.
        let list = match missing.as_slice() {
            [one] => one.clone(),
            [a, b] => format!("{a} and {b}"),
            [init @ .., last] => format!("{}, and {last}", init.join(", ")),
            [] => String::new(),
        };
        return Err(RemoteError::type_error(format!(
            "{method}() missing {} required positional argument{}: {list}",
            missing.len(),
            plural(missing.len())
        )));
    }
    Ok(slots.into_iter().flatten().collect())
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(r: Result<Vec<Value>, RemoteError>) -> String {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    }

    fn none(n: usize) -> Vec<Value> {
        vec![Value::None; n]
    }

    /// Each expected text is what CPython 3.11 prints for `class S: def f(self, a)` etc.
    #[test]
    fn binds_and_words_errors_like_cpython() {
        let ok = bind_args(
            "f",
            &["a", "b"],
            vec![Value::Int(1)],
            vec![("b".into(), Value::Int(2))],
        );
        assert_eq!(ok.ok(), Some(vec![Value::Int(1), Value::Int(2)]));
        let cases = [
            (
                bind_args("S.f", &["a"], none(0), vec![]),
                "S.f() missing 1 required positional argument: 'a'",
            ),
            (
                bind_args("S.f", &["a"], none(2), vec![]),
                "S.f() takes 2 positional arguments but 3 were given",
            ),
            (
                bind_args("S.g", &["a", "b", "c"], none(0), vec![]),
                "S.g() missing 3 required positional arguments: 'a', 'b', and 'c'",
            ),
            (
                bind_args("S.g", &["a", "b", "c"], none(1), vec![]),
                "S.g() missing 2 required positional arguments: 'b' and 'c'",
            ),
            (
                bind_args("S.f", &["a"], none(1), vec![("a".into(), Value::None)]),
                "S.f() got multiple values for argument 'a'",
            ),
            (
                bind_args("S.f", &["a"], none(0), vec![("z".into(), Value::None)]),
                "S.f() got an unexpected keyword argument 'z'",
            ),
            (
                bind_args("S.h", &[], none(1), vec![]),
                "S.h() takes 1 positional argument but 2 were given",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(err(got), format!("TypeError: {want}"));
        }
    }
}
