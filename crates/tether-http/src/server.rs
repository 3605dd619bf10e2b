//! [`HttpServer`]: the bounded HTTP/1.1 server the HTTP wires share (see the crate docs).

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tether_core::{BoxFuture, CallContext, RemoteError};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

const LOG: &str = "tether::http::server";

/// Server settings. Build with struct-update syntax from [`HttpConfig::default`].
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// Host to bind and to put in URLs. Default `"localhost"`.
    pub host: String,
    /// Port; 0 (the default) picks a free one.
    pub port: u16,
    /// Host to put in URLs instead of `host`. Default `None`.
    pub advertised_host: Option<String>,
    /// Serve HTTPS. Default `None`.
    pub tls: Option<tether_tls::ServerTls>,
    /// Most bytes of one request body (after gzip inflation too). Default 64 MiB.
    pub max_body: usize,
    /// Most connections served at once; more are closed at once. Default 1024.
    pub max_connections: usize,
    /// Most time for a request's headers to arrive, and most idle time between requests on a
    /// kept-alive connection (looked at every quarter of it, at most every second: a
    /// connection over it is closed within a quarter more). Default 60 s.
    pub header_timeout: Duration,
    /// Most time for a request's body to arrive. Default 30 s.
    pub body_timeout: Duration,
    /// How long [`HttpServer::shutdown`] lets requests in progress finish. Default 5 s.
    pub shutdown_grace: Duration,
    /// Gzip replies over 1400 bytes for clients that accept it (what Python's XML-RPC server
    /// does). Default `false`.
    pub gzip_replies: bool,
    /// Write one access line per request to stderr, as Python's `BaseHTTPServer` does
    /// (`127.0.0.1 - - [date] "POST /RPC2 HTTP/1.1" 200 -`). Default `false`.
    pub log_requests: bool,
    /// The wire's name in the calls' [`CallContext::protocol`]. Default `"http"`.
    pub protocol: &'static str,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            host: "localhost".into(),
            port: 0,
            advertised_host: None,
            tls: None,
            max_body: 64 << 20,
            max_connections: 1024,
            header_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(5),
            gzip_replies: false,
            log_requests: false,
            protocol: "http",
        }
    }
}

/// A complete request, as a wire sees it.
#[derive(Debug)]
pub struct HttpRequest {
    /// The method (`POST`, ...).
    pub method: hyper::Method,
    /// The path, without the query.
    pub path: String,
    /// The headers.
    pub headers: hyper::HeaderMap,
    /// The body (inflated if it came gzipped); empty unless the method is POST.
    pub body: Bytes,
    /// Who is calling (peer, TLS subject, protocol).
    pub context: Arc<CallContext>,
}

/// A complete reply.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The Content-Type.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A reply with `status`, `content_type` and `body`.
    pub fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        HttpResponse {
            status,
            content_type,
            body: body.into(),
        }
    }
}

/// What a wire does with a request.
pub trait Handler: Send + Sync + 'static {
    /// Answers one request. Only POSTs with a readable body reach it (other methods too, with
    /// an empty body, so the wire can answer them its own way).
    fn handle(&self, req: HttpRequest) -> BoxFuture<'_, HttpResponse>;
}

struct Shared {
    config: HttpConfig,
    handler: Arc<dyn Handler>,
    stats: Arc<tether_core::stats::ServerStats>,
    guards: Guards,
}

/// A running HTTP server.
#[derive(Clone)]
pub struct HttpServer {
    addr: SocketAddr,
    base_url: String,
    stop: watch::Sender<bool>,
    active: Arc<Semaphore>,
    config: Arc<HttpConfig>,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("addr", &self.addr)
            .finish()
    }
}

fn reply(r: HttpResponse) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(r.body)));
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = r.content_type.parse() {
        resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    resp
}

