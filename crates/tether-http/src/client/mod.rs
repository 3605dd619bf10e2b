//! [`HttpClient`]: one keep-alive HTTP/1.1 connection to a server, for POSTs.
//!
//! The framing is in `connection.rs`; this file owns the URL, connecting (TCP or TLS), the
//! reuse of the kept-alive connection and gzip replies.

pub(crate) mod connection;

use bytes::Bytes;
use connection::{ClientConnection, Io, RawReply};
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;
use tether_core::{ErrorKind, RemoteError};
use tokio::sync::Mutex;

#[derive(Clone, Debug)]
struct Settings {
    url: String,
    https: bool,
    host: String,
    port: u16,
    path: String,
    host_header: String,
    trace: bool,
    tls: Option<tether_tls::ClientTls>,
    connect_timeout: Duration,
    max_body: usize,
    user_agent: String,
}

/// A reply: status and (inflated) body.
#[derive(Debug, Clone)]
pub struct HttpReply {
    /// The status code.
    pub status: u16,
    /// The body, inflated if it came gzipped.
    pub body: Bytes,
}

/// A client for one URL: one keep-alive connection, opened on the first request and replaced
/// when it breaks; requests on one client are serialized on it.
#[derive(Clone)]
pub struct HttpClient {
    settings: Arc<Settings>,
    conn: Arc<Mutex<Option<ClientConnection>>>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("url", &self.settings.url)
            .finish()
    }
}

fn bad_url(url: &str, why: &str) -> RemoteError {
    RemoteError::config(format!(
        "invalid URL {url:?}: {why} (expected http://host:port/path or https://...)"
    ))
}

impl HttpClient {
    /// Parses the URL; does no I/O.
    pub fn new(url: &str) -> Result<HttpClient, RemoteError> {
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
        let host_header = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        Ok(HttpClient {
            settings: Arc::new(Settings {
                url: url.to_string(),
                https,
                host,
                port,
                path: path.to_string(),
                host_header,
                trace: false,
                tls: None,
                connect_timeout: Duration::from_secs(10),
                max_body: 64 << 20,
                user_agent: "tether".into(),
            }),
            conn: Arc::new(Mutex::new(None)),
        })
    }

    fn with(&self, f: impl FnOnce(&mut Settings)) -> HttpClient {
        let mut s = (*self.settings).clone();
        f(&mut s);
        HttpClient {
            settings: Arc::new(s),
            conn: Arc::new(Mutex::new(None)),
        }
    }

    /// TLS settings (needed for `https://`; the server's certificate is checked against the
    /// URL's host).
    pub fn with_tls(self, tls: tether_tls::ClientTls) -> HttpClient {
        self.with(|s| s.tls = Some(tls))
    }

    /// Bounds connecting and the TLS handshake. Default 10 s.
    pub fn with_connect_timeout(self, t: Duration) -> HttpClient {
        self.with(|s| s.connect_timeout = t)
    }

    /// Prints the HTTP exchange to stdout as Python's `http.client` does at debug level 1
    /// (`send: b'POST ...'`, `reply: 'HTTP/1.1 200 OK\\r\\n'`, `header: ...`, `body: b'...'`).
    /// Default off.
    pub fn with_trace(self, on: bool) -> HttpClient {
        self.with(|s| s.trace = on)
    }

    /// The User-Agent header. Default `tether`.
    pub fn with_user_agent(self, ua: &str) -> HttpClient {
        let ua = ua.to_string();
        self.with(|s| s.user_agent = ua)
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.settings.url
    }

    /// The URL's path.
    pub fn path(&self) -> &str {
        &self.settings.path
    }

