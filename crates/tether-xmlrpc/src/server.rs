//! [`XmlRpcServer`]: XML-RPC over HTTP and HTTPS on the shared `tether-http` layer, with
//! Spring Python's `SSLServer` security modes (the TLS settings: encrypt only; a client
//! certificate required; `verify_fields` checked once per connection, after the handshake and
//! before any HTTP, a refusal logged at ERROR with the reason and the client's address and
//! nothing sent).
//!
//! What a request gets, as Python's `SimpleXMLRPCServer` answers it (with HTTP/1.1 keep-alive
//! and gzip added): POST to `/` or `/RPC2`; other paths 404 `No such page`; other methods 501
//! `Unsupported method ('GET')`; every call answered with HTTP 200, a fault for an unknown
//! method (`<class 'Exception'>:method "x" is not supported`), for an exception
//! (`<class 'ValueError'>:message`), for malformed XML, and for a result XML-RPC cannot carry.
//! Fault codes are Python's (always 1) by default, or the xmlrpc-epi interop codes
//! ([`FaultCodes::Interop`]). Introspection (`system.listMethods`, `system.methodHelp`,
//! `system.methodSignature`) and `system.multicall` are always there.
//!
//! Each registered object's methods are served under their own names and as `name.method`
//! (the first object to register a plain name keeps it).

use crate::codec::{parse_call, write_fault, write_response, Fault, WriteOptions};
use futures_util::FutureExt;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tether_core::{BoxFuture, Call, CallContext, Dispatch, RemoteError, Value};
use tether_http::{Handler, HttpConfig, HttpRequest, HttpResponse, HttpServer};

const LOG: &str = "tether::xmlrpc::server";

/// Which fault codes the server uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FaultCodes {
    /// Python's: 1 for everything (the default: Python clients compare nothing else).
    #[default]
    Python,
    /// xmlrpc-epi's: -32700 parse error, -32601 no such method, -32500 application error,
    /// -32603 a result that cannot be written.
    Interop,
}

/// Server settings: the HTTP layer's plus XML-RPC's.
#[derive(Clone, Debug)]
pub struct XmlRpcConfig {
    /// Address, TLS, bounds, `log_requests` (default: on, as the seed's `SSLServer`).
    pub http: HttpConfig,
    /// Return `None` as `<nil/>` (Python's `allow_none`). Default `true` (Python's default
    /// `false` makes every void method a fault).
    pub allow_none: bool,
    /// Fault codes. Default [`FaultCodes::Python`].
    pub fault_codes: FaultCodes,
    /// Deadline for one call. Default `None`.
    pub call_timeout: Option<Duration>,
}

impl Default for XmlRpcConfig {
    fn default() -> Self {
        XmlRpcConfig {
            http: HttpConfig {
                gzip_replies: true,
                log_requests: true,
                protocol: "xmlrpc",
                ..HttpConfig::default()
            },
            allow_none: true,
            fault_codes: FaultCodes::Python,
            call_timeout: None,
        }
    }
}

struct Registry {
    config: XmlRpcConfig,
    objects: RwLock<Vec<(String, Arc<dyn Dispatch>)>>,
}

/// A running XML-RPC server.
#[derive(Clone)]
pub struct XmlRpcServer {
    http: HttpServer,
    registry: Arc<Registry>,
}

impl std::fmt::Debug for XmlRpcServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XmlRpcServer")
            .field("addr", &self.http.local_addr())
            .finish()
    }
}

impl XmlRpcServer {
    /// Binds and starts serving.
    pub async fn bind(config: XmlRpcConfig) -> Result<XmlRpcServer, RemoteError> {
        let registry = Arc::new(Registry {
            config: config.clone(),
            objects: RwLock::new(Vec::new()),
        });
        let http = HttpServer::bind(config.http, registry.clone()).await?;
        Ok(XmlRpcServer { http, registry })
    }

    /// Serves `target`'s methods (as `method` and `name.method`); returns the server's URL.
    pub fn register(&self, name: &str, target: Arc<dyn Dispatch>) -> Result<String, RemoteError> {
        let mut objects = self
            .registry
            .objects
            .write()
            .unwrap_or_else(|p| p.into_inner());
        if objects.iter().any(|(n, _)| n == name) {
            return Err(RemoteError::config(format!("{name} is already served")));
        }
        objects.push((name.to_string(), target));
        Ok(self.url())
    }

    /// Stops serving `name`'s methods.
    pub fn unregister(&self, name: &str) {
        self.registry
            .objects
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(n, _)| n != name);
    }

    /// `http://host:port/RPC2` (or `https://`).
    pub fn url(&self) -> String {
        format!("{}/RPC2", self.http.base_url())
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.http.local_addr()
    }

    /// Graceful shutdown (see [`HttpServer::shutdown`]).
    pub async fn shutdown(&self) {
        self.http.shutdown().await
    }
}

/// `<class 'ValueError'>:message`, as Python's server writes an exception.
fn python_text(e: &RemoteError) -> String {
    let class = e.short_class().unwrap_or("Exception");
    let msg = match e.args() {
        [Value::Str(s)] => s.clone(),
        _ => e.message().to_string(),
    };
    format!("<class '{class}'>:{msg}")
}

impl Registry {
    fn fault(&self, kind: &str, text: String) -> Fault {
        let code = match (self.config.fault_codes, kind) {
            (FaultCodes::Python, _) => 1,
            (FaultCodes::Interop, "parse") => -32700,
            (FaultCodes::Interop, "method") => -32601,
            (FaultCodes::Interop, "marshal") => -32603,
            (FaultCodes::Interop, _) => -32500,
        };
        Fault { code, string: text }
    }