impl HttpServer {
    /// Binds and starts serving with `handler` (the accept loop runs on the current runtime).
    pub async fn bind(
        config: HttpConfig,
        handler: Arc<dyn Handler>,
    ) -> Result<HttpServer, RemoteError> {
        let listener = tether_core::net::bind_tcp(&config.host, config.port).await?;
        let addr = listener.local_addr()?;
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let url_host = config
            .advertised_host
            .clone()
            .unwrap_or_else(|| config.host.clone());
        let url_host = if url_host.contains(':') && !url_host.starts_with('[') {
            format!("[{url_host}]")
        } else {
            url_host
        };
        let base_url = format!("{scheme}://{url_host}:{}", addr.port());
        let active = Arc::new(Semaphore::new(config.max_connections.max(1)));
        let config = Arc::new(config);
        let shared = Arc::new(Shared {
            stats: tether_core::stats::ServerStats::registered(config.protocol, addr.to_string()),
            config: (*config).clone(),
            handler,
            guards: Guards::default(),
        });
        let (stop, stop_rx) = watch::channel(false);
        tokio::spawn(sweep(shared.clone(), stop_rx.clone()));
        tokio::spawn(accept_loop(listener, shared, stop_rx, active.clone()));
        Ok(HttpServer {
            addr,
            base_url,
            stop,
            active,
            config,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port` (or `https://`), without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Stops accepting, lets requests in progress finish (at most `shutdown_grace`), closes
    /// every connection.
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        let all = self.config.max_connections.max(1) as u32;
        let _ = tokio::time::timeout(
            self.config.shutdown_grace + Duration::from_millis(500),
            self.active.acquire_many(all),
        )
        .await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    active: Arc<Semaphore>,
) {
    loop {
        let accepted = tokio::select! {
            _ = stop.changed() => break,
            a = listener.accept() => a,
        };
        let (tcp, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::debug!(target: LOG, "accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let Ok(permit) = active.clone().try_acquire_owned() else {
            tracing::warn!(target: LOG, %peer, "connection limit reached (max_connections), closing a new connection");
            tether_core::stats::ServerStats::bump(&shared.stats.refused);
            continue;
        };
        let counted = shared.stats.open();
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        let stop = stop.clone();
        // The TLS handshake runs here, on the connection's own task, under its timeout: a
        // client that never finishes it stalls nobody.
        tokio::spawn(async move {
            serve_connection(shared, tcp, peer, stop).await;
            drop(permit);
            drop(counted);
        });
    }
}

/// A byte stream hyper can serve: TCP or TLS.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

async fn serve_connection(
    shared: Arc<Shared>,
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    mut stop: watch::Receiver<bool>,
) {
    let mut context = CallContext::new();
    context.peer = Some(peer);
    context.protocol = Some(shared.config.protocol);
    let io: Box<dyn Io> = match &shared.config.tls {
        None => Box::new(tcp),
        // verify_fields is checked by the TLS layer, before any HTTP is read; a refusal is
        // logged there (ERROR, with the reason and the address) and the client gets nothing.
        Some(tls) => match tls.accept(tcp, Some(peer)).await {
            Ok(a) => {
                context.tls_subject = a.subject;
                Box::new(a.stream)
            }
            Err(_) => {
                tether_core::stats::ServerStats::bump(&shared.stats.refused);
                return;
            }
        },
    };
    let context = Arc::new(context);
    let watch = Arc::new(Watch::new());
    let _guarded = shared.guards.add(&watch);
    let svc_shared = shared.clone();
    let svc_watch = watch.clone();
    let service = hyper::service::service_fn(move |req| {
        let shared = svc_shared.clone();
        let context = context.clone();
        let watch = svc_watch.clone();
        async move {
            watch.busy.store(true, Ordering::Relaxed);
            let r = handle(&shared, req, context).await;
            watch.idle_from_now();
            Ok::<_, std::convert::Infallible>(r)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(target: LOG, %peer, "connection ended: {e}");
            }
        }
        _ = watch.expired.notified() => {
            tracing::debug!(target: LOG, %peer, "no complete request within the header timeout: closing");
        }
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(shared.config.shutdown_grace, conn.as_mut()).await;
        }
    }
}

/// The slow-loris guard of one connection: the time since it last finished a request (or
/// opened) while it is not busy in one, which bounds both a request's headers dribbling in
/// and an idle kept-alive connection.
///
/// hyper's own `header_read_timeout` does this with a fresh timer per request, which costs a
/// quarter of a small call's time; this one moves a timestamp per request, and the server's
/// [`sweep`] looks at every connection's now and then.
struct Watch {
    opened: std::time::Instant,
    /// Milliseconds from `opened` to the end of the last request.
    idle_since_ms: AtomicU64,
    /// A request's handler is running (its body has its own timeout).
    busy: AtomicBool,
    /// Raised by [`sweep`] when the connection has been idle, or reading a request's
    /// headers, for the header timeout.
    expired: tokio::sync::Notify,
}

impl Watch {
    fn new() -> Watch {
        Watch {
            opened: std::time::Instant::now(),
            idle_since_ms: AtomicU64::new(0),
            busy: AtomicBool::new(false),
            expired: tokio::sync::Notify::new(),
        }
    }

    fn idle_from_now(&self) {
        let ms = self.opened.elapsed().as_millis() as u64;
        self.idle_since_ms.store(ms, Ordering::Relaxed);
        self.busy.store(false, Ordering::Relaxed);
    }

    /// Whether the connection has been idle, or reading a request's headers, for `limit` at
    /// `now`.
    fn is_over(&self, now: std::time::Instant, limit: Duration) -> bool {
        if self.busy.load(Ordering::Relaxed) {
            return false;
        }
        let since = self.opened + Duration::from_millis(self.idle_since_ms.load(Ordering::Relaxed));
        since + limit <= now
    }
}

/// Every open connection's [`Watch`], for [`sweep`].
///
/// One task looks at them all, so a connection arms no timer of its own: tokio wakes its I/O
/// driver whenever a new timer is the earliest (an eventfd write and one more `epoll_wait`),
/// which a client that opens a connection per call (python-hessian, Python's `xmlrpc.client`
/// over plain HTTP) paid on every call.
#[derive(Default)]
struct Guards {
    next: AtomicU64,
    open: std::sync::Mutex<std::collections::HashMap<u64, Arc<Watch>>>,
}

/// A connection's place among the [`Guards`], given up when the connection ends.
struct Guarded<'a> {
    guards: &'a Guards,
    id: u64,
}

impl Guards {
    fn add(&self, watch: &Arc<Watch>) -> Guarded<'_> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, watch.clone());
        Guarded { guards: self, id }
    }
}

impl Drop for Guarded<'_> {
    fn drop(&mut self) {
        self.guards
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
    }
}

