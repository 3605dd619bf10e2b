//! Pyro URIs: `PYRO:obj@host:port`, `PYRO:obj@[::1]:port`, `PYRO:obj@./u:/path/sock`,
//! `PYRONAME:name[@nshost[:port]]`, `PYROMETA:m1,m2[@nshost[:port]]`, plus Spring Python's
//! `PYROLOC://host:port/name`, which tether serves over the Pyro5 wire.
//!
//! The scheme is case-insensitive (Python stores it upper-cased). Name-server URIs are
//! resolved by `resolve.rs` when a proxy connects.

use std::fmt;
use tether_core::{RemoteError, Value};

/// Default name server port (for PYRONAME/PYROMETA without a port).
pub const NS_PORT: u16 = 9090;
/// The port of a name server's broadcast responder unless told otherwise (Pyro's 9091).
pub const NS_BCPORT: u16 = 9091;

/// Where name servers are unless told otherwise, from the environment as Pyro reads its
/// configuration (`PYRO_NS_HOST`, `PYRO_NS_PORT`, `PYRO_NS_BCPORT`), else Pyro's defaults
/// (`localhost`, 9090, 9091). A value that is not a port is left out, with a warning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NsDefaults {
    /// `NS_HOST`: where `locate_ns` looks first, and last. Default `localhost`.
    pub host: String,
    /// `NS_PORT`: the name server's port. Default 9090.
    pub port: u16,
    /// `NS_BCPORT`: the broadcast responder's port. Default 9091.
    pub bcport: u16,
}

impl NsDefaults {
    /// Pyro's defaults, with what the environment sets.
    pub fn from_env() -> NsDefaults {
        let port = |var: &str, default: u16| {
            match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => v.trim().parse().unwrap_or_else(|_| {
                tracing::warn!(target: "tether::pyro::naming", "{var}={v:?} is not a port: using {default}");
                default
            }),
            _ => default,
        }
        };
        NsDefaults {
            host: std::env::var("PYRO_NS_HOST")
                .ok()
                .filter(|h| !h.trim().is_empty())
                .unwrap_or_else(|| "localhost".into()),
            port: port("PYRO_NS_PORT", NS_PORT),
            bcport: port("PYRO_NS_BCPORT", NS_BCPORT),
        }
    }

    pub(crate) fn local(&self) -> bool {
        self.host == "localhost" || self.host == "::1" || self.host.starts_with("127.")
    }
}

/// Where a daemon listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A host name or IP address (IPv6 without brackets) and a port.
    Tcp {
        /// Host name or address.
        host: String,
        /// Port.
        port: u16,
    },
    /// A Unix domain socket path.
    Unix(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Location::Tcp { host, port } => write!(f, "{host}:{port}"),
            Location::Unix(path) => write!(f, "./u:{path}"),
        }
    }
}

/// A parsed Pyro URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PyroUri {
    /// A direct object address.
    Direct {
        /// The object id.
        object: String,
        /// The daemon's location.
        location: Location,
    },
    /// `PYRONAME:name[@nshost[:port]]`: an object registered in a name server.
    Name {
        /// The registered name.
        name: String,
        /// The name server, if given.
        ns: Option<(String, u16)>,
    },
    /// `PYROMETA:m1,m2[@nshost[:port]]`: any object with all these metadata tags.
    Meta {
        /// The metadata tags.
        meta: Vec<String>,
        /// The name server, if given.
        ns: Option<(String, u16)>,
    },
}

#[cold]
fn bad(uri: &str, why: &str) -> RemoteError {
    RemoteError::config(format!("invalid Pyro uri {uri:?}: {why}"))
}

/// Splits `host:port` or `[v6]:port`; `default_port` allows a missing port.
fn host_port(
    uri: &str,
    loc: &str,
    default_port: Option<u16>,
) -> Result<(String, u16), RemoteError> {
    let (host, port) = if let Some(rest) = loc.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| bad(uri, "unclosed '['"))?;
        match after.strip_prefix(':') {
            Some(p) => (host, Some(p)),
            None if after.is_empty() => (host, None),
            None => return Err(bad(uri, "junk after ']'")),
        }
    } else {
        match loc.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (loc, None),
        }
    };
    if host.is_empty() {
        return Err(bad(uri, "empty host"));
    }
    let port = match (port, default_port) {
        (Some(p), _) => p.parse::<u16>().map_err(|_| bad(uri, "invalid port"))?,
        (None, Some(d)) => d,
        (None, None) => return Err(bad(uri, "missing port")),
    };
    Ok((host.to_string(), port))
}

