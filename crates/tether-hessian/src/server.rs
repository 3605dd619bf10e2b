//! [`HessianServer`]: the service exporter's HTTP server. One server per address serves any
//! number of objects, each at its own path (`/echo`), over HTTP/1.1 keep-alive (hyper), plain
//! or TLS (the shared `tether-tls` layer, client certificates included).
//!
//! What a request gets, as Caucho's `HessianServlet` answers it:
//! - POST of a call: 200 with the reply or a fault (faults travel with HTTP 200), in Hessian 2
//!   for a Hessian 2 call and for a `c 02 00` call, in Hessian 1 for a `c 01 00` call;
//! - a method the object does not have: fault `NoSuchMethodException` ("The service has no method
//!   named: x"); the wrong number of arguments: fault `NoSuchMethod` ("... argument length
//!   mismatch, received length=N");
//! - another HTTP method: 500 `<h1>Hessian Requires POST</h1>`; an unknown path: 404;
//! - a body that is not a Hessian call: 500 with the reason (text/plain);
//! - a body over `max_body` (declared or actual): 413, before it is read; a body that does not
//!   arrive within `body_timeout`: 408; headers that do not arrive within `header_timeout`: the
//!   connection is closed.
//!
//! Bounds: at most `max_connections` connections (more are closed at once), each request's body
//! bounded in size and time, the decoder's [`Limits`]. A connection idle longer than
//! `header_timeout` between requests is closed.

use crate::codec::{parse_call, write_fault, write_reply, Fault, Limits};
use crate::methods;
use bytes::Bytes;
use futures_util::FutureExt;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tether_core::{Call, CallContext, Dispatch, RemoteError, Value};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

const LOG: &str = "tether::hessian::server";

/// Server settings. Build with struct-update syntax from [`ServerConfig::default`].
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Host to bind and to put in URLs. Default `"localhost"`.
    pub host: String,
    /// Port; 0 (the default) picks a free one.
    pub port: u16,
    /// Host to put in URLs instead of `host`. Default `None`.
    pub advertised_host: Option<String>,
    /// Serve HTTPS. Default `None`.
    pub tls: Option<tether_tls::ServerTls>,
    /// Most bytes of one request body. Default 64 MiB.
    pub max_body: usize,
    /// Most connections served at once. Default 1024.
    pub max_connections: usize,
    /// Most time for a request's headers to arrive, and most idle time between requests on a
    /// kept-alive connection. Default 60 s.
    pub header_timeout: Duration,
    /// Most time for a request's body to arrive. Default 30 s.
    pub body_timeout: Duration,
    /// Deadline for one call. Default `None`.
    pub call_timeout: Option<Duration>,
    /// How long [`HessianServer::shutdown`] lets requests in progress finish. Default 5 s.
    pub shutdown_grace: Duration,
    /// The decoder's limits. Default [`Limits::default`].
    pub limits: Limits,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: "localhost".into(),
            port: 0,
            advertised_host: None,
            tls: None,
            max_body: 64 << 20,
            max_connections: 1024,
            header_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            call_timeout: None,
            shutdown_grace: Duration::from_secs(5),
            limits: Limits::default(),
        }
    }
}

struct Shared {
    config: ServerConfig,
    objects: RwLock<HashMap<String, Arc<dyn Dispatch>>>,
    base_url: String,
}

/// A running Hessian HTTP server.
#[derive(Clone)]
pub struct HessianServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    done: Arc<tokio::sync::Notify>,
    active: Arc<Semaphore>,
}

impl std::fmt::Debug for HessianServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HessianServer")
            .field("addr", &self.addr)
            .finish()
    }
}

type Body = Full<Bytes>;

