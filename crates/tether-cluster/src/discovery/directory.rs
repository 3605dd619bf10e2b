//! `etcd://host:port/prefix/`: etcd as a [`Directory`] for exporters (listing under a lease)
//! and pools (following a prefix with a watch).

use super::etcd::{EtcdClient, Registration, Watch};
use std::time::Duration;
use tether_core::{BoxFuture, RemoteError};
use tether_remoting::{Directory, Listed, Listing, Members, Role, TransportError};

/// Parses `etcd://host:port/prefix/` into the gateway's address and the key prefix.
fn parse_etcd(v: &str) -> Result<(String, String), TransportError> {
    let rest = v.strip_prefix("etcd://").ok_or_else(|| {
        TransportError::bad_url(format!(
            "discovery {v:?}: expected etcd://host:port/prefix/"
        ))
    })?;
    // TLS settings come after the prefix, as a query (their file paths have slashes).
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = rest.split_once('/').ok_or_else(|| {
        TransportError::bad_url(format!(
            "discovery {v:?}: no prefix (etcd://host:port/prefix/)"
        ))
    })?;
    let spec = match query {
        Some(q) => format!("{authority}?{q}"),
        None => authority.to_string(),
    };
    EtcdClient::new(&spec).map_err(|e| TransportError::bad_url(e.message()))?;
    Ok((spec, format!("/{path}")))
}

/// The `etcd://host:port/prefix/` directory of the `discovery` property: an exporter's URL goes
/// to `<prefix><service_name>/<host>:<port>` under a lease it keeps alive (`discovery_ttl`
/// seconds, default 10) and deletes on a graceful shutdown; a pool reads the prefix and follows
/// it with a watch. Registered in every registry with this feature
/// ([`Directory`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct EtcdDirectory;

impl Directory for EtcdDirectory {
    fn scheme(&self) -> &'static str {
        "etcd"
    }

    fn check(&self, url: &str, _role: Role) -> Result<(), TransportError> {
        parse_etcd(url).map(|_| ())
    }

    fn list(
        &self,
        url: &str,
        listing: Listing,
    ) -> BoxFuture<'static, Result<Box<dyn Listed>, RemoteError>> {
        let parsed = parse_etcd(url);
        Box::pin(async move {
            let (endpoint, prefix) = parsed.map_err(|e| RemoteError::config(e.message()))?;
            let client = EtcdClient::new(&endpoint)?;
            let key = format!("{prefix}{}/{}", listing.name, listing.addr);
            let ttl = listing.ttl.as_secs().max(2);
            let reg = Registration::start(client, &key, &listing.url, ttl).await?;
            Ok(Box::new(EtcdListed(reg)) as Box<dyn Listed>)
        })
    }

    /// Reads the prefix, then follows it with a watch (re-reading after a broken watch).
    fn follow(
        &self,
        url: &str,
        _interval: Duration,
    ) -> BoxFuture<'static, Result<Members, RemoteError>> {
        let parsed = parse_etcd(url);
        Box::pin(async move {
            let (endpoint, prefix) = parsed.map_err(|e| RemoteError::config(e.message()))?;
            let watch = Watch::start(EtcdClient::new(&endpoint)?, &prefix).await?;
            Ok(Members::new(watch.subscribe(), watch))
        })
    }
}

/// A live etcd entry (its lease kept alive by the registration's task).
struct EtcdListed(Registration);

impl Listed for EtcdListed {
    fn withdraw(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(self.0.close())
    }
}
