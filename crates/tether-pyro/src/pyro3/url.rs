//! Pyro 3's URLs: `PYROLOC://host:port/name` (the name is resolved by the daemon on connect)
//! and `PYRO://host:port/objectid`. The port defaults to 7766 (Pyro 3's `PYRO_PORT`).

use tether_core::RemoteError;

/// Pyro 3's default daemon port.
pub const DEFAULT_PORT: u16 = 7766;

/// A parsed Pyro 3 URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pyro3Url {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// The object: a name to resolve (`PYROLOC`) or an object id (`PYRO`).
    pub object: String,
    /// Whether `object` is a name to resolve with `ResolvePYROLOC`.
    pub by_name: bool,
}

impl Pyro3Url {
    /// Whether `url` is a Pyro 3 URL (`PYROLOC://` or `PYRO://`, any case).
    pub fn claims(url: &str) -> bool {
        let u = url.trim().to_ascii_uppercase();
        u.starts_with("PYROLOC://") || u.starts_with("PYRO://")
    }

    /// Parses `PYROLOC://host[:port]/name` or `PYRO://host[:port]/id`.
    pub fn parse(url: &str) -> Result<Pyro3Url, RemoteError> {
        let url = url.trim();
        let bad = |why: &str| {
            RemoteError::config(format!(
                "invalid Pyro 3 URL {url:?}: {why} (expected PYROLOC://host:port/name or PYRO://host:port/objectid)"
            ))
        };
        let upper = url.to_ascii_uppercase();
        let (by_name, rest) = if upper.starts_with("PYROLOC://") {
            (true, &url[10..])
        } else if upper.starts_with("PYRO://") {
            (false, &url[7..])
        } else {
            return Err(bad("not a Pyro 3 URL"));
        };
        let (authority, object) = rest.split_once('/').ok_or_else(|| bad("no object"))?;
        if object.is_empty() {
            return Err(bad("no object"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') || h.ends_with(']') => (
                h.trim_matches(['[', ']']),
                p.parse::<u16>().map_err(|_| bad("bad port"))?,
            ),
            _ => (authority.trim_matches(['[', ']']), DEFAULT_PORT),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Pyro3Url {
            host: host.to_string(),
            port,
            object: object.to_string(),
            by_name,
        })
    }
}

impl std::fmt::Display for Pyro3Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.by_name { "PYROLOC" } else { "PYRO" };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(f, "{scheme}://{host}:{}/{}", self.port, self.object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        let u = Pyro3Url::parse("PYROLOC://127.0.0.1:7000/ServiceName").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.object.as_str(), u.by_name),
            ("127.0.0.1", 7000, "ServiceName", true)
        );
        let u = Pyro3Url::parse("PYRO://localhost/c0a8").unwrap();
        assert_eq!((u.port, u.by_name), (DEFAULT_PORT, false));
        assert_eq!(u.to_string(), "PYRO://localhost:7766/c0a8");
        assert!(Pyro3Url::parse("PYROLOC://host:99999/x").is_err());
        assert!(Pyro3Url::parse("PYROLOC://host:1/").is_err());
        assert!(Pyro3Url::parse("PYRO:obj@host:1").is_err());
        assert!(Pyro3Url::claims("pyroloc://h:1/x") && !Pyro3Url::claims("PYRO:x@h:1"));
    }
}