    async fn connect(&self) -> Result<ClientConnection, RemoteError> {
        let s = &self.settings;
        let tcp = tokio::time::timeout(
            s.connect_timeout,
            tokio::net::TcpStream::connect((s.host.as_str(), s.port)),
        )
        .await
        .map_err(|_| {
            RemoteError::timeout(format!("connecting to {}:{} timed out", s.host, s.port))
        })?
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
            Box::new(tls.connect(&s.host, tcp, s.connect_timeout).await?)
        } else {
            Box::new(tcp)
        };
        Ok(ClientConnection::new(io))
    }

    /// Appends the request's head, for a body of `body_len` bytes, to `out`.
    fn head_into(
        &self,
        out: &mut Vec<u8>,
        content_type: &str,
        extra_headers: &[(&str, &str)],
        body_len: usize,
    ) {
        let s = &self.settings;
        // Pieces pushed one after the other: `write!` parses its format on every request.
        for piece in [
            "POST ",
            &s.path,
            " HTTP/1.1\r\nHost: ",
            &s.host_header,
            "\r\nUser-Agent: ",
            &s.user_agent,
            "\r\nContent-Type: ",
            content_type,
            "\r\nAccept-Encoding: gzip\r\nContent-Length: ",
        ] {
            out.extend_from_slice(piece.as_bytes());
        }
        out.extend_from_slice(tether_core::decimal::Decimal::unsigned(body_len as u64).as_bytes());
        out.extend_from_slice(b"\r\n");
        for (k, v) in extra_headers {
            for piece in [*k, ": ", *v, "\r\n"] {
                out.extend_from_slice(piece.as_bytes());
            }
        }
        out.extend_from_slice(b"\r\n");
    }

    /// The kept-alive connection, or a new one; and whether it was kept (a kept connection
    /// may turn out closed by the server while it was idle).
    async fn take_connection(&self) -> Result<(ClientConnection, bool), RemoteError> {
        match self.conn.lock().await.take() {
            Some(c) => Ok((c, true)),
            None => Ok((self.connect().await.map_err(RemoteError::not_sent)?, false)),
        }
    }

    /// POSTs `body` to the URL's path. Errors before the request went out are marked not sent
    /// (safe to retry).
    ///
    /// A kept-alive connection the server closed while it was idle is found out only when it
    /// is used: if it ends before a single byte of the reply, the request is sent once more
    /// on a new connection (what Python's `xmlrpc.client` does too), as a server closes an
    /// idle connection only between requests.
    pub async fn post(
        &self,
        content_type: &str,
        extra_headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<HttpReply, RemoteError> {
        let s = &self.settings;
        // Head and body in one buffer (the head written straight into it): one write, and one
        // segment for a small call.
        let mut request = Vec::with_capacity(256 + body.len());
        self.head_into(&mut request, content_type, extra_headers, body.len());
        let head_len = request.len();
        request.extend_from_slice(&body);
        if s.trace {
            trace_bytes("send", &request[..head_len]);
            trace_bytes("send", &body);
        }
        let mut guard = tether_core::lock::lock_now(&self.conn).await;
        // Taken while in use: a request dropped midway drops its connection with it.
        let reused = guard.take();
        let was_reused = reused.is_some();
        let mut conn = match reused {
            Some(c) => c,
            None => self.connect().await.map_err(RemoteError::not_sent)?,
        };
        let failed = send_failure(conn.send(&request).await);
        let mut raw = read_reply(&mut conn, failed, s.max_body).await;
        if was_reused && matches!(&raw, Err((false, _))) {
            conn = self.connect().await.map_err(RemoteError::not_sent)?;
            let failed = send_failure(conn.send(&request).await);
            raw = read_reply(&mut conn, failed, s.max_body).await;
        }
        let raw = raw.map_err(|e| self.label(e))?;
        if raw.keep_alive && !conn.has_stray_bytes() {
            *guard = Some(conn);
        }
        drop(guard);
        self.finish(raw)
    }

    /// Sends a POST whose body is `parts` one after the other, written from where they are
    /// (one vectored write: a large body is not copied), and returns without waiting for the
    /// reply: [`HttpClient::reply`] reads it later. A caller that has other work meanwhile
    /// (the span exporter, until its next batch) does not sleep and wake again for the reply,
    /// which is usually there by then. Until then the connection is the request's: another
    /// request on this client opens one of its own.
    pub async fn send_parts(
        &self,
        content_type: &str,
        extra_headers: &[(&str, &str)],
        parts: &[&[u8]],
    ) -> Result<Sent, RemoteError> {
        let len = parts.iter().map(|p| p.len()).sum();
        let mut head = Vec::with_capacity(256);
        self.head_into(&mut head, content_type, extra_headers, len);
        if self.settings.trace {
            trace_bytes("send", &head);
            for p in parts {
                trace_bytes("send", p);
            }
        }
        let (mut conn, reused) = self.take_connection().await?;
        let failed = send_failure(conn.send_parts(&head, parts).await);
        Ok(Sent {
            conn,
            reused,
            failed,
            head,
        })
    }

    /// The reply to a request [`HttpClient::send_parts`] sent; `parts` are the body it was
    /// given (sent again, on a new connection, if the kept-alive one turns out to have been
    /// closed by the server before the request reached it).
    pub async fn reply(&self, sent: Sent, parts: &[&[u8]]) -> Result<HttpReply, RemoteError> {
        let max = self.settings.max_body;
        let Sent {
            mut conn,
            reused,
            failed,
            head,
        } = sent;
        let mut raw = read_reply(&mut conn, failed, max).await;
        if reused && matches!(&raw, Err((false, _))) {
            conn = self.connect().await.map_err(RemoteError::not_sent)?;
            let failed = send_failure(conn.send_parts(&head, parts).await);
            raw = read_reply(&mut conn, failed, max).await;
        }
        let raw = raw.map_err(|e| self.label(e))?;
        if raw.keep_alive && !conn.has_stray_bytes() {
            *self.conn.lock().await = Some(conn);
        }
        self.finish(raw)
    }

    /// An exchange's error, naming the URL; not sent if no byte of the request can have
    /// reached the server.
    fn label(&self, (sent, e): (bool, RemoteError)) -> RemoteError {
        let e = RemoteError::new(e.kind(), format!("{}: {}", self.settings.url, e.message()));
        if sent {
            e
        } else {
            e.not_sent()
        }
    }

    /// The reply as the caller sees it: traced if asked, its body inflated if gzipped.
    fn finish(&self, raw: RawReply) -> Result<HttpReply, RemoteError> {
        let s = &self.settings;
        if s.trace {
            let mut line = String::new();
            tether_core::python::push_str_repr(&format!("{}\r\n", raw.status_line()), &mut line);
            println!("reply: {line}");
            for (k, v) in raw.headers() {
                println!("header: {k}: {v}");
            }
        }
        let gzipped = raw.gzipped();
        let bytes = raw.body.freeze();
        let body = if gzipped {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&bytes[..])
                .take(s.max_body as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| RemoteError::protocol(format!("{}: bad gzip reply: {e}", s.url)))?;
            if out.len() > s.max_body {
                return Err(RemoteError::new(
                    ErrorKind::MessageTooLarge,
                    "reply over the size limit",
                ));
            }
            Bytes::from(out)
        } else {
            bytes
        };
        if s.trace {
            trace_bytes("body", &body);
        }
        Ok(HttpReply {
            status: raw.status,
            body,
        })
    }
}

