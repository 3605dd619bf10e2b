//! Routing one INVOKE to its object, with Pyro's exposure rules and error texts:
//!
//! - names starting with `_` are private (`attempt to access private attribute 'x'`), except
//!   dunder names longer than four characters that are not on Python's blocked list;
//! - `__getattr__`/`__setattr__` reach only exposed attributes (`attempt to access unexposed or
//!   unknown remote attribute 'x'`), and `__setattr__` only writable ones;
//! - an attribute called like a method is `attempt to access unexposed attribute 'x'`;
//! - any other unknown name goes to the object, whose [`Dispatch`] contract is to answer with
//!   an `AttributeError`;
//! - unknown objects get `Pyro5.errors.DaemonError('unknown object')`.
//!
//! Calls go through [`Dispatch::dispatch_reply`]: a method that answers with a stream gets it
//! stored in the daemon's stream table and the client reads it with
//! `Pyro.Daemon.get_next_stream_item`. A batch never streams: as in Python, an item that
//! returns a stream makes the whole batch reply fail to serialize (after every item ran).
//!
//! A panicking service method becomes a `RuntimeError` reply and the server keeps going: the
//! call's future runs under `catch_unwind` on the connection's own task (no task spawned per
//! call); a oneway call is spawned as its own task, so the connection's next call isn't blocked.

use super::latch::LatchWait;
use super::streams;
use super::{Shared, DAEMON_OBJECT_ID};
use crate::exception;
use crate::message::Message;
use crate::metadata::Metadata;
use crate::pyro5::flags;
use crate::serializer::Serializer;
use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tether_core::{bind_args, BoxFuture, Call, Dispatch, RemoteError, Value, GETATTR, SETATTR};
use tracing::Instrument;

const LOG: &str = "tether::pyro::daemon";

/// What to send back for one INVOKE.
pub(super) enum Reply {
    /// Nothing (oneway).
    None,
    /// A result; `true` marks a batch result list (flag 0x08).
    Value(Value, bool),
    /// An exception (flag 0x01).
    Error(RemoteError),
    /// A streamed result, stored under this id (flags 0x11 and annotation `STRM`).
    Stream(String),
}

/// Dunder names Python never exposes.
const PRIVATE_DUNDERS: &[&str] = &[
    "__init__",
    "__init_subclass__",
    "__class__",
    "__module__",
    "__weakref__",
    "__call__",
    "__new__",
    "__del__",
    "__repr__",
    "__str__",
    "__format__",
    "__nonzero__",
    "__bool__",
    "__coerce__",
    "__cmp__",
    "__eq__",
    "__ne__",
    "__hash__",
    "__ge__",
    "__gt__",
    "__le__",
    "__lt__",
    "__dir__",
    "__enter__",
    "__exit__",
    "__copy__",
    "__deepcopy__",
    "__sizeof__",
    "__getattr__",
    "__setattr__",
    "__hasattr__",
    "__getattribute__",
    "__delattr__",
    "__instancecheck__",
    "__subclasscheck__",
    "__getinitargs__",
    "__getnewargs__",
    "__getstate__",
    "__setstate__",
    "__reduce__",
    "__reduce_ex__",
    "__subclasshook__",
];

/// Python's `is_private_attribute`.
pub fn is_private(name: &str) -> bool {
    // (Every blocked dunder starts with `_` too: a plain name is decided without the list.)
    if !name.starts_with('_') {
        return false;
    }
    if PRIVATE_DUNDERS.contains(&name) {
        return true;
    }
    !(name.len() > 4 && name.starts_with("__") && name.ends_with("__"))
}

fn unknown_attr(name: &str) -> RemoteError {
    RemoteError::attribute_error(format!(
        "attempt to access unexposed or unknown remote attribute '{name}'"
    ))
}

