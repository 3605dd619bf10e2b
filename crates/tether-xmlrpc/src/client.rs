//! [`XmlRpcProxy`]: an XML-RPC client (Spring Python's `SSLClient`, and a plain one) for one
//! URL, an [`Invoker`]: CA roots, a client certificate (password-protected keys too), hostname
//! checks, HTTP/1.1 keep-alive, gzip replies, timeouts, and a verbose mode that prints each
//! HTTP exchange to stderr.

use crate::codec::{parse_response, write_call, RequestEncoding, WriteOptions};
use std::time::Duration;
use tether_core::{BoxFuture, Call, ErrorKind, Invoker, RemoteError, Value};
use tether_http::HttpClient;

/// A client for one XML-RPC server.
#[derive(Clone)]
pub struct XmlRpcProxy {
    http: HttpClient,
    timeout: Option<Duration>,
    options: WriteOptions,
    encoding: RequestEncoding,
}

impl std::fmt::Debug for XmlRpcProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XmlRpcProxy")
            .field("url", &self.http.url())
            .finish()
    }
}

impl XmlRpcProxy {
    /// Parses the URL (`http://host:port/RPC2`, `https://...`); does no I/O.
    pub fn new(url: &str) -> Result<XmlRpcProxy, RemoteError> {
        Ok(XmlRpcProxy {
            http: HttpClient::new(url)?.with_user_agent("tether-xmlrpc"),
            timeout: None,
            options: WriteOptions::default(),
            encoding: RequestEncoding::default(),
        })
    }

    /// HTTPS settings (needed for `https://`): CA roots, a client certificate.
    pub fn with_tls(mut self, tls: tether_tls::ClientTls) -> XmlRpcProxy {
        self.http = self.http.with_tls(tls);
        self
    }

    /// Bounds each call (connecting included).
    pub fn with_timeout(mut self, t: Duration) -> XmlRpcProxy {
        self.http = self.http.with_connect_timeout(t);
        self.timeout = Some(t);
        self
    }

    /// Prints the HTTP exchange of each call to stdout, where Python prints it, in the form Python's `verbose=1`
    /// prints it (`send: b'POST /RPC2 HTTP/1.1\\r\\n...'`, `reply: ...`, `header: ...`,
    /// `body: b'...'`). Default off.
    pub fn with_verbose(mut self, on: bool) -> XmlRpcProxy {
        self.http = self.http.with_trace(on);
        self
    }

    /// Refuses to send `None` (Python's `allow_none=False`). Default: `None` is `<nil/>`.
    pub fn with_allow_none(mut self, on: bool) -> XmlRpcProxy {
        self.options.allow_none = on;
        self
    }

    /// Writes requests in `encoding` (Python's `encoding=`: the declaration names it, and a
    /// character it cannot hold becomes a character reference). Default UTF-8.
    pub fn with_encoding(mut self, encoding: RequestEncoding) -> XmlRpcProxy {
        self.encoding = encoding;
        self
    }

    /// The URL.
    pub fn url(&self) -> &str {
        self.http.url()
    }

    /// Calls a method.
    pub async fn call(&self, call: Call) -> Result<Value, RemoteError> {
        if !call.kwargs.is_empty() {
            return Err(
                RemoteError::type_error("XML-RPC calls take positional arguments only").not_sent(),
            );
        }
        let body =
            write_call(&call.method, &call.args, &self.options).map_err(RemoteError::not_sent)?;
        let carried = tether_http::context_headers(&call.context, self.timeout);
        let headers: Vec<(&str, &str)> = carried
            .iter()
            .map(|(k, v)| (k.as_ref(), v.as_str()))
            .collect();
        let fut = self
            .http
            .post("text/xml", &headers, self.encoding.encode(body));
        let left = call
            .context
            .deadline
            .map(|d| d.saturating_duration_since(std::time::Instant::now()));
        let limit = match (self.timeout, left) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let reply = match limit {
            Some(d) => tokio::time::timeout(d, fut).await.map_err(|_| {
                RemoteError::timeout(format!("call to {} timed out after {d:?}", self.url()))
            })??,
            None => fut.await?,
        };
        if reply.status != 200 {
            let text =
                String::from_utf8_lossy(&reply.body[..reply.body.len().min(500)]).into_owned();
            return Err(RemoteError::new(
                ErrorKind::Protocol,
                format!("{}: HTTP {}: {}", self.url(), reply.status, text.trim()),
            ));
        }
        match parse_response(&reply.body)? {
            Ok(v) => Ok(v),
            Err(f) => {
                // Python's "<class 'ValueError'>:text" tells the class; keep the code too.
                let (class, text) = match f
                    .string
                    .strip_prefix("<class '")
                    .and_then(|r| r.split_once("'>:"))
                {
                    Some((c, t)) if !c.contains('.') => (format!("builtins.{c}"), t.to_string()),
                    Some((c, t)) => (c.to_string(), t.to_string()),
                    None => ("xmlrpc.client.Fault".to_string(), f.string.clone()),
                };
                Err(RemoteError::exception_with_args(
                    class,
                    vec![Value::Str(text), Value::Int32(f.code)],
                ))
            }
        }
    }
}

impl Invoker for XmlRpcProxy {
    fn invoke(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(self.call(call))
    }

    /// `system.listMethods` (the `system.*` names left out); a server without introspection
    /// answers with a fault, which is `Ok(None)`: the wire cannot tell.
    fn describe(&self) -> BoxFuture<'_, Result<Option<tether_core::Description>, RemoteError>> {
        Box::pin(async move {
            match self.call(Call::new("system.listMethods", vec![])).await {
                Ok(Value::List(names)) | Ok(Value::Tuple(names)) => {
                    Ok(Some(tether_core::Description {
                        methods: names
                            .into_iter()
                            .filter_map(|n| match n {
                                Value::Str(s) if !s.starts_with("system.") => Some(s),
                                _ => None,
                            })
                            .collect(),
                        ..Default::default()
                    }))
                }
                Ok(_) => Ok(None),
                Err(e) if e.kind() == tether_core::ErrorKind::Remote => Ok(None),
                Err(e) => Err(e),
            }
        })
    }
}