/// A request sent by [`HttpClient::send_parts`] whose reply is still to be read: the
/// connection it went out on.
pub struct Sent {
    conn: ClientConnection,
    reused: bool,
    /// Why sending failed, if it did (and whether bytes may have gone out).
    failed: Option<(bool, RemoteError)>,
    head: Vec<u8>,
}

impl std::fmt::Debug for Sent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sent")
            .field("reused", &self.reused)
            .field("failed", &self.failed)
            .finish()
    }
}

/// A failed write as an exchange's error: a write that failed may still have delivered the
/// request, unless the connection was found broken or reset.
fn send_failure(r: std::io::Result<()>) -> Option<(bool, RemoteError)> {
    let e = r.err()?;
    let sent = !matches!(
        e.kind(),
        std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
    );
    Some((sent, RemoteError::connection(e.to_string()).with_source(e)))
}

/// Reads the reply to a request sent on `conn` (`failed`: the send's error, if any). On
/// failure, says whether any byte of the reply had arrived or the failure was past the
/// request (true: it may have run).
async fn read_reply(
    conn: &mut ClientConnection,
    failed: Option<(bool, RemoteError)>,
    max_body: usize,
) -> Result<RawReply, (bool, RemoteError)> {
    if let Some(f) = failed {
        return Err(f);
    }
    conn.read_reply(max_body).await.map_err(|e| {
        // Nothing at all came back on a connection that then closed: the server dropped it
        // (an idle kept-alive connection) before reading the request.
        let sent = !conn.closed_before_reply();
        (sent, e)
    })
}

/// The headers that carry `context` (its trace in the formats the process's propagators name,
/// its baggage, the time left until the earlier of its deadline and `timeout`) to the server;
/// servers that do not know them ignore them. The
/// context's annotations go as headers of their own (`tether call --header`), where the name
/// is an HTTP token that the request does not set itself and the value is visible text: any
/// other is left out, so an annotation can never split or rewrite the request.
pub fn context_headers(
    context: &tether_core::CallContext,
    timeout: Option<Duration>,
) -> Vec<(std::borrow::Cow<'static, str>, String)> {
    let out = tether_core::trace::Outgoing::of(context, timeout);
    let mut h = Vec::new();
    if !out.is_empty() {
        out.headers(|name, value| h.push((name.into(), value)));
    }
    for (name, value) in &context.annotations {
        if let (true, Ok(v)) = (header_name_allowed(name), std::str::from_utf8(value)) {
            if v.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b)) {
                h.push((name.to_ascii_lowercase().into(), v.to_string()));
            }
        }
    }
    h
}

/// [`header_name_allowed`], with the reason when not: what `tether call --header` says.
pub fn check_header_name(name: &str) -> Result<(), String> {
    if header_name_allowed(name) {
        Ok(())
    } else {
        Err(format!(
            "{name:?} cannot be an HTTP header here (a token, not one the request sets itself)"
        ))
    }
}

/// Whether an annotation may travel as a header named `name`: an HTTP token (RFC 9110) that
/// is not one the request writes itself.
pub fn header_name_allowed(name: &str) -> bool {
    const OWN: [&str; 10] = [
        "host",
        "content-length",
        "content-type",
        "content-encoding",
        "transfer-encoding",
        "connection",
        "authorization",
        "accept-encoding",
        "user-agent",
        "te",
    ];
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        && !OWN.iter().any(|o| o.eq_ignore_ascii_case(name))
}

/// Python's `http.client` debug line: `send: b'...'`.
fn trace_bytes(what: &str, b: &[u8]) {
    let mut line = String::new();
    tether_core::python::push_bytes_repr(b, &mut line);
    println!("{what}: {line}");
}