/// Checks a call against the object's exposure before it runs.
pub(super) fn check(obj: &dyn Dispatch, call: &Call) -> Result<(), RemoteError> {
    let attr_name = || {
        call.args.first().and_then(Value::as_str).ok_or_else(|| {
            RemoteError::type_error(format!("{}() expects an attribute name", call.method))
        })
    };
    match call.method.as_str() {
        GETATTR => {
            let name = attr_name()?;
            if obj.attrs().iter().any(|a| a.name == name) && !is_private(name) {
                Ok(())
            } else {
                Err(unknown_attr(name))
            }
        }
        SETATTR => {
            let name = attr_name()?;
            if call.args.len() != 2 {
                return Err(RemoteError::type_error(
                    "__setattr__() expects a name and a value",
                ));
            }
            if obj.attrs().iter().any(|a| a.name == name && a.writable) && !is_private(name) {
                Ok(())
            } else {
                Err(unknown_attr(name))
            }
        }
        m if is_private(m) => Err(RemoteError::attribute_error(format!(
            "attempt to access private attribute '{m}'"
        ))),
        m if obj.method(m).is_some() => Ok(()),
        m if obj.attrs().iter().any(|a| a.name == m) => Err(RemoteError::attribute_error(format!(
            "attempt to access unexposed attribute '{m}'"
        ))),
        _ => Ok(()),
    }
}

fn reply_err(oneway: bool, e: RemoteError) -> Reply {
    if oneway {
        tracing::debug!(target: LOG, "oneway call failed: {e}");
        Reply::None
    } else {
        Reply::Error(e)
    }
}

/// What `invoke` needs to know of the connection a call came on.
pub(super) struct Caller<'a> {
    /// The connection's id (stream ownership).
    pub conn_id: u64,
    /// What every call of the connection knows of its caller.
    pub context: &'a tether_core::CallContext,
    /// The connection's oneway-call permits.
    pub oneway: &'a Arc<tokio::sync::Semaphore>,
    /// The wire the call came on (Pyro4's class names are renamed on the way in).
    pub wire: crate::wire::WireVersion,
    /// The object the connection called last.
    pub objects: &'a mut super::objects::ObjectCache,
}