    fn error_fault(&self, e: &RemoteError) -> Fault {
        // A service may raise an explicit fault: class xmlrpc.client.Fault, args (code, text).
        if e.class() == Some("xmlrpc.client.Fault") {
            if let [Value::Int32(c), Value::Str(s)] = e.args() {
                return Fault {
                    code: *c,
                    string: s.clone(),
                };
            }
        }
        self.fault("app", python_text(e))
    }

    /// The object that serves `name` and the method name it is called with (`name` itself,
    /// or what follows `object.`): the name read from the request is handed on, not copied.
    fn find(&self, name: String) -> Result<(Arc<dyn Dispatch>, String), String> {
        let objects = self.objects.read().unwrap_or_else(|p| p.into_inner());
        if let Some((prefix, m)) = name.split_once('.') {
            if let Some((_, o)) = objects.iter().find(|(n, _)| n == prefix) {
                if o.method(m).is_some() {
                    return Ok((o.clone(), m.to_string()));
                }
            }
        }
        let found = objects
            .iter()
            .find(|(_, o)| o.method(&name).is_some())
            // An object that lists no methods takes any name (a gateway whose target cannot
            // list its own).
            .or_else(|| objects.iter().find(|(_, o)| o.methods().is_empty()))
            .map(|(_, o)| o.clone());
        match found {
            Some(o) => Ok((o, name)),
            None => Err(name),
        }
    }

    fn list_methods(&self) -> Value {
        let objects = self.objects.read().unwrap_or_else(|p| p.into_inner());
        let mut names = BTreeSet::new();
        for (n, o) in objects.iter() {
            for m in o.methods() {
                names.insert(m.name.to_string());
                names.insert(format!("{n}.{}", m.name));
            }
        }
        for s in [
            "system.listMethods",
            "system.methodHelp",
            "system.methodSignature",
            "system.multicall",
        ] {
            names.insert(s.to_string());
        }
        Value::List(names.into_iter().map(Value::Str).collect())
    }

    async fn call(
        &self,
        method: String,
        params: Vec<Value>,
        context: &CallContext,
        depth: usize,
    ) -> Result<Value, Fault> {
        match method.as_str() {
            "system.listMethods" => return Ok(self.list_methods()),
            "system.methodHelp" => return Ok(Value::str("")),
            "system.methodSignature" => return Ok(Value::str("signatures not supported")),
            "system.multicall" if depth == 0 => {
                let calls = match params.first() {
                    Some(Value::List(c)) => c.clone(),
                    _ => {
                        return Err(self.fault(
                            "app",
                            "<class 'TypeError'>:system.multicall takes an array of calls".into(),
                        ))
                    }
                };
                let mut out = Vec::with_capacity(calls.len());
                for c in calls {
                    let name = c
                        .get("methodName")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    let args = match c.get("params") {
                        Some(Value::List(a)) => a.clone(),
                        _ => Vec::new(),
                    };
                    match Box::pin(self.call(name, args, context, depth + 1)).await {
                        Ok(v) => out.push(Value::List(vec![v])),
                        Err(f) => out.push(Value::Map(vec![
                            (Value::str("faultCode"), Value::Int32(f.code)),
                            (Value::str("faultString"), Value::Str(f.string)),
                        ])),
                    }
                }
                return Ok(Value::List(out));
            }
            _ => {}
        }
        let (obj, m) = match self.find(method) {
            Ok(found) => found,
            Err(method) => {
                return Err(self.fault(
                    "method",
                    format!("<class 'Exception'>:method \"{method}\" is not supported"),
                ))
            }
        };
        // The name a panic is logged with (the call takes the request's).
        let listed = obj
            .method(&m)
            .map_or("(not listed by the object)", |i| i.name);
        let mut call = Call::new(m, params);
        call.context.clone_from(context);
        if let Some(t) = self.config.call_timeout {
            call.context.deadline = Some(std::time::Instant::now() + t);
        }
        let run = AssertUnwindSafe(obj.dispatch(call)).catch_unwind();
        let outcome = match self.config.call_timeout {
            Some(t) => tokio::time::timeout(t, run).await.unwrap_or_else(|_| {
                Ok(Err(RemoteError::exception(
                    "builtins.TimeoutError",
                    "call exceeded the server's call timeout",
                )))
            }),
            None => run.await,
        };
        match outcome {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.error_fault(&e)),
            Err(_) => {
                tracing::error!(target: LOG, method = listed, "service method panicked");
                Err(self.fault(
                    "app",
                    "<class 'RuntimeError'>:service method panicked".into(),
                ))
            }
        }
    }
}

impl Handler for Registry {
    fn handle(&self, req: HttpRequest) -> BoxFuture<'_, HttpResponse> {
        Box::pin(async move {
            if req.method != tether_http::Method::POST {
                return HttpResponse::new(
                    501,
                    "text/plain",
                    format!("Unsupported method ('{}')", req.method),
                );
            }
            if !matches!(req.path(), "/" | "/RPC2") {
                return HttpResponse::new(404, "text/plain", "No such page");
            }
            let body = match parse_call(&req.body) {
                Err(e) => write_fault(&self.fault(
                    "parse",
                    format!("<class 'xml.parsers.expat.ExpatError'>:{}", e.message()),
                )),
                Ok((method, params)) => match self.call(method, params, &req.context, 0).await {
                    Err(f) => write_fault(&f),
                    Ok(v) => {
                        let o = WriteOptions {
                            allow_none: self.config.allow_none,
                        };
                        match write_response(&v, &o) {
                            Ok(x) => x,
                            Err(e) => write_fault(&self.fault("marshal", python_text(&e))),
                        }
                    }
                },
            };
            HttpResponse::new(200, "text/xml", body.into_bytes())
        })
    }
}