impl PyroUri {
    /// Parses any supported form.
    pub fn parse(uri: &str) -> Result<PyroUri, RemoteError> {
        let s = uri.trim();
        // `get`, not `[..9]`: nine bytes may end inside a character of a hostile text (found
        // by the ns_udp fuzz target: a locate reply of arbitrary bytes read as Latin-1).
        if s.get(..9)
            .is_some_and(|p| p.eq_ignore_ascii_case("PYROLOC:/"))
        {
            // Spring Python / Pyro3: PYROLOC://host:port/name
            let rest = s[8..].trim_start_matches('/');
            let (loc, name) = rest
                .split_once('/')
                .ok_or_else(|| bad(uri, "missing object name"))?;
            if name.is_empty() {
                return Err(bad(uri, "empty object name"));
            }
            let (host, port) = host_port(uri, loc, None)?;
            return Ok(PyroUri::Direct {
                object: name.to_string(),
                location: Location::Tcp { host, port },
            });
        }
        let (scheme, rest) = s
            .split_once(':')
            .ok_or_else(|| bad(uri, "missing scheme"))?;
        let scheme = scheme.to_ascii_uppercase();
        let (object, loc) = match rest.split_once('@') {
            Some((o, l)) => (o, Some(l)),
            None => (rest, None),
        };
        if object.is_empty() {
            return Err(bad(uri, "empty object id"));
        }
        match scheme.as_str() {
            "PYRO" => {
                let loc = loc.ok_or_else(|| bad(uri, "a PYRO uri needs @location"))?;
                let location = if let Some(path) = loc.strip_prefix("./u:") {
                    if path.is_empty() {
                        return Err(bad(uri, "empty unix socket path"));
                    }
                    Location::Unix(path.to_string())
                } else {
                    let (host, port) = host_port(uri, loc, None)?;
                    Location::Tcp { host, port }
                };
                Ok(PyroUri::Direct {
                    object: object.to_string(),
                    location,
                })
            }
            "PYRONAME" | "PYROMETA" => {
                // A host without a port: the name server's port of Pyro's configuration
                // (PYRO_NS_PORT, else 9090), as Pyro's URI takes it.
                let ns = loc
                    .map(|l| host_port(uri, l, Some(NsDefaults::from_env().port)))
                    .transpose()?;
                if scheme == "PYRONAME" {
                    Ok(PyroUri::Name {
                        name: object.to_string(),
                        ns,
                    })
                } else {
                    Ok(PyroUri::Meta {
                        meta: object.split(',').map(|m| m.trim().to_string()).collect(),
                        ns,
                    })
                }
            }
            _ => Err(bad(
                uri,
                "unknown scheme (expected PYRO, PYRONAME, PYROMETA or PYROLOC)",
            )),
        }
    }

    /// The URI as Pyro's URI class dict (`{'__class__': 'Pyro5.core.URI', 'state':
    /// (protocol, object, sockname, host, port)}`), what a name server's `lookup` returns.
    pub fn to_value(&self) -> Value {
        let (proto, object, sockname, host, port) = match self {
            PyroUri::Direct { object, location } => match location {
                Location::Tcp { host, port } => (
                    "PYRO",
                    object.clone(),
                    Value::None,
                    Value::str(host.as_str()),
                    Value::Int(i64::from(*port)),
                ),
                Location::Unix(path) => (
                    "PYRO",
                    object.clone(),
                    Value::str(path.as_str()),
                    Value::None,
                    Value::Int(0),
                ),
            },
            PyroUri::Name { name, ns } => {
                let (h, p) = ns_parts(ns);
                ("PYRONAME", name.clone(), Value::None, h, p)
            }
            PyroUri::Meta { meta, ns } => {
                let (h, p) = ns_parts(ns);
                ("PYROMETA", meta.join(","), Value::None, h, p)
            }
        };
        Value::Map(vec![
            (Value::str("__class__"), Value::str("Pyro5.core.URI")),
            (
                Value::str("state"),
                Value::Tuple(vec![
                    Value::str(proto),
                    Value::Str(object),
                    sockname,
                    host,
                    port,
                ]),
            ),
        ])
    }

    /// A URI from Pyro's URI class dict (any Pyro version's) or a URI string.
    pub fn from_value(v: &Value) -> Option<PyroUri> {
        if let Value::Str(s) = v {
            return PyroUri::parse(s).ok();
        }
        let class = v.get("__class__")?.as_str()?;
        if !class.ends_with(".core.URI") {
            return None;
        }
        let state = v.get("state")?.as_seq()?;
        let [proto, object, sockname, host, port] = state else {
            return None;
        };
        let object = object.as_str()?.to_string();
        let ns = || -> Option<Option<(String, u16)>> {
            Some(match host {
                Value::Str(h) => Some((
                    h.clone(),
                    u16::try_from(port.as_i64().unwrap_or(i64::from(NS_PORT))).ok()?,
                )),
                _ => None,
            })
        };
        match proto.as_str()? {
            "PYRO" => {
                let location = match sockname {
                    Value::Str(path) => Location::Unix(path.clone()),
                    _ => Location::Tcp {
                        host: host.as_str()?.to_string(),
                        port: u16::try_from(port.as_i64()?).ok()?,
                    },
                };
                Some(PyroUri::Direct { object, location })
            }
            "PYRONAME" => Some(PyroUri::Name {
                name: object,
                ns: ns()?,
            }),
            "PYROMETA" => Some(PyroUri::Meta {
                meta: object.split(',').map(str::to_string).collect(),
                ns: ns()?,
            }),
            _ => None,
        }
    }

