//! Resolving a [`PyroUri`] to an object id and a location, as Python's `core.resolve` does:
//! a `PYRO:` URI is already direct; `PYRONAME:name[@ns]` asks the name server
//! (`Pyro.NameServer.lookup(name)`), `PYROMETA:m1,m2[@ns]` asks it for any object carrying all
//! the tags (`yplookup(meta_all, None, False)`) and takes the first match.
//!
//! Without `@nshost`, the name server is looked for as Python's `locate_ns` does: at
//! `localhost:9090`, then by UDP broadcast ([`crate::naming::locate_ns`]).
//! Resolution happens at every (re)connect, so a re-registered object is found again.

use crate::uri::{Location, PyroUri};
use crate::wire::WireVersion;
use crate::Proxy;
use tether_core::{BoxFuture, Call, RemoteError, Value};

/// The name server's object id (defined with the name server's other facts).
pub use crate::naming::NAME_SERVER_ID;

/// Resolves `uri` to `(object id, location)`, asking a name server when needed.
///
/// Returns a boxed future (not an `async fn`): resolving uses a [`Proxy`], whose connect
/// resolves in turn, and the explicit `Send` box breaks that type-level cycle.
/// The name server is reached with `via`'s settings (serializer, timeout, wire version, HMAC
/// key, TLS), as Python's proxy resolves with its own configuration.
pub fn resolve(
    uri: PyroUri,
    via: &Proxy,
) -> BoxFuture<'static, Result<(String, Location), RemoteError>> {
    Box::pin(resolve_inner(uri, via.clone()))
}

async fn resolve_inner(uri: PyroUri, via: Proxy) -> Result<(String, Location), RemoteError> {
    let uri = &uri;
    let via = &via;
    let ns_proxy = |ns: &Option<(String, u16)>| {
        let ns = ns.clone();
        async move {
            let (host, port) = match &ns {
                Some((h, p)) => (Some(h.as_str()), Some(*p)),
                None => (None, None),
            };
            crate::naming::locate_ns(host, port, Some(via)).await
        }
    };
    let found = match uri {
        PyroUri::Direct { object, location } => return Ok((object.clone(), location.clone())),
        PyroUri::Name { name, ns } => {
            let ns = ns_proxy(ns).await?;
            let r = ns
                .call(Call::new("lookup", vec![Value::str(name.as_str())]))
                .await;
            ns.close().await;
            r.map_err(|e| RemoteError::config(format!("cannot resolve {uri}: {e}")))?
        }
        PyroUri::Meta { meta, ns } => {
            let ns = ns_proxy(ns).await?;
            let tags = Value::Set(meta.iter().map(|m| Value::str(m.as_str())).collect());
            // Pyro4's name server has no yplookup; its list() takes the metadata filters.
            let call = match via.wire() {
                WireVersion::Pyro5 => {
                    Call::new("yplookup", vec![tags, Value::None, Value::Bool(false)])
                }
                WireVersion::Pyro4 => Call::new(
                    "list",
                    vec![
                        Value::None,
                        Value::None,
                        tags,
                        Value::None,
                        Value::Bool(false),
                    ],
                ),
            };
            let r = ns.call(call).await;
            ns.close().await;
            let found = r.map_err(|e| RemoteError::config(format!("cannot resolve {uri}: {e}")))?;
            match found.as_map().and_then(|m| m.first()) {
                Some((_, v)) => v.clone(),
                None => {
                    return Err(RemoteError::config(format!(
                        "cannot resolve {uri}: no registered object has all of these metadata tags"
                    )))
                }
            }
        }
    };
    let direct = uri_from_value(&found).ok_or_else(|| {
        RemoteError::protocol(format!("name server answered {found}, which is not a URI"))
    })?;
    match direct {
        PyroUri::Direct { object, location } => Ok((object, location)),
        other => Err(RemoteError::protocol(format!(
            "name server answered a non-direct uri {other}"
        ))),
    }
}

/// A URI from a name server reply: a URI class dict or a URI string.
fn uri_from_value(v: &Value) -> Option<PyroUri> {
    match PyroUri::from_value(v)? {
        d @ PyroUri::Direct { .. } => Some(d),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_uri_class_dicts() {
        let v = Value::Map(vec![
            (Value::str("__class__"), Value::str("Pyro5.core.URI")),
            (
                Value::str("state"),
                Value::Tuple(vec![
                    Value::str("PYRO"),
                    Value::str("example.greeting"),
                    Value::None,
                    Value::str("127.0.0.1"),
                    Value::Int(9999),
                ]),
            ),
        ]);
        assert_eq!(
            uri_from_value(&v),
            Some(PyroUri::Direct {
                object: "example.greeting".into(),
                location: Location::Tcp {
                    host: "127.0.0.1".into(),
                    port: 9999
                }
            })
        );
        assert!(uri_from_value(&Value::Int(1)).is_none());
    }
}
