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
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tether_core::{BoxFuture, Call, ErrorKind, Invoker, RemoteError, Value};
use tokio::sync::Mutex;

const LOG: &str = "tether::hessian::client";

#[derive(Clone, Debug)]
struct Settings {
    url: String,
    https: bool,
    host: String,
    port: u16,
    path: String,
    hessian2: bool,
    overload_names: bool,
    timeout: Option<Duration>,
    tls: Option<tether_tls::ClientTls>,
    basic_auth: Option<String>,
    limits: Limits,
    max_body: usize,
}

/// A client for one Hessian service.
#[derive(Clone)]
pub struct HessianProxy {
    settings: Arc<Settings>,
    conn: Arc<Mutex<Option<SendRequest<Full<Bytes>>>>>,
}

impl std::fmt::Debug for HessianProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HessianProxy")
            .field("url", &self.settings.url)
            .finish()
    }
}

fn bad_url(url: &str, why: &str) -> RemoteError {
    RemoteError::config(format!(
        "invalid Hessian URL {url:?}: {why} (expected http://host:port/path or https://...)"
    ))
}

impl HessianProxy {
    /// Parses the URL; does no I/O. Defaults: Hessian 2 calls, no timeout, 64 MiB replies.
    pub fn new(url: &str) -> Result<HessianProxy, RemoteError> {
        let url = url.trim();
        let (https, rest) = if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else {
            return Err(bad_url(url, "not an http or https URL"));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, p) = v6
                .split_once(']')
                .ok_or_else(|| bad_url(url, "unclosed [ in the host"))?;
            (h.to_string(), p.strip_prefix(':').unwrap_or(""))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), p),
                None => (authority.to_string(), ""),
            }
        };
        if host.is_empty() {
            return Err(bad_url(url, "no host"));
        }
        let port = if port.is_empty() {
            if https {
                443
            } else {
                80
            }
        } else {
            port.parse().map_err(|_| bad_url(url, "bad port"))?
        };
        Ok(HessianProxy {
            settings: Arc::new(Settings {
                url: url.to_string(),
                https,
                host,
                port,
                path: path.to_string(),
                hessian2: true,
                overload_names: false,
                timeout: None,
                tls: None,
                basic_auth: None,
                limits: Limits::default(),
                max_body: 64 << 20,
            }),
            conn: Arc::new(Mutex::new(None)),
        })
    }

    fn with(&self, f: impl FnOnce(&mut Settings)) -> HessianProxy {
        let mut s = (*self.settings).clone();
        f(&mut s);
        HessianProxy {
            settings: Arc::new(s),
            conn: Arc::new(Mutex::new(None)),
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
        self.with(|s| s.timeout = Some(t))
    }

    /// HTTPS settings (required for an `https://` URL; the server's certificate is checked
    /// against the URL's host).
    pub fn with_tls(self, tls: tether_tls::ClientTls) -> HessianProxy {
        self.with(|s| s.tls = Some(tls))
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
        &self.settings.url
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, RemoteError> {
        let s = &self.settings;
        let tcp = tokio::net::TcpStream::connect((s.host.as_str(), s.port))
            .await
            .map_err(|e| {
                RemoteError::connection(format!("cannot connect to {}:{}: {e}", s.host, s.port))
                    .with_source(e)
            })?;
        tcp.set_nodelay(true)?;
        let io: Box<dyn Io> = if s.https {
            let tls = s.tls.as_ref().ok_or_else(|| {
                RemoteError::config(format!(
                    "{} is https: TLS settings (CA certificates) are needed",
                    s.url
                ))
            })?;
            let limit = s.timeout.unwrap_or(Duration::from_secs(10));
            Box::new(tls.connect(&s.host, tcp, limit).await?)
        } else {
            Box::new(tcp)
        };
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| RemoteError::connection(format!("HTTP handshake with {}: {e}", s.url)))?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(target: LOG, "connection ended: {e}");
            }
        });
        Ok(sender)
    }

    /// Calls a method.
    pub async fn call(&self, call: Call) -> Result<Value, RemoteError> {
        let s = self.settings.clone();
        let deadline = call.context.deadline;
        let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
        let limit = match (s.timeout, left) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let fut = self.exchange(call);
        match limit {
            Some(d) => tokio::time::timeout(d, fut).await.map_err(|_| {
                RemoteError::timeout(format!("call to {} timed out after {d:?}", s.url))
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
            m
        } else {
            call.method.clone()
        };
        let mut body = Vec::with_capacity(64);
        write_call(s.hessian2, &method, &call.args, &mut body).map_err(RemoteError::not_sent)?;
        let mut guard = self.conn.lock().await;
        // Taken while in use: a call dropped midway drops its connection with it.
        let mut sender = match guard.take() {
            Some(c) if !c.is_closed() => c,
            _ => self.connect().await.map_err(RemoteError::not_sent)?,
        };
        sender
            .ready()
            .await
            .map_err(|e| RemoteError::connection(format!("{}: {e}", s.url)).not_sent())?;
        let mut req = hyper::Request::post(s.path.as_str())
            .header(hyper::header::HOST, format!("{}:{}", s.host, s.port))
            .header(hyper::header::CONTENT_TYPE, "x-application/hessian")
            .header(hyper::header::USER_AGENT, "tether-hessian");
        if let Some(auth) = &s.basic_auth {
            req = req.header(hyper::header::AUTHORIZATION, auth.as_str());
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| RemoteError::new(ErrorKind::Protocol, e.to_string()).not_sent())?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| RemoteError::connection(format!("{}: {e}", s.url)))?;
        let status = resp.status();
        let bytes = Limited::new(resp.into_body(), s.max_body)
            .collect()
            .await
            .map_err(|e| RemoteError::connection(format!("reading the reply from {}: {e}", s.url)))?
            .to_bytes();
        *guard = Some(sender);
        drop(guard);
        if status != hyper::StatusCode::OK {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(500)]).into_owned();
            return Err(RemoteError::new(
                ErrorKind::Protocol,
                format!("{}: HTTP {status}: {}", s.url, text.trim()),
            ));
        }
        match parse_reply(&bytes, &s.limits)? {
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

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

impl Invoker for HessianProxy {
    fn invoke(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(self.call(call))
    }
}
