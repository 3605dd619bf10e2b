//! Where a pool's endpoints come from, and how the list changes: a [`Discovery`] publishes
//! the current URL set on a watch channel, and [`crate::Pool::follow`] keeps a pool in step.
//!
//! - [`Static`]: a fixed list.
//! - [`Polled`]: any source read every interval (a Pyro name server's `list(prefix=...)` or
//!   `yplookup` of `PYROMETA:` metadata, through a closure).
//! - `etcd.rs`: etcd v3 (through its JSON gateway): [`etcd::Registration`] puts an exporter's
//!   URL under a prefix with a lease it keeps alive and deletes on close; [`etcd::Watch`] reads
//!   the prefix and follows it with a watch.

pub mod etcd;

pub use etcd::EtcdClient;

use std::sync::Arc;
use std::time::Duration;
use tether_core::{BoxFuture, Invoker, RemoteError};
use tokio::sync::watch;

/// A source of endpoint URLs.
pub trait Discovery: Send + Sync + 'static {
    /// The current set (sorted, deduplicated), updated as it changes.
    fn subscribe(&self) -> watch::Receiver<Vec<String>>;
}

/// A fixed list.
pub struct Static(watch::Sender<Vec<String>>);

impl Static {
    /// The list `urls`.
    pub fn new(mut urls: Vec<String>) -> Static {
        urls.sort();
        urls.dedup();
        Static(watch::channel(urls).0)
    }
}

impl Discovery for Static {
    fn subscribe(&self) -> watch::Receiver<Vec<String>> {
        self.0.subscribe()
    }
}

/// A source read every `interval` by a closure (an error keeps the last good list).
pub struct Polled {
    tx: watch::Sender<Vec<String>>,
    _task: tokio::task::JoinHandle<()>,
}

/// What a [`Polled`] source calls.
pub type Poll = Arc<dyn Fn() -> BoxFuture<'static, Result<Vec<String>, RemoteError>> + Send + Sync>;

impl Polled {
    /// Starts polling `read` every `interval` (the first read at once) on the current runtime.
    pub fn start(interval: Duration, read: Poll) -> Polled {
        Self::start_with(Vec::new(), interval, read)
    }

    /// [`Self::start`] with the list a first read already returned (so a pool following it
    /// has its members at once).
    pub fn start_with(mut initial: Vec<String>, interval: Duration, read: Poll) -> Polled {
        initial.sort();
        initial.dedup();
        let (tx, _) = watch::channel(initial);
        let sender = tx.clone();
        let task = tokio::spawn(async move {
            loop {
                match read().await {
                    Ok(mut urls) => {
                        urls.sort();
                        urls.dedup();
                        sender.send_if_modified(|cur| {
                            let changed = *cur != urls;
                            if changed {
                                *cur = urls;
                            }
                            changed
                        });
                    }
                    Err(e) => {
                        tracing::warn!(target: "tether::cluster", "discovery source failed (keeping the last list): {e}")
                    }
                }
                tokio::time::sleep(interval).await;
            }
        });
        Polled { tx, _task: task }
    }
}

impl Drop for Polled {
    fn drop(&mut self) {
        self._task.abort();
    }
}

impl Discovery for Polled {
    fn subscribe(&self) -> watch::Receiver<Vec<String>> {
        self.tx.subscribe()
    }
}

/// Makes a proxy for a discovered URL.
pub type MakeInvokerFn = dyn Fn(&str) -> Result<Arc<dyn Invoker>, RemoteError> + Send + Sync;

/// A shared [`MakeInvokerFn`].
pub type MakeInvoker = Arc<MakeInvokerFn>;

impl crate::Pool {
    /// Keeps this pool's membership equal to what `source` says, for as long as the pool
    /// lives (a task on the current runtime); proxies for new URLs come from `make`.
    pub fn follow(&self, source: Arc<dyn Discovery>, make: MakeInvoker) {
        let mut rx = source.subscribe();
        let urls = rx.borrow_and_update().clone();
        self.set_members(&urls, &*make);
        let weak = self.downgrade();
        tokio::spawn(async move {
            let _source = source; // lives as long as the watch
            while rx.changed().await.is_ok() {
                let Some(pool) = crate::Pool::upgrade(&weak) else {
                    return;
                };
                let urls = rx.borrow_and_update().clone();
                pool.set_members(&urls, &*make);
            }
        });
    }
}
