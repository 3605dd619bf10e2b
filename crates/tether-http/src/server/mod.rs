//! [`HttpServer`]: the bounded HTTP/1.1 server the HTTP wires share (see the crate docs).

use bytes::Bytes;
use connection::{Framing, Head, ReadError, ReplyOptions, ServerConnection};
use guard::{start_sweep, Guards, Watch, EXPIRED, STOPPING};
pub use http::Method;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tether_core::trace::{propagators, Propagator, Propagators};
use tether_core::{BoxFuture, CallContext, RemoteError};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

mod connection;
mod date;
mod guard;

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
    /// Most time for a request's body to arrive, and for the client to take its reply (a
    /// client that stops reading is closed after it). Default 30 s.
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
    pub method: Method,
    /// The body (inflated if it came gzipped); empty unless the method is POST.
    pub body: Bytes,
    /// Who is calling (peer, TLS subject, protocol).
    pub context: Arc<CallContext>,
    /// The request line and headers as they came.
    head: Box<Head>,
}

impl HttpRequest {
    /// The target's path, without a query or fragment (and without the scheme and host of an
    /// absolute target): a view of the request's own bytes.
    pub fn path(&self) -> &str {
        self.head.path()
    }

    /// The first header named `name` (ASCII case-insensitive); `None` if it is missing or its
    /// value is not UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head
            .header(name)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Every header in the order they came, as (name, value) bytes.
    pub fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.head.headers()
    }
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
    shared: Arc<Shared>,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("addr", &self.addr)
            .finish()
    }
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
        start_sweep(&shared).map_err(|e| {
            RemoteError::connection(format!("cannot start the header-timeout guard: {e}"))
        })?;
        let (stop, stop_rx) = watch::channel(false);
        tokio::spawn(accept_loop(
            listener,
            shared.clone(),
            stop_rx,
            active.clone(),
        ));
        Ok(HttpServer {
            addr,
            base_url,
            stop,
            active,
            config,
            shared,
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
        self.shared.guards.stop_all();
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

async fn serve_connection(
    shared: Arc<Shared>,
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    stop: watch::Receiver<bool>,
) {
    let mut context = CallContext::new();
    context.peer = Some(peer);
    context.protocol = Some(shared.config.protocol);
    let io: Box<dyn connection::Io> = match &shared.config.tls {
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
    let watch = Arc::new(Watch::new(&shared.guards));
    let _guarded = shared.guards.add(&watch);
    // A stop sent before this connection was among the guards raised nothing on it.
    if *stop.borrow() {
        watch.latch.raise(STOPPING);
    }
    let mut conn = ServerConnection::new(io);
    let closing = {
        let served = serve_requests(&shared, &mut conn, &context, &watch);
        let mut served = std::pin::pin!(served);
        tokio::select! {
            close = served.as_mut() => close,
            raised = watch.latch.any(EXPIRED | STOPPING) => {
                if raised & STOPPING == 0 {
                    tracing::debug!(target: LOG, %peer, "no complete request within the header timeout: closing");
                    false
                } else {
                    // A request in progress may finish (its reply says the connection
                    // closes); an idle connection, or one still sending a head, closes now.
                    watch.busy.load(Ordering::Relaxed)
                        && tokio::time::timeout(shared.config.shutdown_grace, served.as_mut())
                            .await
                            .unwrap_or(false)
                }
            }
        }
    };
    if closing {
        conn.close().await;
    }
}

/// A connection over `io`, for [`crate::fuzz_request`].
pub(crate) fn fuzz_connection(io: Box<dyn connection::Io>) -> ServerConnection {
    ServerConnection::new(io)
}

/// Reads one request off `conn` as the server would; whether another may follow.
pub(crate) async fn fuzz_one(conn: &mut ServerConnection) -> bool {
    let Ok(head) = conn.read_head().await else {
        return false;
    };
    let _ = (head.target(), head.header("host"), head.version());
    let every = Propagators::of(&[
        Propagator::TraceContext,
        Propagator::Baggage,
        Propagator::B3,
        Propagator::B3Multi,
    ]);
    let _ = with_call_headers(&Arc::new(CallContext::new()), &head, every);
    conn.read_body(head.framing, 1 << 20).await.is_ok() && head.keep_alive
}

/// Serves one request after another until the connection ends or asks to close; `true` when
/// the last reply said so (the stream is shut down politely then).
async fn serve_requests(
    shared: &Shared,
    conn: &mut ServerConnection,
    context: &Arc<CallContext>,
    watch: &Watch,
) -> bool {
    loop {
        let head = match conn.read_head().await {
            Ok(h) => h,
            Err(ReadError::Closed) => return false,
            Err(ReadError::Bad(status, why)) => {
                tracing::debug!(target: LOG, peer = ?context.peer, "bad request: {why}");
                let options = ReplyOptions {
                    close: true,
                    ..Default::default()
                };
                let reply = conn.write_reply(status, "text/plain", why.as_bytes(), options);
                let _ = within_unless_ready(shared.config.body_timeout, reply).await;
                return true;
            }
        };
        watch.busy.store(true, Ordering::Relaxed);
        let Some(keep_alive) = serve_one(shared, conn, head, context, watch).await else {
            return false;
        };
        watch.idle_from_now(&shared.guards);
        if !keep_alive {
            return true;
        }
    }
}

/// Reads one request's body, answers it; whether the connection carries on (`None` if it
/// broke).
async fn serve_one(
    shared: &Shared,
    conn: &mut ServerConnection,
    head: Box<Head>,
    context: &Arc<CallContext>,
    watch: &Watch,
) -> Option<bool> {
    let cfg = &shared.config;
    let line = cfg
        .log_requests
        .then(|| format!("\"{} {} {}\"", head.method, head.target(), head.version()));
    let gzip_ok = head.accepts_gzip;
    let head_only = head.method == Method::HEAD;
    let mut keep_alive = head.keep_alive;
    let keep_alive_10 = head.minor == 0 && keep_alive;
    let mut r = match read_body(shared, conn, &head).await {
        Ok(body) => handle(shared, head, body, context).await,
        Err(ReadError::Closed) => return None,
        Err(ReadError::Bad(status, why)) => {
            // The rest of a refused body is not read: the connection cannot go on.
            keep_alive = false;
            text(status, why)
        }
    };
    if let Some(line) = line {
        let who = context
            .peer
            .map(|p| p.ip().to_string())
            .unwrap_or_else(|| "-".into());
        eprintln!("{who} - - [{}] {line} {} -", access_time(), r.status);
    }
    let gzip = cfg.gzip_replies && gzip_ok && r.body.len() > 1400 && gzip_in_place(&mut r);
    // A server that is stopping says so in the reply it lets finish.
    keep_alive &= watch.latch.raised(STOPPING) == 0;
    let options = ReplyOptions {
        head_only,
        close: !keep_alive,
        keep_alive_10,
        gzip,
    };
    let written = within_unless_ready(
        cfg.body_timeout,
        conn.write_reply(r.status, r.content_type, &r.body, options),
    )
    .await;
    match written {
        Some(Ok(())) => Some(keep_alive),
        Some(Err(e)) => {
            tracing::debug!(target: LOG, peer = ?context.peer, "cannot write a reply: {e}");
            None
        }
        None => {
            // A client that does not read its replies would hold its connection (and its
            // place under max_connections) for ever.
            tracing::debug!(target: LOG, peer = ?context.peer, "the client did not take its reply within the body timeout: closing");
            None
        }
    }
}

/// `work`'s output, or `None` if it takes longer than `limit`. A future that is ready at its
/// first poll (a small reply into a socket with room, a body already in) gets no timer: a
/// timer per request costs ~900 instructions, 4% of a small call.
async fn within_unless_ready<T>(
    limit: Duration,
    work: impl std::future::Future<Output = T>,
) -> Option<T> {
    let mut work = std::pin::pin!(work);
    let first = std::future::poll_fn(|cx| {
        std::task::Poll::Ready(std::future::Future::poll(work.as_mut(), cx))
    })
    .await;
    match first {
        std::task::Poll::Ready(v) => Some(v),
        std::task::Poll::Pending => tokio::time::timeout(limit, work).await.ok(),
    }
}

/// Gzips a reply's body; whether it did.
fn gzip_in_place(r: &mut HttpResponse) -> bool {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    if std::io::Write::write_all(&mut z, &r.body).is_err() {
        return false;
    }
    match z.finish() {
        Ok(b) => {
            r.body = b;
            true
        }
        Err(_) => false,
    }
}

/// A request's body, inflated if it came gzipped, within `body_timeout` (a body already in
/// with its head is taken with no timer).
async fn read_body(
    shared: &Shared,
    conn: &mut ServerConnection,
    head: &Head,
) -> Result<Bytes, ReadError> {
    let cfg = &shared.config;
    let max = cfg.max_body;
    // Refused before a client waiting for 100 Continue is told to send it.
    if let Framing::Length(n) = head.framing {
        if n > max as u64 {
            return Err(connection::too_large(n, max));
        }
    }
    if head.expects_continue && !conn.body_is_here(head.framing) {
        conn.send_continue().await.map_err(|_| ReadError::Closed)?;
    }
    let body = match within_unless_ready(cfg.body_timeout, conn.read_body(head.framing, max)).await
    {
        Some(r) => r?,
        None => {
            return Err(ReadError::Bad(
                408,
                "request body did not arrive in time".into(),
            ))
        }
    };
    match head.content_encoding() {
        None => Ok(body),
        Some(e) if e.eq_ignore_ascii_case(b"identity") => Ok(body),
        Some(e) if e.eq_ignore_ascii_case(b"gzip") || e.eq_ignore_ascii_case(b"x-gzip") => {
            let mut out = Vec::new();
            let mut z = flate2::read::GzDecoder::new(&body[..]).take(max as u64 + 1);
            if let Err(e) = z.read_to_end(&mut out) {
                return Err(ReadError::Bad(
                    400,
                    format!("cannot inflate the gzip body: {e}"),
                ));
            }
            if out.len() > max {
                return Err(ReadError::Bad(
                    413,
                    format!("inflated body is over the limit of {max} bytes"),
                ));
            }
            Ok(Bytes::from(out))
        }
        Some(other) => Err(ReadError::Bad(
            501,
            format!(
                "Content-Encoding {:?} is not supported",
                String::from_utf8_lossy(other)
            ),
        )),
    }
}

fn text(status: u16, msg: impl Into<String>) -> HttpResponse {
    HttpResponse::new(status, "text/plain", msg.into().into_bytes())
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

/// The connection's context with what this request's headers carry (trace context, baggage,
/// the time the caller still waits) as `propagators` read them, or the same context when they
/// carry none.
fn with_call_headers(
    context: &Arc<CallContext>,
    head: &Head,
    propagators: Propagators,
) -> Arc<CallContext> {
    if !head.has_call_headers() {
        return context.clone();
    }
    let mut joined = Vec::new();
    let incoming = head.call_headers(&mut joined);
    let mut c = (**context).clone();
    incoming.apply(&mut c, propagators);
    Arc::new(c)
}

/// Hands a complete request to the wire's handler.
async fn handle(
    shared: &Shared,
    head: Box<Head>,
    body: Bytes,
    context: &Arc<CallContext>,
) -> HttpResponse {
    let method = head.method.clone();
    let body = if method == Method::POST {
        body
    } else {
        Bytes::new()
    };
    let context = with_call_headers(context, &head, propagators());
    let handled = shared.handler.handle(HttpRequest {
        method,
        body,
        context,
        head,
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
