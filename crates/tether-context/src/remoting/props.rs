//! How exporters and proxy factories read the seam's options
//! ([`ServerOptions`](tether_remoting::ServerOptions),
//! [`ClientOptions`](tether_remoting::ClientOptions)) from `<property>`s, and the typed
//! property readers other components (the pool) share.
//!
//! | property (exporter) | meaning | default |
//! |---|---|---|
//! | `certfile` | PEM server certificate (+ intermediates); turns TLS on | none: plain TCP |
//! | `keyfile` | PEM private key | the `certfile` |
//! | `key_password` | password of an encrypted PKCS#8 key | none |
//! | `ca_certs` | PEM CAs that sign client certificates | none |
//! | `cert_reqs` | `none` / `optional` / `required` (or `ssl.CERT_*`) | `none` |
//! | `verify_fields` | `<dict>` of subject long names → exact values | empty |
//! | `max_message_size` | bytes in one message | the protocol's (Pyro5: 64 MiB) |
//! | `max_connections` | connections served at once | the protocol's (Pyro5: 1024) |
//! | `idle_timeout` | seconds a connection may stay silent after its handshake | the protocol's (Pyro5: none) |
//! | `handshake_timeout` | seconds from accept to a finished (TLS and protocol) handshake | the protocol's (Pyro5: 10) |
//! | a wire's own | named by the wire (Pyro: `hmac_key`, `name_server`, `metadata`; Pyro 3: `identification`, `send_tracebacks`; XML-RPC: `ssl_version`, `log_requests`, `allow_none`, ...), see its docs | the wire's |
//!
//! | property (proxy factory) | meaning | default |
//! |---|---|---|
//! | `ca_certs` | PEM CAs the server's certificate must chain to; turns TLS on | none: plain TCP |
//! | `certfile` / `keyfile` / `key_password` | a client certificate | none |
//! | `timeout` | seconds for one call | none |
//! | `serializer` | the wire's value encoding (Pyro: `serpent`, `json`, `msgpack`, `marshal`) | the protocol's |
//! | a wire's own | named by the wire (Pyro4: `hmac_key`; Pyro 3: `identification`; XML-RPC: `allow_none`, `verbose`, ...) | the wire's |

use crate::error::ContextError;
use crate::value::ContextValue;
use std::path::PathBuf;
use std::time::Duration;
use tether_remoting::ServerLimits;
use tether_tls::{CertReqs, ClientTlsSettings, ServerTlsSettings};

/// TLS properties as they arrive, one by one, before they make settings.
#[derive(Clone, Debug, Default)]
pub(crate) struct TlsProps {
    certfile: Option<PathBuf>,
    keyfile: Option<PathBuf>,
    key_password: Option<String>,
    ca_certs: Option<PathBuf>,
    cert_reqs: Option<CertReqs>,
    verify_fields: Vec<(String, String)>,
}

/// The TLS property names, for "expected one of" messages.
pub(crate) const TLS_PROPS: [&str; 6] = [
    "certfile",
    "keyfile",
    "key_password",
    "ca_certs",
    "cert_reqs",
    "verify_fields",
];

fn text(name: &str, v: &ContextValue) -> Result<Option<String>, ContextError> {
    if v.is_none() {
        return Ok(None);
    }
    v.to_string_value()
        .map(Some)
        .map_err(|e| ContextError::from(format!("property '{name}': {e}")))
}

fn seconds(name: &str, v: &ContextValue) -> Result<Option<Duration>, ContextError> {
    let Some(t) = text(name, v)? else {
        return Ok(None);
    };
    let s: f64 = t.trim().parse().map_err(|_| {
        ContextError::from(format!(
            "property '{name}': {t:?} is not a number of seconds"
        ))
    })?;
    if !(s.is_finite() && s > 0.0 && s < 1e9) {
        return Err(
            format!("property '{name}': {t:?} must be a positive number of seconds").into(),
        );
    }
    Ok(Some(Duration::from_secs_f64(s)))
}

