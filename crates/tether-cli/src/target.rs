//! What `call` and `bench` call: an object at a URL (through whichever registered protocol
//! claims it) or an object of an application context (local or proxy alike), and how their
//! arguments read.

use crate::literal::Ints;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tether::context::remoting::Shell;
use tether::context::remoting::{ClientOptions, Protocol, ProtocolSet, ProxyFactory};
use tether::context::{ApplicationContext, ClassRegistry};
use tether_core::{Call, Invoker, LocalInvoker, Value};

/// What to call: the target, the method, the arguments.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct CallSpec {
    /// The object's URL (`PYRO:obj@host:port`, `PYRONAME:name`, ...), or with --context its id.
    #[arg(value_name = "URL")]
    pub target: String,
    /// The method to call.
    pub method: String,
    /// Arguments: Python literals (`42`, `'text'`, `[1, 2]`, `{'a': None}`, `b'\x00'`), typed
    /// values (`int32(5)`, `int64(5)`, `datetime(2024, 1, 2, 3, 4, 5)`, `Binary(b'..')`,
    /// `typed('[int', [1, 2])`, `object('a.B', x=1)`), or NAME=LITERAL for keyword arguments.
    #[arg(value_name = "ARG", allow_negative_numbers = true)]
    pub args: Vec<String>,
    /// The arguments as one text instead of ARGs: a list (or JSON array) of positional
    /// arguments, or a dict (or JSON object) of keyword arguments; `@FILE` reads it from a
    /// file, `@-` from stdin. JSON's true, false and null read too.
    #[arg(
        short = 'd',
        long = "data",
        value_name = "DATA",
        conflicts_with = "args"
    )]
    pub data: Option<String>,
    /// An annotation sent with the call, NAME=VALUE (repeatable): a Pyro5/Pyro4 annotation
    /// (a four-byte NAME), an HTTP header on Hessian and XML-RPC.
    #[arg(long = "header", value_name = "NAME=VALUE")]
    pub headers: Vec<String>,
}

/// Where to call, and how.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct TargetArgs {
    /// Call an object of this application context (repeatable: several files form one
    /// context); TARGET is then the object's id.
    #[arg(long, value_name = "FILE.xml")]
    pub context: Vec<PathBuf>,
    /// The wire's value encoding (Pyro: serpent, json, msgpack, marshal); default: the protocol's.
    #[arg(long)]
    pub serializer: Option<String>,
    /// How long to wait for each call: `5s`, `500ms`, or plain seconds (default: no limit).
    #[arg(long, value_name = "DURATION", value_parser = crate::duration::parse)]
    pub timeout: Option<Duration>,
    /// PEM file of the CAs that sign the server's certificate: turns TLS on.
    #[arg(long, value_name = "PEM")]
    pub tls_ca: Option<PathBuf>,
    /// PEM file of a client certificate to present.
    #[arg(long, value_name = "PEM", requires = "tls_ca")]
    pub tls_cert: Option<PathBuf>,
    /// PEM file of the client certificate's key (default: the --tls-cert file).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Password of an encrypted --tls-key.
    #[arg(long, value_name = "PASSWORD", requires = "tls_cert")]
    pub tls_key_password: Option<String>,
    /// TLS with the files `tether pki DIR` wrote: DIR/ca-chain.pem as the CAs, and
    /// DIR/client-cert.pem + client-key.pem as the client certificate.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["tls_ca", "tls_cert"])]
    pub tls: Option<PathBuf>,
    /// The wire protocol by name (e.g. pyro4: `PYRO:` URLs look the same for Pyro4 and
    /// Pyro5); default: the protocol that claims the URL.
    #[arg(long, value_name = "NAME")]
    pub protocol: Option<String>,
    /// Shared secret to sign messages with (Pyro4's HMAC key, the wire option `hmac_key`;
    /// with --protocol pyro4). Default: the PYRO_HMAC_KEY environment variable, if set, as
    /// Pyro4 reads it.
    #[arg(short = 'k', long, value_name = "KEY")]
    pub hmac_key: Option<String>,
}

/// A failure before any call was made, with its exit code.
pub(crate) struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Failure {
            code: 5,
            message: message.into(),
        }
    }
}

/// A resolved target: it makes clients (one per connection) and prints results.
pub(crate) enum Resolved {
    Url {
        protocol: Arc<dyn Protocol>,
        url: String,
        // boxed: the options are large next to the other variants
        options: Box<ClientOptions>,
    },
    Proxy {
        factory: Arc<ProxyFactory>,
        _ctx: ApplicationContext,
    },
    /// An object of the context called in process: its dispatcher, or the invoker of its own
    /// (an AOP proxy object) that every connection shares.
    Local {
        invoker: Arc<dyn Invoker>,
        _ctx: ApplicationContext,
    },
    /// A `tether.cluster.PoolProxyFactory`: every connection calls through the one pool.
    Pool {
        factory: Arc<tether::cluster::component::PoolProxyFactory>,
        invoker: Arc<dyn Invoker>,
        _ctx: ApplicationContext,
    },
}

