//! [`Directory`]: a store where an exporter lists its URL so that clients past one machine find
//! it (an exporter's `discovery` property, `etcd://host:port/prefix/`).
//!
//! Directories are the second seam of the container, beside [`super::Protocol`]: the exporter
//! knows only this trait and picks an implementation by the URL's scheme from the
//! [`DirectorySet`] of its registry, so a new store is one module that registers itself (as
//! `tether.cluster` registers etcd), never an edit of the exporter. A Pyro name server is not a
//! directory here: it is reached over the Pyro wire, so it stays the protocol's
//! [`publish`](super::Protocol::publish) (the exporter's `name_server` property).

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tether_core::BoxFuture;

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
}

/// A directory service an exporter can list itself in.
pub trait Directory: Send + Sync + 'static {
    /// The URL scheme it answers (`"etcd"` for `etcd://...`).
    fn scheme(&self) -> &'static str;

    /// Checks a directory URL when the property is set, so a bad one is a configuration error
    /// that names the object rather than a failure at start.
    fn check(&self, url: &str) -> Result<(), String>;

    /// Lists `listing` in the directory at `url` and keeps it listed (renewing any lease) until
    /// the returned entry is withdrawn. Runs on the exporter's tokio runtime.
    fn list(
        &self,
        url: &str,
        listing: Listing,
    ) -> BoxFuture<'static, Result<Box<dyn Listed>, String>>;
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
    pub fn for_url(&self, url: &str) -> Result<&Arc<dyn Directory>, String> {
        let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("");
        self.0
            .iter()
            .find(|d| d.scheme().eq_ignore_ascii_case(scheme))
            .ok_or_else(|| {
                let known: Vec<String> =
                    self.0.iter().map(|d| format!("{}://", d.scheme())).collect();
                format!(
                    "no directory answers {url:?} (known: {}; a Pyro name server is the name_server property)",
                    if known.is_empty() {
                        "none in this build; tether-context's cluster feature adds etcd://".to_string()
                    } else {
                        known.join(", ")
                    }
                )
            })
    }
}
