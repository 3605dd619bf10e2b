//! The blocking facade: service calls from plain programs with no async runtime.
//!
//! [`BlockingRuntime`] owns a multi-threaded tokio runtime (so exporters keep serving while the
//! program's main thread blocks); [`Blocking<dyn T>`] pairs a service with it, and the
//! `TBlocking` trait that `#[tether::service]` generates gives it synchronous methods.

use crate::RemoteError;
use std::future::Future;
use std::sync::Arc;

/// A tokio runtime owned by blocking code.
pub struct BlockingRuntime {
    rt: Option<tokio::runtime::Runtime>,
}

impl BlockingRuntime {
    /// Creates a multi-threaded runtime. Refuses when called from inside a runtime, where
    /// blocking would deadlock or panic: async code should use the async API instead.
    pub fn new() -> Result<Arc<Self>, RemoteError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(RemoteError::config(
                "the blocking facade cannot be used inside an async runtime; use the async API",
            ));
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("tether-blocking")
            .build()
            .map_err(RemoteError::from)?;
        Ok(Arc::new(BlockingRuntime { rt: Some(rt) }))
    }

    /// The runtime's handle (to spawn or to enter it).
    pub fn handle(&self) -> Option<&tokio::runtime::Handle> {
        self.rt.as_ref().map(|rt| rt.handle())
    }

    /// Runs a future to completion on this runtime, refusing (instead of tokio's panic) when the
    /// current thread is already inside a runtime.
    pub fn block_on<T, E: From<RemoteError>>(
        &self,
        fut: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(RemoteError::config(
                "blocking call made from inside an async runtime; await the async method instead",
            )
            .into());
        }
        match &self.rt {
            Some(rt) => rt.block_on(fut),
            None => Err(RemoteError::new(crate::ErrorKind::Shutdown, "runtime is gone").into()),
        }
    }
}

impl Drop for BlockingRuntime {
    fn drop(&mut self) {
        // Dropping a runtime inside async code panics; shut it down in the background there.
        if let Some(rt) = self.rt.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                rt.shutdown_background();
            } else {
                drop(rt);
            }
        }
    }
}

/// A service (local object or proxy) with the runtime that blocking calls run on.
pub struct Blocking<T: ?Sized> {
    inner: Arc<T>,
    rt: Arc<BlockingRuntime>,
}

impl<T: ?Sized> Clone for Blocking<T> {
    fn clone(&self) -> Self {
        Blocking {
            inner: self.inner.clone(),
            rt: self.rt.clone(),
        }
    }
}

impl<T: ?Sized> Blocking<T> {
    /// Pairs a service with a runtime.
    pub fn new(inner: Arc<T>, rt: Arc<BlockingRuntime>) -> Self {
        Blocking { inner, rt }
    }

    /// The async service inside.
    pub fn inner(&self) -> &Arc<T> {
        &self.inner
    }

    /// Runs one future of the service on the runtime.
    pub fn block_on<R, E: From<RemoteError>>(
        &self,
        fut: impl Future<Output = Result<R, E>>,
    ) -> Result<R, E> {
        self.rt.block_on(fut)
    }
}
