//! `pyro-ns://`: a Pyro name server as a [`Directory`] a pool follows (feature `pyro`).
//!
//! `pyro-ns://host:port/name-prefix` follows every object whose name starts with the prefix
//! (`list(prefix=...)`); `pyro-ns://host:port/?meta=tag1,tag2` every object that has all the
//! tags (`yplookup(meta_all=...)`, Pyro's `PYROMETA:`). Without `host:port` the name server is
//! found as Python's `locate_ns` does. A name server has no watch, so the pool re-reads it
//! every `discovery_interval`. Exporters register in a name server through their
//! `name_server` property (Spring Python's and Pyro's own way), not through this directory.

use crate::remoting::{Directory, Members, Role};
use std::time::Duration;
use tether_core::{BoxFuture, Call, RemoteError, Value};

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
fn parse(v: &str) -> Result<Query, String> {
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
    let ns = tether_pyro::naming::locate_ns(q.host.as_deref(), q.port, None).await?;
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
                other => tether_pyro::PyroUri::from_value(&other).map(|u| u.to_string()),
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

    fn check(&self, url: &str, role: Role) -> Result<(), String> {
        if role == Role::List {
            return Err(format!(
                "{url}: an exporter registers in a Pyro name server through its name_server property"
            ));
        }
        parse(url).map(|_| ())
    }

    fn follow(
        &self,
        url: &str,
        interval: Duration,
    ) -> BoxFuture<'static, Result<Members, RemoteError>> {
        let q = parse(url);
        Box::pin(async move {
            let q = q.map_err(RemoteError::config)?;
            // The first read must work (a wrong address is a clear error now); later failures
            // keep the last list.
            let first = read(q.clone()).await?;
            Ok(Members::polled(first, interval, move || {
                Box::pin(read(q.clone()))
            }))
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
        assert!(parse("pyro-ns://h:x/").unwrap_err().contains("bad port"));
        assert!(parse("pyro-ns://h/?meta=").unwrap_err().contains("one tag"));
        let d = PyroNameServerDirectory;
        assert!(d
            .check("pyro-ns://h/", Role::List)
            .unwrap_err()
            .contains("name_server property"));
    }
}