impl TargetArgs {
    fn client_options(&self) -> Result<ClientOptions, Failure> {
        let mut o = ClientOptions::new();
        o.serializer = self.serializer.clone();
        if let Some(t) = self.timeout {
            o.timeout = Some(t);
        }
        if let Some(ca) = &self.tls_ca {
            let mut tls = tether_tls::ClientTlsSettings::new(ca);
            tls.certfile = self.tls_cert.clone();
            tls.keyfile = self.tls_key.clone().or_else(|| self.tls_cert.clone());
            tls.key_password = self.tls_key_password.clone();
            o.tls = Some(tls);
        }
        if let Some(dir) = &self.tls {
            let mut tls = tether_tls::ClientTlsSettings::new(dir.join("ca-chain.pem"));
            tls.certfile = Some(dir.join("client-cert.pem"));
            tls.keyfile = Some(dir.join("client-key.pem"));
            tls.key_password = self.tls_key_password.clone();
            o.tls = Some(tls);
        }
        if let Some(key) = self.hmac_key.clone().or_else(|| {
            std::env::var("PYRO_HMAC_KEY")
                .ok()
                .filter(|k| !k.is_empty())
        }) {
            o.wire.set("hmac_key", key);
        }
        Ok(o)
    }

    /// Resolves `target` (a URL, or with `--context` an object id).
    pub(crate) async fn resolve(
        &self,
        registry: ClassRegistry,
        target: &str,
    ) -> Result<Resolved, Failure> {
        if self.context.is_empty() {
            let options = self.client_options()?;
            let protocols = registry.protocols();
            let protocol = match &self.protocol {
                Some(name) => protocols.by_name(name).ok_or_else(|| {
                    let names: Vec<&str> = protocols.iter().map(|p| p.name()).collect();
                    Failure::usage(format!(
                        "no protocol called {name:?} (registered: {})",
                        names.join(", ")
                    ))
                })?,
                None => protocols
                    .for_url(target)
                    .map_err(|e| Failure::config(e.to_string()))?,
            }
            .clone();
            if options.wire.get("hmac_key").is_some()
                && !protocol.client_option_names().contains(&"hmac_key")
            {
                let keyed: Vec<&str> = protocols
                    .iter()
                    .filter(|p| p.client_option_names().contains(&"hmac_key"))
                    .map(|p| p.name())
                    .collect();
                return Err(Failure::usage(format!(
                    "--hmac-key (or PYRO_HMAC_KEY) is an option of {} (choose with --protocol); {} has none",
                    keyed.join(", "),
                    protocol.name()
                )));
            }
            // Parse the URL and options now, so a mistake is reported before any call.
            protocol.proxy(target, &options).map_err(|e| {
                if options.wire.get("hmac_key").is_some() {
                    Failure::usage(format!(
                        "{e} (--hmac-key signs Pyro4 messages: add --protocol pyro4)"
                    ))
                } else {
                    Failure::config(e.to_string())
                }
            })?;
            return Ok(Resolved::Url {
                protocol,
                url: target.to_string(),
                options: Box::new(options),
            });
        }
        if self.serializer.is_some()
            || self.timeout.is_some()
            || self.tls_ca.is_some()
            || self.tls.is_some()
            || self.protocol.is_some()
            || self.hmac_key.is_some()
        {
            return Err(Failure::usage(
                "with --context the object's own configuration decides protocol, serializer, timeout, TLS and key; set them in the context file",
            ));
        }
        let mut b = ApplicationContext::builder().registry(registry);
        for f in &self.context {
            b = b.xml_file(f);
        }
        let ctx = b
            .start()
            .await
            .map_err(|e| Failure::config(e.to_string()))?;
        let obj = ctx
            .get_object(target)
            .map_err(|e| Failure::config(e.to_string()))?;
        if let Some(factory) = obj.downcast::<tether::cluster::component::PoolProxyFactory>() {
            let invoker = obj.invoker().ok_or_else(|| {
                Failure::config(format!("pool '{target}' could not be built (see the log)"))
            })?;
            return Ok(Resolved::Pool {
                factory,
                invoker,
                _ctx: ctx,
            });
        }
        if let Some(factory) = obj.downcast::<ProxyFactory>() {
            return Ok(Resolved::Proxy { factory, _ctx: ctx });
        }
        // Any other object that calls through an invoker of its own (a
        // `springpython.aop.ProxyFactoryObject`, its chain and then its target, local or
        // remote): every connection calls through that one invoker.
        if let Some(invoker) = obj.invoker() {
            return Ok(Resolved::Local { invoker, _ctx: ctx });
        }
        let dispatcher = obj
            .dispatcher()
            .map_err(|e| Failure::config(e.to_string()))?;
        Ok(Resolved::Local {
            invoker: Arc::new(LocalInvoker::new(dispatcher)),
            _ctx: ctx,
        })
    }
}

impl Resolved {
    /// A client with its own connection.
    pub(crate) fn invoker(&self) -> Result<Arc<dyn Invoker>, Failure> {
        match self {
            Resolved::Url {
                protocol,
                url,
                options,
            } => protocol
                .proxy(url, options)
                .map_err(|e| Failure::config(e.to_string())),
            Resolved::Proxy { factory, .. } => factory
                .fresh_invoker()
                .map_err(|e| Failure::config(e.to_string())),
            Resolved::Local { invoker, .. } | Resolved::Pool { invoker, .. } => Ok(invoker.clone()),
        }
    }

