//! [`Directory`]: a store where exporters list their URLs and pools find them, past one
//! machine (the `discovery` property of exporters and of `tether.cluster.PoolProxyFactory`).
//!
//! Directories are the second seam, beside [`crate::Protocol`]: exporters and pools know only
//! this trait and pick an implementation by the URL's scheme from the [`DirectorySet`] of
//! their registry, so a new store is one module that registers itself, never an edit of the
//! exporter or the pool. tether's facade registers `etcd://` (tether-cluster: lists and
//! follows) and `pyro-ns://` (tether-pyro: a Pyro name server; lists the exporters whose
//! `name_server` property names it, followed by polling).

use crate::error::TransportError;
use crate::options::ClientOptions;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tether_core::ticker::Ticker;
use tether_core::{BoxFuture, RemoteError};
use tokio::sync::watch;

/// What an exporter lists: its service under a name, the URL clients dial, the address it
/// serves on, and how long the entry outlives its exporter if the process dies (the lease).
#[derive(Clone, Debug)]
pub struct Listing {
    /// The exported name (`service_name`).
    pub name: String,
    /// The URL a client dials for it (`PYRO:Name@host:port`, `https://host:port/`, ...).
    pub url: String,
    /// The address the server is bound to (distinguishes copies of one service).
    pub addr: SocketAddr,
    /// The entry's time to live without renewal (`discovery_ttl`).
    pub ttl: Duration,
    /// The name of the exporter's protocol (a directory that speaks a wire itself, such as a
    /// Pyro name server, may answer in it).
    pub protocol: &'static str,
    /// How to reach the directory: a bounded timeout, and the wire settings the exporter
    /// has (a keyed Pyro4 daemon's name server wants the key too).
    pub options: ClientOptions,
}

/// What a directory URL is used for: an exporter lists itself, a pool follows the members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// An exporter's `discovery` ([`Directory::list`]).
    List,
    /// A pool's `discovery` ([`Directory::follow`]).
    Follow,
}

/// A directory service: exporters list themselves in it, pools follow what it holds.
pub trait Directory: Send + Sync + 'static {
    /// The URL scheme it answers (`"etcd"` for `etcd://...`).
    fn scheme(&self) -> &'static str;

    /// Checks a directory URL for `role` when the property is set, so a bad one (or a role
    /// the directory does not play) is a configuration error that names the object rather
    /// than a failure at start.
    fn check(&self, url: &str, role: Role) -> Result<(), TransportError>;

    /// Lists `listing` in the directory at `url` and keeps it listed (renewing any lease) until
    /// the returned entry is withdrawn. Runs on the exporter's tokio runtime. Default: this
    /// directory does not list exporters.
    fn list(
        &self,
        url: &str,
        listing: Listing,
    ) -> BoxFuture<'static, Result<Box<dyn Listed>, RemoteError>> {
        let _ = listing;
        let e = RemoteError::config(format!(
            "{url}: {}:// does not list exporters",
            self.scheme()
        ));
        Box::pin(async move { Err(e) })
    }

    /// The URLs under `url`, read now and kept up to date (by a watch, or a read every
    /// `interval`) while the returned [`Members`] live. The first read must succeed, so a wrong
    /// address is an error of the call that started it. Default: this directory cannot be
    /// followed.
    fn follow(
        &self,
        url: &str,
        interval: Duration,
    ) -> BoxFuture<'static, Result<Members, RemoteError>> {
        let _ = interval;
        let e = RemoteError::config(format!("{url}: {}:// cannot be followed", self.scheme()));
        Box::pin(async move { Err(e) })
    }
}

/// The URL set a directory holds under one URL (sorted, without duplicates), kept up to date
/// while this value lives: dropping it stops the watch or the polling.
pub struct Members {
    rx: watch::Receiver<Vec<String>>,
    _feed: Box<dyn Send + Sync>,
}

impl fmt::Debug for Members {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Members").field(&*self.rx.borrow()).finish()
    }
}

/// Aborts a polling task when the members it feeds are dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn normalized(mut urls: Vec<String>) -> Vec<String> {
    urls.sort();
    urls.dedup();
    urls
}

impl Members {
    /// Members read from `rx`, which `feed` (a watch, a task) keeps sending to for as long
    /// as the members live.
    pub fn new(rx: watch::Receiver<Vec<String>>, feed: impl Send + Sync + 'static) -> Self {
        Members {
            rx,
            _feed: Box::new(feed),
        }
    }

    /// Members that `read` re-reads every `interval` (on the current tokio runtime), starting
    /// from `first`; a failed read keeps the last list and is logged.
    ///
    /// The interval is kept by a [`Ticker`]: a tokio timer pending for the members' whole life would make every park of the
    /// runtime (every call of every server on it) pass a timeout to `epoll_wait`.
    pub fn polled(
        first: Vec<String>,
        interval: Duration,
        read: impl Fn() -> BoxFuture<'static, Result<Vec<String>, RemoteError>> + Send + Sync + 'static,
    ) -> Self {
        let (tx, rx) = watch::channel(normalized(first));
        let interval = interval.max(Duration::from_millis(10));
        let ticker = Ticker::every("tether-poll", interval);
        let task = tokio::spawn(async move {
            loop {
                ticker.tick().await;
                match read().await {
                    Ok(urls) => {
                        let urls = normalized(urls);
                        tx.send_if_modified(|now| {
                            let changed = *now != urls;
                            if changed {
                                *now = urls;
                            }
                            changed
                        });
                    }
                    Err(e) => tracing::warn!(
                        target: "tether::remoting",
                        "discovery read failed (keeping the last {} members): {e}",
                        tx.borrow().len()
                    ),
                }
                if tx.is_closed() {
                    return;
                }
            }
        });
        Members::new(rx, AbortOnDrop(task))
    }

    /// The current set, updated as it changes.
    pub fn subscribe(&self) -> watch::Receiver<Vec<String>> {
        self.rx.clone()
    }
}

/// A live entry in a directory; dropping it stops renewing it (the lease then lapses),
/// [`withdraw`](Listed::withdraw) removes it at once (a graceful shutdown).
pub trait Listed: Send + 'static {
    /// Removes the entry (best effort: a directory that is gone is logged, not an error).
    fn withdraw(self: Box<Self>) -> BoxFuture<'static, ()>;
}

/// The directories a registry knows, by scheme.
#[derive(Clone, Default)]
pub struct DirectorySet(Arc<Vec<Arc<dyn Directory>>>);

impl fmt::Debug for DirectorySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|d| d.scheme()))
            .finish()
    }
}

impl DirectorySet {
    /// Adds `directory` (replacing one of the same scheme).
    pub fn push(&mut self, directory: Arc<dyn Directory>) {
        let v = Arc::make_mut(&mut self.0);
        v.retain(|d| d.scheme() != directory.scheme());
        v.push(directory);
    }

    /// The directory that answers `url`'s scheme.
    pub fn for_url(&self, url: &str) -> Result<&Arc<dyn Directory>, TransportError> {
        let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("");
        self.0
            .iter()
            .find(|d| d.scheme().eq_ignore_ascii_case(scheme))
            .ok_or_else(|| {
                let known: Vec<String> = self
                    .0
                    .iter()
                    .map(|d| format!("{}://", d.scheme()))
                    .collect();
                TransportError::bad_url(format!(
                    "no directory answers {url:?} (known: {})",
                    if known.is_empty() {
                        "none in this build; tether's cluster feature adds etcd://".to_string()
                    } else {
                        known.join(", ")
                    }
                ))
            })
    }
}