    /// The object id and location of a direct URI; a name-server URI must be resolved first
    /// (`resolve::resolve`, which a proxy does when it connects).
    pub fn direct(&self) -> Result<(&str, &Location), RemoteError> {
        match self {
            PyroUri::Direct { object, location } => Ok((object, location)),
            _ => Err(RemoteError::config(format!(
                "{self} is not a direct uri: it needs resolving through a name server"
            ))),
        }
    }
}

fn ns_parts(ns: &Option<(String, u16)>) -> (Value, Value) {
    match ns {
        Some((h, p)) => (Value::str(h.as_str()), Value::Int(i64::from(*p))),
        None => (Value::None, Value::None),
    }
}

impl fmt::Display for PyroUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = |f: &mut fmt::Formatter<'_>, ns: &Option<(String, u16)>| match ns {
            Some((h, p)) => write!(
                f,
                "@{}",
                Location::Tcp {
                    host: h.clone(),
                    port: *p
                }
            ),
            None => Ok(()),
        };
        match self {
            PyroUri::Direct { object, location } => write!(f, "PYRO:{object}@{location}"),
            PyroUri::Name { name, ns: n } => {
                write!(f, "PYRONAME:{name}")?;
                ns(f, n)
            }
            PyroUri::Meta { meta, ns: n } => {
                write!(f, "PYROMETA:{}", meta.join(","))?;
                ns(f, n)
            }
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn text_cut_inside_a_character_is_an_error_not_a_panic() {
        // The ns_udp fuzz target's crash: nine bytes end inside '½'.
        let text: String = [10u8, 78, 84, 10, 69, 95, 0, 0, 0, 189]
            .iter()
            .map(|&b| b as char)
            .collect();
        assert!(PyroUri::parse(&text).is_err());
        assert!(PyroUri::parse("PYROLOÇ://h:1/x").is_err());
    }

    use super::*;

    fn direct(s: &str) -> (String, Location) {
        match PyroUri::parse(s).unwrap() {
            PyroUri::Direct { object, location } => (object, location),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_all_forms() {
        let tcp = |h: &str, p| Location::Tcp {
            host: h.into(),
            port: p,
        };
        assert_eq!(
            direct("PYRO:obj@localhost:9090"),
            ("obj".into(), tcp("localhost", 9090))
        );
        assert_eq!(
            direct("pyro:obj@127.0.0.1:1"),
            ("obj".into(), tcp("127.0.0.1", 1))
        );
        assert_eq!(direct("PYRO:o@[::1]:5000"), ("o".into(), tcp("::1", 5000)));
        assert_eq!(
            direct("PYRO:o@./u:/tmp/s.sock"),
            ("o".into(), Location::Unix("/tmp/s.sock".into()))
        );
        assert_eq!(
            direct("PYROLOC://127.0.0.1:7766/service"),
            ("service".into(), tcp("127.0.0.1", 7766))
        );
        assert_eq!(
            PyroUri::parse("PYRONAME:x.y").unwrap(),
            PyroUri::Name {
                name: "x.y".into(),
                ns: None
            }
        );
        assert_eq!(
            PyroUri::parse("pyroname:x@ns.host").unwrap(),
            PyroUri::Name {
                name: "x".into(),
                ns: Some(("ns.host".into(), 9090))
            }
        );
        assert_eq!(
            PyroUri::parse("PYROMETA:a,b@h:1").unwrap(),
            PyroUri::Meta {
                meta: vec!["a".into(), "b".into()],
                ns: Some(("h".into(), 1))
            }
        );
        assert_eq!(
            PyroUri::parse("PYRO:o@[::1]:5000").unwrap().to_string(),
            "PYRO:o@[::1]:5000"
        );
        assert!(PyroUri::parse("PYRONAME:x")
            .unwrap()
            .direct()
            .unwrap_err()
            .to_string()
            .contains("name server"));
    }

    #[test]
    fn refuses_bad_forms() {
        for s in [
            "",
            "PYRO:obj",
            "PYRO:@h:1",
            "PYRO:o@h",
            "PYRO:o@h:99999",
            "PYRO:o@:1",
            "FOO:o@h:1",
            "PYRO:o@./u:",
            "PYRO:o@[::1",
            "PYROLOC://h:1/",
        ] {
            assert!(PyroUri::parse(s).is_err(), "{s}");
        }
    }
}
