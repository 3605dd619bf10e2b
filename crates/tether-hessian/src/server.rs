//! [`HessianServer`]: the service exporter's HTTP server, on the shared `tether-http` layer. One server per address serves any
//! number of objects, each at its own path (`/echo`), over HTTP/1.1 keep-alive (tether-http), plain
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
use futures_util::FutureExt;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tether_core::{BoxFuture, Call, Dispatch, RemoteError, Value};
use tether_http::{Handler, HttpConfig, HttpRequest, HttpResponse, HttpServer};

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
    /// kept-alive connection (a connection over it is closed within a quarter more). Default
    /// 60 s.
    pub header_timeout: Duration,
    /// Most time for a request's body to arrive, and for the client to take its reply.
    /// Default 30 s.
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

struct Objects {
    limits: Limits,
    call_timeout: Option<Duration>,
    /// By URL path. Hashed with foldhash, not the standard library's SipHash: every request
    /// looks its path up here, and SipHash took 160 instructions of a ~10,000-instruction call;
    /// the keys are the paths the operator registered, and foldhash is seeded per process too.
    objects: RwLock<ObjectMap>,
}

type ObjectMap = HashMap<String, Arc<dyn Dispatch>, foldhash::fast::RandomState>;

/// A running Hessian HTTP server.
#[derive(Clone)]
pub struct HessianServer {
    http: HttpServer,
    objects: Arc<Objects>,
}

impl std::fmt::Debug for HessianServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HessianServer")
            .field("addr", &self.http.local_addr())
            .finish()
    }
}

fn text(status: u16, content_type: &'static str, body: impl Into<String>) -> HttpResponse {
    HttpResponse::new(status, content_type, body.into().into_bytes())
}

impl HessianServer {
    /// Binds and starts serving (the accept loop runs on the current tokio runtime).
    pub async fn bind(config: ServerConfig) -> Result<HessianServer, RemoteError> {
        let objects = Arc::new(Objects {
            limits: config.limits,
            call_timeout: config.call_timeout,
            objects: RwLock::new(ObjectMap::default()),
        });
        let http = HttpServer::bind(
            HttpConfig {
                host: config.host,
                port: config.port,
                advertised_host: config.advertised_host,
                tls: config.tls,
                max_body: config.max_body,
                max_connections: config.max_connections,
                header_timeout: config.header_timeout,
                body_timeout: config.body_timeout,
                shutdown_grace: config.shutdown_grace,
                gzip_replies: false,
                log_requests: false,
                protocol: "hessian",
            },
            objects.clone(),
        )
        .await?;
        Ok(HessianServer { http, objects })
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
            .objects
            .objects
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if objects.contains_key(&path) {
            return Err(RemoteError::config(format!("/{path} is already served")));
        }
        objects.insert(path.clone(), target);
        Ok(self.url_for(&path))
    }

    /// Stops serving `/name`.
    pub fn unregister(&self, name: &str) {
        let path = name.trim_start_matches('/');
        self.objects
            .objects
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(path);
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.http.local_addr()
    }

    /// The URL of `/name`.
    pub fn url_for(&self, name: &str) -> String {
        format!("{}/{}", self.http.base_url(), name.trim_start_matches('/'))
    }

    /// Stops accepting, lets requests in progress finish (at most `shutdown_grace`), closes
    /// every connection.
    pub async fn shutdown(&self) {
        self.http.shutdown().await
    }
}

impl Handler for Objects {
    fn handle(&self, req: HttpRequest) -> BoxFuture<'_, HttpResponse> {
        Box::pin(handle(self, req))
    }
}

async fn handle(shared: &Objects, req: HttpRequest) -> HttpResponse {
    if req.method != tether_http::Method::POST {
        return text(500, "text/html", "<h1>Hessian Requires POST</h1>");
    }
    let path = req.path().trim_start_matches('/');
    let target = shared
        .objects
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(path)
        .cloned();
    let Some(target) = target else {
        return text(404, "text/plain", format!("no Hessian service at /{path}"));
    };
    let call = match parse_call(&req.body, &shared.limits) {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(target: LOG, "bad Hessian call: {e}");
            return text(500, "text/plain", format!("Hessian: {e}"));
        }
    };
    let h2 = call.version.replies_hessian2();
    let reply: Result<Value, Fault> =
        match methods::find(target.as_ref(), &call.method, call.args.len()) {
            None if call.method == "_hessian_getAttribute" => Ok(Value::None),
            // An object that lists no methods takes any name (a gateway whose target cannot
            // list its own): the call goes to it as it came.
            None if target.methods().is_empty() => {
                let mut c = Call::new(call.method.clone(), call.args);
                c.context.clone_from(&req.context);
                target
                    .dispatch(c)
                    .await
                    .map_err(|e| crate::fault::to_fault(&e))
            }
            None => Err(Fault {
                code: "NoSuchMethodException".into(),
                message: format!("The service has no method named: {}", call.method),
                detail: Value::None,
            }),
            Some(m)
                if m.params != tether_core::ANY_ARGS && m.params.len() != call.args.len()
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
                // The name as read when it is the method's own (no copy), else the method's.
                let name = if call.method == m.name {
                    call.method
                } else {
                    m.name.to_string()
                };
                let mut c = Call::new(name, call.args);
                c.context.clone_from(&req.context);
                if let Some(t) = shared.call_timeout {
                    c.context.deadline = Some(std::time::Instant::now() + t);
                }
                let run = AssertUnwindSafe(target.dispatch(c)).catch_unwind();
                let outcome = match shared.call_timeout {
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
    // Room for the whole reply at once (a reply that outgrows its buffer is copied as it grows).
    let room = match &reply {
        Ok(v) => 64 + v.encoded_len_hint(),
        Err(_) => 256,
    };
    let mut out = Vec::with_capacity(room);
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
            return text(500, "text/plain", e.message().to_string());
        }
    }
    HttpResponse::new(200, "x-application/hessian", out)
}