fn text(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

impl HessianServer {
    /// Binds and starts serving (the accept loop runs on the current tokio runtime).
    pub async fn bind(config: ServerConfig) -> Result<HessianServer, RemoteError> {
        let host = config
            .host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let mut addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), config.port))
            .await
            .map_err(|e| {
                RemoteError::config(format!("cannot resolve host {:?}: {e}", config.host))
            })?
            .collect();
        addrs.sort_by_key(|a| !a.is_ipv4());
        let mut last = None;
        let mut listener = None;
        for a in addrs {
            match TcpListener::bind(a).await {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let listener = listener.ok_or_else(|| {
            RemoteError::connection(format!(
                "cannot bind {}:{}: {}",
                config.host,
                config.port,
                last.map_or_else(|| "no address".into(), |e| e.to_string())
            ))
        })?;
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
        let shared = Arc::new(Shared {
            config,
            objects: RwLock::new(HashMap::new()),
            base_url,
        });
        let (stop, stop_rx) = watch::channel(false);
        let done = Arc::new(tokio::sync::Notify::new());
        tokio::spawn(accept_loop(
            listener,
            shared.clone(),
            stop_rx,
            active.clone(),
            done.clone(),
        ));
        Ok(HessianServer {
            shared,
            addr,
            stop,
            done,
            active,
        })
    }

    /// Serves `target` at `/name`; returns its URL.
    pub fn register(&self, name: &str, target: Arc<dyn Dispatch>) -> Result<String, RemoteError> {
        let path = name.trim_start_matches('/').to_string();
        if path.is_empty() || path.contains(['?', '#', ' ']) {
            return Err(RemoteError::config(format!(
                "{name:?} cannot be a URL path"
            )));
        }
        let mut objects = self
            .shared
            .objects
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if objects.contains_key(&path) {
            return Err(RemoteError::config(format!("/{path} is already served")));
        }
        objects.insert(path.clone(), target);
        Ok(format!("{}/{path}", self.shared.base_url))
    }

    /// Stops serving `/name`.
    pub fn unregister(&self, name: &str) {
        let path = name.trim_start_matches('/');
        self.shared
            .objects
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(path);
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of `/name`.
    pub fn url_for(&self, name: &str) -> String {
        format!("{}/{}", self.shared.base_url, name.trim_start_matches('/'))
    }

    /// Stops accepting, lets requests in progress finish (at most `shutdown_grace`), closes
    /// every connection.
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        let grace = self.shared.config.shutdown_grace;
        let all = self.shared.config.max_connections.max(1) as u32;
        let _ = tokio::time::timeout(
            grace + Duration::from_millis(500),
            self.active.acquire_many(all),
        )
        .await;
        self.done.notify_waiters();
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    active: Arc<Semaphore>,
    _done: Arc<tokio::sync::Notify>,
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
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            serve_connection(shared, tcp, peer, stop).await;
            drop(permit);
        });
    }
}

async fn serve_connection(
    shared: Arc<Shared>,
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    mut stop: watch::Receiver<bool>,
) {
    let mut context = CallContext::new();
    context.peer = Some(peer);
    context.protocol = Some("hessian");
    let io: Box<dyn Io> = match &shared.config.tls {
        None => Box::new(tcp),
        Some(tls) => match tls.accept(tcp, Some(peer)).await {
            Ok(a) => {
                context.tls_subject = a.subject;
                Box::new(a.stream)
            }
            // Logged by the TLS layer.
            Err(_) => return,
        },
    };
    let context = Arc::new(context);
    let svc_shared = shared.clone();
    let service = hyper::service::service_fn(move |req| {
        let shared = svc_shared.clone();
        let context = context.clone();
        async move { Ok::<_, std::convert::Infallible>(handle(&shared, req, &context).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(shared.config.header_timeout)
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(target: LOG, %peer, "connection ended: {e}");
            }
        }
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(shared.config.shutdown_grace, conn.as_mut()).await;
        }
    }
}

/// A byte stream hyper can serve: TCP or TLS.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

