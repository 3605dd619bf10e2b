//! `pyro-ns://`: a Pyro name server as a [`Directory`], for exporters (listing) and pools
//! (following).
//!
//! Following: `pyro-ns://host:port/name-prefix` follows every object whose name starts with
//! the prefix (`list(prefix=...)`); `pyro-ns://host:port/?meta=tag1,tag2` every object that
//! has all the tags (`yplookup(meta_all=...)`, Pyro's `PYROMETA:`). Without `host:port` the
//! name server is found as Python's `locate_ns` does. A name server has no watch, so the pool
//! re-reads it every `discovery_interval`.
//!
//! Listing: a Pyro exporter's `name_server` property (Spring Python's and Pyro's own way)
//! becomes `pyro-ns://host:port/?meta=tags`; the exporter's URL is registered
//! (`register(name, uri, metadata=tags)`) in the wire of the exporter (Pyro4 for the Pyro4
//! names or with an HMAC key, Pyro5 otherwise) and removed (`remove(name)`) on a graceful
//! shutdown. A name server keeps no lease: an exporter that dies stays listed, as in Pyro.

use super::pyro5::Pyro5;
use crate::WireVersion;
use std::time::Duration;
use tether_core::{BoxFuture, Call, RemoteError, Value};
use tether_remoting::{ClientOptions, Directory, Listed, Listing, Members, Role, TransportError};

/// The `pyro-ns://` directory.
#[derive(Debug, Clone, Copy, Default)]
pub struct PyroNameServerDirectory;

/// Where the name server is and what to read from it.
#[derive(Clone, Debug, PartialEq)]
struct Query {
    host: Option<String>,
    port: Option<u16>,
    prefix: String,
    meta: Vec<String>,
}

/// Parses `pyro-ns://[host[:port]]/prefix` or `pyro-ns://[host[:port]]/?meta=a,b`.
fn parse(v: &str) -> Result<Query, TransportError> {
    parse_text(v).map_err(TransportError::bad_url)
}

// The reason as text, for the two error types it becomes (a URL error at a property, a
// configuration error of a call).
fn parse_text(v: &str) -> Result<Query, String> {
    let rest = v.strip_prefix("pyro-ns://").ok_or_else(|| {
        format!("discovery {v:?}: expected pyro-ns://host:port/name-prefix or pyro-ns://host:port/?meta=tag1,tag2")
    })?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (host, port) = if authority.is_empty() {
        (None, None)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (
                Some(h.to_string()),
                Some(
                    p.parse::<u16>()
                        .map_err(|_| format!("discovery {v:?}: bad port"))?,
                ),
            ),
            None => (Some(authority.to_string()), None),
        }
    };
    let (prefix, meta) = match path.strip_prefix("?meta=") {
        Some(tags) => {
            let meta: Vec<String> = tags
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect();
            if meta.is_empty() {
                return Err(format!("discovery {v:?}: ?meta= needs at least one tag"));
            }
            (String::new(), meta)
        }
        None => (path.to_string(), Vec::new()),
    };
    Ok(Query {
        host,
        port,
        prefix,
        meta,
    })
}

/// One read: the URLs the name server has for the prefix or the tags.
async fn read(q: Query) -> Result<Vec<String>, RemoteError> {
    let ns = crate::naming::locate_ns(q.host.as_deref(), q.port, None).await?;
    let call = if q.meta.is_empty() {
        Call::new("list", vec![]).kwarg("prefix", Value::Str(q.prefix))
    } else {
        Call::new("yplookup", vec![])
            .kwarg(
                "meta_all",
                Value::Set(q.meta.into_iter().map(Value::Str).collect()),
            )
            .kwarg("return_metadata", Value::Bool(false))
    };
    let r = ns.call(call).await;
    ns.close().await;
    match r? {
        Value::Map(entries) => Ok(entries
            .into_iter()
            .filter_map(|(_, uri)| match uri {
                Value::Str(u) => Some(u),
                other => crate::PyroUri::from_value(&other).map(|u| u.to_string()),
            })
            .collect()),
        other => Err(RemoteError::protocol(format!(
            "the name server answered {other:?}, not a dict of names"
        ))),
    }
}

