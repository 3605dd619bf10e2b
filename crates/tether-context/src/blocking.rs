//! [`BlockingContext`]: the container for plain programs with no async runtime (the seed's
//! `client.py` and `server.py` shape).
//!
//! It owns a multi-threaded [`BlockingRuntime`] (so exporters keep serving while `main`
//! blocks), starts the context on it, and hands out [`Blocking<dyn T>`] services whose
//! synchronous methods come from the `TBlocking` trait that `#[tether::service]` generates:
//!
//! ```no_run
//! # #[tether::service] pub trait DataService { async fn get_data(&self, p: String) -> Result<String, tether::RemoteError>; }
//! use tether_context::BlockingContext;
//! let ctx = BlockingContext::from_xml_files(["client.xml"])?;
//! let service = ctx.get::<dyn DataService>("service")?;
//! println!("CLIENT: {}", service.get_data("Hello".into())?); // DataServiceBlocking
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Inside async code it refuses (use [`ApplicationContext`] there): blocking a runtime thread
//! would deadlock or panic.

use crate::{ApplicationContext, ContextBuilder, ContextError, Result};
use std::path::Path;
use std::sync::Arc;
use tether_core::{Blocking, BlockingRuntime, Remotable};

/// An application context with its own runtime. Closed (gracefully) on [`close`](Self::close)
/// or drop.
pub struct BlockingContext {
    // Declared before the runtime so it is dropped first.
    ctx: ApplicationContext,
    rt: Arc<BlockingRuntime>,
}

impl std::fmt::Debug for BlockingContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingContext")
            .field("ctx", &self.ctx)
            .finish()
    }
}

impl BlockingContext {
    /// Starts the context of `builder` on a new runtime.
    pub fn start(builder: ContextBuilder) -> Result<Self> {
        let rt = BlockingRuntime::new().map_err(ContextError::from)?;
        let ctx = rt.block_on(async move { builder.start().await })?;
        Ok(BlockingContext { ctx, rt })
    }

    /// Starts a context from XML files with [`crate::ClassRegistry::from_inventory`].
    pub fn from_xml_files<P: AsRef<Path>>(files: impl IntoIterator<Item = P>) -> Result<Self> {
        let mut b = ApplicationContext::builder();
        for f in files {
            b = b.xml_file(f);
        }
        Self::start(b)
    }

    /// The object `id` as service trait `T`, with blocking methods (`TBlocking`).
    pub fn get<T: ?Sized + Remotable>(&self, id: &str) -> Result<Blocking<T>> {
        Ok(Blocking::new(self.ctx.get::<T>(id)?, self.rt.clone()))
    }

    /// The async context inside (for everything else: `get_as`, `get_object`, ...).
    pub fn context(&self) -> &ApplicationContext {
        &self.ctx
    }

    /// The runtime.
    pub fn runtime(&self) -> &Arc<BlockingRuntime> {
        &self.rt
    }

    /// Blocks until SIGINT or SIGTERM (a server's main loop), then closes the context.
    pub fn serve_until_signal(self) -> Result<()> {
        self.rt.block_on(async {
            crate::signal::wait_for_signal().await;
            Ok::<(), ContextError>(())
        })?;
        self.close()
    }

    /// Runs the destroy hooks and shuts every server down gracefully.
    pub fn close(self) -> Result<()> {
        let ctx = self.ctx.clone();
        self.rt.block_on(async move {
            ctx.close().await;
            Ok::<(), ContextError>(())
        })
    }
}

impl Drop for BlockingContext {
    fn drop(&mut self) {
        let ctx = self.ctx.clone();
        let _ = self.rt.block_on(async move {
            ctx.close().await;
            Ok::<(), ContextError>(())
        });
    }
}
