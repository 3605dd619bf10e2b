//! [`HessianProxy`]: a Hessian client for one service URL (`http://host:port/path` or
//! `https://...`), an [`Invoker`].
//!
//! Calls go out as Hessian 2 (`H 02 00 C`, which carries the argument count, so a Caucho server
//! resolves overloaded methods by arity), or as Hessian 1 (`c 01 00`) with
//! [`HessianProxy::with_hessian1`]; a method name can also be sent in Java's mangled form
//! (`concat_string_string`) with [`HessianProxy::with_overload_names`]. One HTTP/1.1 keep-alive
//! connection per proxy (`TCP_NODELAY`), opened on the first call and replaced when it breaks;
//! calls on one proxy are serialized on it (clone the proxy's URL into more proxies for
//! parallel calls). A fault becomes a [`RemoteError`] carrying the Java exception class and
//! message; an HTTP status other than 200 an error carrying the status and the body's text.

use crate::codec::{parse_reply, write_call, Limits};
use std::sync::Arc;
use std::time::Duration;
use tether_core::{BoxFuture, Call, ErrorKind, Invoker, RemoteError, Value};
use tether_http::HttpClient;

#[derive(Clone, Debug)]
struct Settings {
    hessian2: bool,
    overload_names: bool,
    timeout: Option<Duration>,
    basic_auth: Option<String>,
    limits: Limits,
}

/// A client for one Hessian service.
#[derive(Clone)]
pub struct HessianProxy {
    settings: Arc<Settings>,
    http: HttpClient,
}

impl std::fmt::Debug for HessianProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HessianProxy")
            .field("url", &self.http.url())
            .finish()
    }
}

impl HessianProxy {
    /// Parses the URL; does no I/O. Defaults: Hessian 2 calls, no timeout, 64 MiB replies.
    pub fn new(url: &str) -> Result<HessianProxy, RemoteError> {
        Ok(HessianProxy {
            settings: Arc::new(Settings {
                hessian2: true,
                overload_names: false,
                timeout: None,
                basic_auth: None,
                limits: Limits::default(),
            }),
            http: HttpClient::new(url)?.with_user_agent("tether-hessian"),
        })
    }

    fn with(&self, f: impl FnOnce(&mut Settings)) -> HessianProxy {
        let mut s = (*self.settings).clone();
        f(&mut s);
        HessianProxy {
            settings: Arc::new(s),
            http: self.http.clone().with_user_agent("tether-hessian"),
        }
    }

    /// Sends Hessian 1 calls (`c 01 00`; the server then replies in Hessian 1), as
    /// python-hessian and older clients do.
    pub fn with_hessian1(self) -> HessianProxy {
        self.with(|s| s.hessian2 = false)
    }

    /// Sends method names in Java's mangled overload form (`add_int_int`), as Caucho's client
    /// does with `setOverloadEnabled(true)`.
    pub fn with_overload_names(self) -> HessianProxy {
        self.with(|s| s.overload_names = true)
    }

    /// Bounds each call (connecting included).
    pub fn with_timeout(self, t: Duration) -> HessianProxy {
        let mut p = self.with(|s| s.timeout = Some(t));
        p.http = p.http.with_connect_timeout(t);
        p
    }

    /// HTTPS settings (required for an `https://` URL; the server's certificate is checked
    /// against the URL's host).
    pub fn with_tls(self, tls: tether_tls::ClientTls) -> HessianProxy {
        let mut p = self.with(|_| {});
        p.http = p.http.with_tls(tls);
        p
    }

    /// HTTP Basic authentication.
    pub fn with_basic_auth(self, user: &str, password: &str) -> HessianProxy {
        use base64::Engine as _;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.with(|s| s.basic_auth = Some(format!("Basic {token}")))
    }

    /// The decoder limits for replies.
    pub fn with_limits(self, limits: Limits) -> HessianProxy {
        self.with(|s| s.limits = limits)
    }

    /// The URL.
    pub fn url(&self) -> &str {
        self.http.url()
    }

    /// Calls a method.
    pub async fn call(&self, call: Call) -> Result<Value, RemoteError> {
        let left = call
            .context
            .deadline
            .map(|d| d.saturating_duration_since(std::time::Instant::now()));
        let limit = match (self.settings.timeout, left) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let fut = self.exchange(call);
        match limit {
            Some(d) => tokio::time::timeout(d, fut).await.map_err(|_| {
                RemoteError::timeout(format!("call to {} timed out after {d:?}", self.url()))
            })?,
            None => fut.await,
        }
    }

    async fn exchange(&self, call: Call) -> Result<Value, RemoteError> {
        let s = &self.settings;
        if !call.kwargs.is_empty() {
            return Err(
                RemoteError::type_error("Hessian calls take positional arguments only").not_sent(),
            );
        }
        let method = if s.overload_names && !call.args.is_empty() {
            let mut m = call.method.clone();
            for a in &call.args {
                m.push('_');
                m.push_str(&mangled(a));
            }
            std::borrow::Cow::Owned(m)
        } else {
            std::borrow::Cow::Borrowed(call.method.as_str())
        };
        // Room for the whole call at once (a body that outgrows its buffer is copied as it grows).
        let data: usize = call.args.iter().map(Value::encoded_len_hint).sum();
        let mut body = Vec::with_capacity(64 + method.len() + data);
        write_call(s.hessian2, &method, &call.args, &mut body).map_err(RemoteError::not_sent)?;
        let carried = tether_http::context_headers(&call.context, s.timeout);
        let headers: Vec<(&str, &str)> = s
            .basic_auth
            .as_deref()
            .map(|a| ("authorization", a))
            .into_iter()
            .chain(carried.iter().map(|(k, v)| (k.as_ref(), v.as_str())))
            .collect();
        let reply = self
            .http
            .post("x-application/hessian", &headers, body)
            .await?;
        if reply.status != 200 {
            let text =
                String::from_utf8_lossy(&reply.body[..reply.body.len().min(500)]).into_owned();
            return Err(RemoteError::new(
                ErrorKind::Protocol,
                format!("{}: HTTP {}: {}", self.url(), reply.status, text.trim()),
            ));
        }
        match parse_reply(&reply.body, &s.limits)? {
            Ok(v) => Ok(v),
            Err(f) => Err(crate::fault::from_fault(f)),
        }
    }
}

/// Java's overload name of an argument's type (Caucho's `name_T1_T2` mangling).
fn mangled(v: &Value) -> String {
    match v {
        Value::Bool(_) => "boolean".into(),
        Value::Int32(_) => "int".into(),
        Value::Int(_) | Value::BigInt(_) => "long".into(),
        Value::Float(_) => "double".into(),
        Value::Str(_) => "string".into(),
        Value::DateTime(_) => "date".into(),
        Value::Bytes(_) => "binary".into(),
        Value::List(_) | Value::Tuple(_) | Value::Set(_) => "List".into(),
        Value::Map(_) => "Map".into(),
        Value::Object(o) => o.class.rsplit('.').next().unwrap_or(&o.class).to_string(),
        Value::Typed(t) => match t.class.strip_prefix('[') {
            Some(elem) => format!("[{elem}"),
            None => t.class.rsplit('.').next().unwrap_or(&t.class).to_string(),
        },
        _ => "Object".into(),
    }
}

impl Invoker for HessianProxy {
    fn invoke(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(self.call(call))
    }
}
