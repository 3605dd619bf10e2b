//! [`LocalInvoker`]: an [`Invoker`] that calls a [`Dispatch`] in the same process.
//!
//! It is the in-memory loopback for tests (a generated proxy over a local object exercises the
//! whole typed → `Value` → typed path without a socket) and the way to put a local object behind
//! a proxy. It behaves like a server would: each call runs in its own task, so a panicking
//! implementation becomes an error reply instead of unwinding into the caller, and a oneway call
//! is spawned and answered with `Value::None` at once.
//!
//! Streams: [`Invoker::invoke_stream`] hands over the [`crate::ValueStream`] the object's
//! [`Dispatch::dispatch_reply`] returned (its items are produced in the caller's task as they
//! are read); a plain [`Invoker::invoke`] of a streaming method collects the items into a
//! `Value::List` of at most [`LocalInvoker::MAX_COLLECTED_ITEMS`], as a Pyro proxy does.

use crate::{
    BoxFuture, Call, Dispatch, Invoker, Remotable, RemoteError, Reply, Value, ValueStream,
};
use std::sync::Arc;

/// An [`Invoker`] over an in-process [`Dispatch`].
#[derive(Clone)]
pub struct LocalInvoker {
    target: Arc<dyn Dispatch>,
}

impl LocalInvoker {
    /// Most items [`Invoker::invoke`] collects from a streaming method (the same default as a
    /// Pyro decoder's `max_items`); more is an error, and the stream is closed.
    pub const MAX_COLLECTED_ITEMS: usize = 1_000_000;

    /// An invoker that routes every call to `target`.
    pub fn new(target: Arc<dyn Dispatch>) -> Self {
        LocalInvoker { target }
    }

    /// An invoker over the dispatcher of a service object (`Arc<dyn YourTrait>`).
    pub fn of<T: ?Sized + Remotable>(service: Arc<T>) -> Self {
        LocalInvoker::new(T::dispatcher(service))
    }

    /// The dispatcher calls go to.
    pub fn target(&self) -> &Arc<dyn Dispatch> {
        &self.target
    }
}

impl std::fmt::Debug for LocalInvoker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalInvoker").finish_non_exhaustive()
    }
}

/// The error a caller sees when the implementation panicked (the panic message, if it was text).
fn panic_error(e: tokio::task::JoinError) -> RemoteError {
    if !e.is_panic() {
        return RemoteError::new(crate::ErrorKind::Shutdown, "local call was cancelled");
    }
    let payload = e.into_panic();
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-text panic payload".to_owned());
    RemoteError::exception(
        "builtins.RuntimeError",
        format!("service method panicked: {msg}"),
    )
}

impl LocalInvoker {
    /// Runs the call's `dispatch_reply` in its own task; a oneway call gets `None` at once.
    async fn run(&self, call: Call) -> Result<Option<Reply>, RemoteError> {
        let target = self.target.clone();
        // Spawning needs a runtime; say so instead of letting tokio panic.
        let handle = tokio::runtime::Handle::try_current().map_err(|_| {
            RemoteError::config("LocalInvoker needs a tokio runtime to run calls in")
        })?;
        let oneway = call.oneway;
        let task = handle.spawn(async move { target.dispatch_reply(call).await });
        if oneway {
            // Fire and forget, like a oneway wire call: the result (and any panic) is dropped.
            drop(task);
            return Ok(None);
        }
        task.await.map_err(panic_error)?.map(Some)
    }
}

impl Invoker for LocalInvoker {
    fn invoke(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(async move {
            match self.run(call).await? {
                None => Ok(Value::None),
                Some(reply) => reply.into_value(Self::MAX_COLLECTED_ITEMS).await,
            }
        })
    }

    fn invoke_stream(&self, call: Call) -> BoxFuture<'_, Result<ValueStream, RemoteError>> {
        Box::pin(async move {
            match self.run(call).await? {
                None => Ok(ValueStream::empty()),
                Some(reply) => reply.into_stream(),
            }
        })
    }

    fn describe(&self) -> BoxFuture<'_, Result<Option<crate::Description>, RemoteError>> {
        let m = self.target.methods();
        let d = crate::Description {
            methods: m.iter().map(|m| m.name.to_string()).collect(),
            oneway: m
                .iter()
                .filter(|m| m.oneway)
                .map(|m| m.name.to_string())
                .collect(),
            attrs: self
                .target
                .attrs()
                .iter()
                .map(|a| a.name.to_string())
                .collect(),
        };
        Box::pin(async move { Ok(Some(d)) })
    }
}