/// Decodes, checks and runs one INVOKE.
pub(super) async fn invoke(
    shared: &Arc<Shared>,
    ser: Serializer,
    mut msg: Message,
    caller: Caller<'_>,
    closing: &mut LatchWait,
) -> Reply {
    let Caller {
        conn_id,
        context,
        oneway: oneway_permits,
        wire,
        objects,
    } = caller;
    let h = msg.header;
    let oneway = h.flags & flags::ONEWAY != 0;
    if h.flags & flags::KEEPSERIALIZED != 0 {
        return reply_err(
            oneway,
            RemoteError::protocol("serialized blob pass-through (KEEPSERIALIZED) is not supported"),
        );
    }
    let detached = msg.take_detached();
    let decoded = ser.decode_call_detached(&msg.payload, detached, &shared.config.limits);
    let (object_id, mut call) = match decoded {
        Ok(x) => x,
        Err(e) => {
            super::quiet::warn_limited!(shared.warn_limit, "invalid INVOKE payload: {e}");
            return reply_err(
                oneway,
                RemoteError::exception("Pyro5.errors.SerializeError", e.message().to_string()),
            );
        }
    };
    if wire == crate::wire::WireVersion::Pyro4 {
        for v in call
            .args
            .iter_mut()
            .chain(call.kwargs.iter_mut().map(|(_, v)| v))
        {
            crate::pyro4::dialect::to_pyro5(v);
        }
    }
    call.oneway = oneway;
    call.context.clone_from(context);
    if let Some(t) = shared.config.call_timeout {
        call.context.deadline = Some(std::time::Instant::now() + t);
    }
    if !msg.annotations.is_empty() {
        call.context.annotations = std::mem::take(&mut msg.annotations)
            .into_iter()
            .map(|a| (String::from_utf8_lossy(&a.id).into_owned(), a.data.to_vec()))
            .collect();
    }
    carried_in(&mut call.context, h.corr());
    let span = tracing::debug_span!(target: "tether::pyro::daemon", "pyro_call", object = %object_id, method = %call.method, seq = h.seq, oneway);
    if object_id == DAEMON_OBJECT_ID {
        if call.method == "get_next_stream_item" {
            return match next_stream_item(shared, call, conn_id, closing)
                .instrument(span)
                .await
            {
                _ if oneway => Reply::None,
                Ok(v) => Reply::Value(v, false),
                Err(e) => Reply::Error(e),
            };
        }
        let _g = span.enter();
        return match daemon_object(shared, call) {
            _ if oneway => Reply::None,
            Ok(v) => Reply::Value(v, false),
            Err(e) => Reply::Error(e),
        };
    }
    let Some(obj) = shared.objects.lookup(objects, &object_id) else {
        tracing::debug!(target: LOG, object = %object_id, "unknown object requested");
        return reply_err(
            oneway,
            RemoteError::exception("Pyro5.errors.DaemonError", "unknown object"),
        );
    };
    // The payload (which the object id borrowed) is not kept while the call runs.
    drop(msg);
    let batch = h.flags & flags::BATCH != 0;
    if !batch {
        if let Err(e) = check(obj.as_ref(), &call) {
            return reply_err(oneway, e);
        }
    }
    // A batch or a oneway call (rare; a oneway one is spawned anyway) runs in a box: inline,
    // their futures would make every connection's task larger while it sits idle. A call the
    // connection waits for borrows the object, and its future is the object's own.
    if batch || oneway {
        let obj = obj.clone();
        let task: BoxFuture<'static, Result<tether_core::Reply, RemoteError>> = if batch {
            let items = match batch_items(call) {
                Ok(items) => items,
                Err(e) => return reply_err(oneway, e),
            };
            Box::pin(async move {
                run_batch(obj, items, ser)
                    .await
                    .map(tether_core::Reply::Value)
            })
        } else {
            Box::pin(async move { obj.dispatch_reply(call).await })
        };
        return run_task(
            shared,
            task.instrument(span),
            oneway,
            batch,
            oneway_permits,
            conn_id,
            closing,
        )
        .await;
    }
    // The call's future is wrapped in its span only when the span is on (a `tether` run at
    // debug level): a disabled span, entered and left on every poll and dropped with the call,
    // is still code every call runs (about 15 of a Pyro5 call's 577 cache lines of code and 150
    // of its instructions: `scripts/footprint.sh tether`, `scripts/instructions.sh tether`).
    if span.is_disabled() {
        return answer(shared, obj.dispatch_reply(call), batch, conn_id, closing).await;
    }
    answer(
        shared,
        obj.dispatch_reply(call).instrument(span),
        batch,
        conn_id,
        closing,
    )
    .await
}

/// Runs one checked call's future: a oneway call detached on its own task under the
/// connection's and the daemon's oneway permits (errors only logged), any other within the
/// call timeout, its stream (if it answers with one) stored for `conn_id`. Shared by every
/// wire the daemon speaks.
pub(super) async fn run_task(
    shared: &Arc<Shared>,
    task: impl Future<Output = Result<tether_core::Reply, RemoteError>> + Send + 'static,
    oneway: bool,
    batch: bool,
    oneway_permits: &Arc<tokio::sync::Semaphore>,
    conn_id: u64,
    closing: &mut LatchWait,
) -> Reply {
    if oneway {
        // Detached: the connection goes on with its next message; errors are only logged.
        // A stream a oneway call returns is dropped: nobody could read it. Bounded per
        // connection and in total: while no permit is free this connection is not read.
        if oneway_permits.available_permits() == 0 || shared.oneway_permits.available_permits() == 0
        {
            tether_core::stats::ServerStats::bump(&shared.stats.backpressure);
        }
        let permits = tokio::select! {
            p = async {
                let mine = oneway_permits.clone().acquire_owned().await.ok()?;
                let all = shared.oneway_permits.clone().acquire_owned().await.ok()?;
                Some((mine, all))
            } => p,
            _ = closing.reached() => None,
        };
        let Some(permits) = permits else {
            return Reply::None;
        };
        tokio::spawn(async move {
            let _permits = permits;
            match AssertUnwindSafe(task).catch_unwind().await {
                Ok(Err(e)) => tracing::debug!(target: LOG, "oneway call failed: {e}"),
                Err(p) => tracing::error!(target: LOG, "oneway call panicked: {}", panic_text(p)),
                Ok(Ok(_)) => {}
            }
        });
        return Reply::None;
    }
    answer(shared, task, batch, conn_id, closing).await
}

