//! Pyro URLs as Spring Python configurations write them.

/// A parsed Pyro URL: the object name and the address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PyroUrl {
    /// The object name (`ServiceName`).
    pub name: String,
    /// The host as written.
    pub host: String,
    /// The port.
    pub port: u16,
}

/// Default Pyro port when a `PYROLOC` URL has none.
pub const DEFAULT_PORT: u16 = 7766;

/// Parses `PYROLOC://host:port/name` (Pyro 3, Spring Python's `PyroProxyFactory`) and
/// `PYRO:name@host:port` (Pyro 4/5).
pub fn parse_pyro_url(url: &str) -> Result<PyroUrl, String> {
    let bad = |why: &str| {
        format!("bad Pyro URL {url:?}: {why} (expected PYROLOC://host:port/name or PYRO:name@host:port)")
    };
    if url.len() > 1024 {
        return Err(bad("longer than 1024 bytes"));
    }
    let (name, hostport) = if let Some(rest) = url.strip_prefix("PYROLOC://") {
        let (hp, name) = rest.split_once('/').ok_or_else(|| bad("no /name"))?;
        (name, hp)
    } else if let Some(rest) = url.strip_prefix("PYRO:") {
        if rest.starts_with("//") {
            return Err(bad("PYRO:// URLs carry object GUIDs and are not supported"));
        }
        rest.rsplit_once('@').ok_or_else(|| bad("no @host:port"))?
    } else {
        return Err(bad("unknown scheme"));
    };
    if name.is_empty() {
        return Err(bad("empty object name"));
    }
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') => (h, p.parse::<u16>().map_err(|_| bad("bad port"))?),
        _ => (hostport, DEFAULT_PORT),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad("empty host"));
    }
    Ok(PyroUrl {
        name: name.to_string(),
        host: host.to_string(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        let a = parse_pyro_url("PYROLOC://127.0.0.1:7000/ServiceName").unwrap();
        assert_eq!(
            (a.name.as_str(), a.host.as_str(), a.port),
            ("ServiceName", "127.0.0.1", 7000)
        );
        let b = parse_pyro_url("PYRO:ServiceName@localhost:7766").unwrap();
        assert_eq!(
            (b.name.as_str(), b.host.as_str(), b.port),
            ("ServiceName", "localhost", 7766)
        );
        assert_eq!(parse_pyro_url("PYROLOC://h/n").unwrap().port, 7766);
        for bad in [
            "http://x",
            "PYROLOC://h:99999/n",
            "PYRO:@h:1",
            "PYROLOC://:1/n",
            "PYRO:n",
            "PYRO://h:1/abc",
        ] {
            assert!(parse_pyro_url(bad).is_err(), "{bad}");
        }
    }
}
