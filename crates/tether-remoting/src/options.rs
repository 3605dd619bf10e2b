//! [`ServerOptions`] and [`ClientOptions`]: what travels through the seam besides an address or
//! a URL. TLS and limits are every wire's; a wire's own settings (Pyro4's HMAC key, Pyro 3's
//! passphrase, XML-RPC's flags) travel in [`WireOptions`], named by the wire
//! ([`Protocol::server_option_names`](crate::Protocol::server_option_names)) and read into
//! the wire's own typed settings by its adapter, which also checks them
//! ([`Protocol::check_server_option`](crate::Protocol::check_server_options)) when the
//! container sets them, so a bad value is reported at its `<property>`.

use std::time::Duration;
use tether_tls::{ClientTlsSettings, ServerTlsSettings};

use crate::error::TransportError;

/// Limits a server applies; `None` keeps the protocol's default (see each wire's docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ServerLimits {
    /// Most bytes in one message. Default `None` (the protocol's).
    pub max_message_size: Option<usize>,
    /// Most connections served at once. Default `None` (the protocol's).
    pub max_connections: Option<usize>,
    /// Close a connection silent this long after its handshake. Default `None` (the
    /// protocol's).
    pub idle_timeout: Option<Duration>,
    /// Most time from accept to a finished handshake (TLS and the protocol's own). Default
    /// `None` (the protocol's).
    pub handshake_timeout: Option<Duration>,
}

/// Settings only one wire knows, by name, as text, in the order they were set (a later value
/// of a name replaces the earlier one). The wire that named them reads them into its own
/// typed settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WireOptions(Vec<(String, String)>);

impl WireOptions {
    /// No settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value` (replacing an earlier value).
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let name = name.into();
        self.0.retain(|(k, _)| *k != name);
        self.0.push((name, value.into()));
        self
    }

    /// Unsets `name`.
    pub fn remove(&mut self, name: &str) -> &mut Self {
        self.0.retain(|(k, _)| k != name);
        self
    }

    /// With `name` set to `value`.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.set(name, value);
        self
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name` if set and not empty (an empty text or `<null/>` means unset).
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// The boolean `name` (see [`flag_option`]), or `None` when unset.
    pub fn flag(&self, name: &str) -> Result<Option<bool>, TransportError> {
        self.get(name).map(|v| flag_option(name, v)).transpose()
    }

    /// Every setting, in the order set.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether none is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Options for one server: TLS, limits and the wire's own. Exporters that share an address
/// must agree on them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ServerOptions {
    /// TLS; default `None` (plain TCP).
    pub tls: Option<ServerTlsSettings>,
    /// Limits; default: every limit the protocol's own.
    pub limits: ServerLimits,
    /// The wire's own settings; default none.
    pub wire: WireOptions,
}

impl ServerOptions {
    /// No TLS, the protocol's limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// With TLS.
    pub fn with_tls(mut self, tls: ServerTlsSettings) -> Self {
        self.tls = Some(tls);
        self
    }

    /// With limits.
    pub fn with_limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// With the wire's own setting `name` = `value` (Pyro4's `hmac_key`, ...).
    pub fn with_wire_option(mut self, name: &str, value: impl Into<String>) -> Self {
        self.wire.set(name, value);
        self
    }

    /// What differs from `other`, in words, for the "two exporters disagree" error.
    pub fn difference(&self, other: &ServerOptions) -> String {
        let mut d: Vec<String> = Vec::new();
        if self.tls != other.tls {
            d.push("TLS settings".into());
        }
        let names: std::collections::BTreeSet<&str> = self
            .wire
            .iter()
            .chain(other.wire.iter())
            .map(|(k, _)| k)
            .collect();
        for n in names {
            if self.wire.get(n) != other.wire.get(n) {
                d.push(n.to_string());
            }
        }
        let (a, b) = (&self.limits, &other.limits);
        for (differs, name) in [
            (a.max_message_size != b.max_message_size, "max_message_size"),
            (a.max_connections != b.max_connections, "max_connections"),
            (a.idle_timeout != b.idle_timeout, "idle_timeout"),
            (
                a.handshake_timeout != b.handshake_timeout,
                "handshake_timeout",
            ),
        ] {
            if differs {
                d.push(name.into());
            }
        }
        d.join(", ")
    }
}

/// Options for one client.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ClientOptions {
    /// TLS; default `None` (plain TCP).
    pub tls: Option<ClientTlsSettings>,
    /// Deadline for one call; default `None` (wait as long as the connection lives).
    pub timeout: Option<Duration>,
    /// The wire's value encoding by name (Pyro: `serpent`, `json`, `msgpack`; Hessian:
    /// `hessian2`, `hessian1`); default `None` (the protocol's default).
    pub serializer: Option<String>,
    /// The wire's own settings; default none.
    pub wire: WireOptions,
}

impl ClientOptions {
    /// No TLS, no timeout, the protocol's encoding.
    pub fn new() -> Self {
        Self::default()
    }

    /// With the wire's own setting `name` = `value`.
    pub fn with_wire_option(mut self, name: &str, value: impl Into<String>) -> Self {
        self.wire.set(name, value);
        self
    }
}

/// A wire's boolean option: `1`/`true`/`True`/`yes`/`on` or
/// `0`/`false`/`False`/`no`/`off`/`None`/empty; anything else is a
/// [`BadOption`](crate::TransportErrorKind::BadOption) error naming the option.
pub fn flag_option(name: &str, v: &str) -> Result<bool, TransportError> {
    match v.trim() {
        "1" | "true" | "True" | "yes" | "on" => Ok(true),
        "0" | "false" | "False" | "no" | "off" | "None" | "" => Ok(false),
        other => Err(TransportError::bad_option(format!(
            "{name}: {other:?} is not a boolean"
        ))),
    }
}