/// Runs a call the connection waits for and makes its reply (a stream it returns is stored
/// for `conn_id`).
pub(super) async fn answer(
    shared: &Arc<Shared>,
    task: impl Future<Output = Result<tether_core::Reply, RemoteError>>,
    batch: bool,
    conn_id: u64,
    closing: &mut LatchWait,
) -> Reply {
    match finish(shared, task, closing).await {
        Ok(tether_core::Reply::Value(v)) => Reply::Value(v, batch),
        Ok(tether_core::Reply::Stream(stream)) => {
            match shared
                .streams
                .open(conn_id, stream, &shared.config.stream_limits())
            {
                Ok(id) => Reply::Stream(id),
                Err(e) => {
                    super::quiet::warn_limited!(shared.warn_limit, "item stream refused: {e}");
                    Reply::Error(e)
                }
            }
        }
        Err(e) => Reply::Error(e),
    }
}

/// Runs a call's future within the call timeout, dropping it (which cancels it) if the daemon
/// closes; a panic becomes a `RuntimeError`.
async fn finish<T>(
    shared: &Shared,
    task: impl Future<Output = Result<T, RemoteError>>,
    closing: &mut LatchWait,
) -> Result<T, RemoteError> {
    let task = AssertUnwindSafe(task).catch_unwind();
    let mut task = std::pin::pin!(task);
    // Most calls answer on their first poll: polled once here (with this task's waker, so a
    // call that waits is woken as usual), such a call is done before the timeout and the
    // close are set up around it. Polled first below as well, so the order is the same.
    let first = std::future::poll_fn(|cx| std::task::Poll::Ready(task.as_mut().poll(cx))).await;
    if let std::task::Poll::Ready(r) = first {
        return unwound(r);
    }
    let deadline = shared.config.call_timeout;
    let timeout = async {
        match deadline {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    // Biased: the call first (no random draw per call; the timeout and the close are
    // checked on every poll all the same).
    tokio::select! {
        biased;
        r = task => unwound(r),
        _ = timeout => {
            Err(RemoteError::exception("Pyro5.errors.TimeoutError", "call exceeded the server's call timeout"))
        }
        _ = closing.reached() => {
            Err(RemoteError::exception("Pyro5.errors.ConnectionClosedError", "server is shutting down"))
        }
    }
}

/// A call's result as `catch_unwind` returns it: a panic becomes a `RuntimeError` (and is
/// logged).
#[inline]
fn unwound<T>(
    r: Result<Result<T, RemoteError>, Box<dyn std::any::Any + Send>>,
) -> Result<T, RemoteError> {
    r.unwrap_or_else(|p| Err(panicked(p)))
}

/// The error a panic in a service method becomes (logged).
#[cold]
fn panicked(p: Box<dyn std::any::Any + Send>) -> RemoteError {
    let what = panic_text(p);
    tracing::error!(target: LOG, "service method panicked: {what}");
    RemoteError::exception(
        "builtins.RuntimeError",
        format!("service method panicked: {what}"),
    )
}

/// `Pyro.Daemon.get_next_stream_item(streamId)`: the stream's next item; its end is a
/// `StopIteration` exception. The end and any error (raised by the stream, a panic in it, the
/// call timeout) remove the stream, as in Python.
async fn next_stream_item(
    shared: &Arc<Shared>,
    call: Call,
    conn_id: u64,
    closing: &mut LatchWait,
) -> Result<Value, RemoteError> {
    let mut args = bind_args(
        "get_next_stream_item",
        &["streamId"],
        call.args,
        call.kwargs,
    )?;
    let id = args.pop().unwrap_or(Value::None);
    let stream = shared.streams.get(&id, conn_id)?;
    let reading = stream.clone();
    // Under catch_unwind (in `finish`): a panicking iterator must not take the connection down.
    let task = async move {
        match reading.lock().await.next().await {
            Some(item) => item,
            None => Err(RemoteError::exception_with_args(
                "builtins.StopIteration",
                Vec::new(),
            )),
        }
    };
    let item = finish(shared, task, closing).await;
    if item.is_err() {
        shared.streams.finished(&id, &stream);
    }
    item
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// Splits a `<batch>` call's vargs into `(method, vargs, kwargs)` calls.
fn batch_items(call: Call) -> Result<Vec<Call>, RemoteError> {
    let bad = || {
        RemoteError::exception(
            "Pyro5.errors.ProtocolError",
            "invalid batch item (expected (method, vargs, kwargs))",
        )
    };
    call.args
        .into_iter()
        .map(|item| {
            let parts = item.as_seq().ok_or_else(bad)?;
            let [method, args, kwargs] = parts else {
                return Err(bad());
            };
            let method = method.as_str().ok_or_else(bad)?.to_string();
            let args = match args {
                Value::None => Vec::new(),
                a => a.as_seq().ok_or_else(bad)?.to_vec(),
            };
            let kwargs = match kwargs {
                Value::None => Vec::new(),
                Value::Map(m) => m
                    .iter()
                    .map(|(k, v)| Ok((k.as_str().ok_or_else(bad)?.to_string(), v.clone())))
                    .collect::<Result<_, RemoteError>>()?,
                _ => return Err(bad()),
            };
            Ok(Call::with_args(method, args, kwargs))
        })
        .collect()
}

/// Runs batch items in order; the first failing item becomes an `_ExceptionWrapper` and ends
/// the batch. A refused name (private, unexposed) fails the whole batch, as in Python.
///
/// Batches never stream: an item that returns a stream is, as in Python, a result the
/// serializer cannot write, so the whole reply becomes that serializer's error (after the
/// remaining items ran, since Python serializes only at the end).
async fn run_batch(
    obj: Arc<dyn Dispatch>,
    items: Vec<Call>,
    ser: Serializer,
) -> Result<Value, RemoteError> {
    let mut results = Vec::with_capacity(items.len());
    let mut streamed = false;
    for call in items {
        check(obj.as_ref(), &call)?;
        match obj.dispatch_reply(call).await {
            Ok(tether_core::Reply::Value(v)) => results.push(v),
            Ok(tether_core::Reply::Stream(_)) => {
                streamed = true;
                results.push(Value::None);
            }
            Err(e) => {
                results.push(exception::wrapper_value(&e));
                break;
            }
        }
    }
    if streamed {
        return Err(unserializable_generator(ser));
    }
    Ok(Value::List(results))
}

/// The error Python's serializers raise for a generator object (serpent: a `TypeError`; json,
/// msgpack and marshal: a `SerializeError` naming the serializer class).
fn unserializable_generator(ser: Serializer) -> RemoteError {
    let (class, using) = match ser {
        Serializer::Serpent => ("builtins.TypeError", ""),
        Serializer::Json => (
            "Pyro5.errors.SerializeError",
            " using serializer JsonSerializer",
        ),
        Serializer::Msgpack => (
            "Pyro5.errors.SerializeError",
            " using serializer MsgpackSerializer",
        ),
        Serializer::Marshal => (
            "Pyro5.errors.SerializeError",
            " using serializer MarshalSerializer",
        ),
    };
    RemoteError::exception(
        class,
        format!(
            "don't know how to serialize class <class 'generator'>{using}. \
             Give it vars() or an appropriate __getstate__"
        ),
    )
}

/// The metadata of `Pyro.Daemon`.
pub(super) fn daemon_metadata() -> Metadata {
    Metadata {
        methods: [
            "close_stream",
            "get_metadata",
            "get_next_stream_item",
            "info",
            "ping",
            "registered",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        oneway: Vec::new(),
        attrs: Vec::new(),
    }
}

/// The `Pyro.Daemon` object every daemon serves.
fn daemon_object(shared: &Shared, call: Call) -> Result<Value, RemoteError> {
    let m = call.method.as_str();
    if m == GETATTR || m == SETATTR {
        let name = call.args.first().and_then(Value::as_str).unwrap_or("");
        return Err(unknown_attr(name));
    }
    if is_private(m) {
        return Err(RemoteError::attribute_error(format!(
            "attempt to access private attribute '{m}'"
        )));
    }
    let no_args = |call: Call| bind_args(&call.method, &[], call.args, call.kwargs).map(|_| ());
    match m {
        "registered" => {
            no_args(call)?;
            Ok(Value::List(
                shared.object_ids().into_iter().map(Value::Str).collect(),
            ))
        }
        "ping" => no_args(call).map(|_| Value::None),
        "info" => {
            no_args(call)?;
            Ok(Value::Str(format!(
                "{DAEMON_OBJECT_ID} bound on {}, NAT None, {} objects registered. Servertype: tether (tokio)",
                shared.location,
                shared.objects.len() + 1
            )))
        }
        "get_metadata" => {
            // Pyro4's signature has `as_lists=False` (the shape is the serializer's business).
            let args = tether_core::bind_args_with_defaults(
                "get_metadata",
                &[("objectId", None), ("as_lists", Some(Value::Bool(false)))],
                call.args,
                call.kwargs,
            )?;
            let id = args.first().and_then(Value::as_str).unwrap_or("");
            let meta = if id == DAEMON_OBJECT_ID {
                Some(daemon_metadata())
            } else {
                shared.object(id).map(|o| Metadata::of(o.as_ref()))
            };
            meta.map(|m| m.to_value())
                .ok_or_else(|| RemoteError::exception("Pyro5.errors.DaemonError", "unknown object"))
        }
        // Reached only from code paths that don't await (the async one is next_stream_item).
        "get_next_stream_item" => Err(streams::terminated()),
        "close_stream" => {
            let args = bind_args("close_stream", &["streamId"], call.args, call.kwargs)?;
            if let Some(id) = args.first() {
                shared.streams.close(id);
            }
            Ok(Value::None)
        }
        _ => Err(RemoteError::attribute_error(format!(
            "'DaemonObject' object has no attribute '{m}'"
        ))),
    }
}

/// Reads what a tether client's annotations carry (trace parent and state, baggage, the time
/// left) into the call's context, as the process's propagators ask. A Python client's
/// correlation id, without a trace parent, becomes the trace id (with no parent span), so the
/// server's span joins the caller's id.
fn carried_in(context: &mut tether_core::CallContext, corr: Option<[u8; 16]>) {
    use tether_core::trace::baggage::BAGGAGE_ANNOTATION;
    use tether_core::trace::{
        propagators, Incoming, TraceContext, TIMEOUT_ANNOTATION, TRACEPARENT_ANNOTATION,
        TRACESTATE_ANNOTATION,
    };
    let p = propagators();
    if !context.annotations.is_empty() {
        let incoming = Incoming {
            traceparent: context.annotation(TRACEPARENT_ANNOTATION),
            tracestate: context.annotation(TRACESTATE_ANNOTATION),
            baggage: context.annotation(BAGGAGE_ANNOTATION),
            timeout: context.annotation(TIMEOUT_ANNOTATION),
            ..Incoming::default()
        };
        incoming.read(p.for_annotations()).apply_to(context);
    }
    if context.trace.is_none() && p.carries_trace() {
        context.trace = corr
            .filter(|c| *c != [0; 16])
            .map(|id| TraceContext::new(id, [0; 8]));
    }
}

#[cfg(test)]
mod tests {
    use super::is_private;

    #[test]
    fn privacy_follows_python() {
        assert!(is_private("_x"));
        assert!(is_private("__x"));
        assert!(is_private("__init__"));
        assert!(is_private("___"));
        assert!(!is_private("__dunder__"));
        assert!(!is_private("echo"));
        assert!(!is_private("__len__"));
    }
}