impl Directory for PyroNameServerDirectory {
    fn scheme(&self) -> &'static str {
        "pyro-ns"
    }

    fn check(&self, url: &str, role: Role) -> Result<(), TransportError> {
        let q = parse(url)?;
        if role == Role::List && !q.prefix.is_empty() {
            return Err(TransportError::bad_url(format!(
                "{url}: an exporter is listed in a name server under its service_name (give pyro-ns://host:port/ or ?meta=tags, no name prefix)"
            )));
        }
        Ok(())
    }

    fn list(
        &self,
        url: &str,
        listing: Listing,
    ) -> BoxFuture<'static, Result<Box<dyn Listed>, RemoteError>> {
        let q = parse(url);
        let url = url.to_string();
        Box::pin(async move {
            let q = q.map_err(|e| RemoteError::config(e.message()))?;
            let tags = Value::Set(q.meta.iter().map(|t| Value::str(t.as_str())).collect());
            let call = Call::new(
                "register",
                vec![Value::str(&listing.name), Value::str(&listing.url)],
            )
            .kwarg("metadata", tags);
            let wire = wire_for(&listing);
            name_server_call(&q, call, &listing.options, wire)
                .await
                .map_err(|e| RemoteError::config(format!("the name server at {url}: {e}")))?;
            Ok(Box::new(NameServerEntry {
                query: q,
                name: listing.name,
                options: listing.options,
                wire,
                url,
            }) as Box<dyn Listed>)
        })
    }

    fn follow(
        &self,
        url: &str,
        interval: Duration,
    ) -> BoxFuture<'static, Result<Members, RemoteError>> {
        let q = parse(url);
        Box::pin(async move {
            let q = q.map_err(|e| RemoteError::config(e.message()))?;
            // The first read must work (a wrong address is a clear error now); later failures
            // keep the last list.
            let first = read(q.clone()).await?;
            Ok(Members::polled(first, interval, move || {
                Box::pin(read(q.clone()))
            }))
        })
    }
}

/// A keyed exporter's name server speaks signed Pyro4; so does a Pyro4 exporter's.
fn wire_for(listing: &Listing) -> WireVersion {
    if listing.protocol == "pyro4" || listing.options.wire.text("hmac_key").is_some() {
        WireVersion::Pyro4
    } else {
        WireVersion::Pyro5
    }
}

/// Runs one call on the name server of `q`, bounded by the options' timeout (5 s without one).
async fn name_server_call(
    q: &Query,
    call: Call,
    options: &ClientOptions,
    wire: WireVersion,
) -> Result<(), RemoteError> {
    let via = Pyro5::default().make_proxy(
        &format!("PYRO:{}@localhost:9090", crate::naming::NAME_SERVER_ID),
        options,
        wire,
    )?;
    let limit = options.timeout.unwrap_or(Duration::from_secs(5));
    let run = async {
        let ns = crate::naming::locate_ns(q.host.as_deref(), q.port, Some(&via)).await?;
        let r = ns.call(call).await;
        ns.close().await;
        r
    };
    match tokio::time::timeout(limit, run).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(RemoteError::timeout(format!(
            "no answer from the name server within {limit:?}"
        ))),
    }
}

/// A name listed in a name server; withdrawing removes it.
struct NameServerEntry {
    query: Query,
    name: String,
    options: ClientOptions,
    wire: WireVersion,
    url: String,
}

impl Listed for NameServerEntry {
    fn withdraw(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let call = Call::new("remove", vec![Value::str(&self.name)]);
            match name_server_call(&self.query, call, &self.options, self.wire).await {
                Ok(()) => tracing::debug!(
                    target: "tether::pyro",
                    "Removed {} from the name server {}",
                    self.name,
                    self.url
                ),
                Err(e) => tracing::warn!(
                    target: "tether::pyro",
                    "could not remove {} from the name server {}: {e}",
                    self.name,
                    self.url
                ),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let q = parse("pyro-ns://10.0.0.1:9090/shop.").unwrap();
        assert_eq!(q.host.as_deref(), Some("10.0.0.1"));
        assert_eq!(q.port, Some(9090));
        assert_eq!(q.prefix, "shop.");
        let q = parse("pyro-ns:///?meta=a, b,").unwrap();
        assert_eq!((q.host, q.port), (None, None));
        assert_eq!(q.meta, vec!["a", "b"]);
        assert!(parse_text("pyro-ns://h:x/")
            .unwrap_err()
            .contains("bad port"));
        assert!(parse_text("pyro-ns://h/?meta=")
            .unwrap_err()
            .contains("one tag"));
        let d = PyroNameServerDirectory;
        assert!(d.check("pyro-ns://h/", Role::List).is_ok());
        assert!(d
            .check("pyro-ns://h/shop.", Role::List)
            .unwrap_err()
            .message()
            .contains("service_name"));
    }
}
