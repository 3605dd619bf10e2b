//! [`LocalInvoker`]: an [`Invoker`] that calls a [`Dispatch`] in the same process.
//!
//! It is the in-memory loopback for tests (a generated proxy over a local object exercises the
//! whole typed → `Value` → typed path without a socket) and the way to put a local object behind
//! a proxy. It behaves like a server would: each call runs in its own task, so a panicking
//! implementation becomes an error reply instead of unwinding into the caller, and a oneway call
//! is spawned and answered with `Value::None` at once.

use crate::{BoxFuture, Call, Dispatch, Invoker, Remotable, RemoteError, Value};
use std::sync::Arc;

/// An [`Invoker`] over an in-process [`Dispatch`].
#[derive(Clone)]
pub struct LocalInvoker {
    target: Arc<dyn Dispatch>,
}

impl LocalInvoker {
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

impl Invoker for LocalInvoker {
    fn invoke(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        let target = self.target.clone();
        Box::pin(async move {
            // Spawning needs a runtime; say so instead of letting tokio panic.
            let handle = tokio::runtime::Handle::try_current().map_err(|_| {
                RemoteError::config("LocalInvoker needs a tokio runtime to run calls in")
            })?;
            let oneway = call.oneway;
            let task = handle.spawn(async move { target.dispatch(call).await });
            if oneway {
                // Fire and forget, like a oneway wire call: the result (and any panic) is dropped.
                drop(task);
                return Ok(Value::None);
            }
            task.await.map_err(panic_error)?
        })
    }
}