async fn handle(shared: &Shared, req: Request<Incoming>, context: &CallContext) -> Response<Body> {
    if req.method() != hyper::Method::POST {
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/html",
            "<h1>Hessian Requires POST</h1>",
        );
    }
    let path = req.uri().path().trim_start_matches('/').to_string();
    let target = shared
        .objects
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(&path)
        .cloned();
    let Some(target) = target else {
        return text(
            StatusCode::NOT_FOUND,
            "text/plain",
            format!("no Hessian service at /{path}"),
        );
    };
    let max = shared.config.max_body;
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "text/plain",
            format!(
                "request body of {} bytes is over the limit of {max}",
                declared.unwrap_or(0)
            ),
        );
    }
    let body = Limited::new(req.into_body(), max);
    let body = match tokio::time::timeout(shared.config.body_timeout, body.collect()).await {
        Err(_) => {
            return text(
                StatusCode::REQUEST_TIMEOUT,
                "text/plain",
                "request body did not arrive in time",
            )
        }
        Ok(Err(e)) => {
            let too_big = e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            return if too_big {
                text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "text/plain",
                    format!("request body is over the limit of {max} bytes"),
                )
            } else {
                text(
                    StatusCode::BAD_REQUEST,
                    "text/plain",
                    format!("cannot read the request body: {e}"),
                )
            };
        }
        Ok(Ok(b)) => b.to_bytes(),
    };
    let call = match parse_call(&body, &shared.config.limits) {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(target: LOG, "bad Hessian call: {e}");
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain",
                format!("Hessian: {e}"),
            );
        }
    };
    let h2 = call.version.replies_hessian2();
    let reply: Result<Value, Fault> =
        match methods::find(target.as_ref(), &call.method, call.args.len()) {
            None if call.method == "_hessian_getAttribute" => Ok(Value::None),
            None => Err(Fault {
                code: "NoSuchMethodException".into(),
                message: format!("The service has no method named: {}", call.method),
                detail: Value::None,
            }),
            Some(m)
                if m.params.len() != call.args.len()
                    || methods::declared_arity(&call.method)
                        .is_some_and(|n| n != call.args.len()) =>
            {
                Err(Fault {
                    code: "NoSuchMethod".into(),
                    message: format!(
                        "method {}({}) argument length mismatch, received length={}",
                        m.name,
                        m.params.join(", "),
                        call.args.len()
                    ),
                    detail: Value::None,
                })
            }
            Some(m) => {
                let mut c = Call::new(m.name, call.args);
                c.context = context.clone();
                if let Some(t) = shared.config.call_timeout {
                    c.context.deadline = Some(std::time::Instant::now() + t);
                }
                let run = AssertUnwindSafe(target.dispatch(c)).catch_unwind();
                let outcome = match shared.config.call_timeout {
                    Some(t) => tokio::time::timeout(t, run).await.unwrap_or_else(|_| {
                        Ok(Err(RemoteError::timeout(
                            "call exceeded the server's call timeout",
                        )))
                    }),
                    None => run.await,
                };
                match outcome {
                    Ok(Ok(v)) => Ok(v),
                    Ok(Err(e)) => Err(crate::fault::to_fault(&e)),
                    Err(_) => {
                        tracing::error!(target: LOG, method = %m.name, "service method panicked");
                        Err(crate::fault::to_fault(&RemoteError::exception(
                            "java.lang.RuntimeException",
                            "service method panicked",
                        )))
                    }
                }
            }
        };
    let mut out = Vec::with_capacity(256);
    let written = match &reply {
        Ok(v) => write_reply(h2, v, &mut out),
        Err(f) => write_fault(h2, f, &mut out),
    };
    if let Err(e) = written {
        // The result cannot be carried: say so as a fault, as Caucho does.
        out.clear();
        let f = crate::fault::to_fault(&RemoteError::exception(
            "java.lang.IllegalStateException",
            e.message(),
        ));
        if write_fault(h2, &f, &mut out).is_err() {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain",
                e.message().to_string(),
            );
        }
    }
    text(StatusCode::OK, "x-application/hessian", out)
}