fn count(name: &str, v: &ContextValue) -> Result<Option<usize>, ContextError> {
    if v.is_none() {
        return Ok(None);
    }
    let n = v
        .to_i64()
        .map_err(|e| ContextError::from(format!("property '{name}': {e}")))?;
    usize::try_from(n)
        .ok()
        .filter(|n| *n > 0)
        .map(Some)
        .ok_or_else(|| {
            ContextError::from(format!("property '{name}': {n} must be a positive count"))
        })
}

impl TlsProps {
    /// Takes property `name` if it is a TLS one; `Ok(false)` if it is not.
    pub(crate) fn set(&mut self, name: &str, v: &ContextValue) -> Result<bool, ContextError> {
        match name {
            "certfile" => self.certfile = text(name, v)?.map(PathBuf::from),
            "keyfile" => self.keyfile = text(name, v)?.map(PathBuf::from),
            "key_password" => self.key_password = text(name, v)?,
            "ca_certs" => self.ca_certs = text(name, v)?.map(PathBuf::from),
            "cert_reqs" => {
                self.cert_reqs = text(name, v)?
                    .map(|t| t.parse::<CertReqs>())
                    .transpose()
                    .map_err(|e| ContextError::from(format!("property 'cert_reqs': {e}")))?
            }
            "verify_fields" => {
                self.verify_fields = match v {
                    _ if v.is_none() => Vec::new(),
                    ContextValue::Dict(d) => d
                        .iter()
                        .map(|(k, val)| {
                            val.to_string_value()
                                .map(|s| (k.clone(), s))
                                .map_err(|e| ContextError::from(format!("property 'verify_fields', field '{k}': {e}")))
                        })
                        .collect::<Result<_, _>>()?,
                    other => {
                        return Err(format!(
                            "property 'verify_fields' expects a <dict> of subject field names to values, got {}",
                            other.describe()
                        ).into())
                    }
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Server TLS settings, or `None` when no TLS property was set.
    pub(crate) fn server(&self) -> Result<Option<ServerTlsSettings>, ContextError> {
        let Some(cert) = &self.certfile else {
            if self.keyfile.is_some()
                || self.ca_certs.is_some()
                || self.cert_reqs.is_some()
                || !self.verify_fields.is_empty()
            {
                return Err(
                    "TLS properties were given without certfile (the server certificate)".into(),
                );
            }
            return Ok(None);
        };
        let mut s = ServerTlsSettings::new(cert, self.keyfile.as_ref().unwrap_or(cert));
        s.key_password = self.key_password.clone();
        s.ca_certs = self.ca_certs.clone();
        s.cert_reqs = self.cert_reqs.unwrap_or_default();
        s.verify_fields = self.verify_fields.clone();
        Ok(Some(s))
    }

    /// Client TLS settings, or `None` when no TLS property was set.
    pub(crate) fn client(&self) -> Result<Option<ClientTlsSettings>, ContextError> {
        if !self.verify_fields.is_empty() {
            return Err(ContextError::from(
                "verify_fields is a server option (the client always checks the server's certificate against ca_certs and its host name)",
            ));
        }
        if self.cert_reqs == Some(CertReqs::None) {
            // Python's CERT_NONE on a client: no check of the server's certificate (a WARN
            // each time the client is built); ca_certs is not needed.
            return Ok(Some(ClientTlsSettings {
                ca_certs: self.ca_certs.clone(),
                certfile: self.certfile.clone(),
                keyfile: self.keyfile.clone().or_else(|| self.certfile.clone()),
                key_password: self.key_password.clone(),
                skip_server_verification: true,
                ..ClientTlsSettings::default()
            }));
        }
        let Some(ca) = &self.ca_certs else {
            if self.certfile.is_some() || self.keyfile.is_some() {
                return Err(
                    "a client certificate was given without ca_certs (the CAs that sign the server's certificate)".into(),
                );
            }
            return Ok(None);
        };
        let mut c = ClientTlsSettings::new(ca);
        c.certfile = self.certfile.clone();
        c.keyfile = self.keyfile.clone().or_else(|| self.certfile.clone());
        c.key_password = self.key_password.clone();
        Ok(Some(c))
    }
}

/// The limit property names.
pub(crate) const LIMIT_PROPS: [&str; 4] = [
    "max_message_size",
    "max_connections",
    "idle_timeout",
    "handshake_timeout",
];

/// Takes property `name` into `limits` if it is a limit; `Ok(false)` if it is not.
pub(crate) fn set_limit(
    limits: &mut ServerLimits,
    name: &str,
    v: &ContextValue,
) -> Result<bool, ContextError> {
    match name {
        "max_message_size" => limits.max_message_size = count(name, v)?,
        "max_connections" => limits.max_connections = count(name, v)?,
        "idle_timeout" => limits.idle_timeout = seconds(name, v)?,
        "handshake_timeout" => limits.handshake_timeout = seconds(name, v)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// Reads a property of seconds (`30`, `"0.5"`): positive and finite; `<null/>` is `None`.
pub fn timeout_prop(name: &str, v: &ContextValue) -> Result<Option<Duration>, ContextError> {
    seconds(name, v)
}

/// Reads a wire's own property as text (booleans and numbers as Python writes them; the
/// items of a list or set joined with commas).
pub(crate) fn wire_prop(name: &str, v: &ContextValue) -> Result<String, ContextError> {
    if let Some(items) = v.as_seq() {
        return items
            .iter()
            .map(|i| {
                i.to_string_value()
                    .map_err(|e| ContextError::from(format!("property '{name}': {e}")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.join(","));
    }
    match v {
        ContextValue::Value(tether_core::Value::Bool(b)) => {
            Ok(if *b { "true" } else { "false" }.into())
        }
        ContextValue::Value(tether_core::Value::Int(i)) => Ok(i.to_string()),
        ContextValue::Value(tether_core::Value::Int32(i)) => Ok(i.to_string()),
        ContextValue::Value(tether_core::Value::Float(f)) => Ok(f.to_string()),
        v if v.is_none() => Ok(String::new()),
        v => v
            .to_string_value()
            .map_err(|e| ContextError::from(format!("property '{name}': {e}"))),
    }
}

/// Reads a list of texts: one `<value>` or a `<list>` of them (comma-separated text is split).
pub fn text_list_prop(name: &str, v: &ContextValue) -> Result<Vec<String>, ContextError> {
    let items: Vec<&ContextValue> = match v.as_seq() {
        Some(items) => items.iter().collect(),
        None if v.is_none() => Vec::new(),
        None => vec![v],
    };
    let mut out = Vec::new();
    for i in items {
        let t = i
            .to_string_value()
            .map_err(|e| ContextError::from(format!("property '{name}': {e}")))?;
        out.extend(
            t.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from),
        );
    }
    Ok(out)
}

/// Reads a text property; `<null/>` is `None`.
pub fn text_prop(name: &str, v: &ContextValue) -> Result<Option<String>, ContextError> {
    text(name, v)
}

/// Reads an `interceptors` (or `advice`) property: one reference, or a `<list>` of them (Spring
/// Python wraps a single value into a list); each object must be an interceptor or an advisor.
pub fn interceptors_prop(
    name: &str,
    v: &ContextValue,
) -> Result<Vec<std::sync::Arc<dyn tether_remoting::Interceptor>>, ContextError> {
    if v.is_none() {
        return Ok(Vec::new());
    }
    let items: Vec<&ContextValue> = match v.as_seq() {
        Some(items) => items.iter().collect(),
        None => vec![v],
    };
    items
        .into_iter()
        .map(|i| match i.as_object() {
            Some(o) => o.interceptor().ok_or_else(|| {
                ContextError::from(format!(
                    "property '{name}': object '{}' (class {}) is not an interceptor",
                    o.id(),
                    o.class()
                ))
            }),
            None => Err(ContextError::from(format!(
                "property '{name}' expects refs to interceptors, got {}",
                i.describe()
            ))),
        })
        .collect()
}
