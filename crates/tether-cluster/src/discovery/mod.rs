//! Where a pool's endpoints come from, and how the list changes: a directory's
//! [`Members`] (the seam's one discovery type: a watch channel of URL sets) and
//! [`crate::Pool::follow`], which keeps a pool in step with it.
//!
//! - [`fixed`]: a fixed list as members.
//! - `etcd.rs`: etcd v3 (through its JSON gateway): [`etcd::Registration`] puts an exporter's
//!   URL under a prefix with a lease it keeps alive and deletes on close; [`etcd::Watch`] reads
//!   the prefix and follows it with a watch.
//! - `directory.rs`: [`EtcdDirectory`], etcd behind the seam's [`tether_remoting::Directory`]
//!   (`etcd://host:port/prefix/`), for exporters' and pools' `discovery` property.

mod directory;
pub mod etcd;

pub use directory::EtcdDirectory;
pub use etcd::EtcdClient;

use std::sync::Arc;
use tether_core::{Invoker, RemoteError};
pub use tether_remoting::Members;
use tokio::sync::watch;

/// A fixed list of URLs as [`Members`] (sorted, without duplicates).
pub fn fixed(mut urls: Vec<String>) -> Members {
    urls.sort();
    urls.dedup();
    let (tx, rx) = watch::channel(urls);
    Members::new(rx, tx)
}

/// The most members a discovery source can give a pool: a directory is data from the network,
/// and a lying or broken one must not make a client open a proxy per entry of a million.
pub const MAX_DISCOVERED: usize = 10_000;

/// `urls` with at most [`MAX_DISCOVERED`] entries (the first in order; a warning names the rest).
fn capped(pool: &str, mut urls: Vec<String>) -> Vec<String> {
    if urls.len() > MAX_DISCOVERED {
        tracing::warn!(
            target: "tether::cluster",
            pool,
            "discovery listed {} endpoints; following the first {MAX_DISCOVERED}",
            urls.len()
        );
        urls.truncate(MAX_DISCOVERED);
    }
    urls
}

/// Makes a proxy for a discovered URL.
pub type MakeInvokerFn = dyn Fn(&str) -> Result<Arc<dyn Invoker>, RemoteError> + Send + Sync;

/// A shared [`MakeInvokerFn`].
pub type MakeInvoker = Arc<MakeInvokerFn>;

impl crate::Pool {
    /// Keeps this pool's membership equal to what `source` says, for as long as the pool
    /// lives (a task on the current runtime); proxies for new URLs come from `make`.
    pub fn follow(&self, source: Members, make: MakeInvoker) {
        let mut rx = source.subscribe();
        let urls = capped(self.name(), rx.borrow_and_update().clone());
        self.set_members(&urls, &*make);
        let weak = self.downgrade();
        tokio::spawn(async move {
            let _source = source; // lives as long as the watch
            while rx.changed().await.is_ok() {
                let Some(pool) = crate::Pool::upgrade(&weak) else {
                    return;
                };
                let urls = capped(pool.name(), rx.borrow_and_update().clone());
                pool.set_members(&urls, &*make);
            }
        });
    }
}