    /// The per-endpoint counters, when the target is a pool.
    pub(crate) fn pool_stats(&self) -> Option<Vec<tether::cluster::EndpointStats>> {
        match self {
            Resolved::Pool { factory, .. } => factory.pool().ok().map(|p| p.stats()),
            _ => None,
        }
    }

    /// The shell of the target's wire, when the target is a URL.
    pub(crate) fn shell(&self) -> Option<&dyn Shell> {
        match self {
            Resolved::Url { protocol, .. } => Some(protocol.shell()),
            _ => None,
        }
    }

    /// A result as a person reads it (Python's repr of what a Python client receives).
    pub(crate) fn repr(&self, value: &Value) -> String {
        match self {
            Resolved::Url {
                protocol, options, ..
            } => protocol.shell().repr(value, options),
            Resolved::Proxy { factory, .. } => factory.repr(value),
            Resolved::Local { .. } | Resolved::Pool { .. } => tether_core::python::repr(value),
        }
    }
}

/// Builds the call for `target`: each ARG is a literal (see `literal.rs`), or `NAME=LITERAL` for
/// a keyword argument (a NAME is a Python identifier); or `-d DATA` holds them all; integers are
/// typed as the target wire's Python client types them; `--header`s become annotations.
pub(crate) fn build_call(
    protocols: &ProtocolSet,
    spec: &CallSpec,
    oneway: bool,
    target: &Resolved,
) -> Result<Call, Failure> {
    let shell = target.shell();
    let ints = if shell.is_some_and(|s| s.narrow_int_arguments()) {
        Ints::Narrow
    } else {
        Ints::Wide
    };
    let mut positional = Vec::new();
    let mut keywords: Vec<(String, Value)> = Vec::new();
    if let Some(data) = &spec.data {
        let text = read_data(data)?;
        match literal(protocols, text.trim(), ints)? {
            Value::List(items) | Value::Tuple(items) => positional = items,
            Value::Map(entries) => {
                for (k, v) in entries {
                    let name = k.as_str().ok_or_else(|| {
                        Failure::usage(format!(
                            "-d: a keyword argument's name is not a string: {k}"
                        ))
                    })?;
                    keywords.push((name.to_string(), v));
                }
            }
            other => {
                return Err(Failure::usage(format!(
                    "-d: expected a list of arguments or a dict of keyword arguments, got {}",
                    other.type_name()
                )))
            }
        }
    }
    for a in &spec.args {
        if let Some((name, lit)) = keyword(a) {
            if keywords.iter().any(|(n, _)| n == name) {
                return Err(Failure::usage(format!(
                    "keyword argument {name} given twice"
                )));
            }
            keywords.push((name.to_string(), literal(protocols, lit, ints)?));
        } else {
            if !keywords.is_empty() {
                return Err(Failure::usage(format!(
                    "positional argument {a:?} follows a keyword argument"
                )));
            }
            positional.push(literal(protocols, a, ints)?);
        }
    }
    let mut call = Call::with_args(&spec.method, positional, keywords).set_oneway(oneway);
    for h in &spec.headers {
        let (name, value) = h
            .split_once('=')
            .ok_or_else(|| Failure::usage(format!("--header {h:?}: expected NAME=VALUE")))?;
        if let Some(shell) = shell {
            shell
                .check_header(name)
                .map_err(|e| Failure::usage(format!("--header {name}: {e}")))?;
        }
        if value.contains(['\r', '\n']) {
            return Err(Failure::usage(format!(
                "--header {name}: a line break in the value"
            )));
        }
        call.context
            .annotations
            .push((name.to_string(), value.as_bytes().to_vec()));
    }
    Ok(call)
}

/// `-d`'s text: as given, from `@FILE`, or from stdin with `@-`.
fn read_data(data: &str) -> Result<String, Failure> {
    match data.strip_prefix('@') {
        Some("-") => {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                .map_err(|e| Failure::usage(format!("-d @-: cannot read stdin: {e}")))?;
            Ok(s)
        }
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("-d @{path}: {e}")))
        }
        None => Ok(data.to_string()),
    }
}

/// `NAME=...` where NAME is an identifier (so `'a=b'` and `{1: 2}` stay literals).
fn keyword(arg: &str) -> Option<(&str, &str)> {
    let (name, rest) = arg.split_once('=')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    ((first == '_' || first.is_alphabetic()) && chars.all(|c| c == '_' || c.is_alphanumeric()))
        .then_some((name, rest))
}

/// One argument (see `literal.rs`).
pub(crate) fn literal(protocols: &ProtocolSet, text: &str, ints: Ints) -> Result<Value, Failure> {
    crate::literal::parse(protocols, text, ints).map_err(|e| {
        Failure::usage(format!(
            "argument {text:?} is not a Python literal or typed value ({e}); quote strings, e.g. \"'hello'\""
        ))
    })
}