/// Every quarter of the header timeout (at most every second, at least every 10 ms), raises
/// the [`Watch`] of each connection over it; stops with the server.
async fn sweep(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let limit = shared.config.header_timeout;
    let period = (limit / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {}
        }
        let now = std::time::Instant::now();
        let open = shared.guards.open.lock().unwrap_or_else(|p| p.into_inner());
        for w in open.values().filter(|w| w.is_over(now, limit)) {
            w.expired.notify_one();
        }
    }
}

fn text(status: u16, msg: impl Into<String>) -> HttpResponse {
    HttpResponse::new(status, "text/plain", msg.into().into_bytes())
}

async fn handle(
    shared: &Shared,
    req: Request<Incoming>,
    context: Arc<CallContext>,
) -> Response<Full<Bytes>> {
    let cfg = &shared.config;
    // The access log's request line, made only when the log is on (a formatted string per
    // request otherwise).
    let line = cfg.log_requests.then(|| {
        format!(
            "\"{} {} {:?}\"",
            req.method(),
            req.uri().path(),
            req.version()
        )
    });
    let peer = context.peer;
    let gzip_ok = req
        .headers()
        .get(hyper::header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let r = read_and_handle(shared, req, context).await;
    if let Some(line) = line {
        let who = peer
            .map(|p| p.ip().to_string())
            .unwrap_or_else(|| "-".into());
        eprintln!("{who} - - [{}] {line} {} -", access_time(), r.status);
    }
    let mut r = r;
    let gzipped = cfg.gzip_replies && gzip_ok && r.body.len() > 1400;
    if gzipped {
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        if std::io::Write::write_all(&mut z, &r.body).is_ok() {
            if let Ok(b) = z.finish() {
                r.body = b;
            }
        }
    }
    let mut resp = reply(r);
    if gzipped {
        resp.headers_mut().insert(
            hyper::header::CONTENT_ENCODING,
            hyper::header::HeaderValue::from_static("gzip"),
        );
    }
    resp
}

/// Python's access-log date: `01/Dec/2026 22:00:00` (UTC).
fn access_time() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = tether_core::python::civil_from_days(days);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{d:02}/{}/{y} {:02}:{:02}:{:02}",
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The connection's context with what this request's headers carry (trace context, the time
/// the caller still waits), or the same context when they carry none.
fn with_call_headers(context: Arc<CallContext>, headers: &hyper::HeaderMap) -> Arc<CallContext> {
    use hyper::header::HeaderName;
    use tether_core::trace::{TIMEOUT_HEADER, TRACEPARENT_HEADER, TRACESTATE_HEADER};
    // Names made once: looked up by a `&str`, a header name is parsed on every request.
    const PARENT: HeaderName = HeaderName::from_static(TRACEPARENT_HEADER);
    const TIMEOUT: HeaderName = HeaderName::from_static(TIMEOUT_HEADER);
    const STATE: HeaderName = HeaderName::from_static(TRACESTATE_HEADER);
    let parent = headers.get(&PARENT).map(|v| v.as_bytes());
    let timeout = headers.get(&TIMEOUT).map(|v| v.as_bytes());
    if parent.is_none() && timeout.is_none() {
        return context;
    }
    let state = headers.get(&STATE).map(|v| v.as_bytes());
    let mut c = (*context).clone();
    tether_core::trace::apply_incoming(&mut c, parent, state, timeout);
    Arc::new(c)
}

async fn read_and_handle(
    shared: &Shared,
    req: Request<Incoming>,
    context: Arc<CallContext>,
) -> HttpResponse {
    let cfg = &shared.config;
    let (parts, incoming) = req.into_parts();
    let (method, headers) = (parts.method, parts.headers);
    let path = parts.uri.path().to_string();
    let mut body = Bytes::new();
    if method == hyper::Method::POST {
        let max = cfg.max_body;
        let declared = headers
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max as u64) {
            return text(
                413,
                format!(
                    "request body of {} bytes is over the limit of {max}",
                    declared.unwrap_or(0)
                ),
            );
        }
        let read = Limited::new(incoming, max);
        // A small body has usually come in with the headers: then it is taken at once, with
        // no timer (a timer per request costs ~900 instructions, 4% of a small call); only a
        // body still on its way gets `body_timeout`.
        let mut collect = std::pin::pin!(read.collect());
        let first = std::future::poll_fn(|cx| {
            std::task::Poll::Ready(std::future::Future::poll(collect.as_mut(), cx))
        })
        .await;
        let got = match first {
            std::task::Poll::Ready(r) => Ok(r),
            std::task::Poll::Pending => {
                tokio::time::timeout(cfg.body_timeout, collect.as_mut()).await
            }
        };
        body = match got {
            Err(_) => return text(408, "request body did not arrive in time"),
            Ok(Err(e)) => {
                return if e
                    .downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    text(
                        413,
                        format!("request body is over the limit of {max} bytes"),
                    )
                } else {
                    text(400, format!("cannot read the request body: {e}"))
                };
            }
            Ok(Ok(b)) => b.to_bytes(),
        };
        match headers
            .get(hyper::header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
        {
            None | Some("identity") => {}
            Some("gzip") | Some("x-gzip") => {
                let mut out = Vec::new();
                let mut z = flate2::read::GzDecoder::new(&body[..]).take(max as u64 + 1);
                if let Err(e) = z.read_to_end(&mut out) {
                    return text(400, format!("cannot inflate the gzip body: {e}"));
                }
                if out.len() > max {
                    return text(
                        413,
                        format!("inflated body is over the limit of {max} bytes"),
                    );
                }
                body = Bytes::from(out);
            }
            Some(other) => {
                return text(501, format!("Content-Encoding {other:?} is not supported"))
            }
        }
    }
    let context = with_call_headers(context, &headers);
    let handled = shared.handler.handle(HttpRequest {
        method,
        path,
        headers,
        body,
        context,
    });
    // A panic in the wire's handler answers 500 instead of killing the connection's task.
    match futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(handled)).await {
        Ok(r) => r,
        Err(_) => {
            tracing::error!(target: LOG, "request handler panicked");
            text(500, "internal error")
        }
    }
}
