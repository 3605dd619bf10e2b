//! `tether.cluster.PoolProxyFactory`: a pool of remote objects in an application context
//! ([`Pool`]). To service code it is one object:
//! `ctx.get::<dyn T>("service")` is the same trait whether the id names a local object, one
//! proxy, or a pool.
//!
//! | property | meaning | default |
//! |---|---|---|
//! | `service_urls` | a `<list>` of URLs of any wire (each made by the protocol that claims it), or of refs to proxy factories (member `ref:ID`) | none |
//! | `discovery` | `etcd://host:port/prefix/`: the members are every URL under the prefix, followed live (a watch); `pyro-ns://host:port/name-prefix` or `pyro-ns://host:port/?meta=tag1,tag2`: every object of a Pyro name server whose name starts with the prefix, or that has all the tags (`PYROMETA:`), read every `discovery_interval` (no `host:port`: found as `locate_ns` does) | none |
//! | `discovery_interval` | seconds between reads of a polled source (a name server) | 2 |
//! | `weights` | a `<dict>` of member (URL, or the id of a ref) to weight, for `weighted_random` | 1 each |
//! | `idempotent_methods` | a `<list>` of method names that may be retried after they were sent | none |
//! | `balance` | `round_robin`, `weighted_random`, `least_active`, `consistent_hash` or `consistent_hash:N` (key: argument N) | `round_robin` |
//! | `mode` | `failover`, `failfast`, `failsafe`, `forking`, `broadcast` | `failover` |
//! | `retries` | failover's extra attempts | 2 |
//! | `forks` | forking's endpoints at once | 2 |
//! | `deadline` | seconds a call may take, retries included | none |
//! | `retry_backoff` | seconds before the second retry (doubling; the first is immediate) | 0.01 |
//! | `eject_after` | transport failures in a row that eject an endpoint | 3 |
//! | `ejection` / `max_ejection` | seconds of the first / longest ejection | 1 / 30 |
//! | `probe_timeout` | seconds a re-admission probe (or a stall check) may take | 1 |
//! | `stall_check_after` | seconds an attempt waits before the pool checks, on a new connection, that the member answers at all; a silent member is ejected and its waiting calls end (idempotent ones retried elsewhere); `<null/>`: never | 1 |
//! | `timeout`, `serializer` | the members' client options (see `remoting::options`) | the protocol's |
//! | `protocol` | the members' wire by name (`xmlrpc` for XML-RPC `http://` URLs) | the wire that claims each URL |
//! | `methods` | method names the pool answers with when exported (a gateway) | the first member's |
//! | `interceptors` | interceptors (refs, one or a `<list>`) around each call of the pool, retries included | none |
//! | `attempt_interceptors` | interceptors around each attempt on one member | none |
//!
//! The `discovery` source starts with the first call (a proxy factory opens no connection in
//! a lifecycle hook, and the container runs none on it); a source that cannot be read then is
//! a clear error for that call, and a pool with neither `service_urls` nor `discovery`
//! answers every call with "the pool has no endpoints".

use crate::{Balance, Mode, Pool, PoolConfig};
use std::sync::Arc;
use std::time::Duration;
use tether_context::remoting::props::{interceptors_prop, text_list_prop, text_prop, timeout_prop};
use tether_context::{ClassRegistry, Component, ContextError, ContextValue, CtorArgs, InitContext};
use tether_core::{BoxFuture, Call, Invoker, RemoteError, Value};
use tether_remoting::{ClientOptions, Directory, DirectorySet, ProtocolSet, Role};

/// The class name.
pub const POOL_CLASS: &str = "tether.cluster.PoolProxyFactory";

/// Registers the pool class into `registry` (its members are made by the registry's protocols,
/// its `discovery` read through the registry's directories).
pub fn register(registry: &mut ClassRegistry) {
    registry.register_with(POOL_CLASS, |args| {
        let set = args.protocols().clone();
        PoolProxyFactory::from_args(set, args)
    });
}

/// The pool component.
pub struct PoolProxyFactory {
    protocols: ProtocolSet,
    name: std::sync::OnceLock<String>,
    urls: Vec<String>,
    refs: Vec<(String, Arc<dyn Invoker>)>,
    weights: Vec<(String, u32)>,
    directories: DirectorySet,
    /// The `discovery` URL, checked by the directory that answers it.
    source: Option<String>,
    config: PoolConfig,
    retries: u32,
    forks: usize,
    mode: String,
    options: ClientOptions,
    interval: Duration,
    built: std::sync::OnceLock<Arc<LazyPool>>,
    interceptors: Vec<Arc<dyn tether_remoting::Interceptor>>,
    attempt_interceptors: Vec<Arc<dyn tether_remoting::Interceptor>>,
    wrapped: std::sync::OnceLock<Arc<dyn Invoker>>,
    methods: Option<Vec<String>>,
    forward: std::sync::OnceLock<Arc<dyn tether_core::Dispatch>>,
    /// The members' wire by name, when their URLs do not say (an XML-RPC `http://` URL).
    protocol: Option<String>,
}

impl std::fmt::Debug for PoolProxyFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolProxyFactory")
            .field("urls", &self.urls)
            .field("source", &self.source)
            .finish()
    }
}

fn seconds(name: &str, v: &ContextValue) -> Result<Duration, ContextError> {
    timeout_prop(name, v)?
        .ok_or_else(|| ContextError::from(format!("property '{name}' needs a number of seconds")))
}

fn list_of_text(name: &str, v: &ContextValue) -> Result<Vec<String>, ContextError> {
    let items = v
        .as_seq()
        .ok_or_else(|| ContextError::from(format!("property '{name}' expects a <list>")))?;
    items
        .iter()
        .map(|i| {
            i.to_string_value()
                .map_err(|e| ContextError::from(format!("property '{name}': {e}")))
        })
        .collect()
}

impl PoolProxyFactory {
    /// An empty pool factory making members with `protocols`.
    pub fn new(protocols: ProtocolSet) -> Self {
        PoolProxyFactory {
            protocols,
            name: std::sync::OnceLock::new(),
            urls: Vec::new(),
            refs: Vec::new(),
            weights: Vec::new(),
            directories: DirectorySet::default(),
            source: None,
            config: PoolConfig::default(),
            retries: 2,
            forks: 2,
            mode: "failover".into(),
            options: ClientOptions::default(),
            interval: Duration::from_secs(2),
            built: std::sync::OnceLock::new(),
            interceptors: Vec::new(),
            attempt_interceptors: Vec::new(),
            wrapped: std::sync::OnceLock::new(),
            methods: None,
            forward: std::sync::OnceLock::new(),
            protocol: None,
        }
    }

    /// A pool factory from constructor arguments (named ones only; they are properties).
    pub fn from_args(protocols: ProtocolSet, args: CtorArgs) -> Result<Self, ContextError> {
        let mut p = PoolProxyFactory::new(protocols);
        p.directories = args.directories().clone();
        if !args.object_id().is_empty() {
            let _ = p.name.set(args.object_id().to_string());
        }
        let (pos, named) = args.into_parts();
        if !pos.is_empty() {
            return Err(ContextError::from(
                "takes no positional arguments (use the service_urls property)",
            ));
        }
        for (n, v) in named {
            p.set_property(&n, v)?;
        }
        Ok(p)
    }

    fn member_maker(&self) -> crate::discovery::MakeInvoker {
        let protocols = self.protocols.clone();
        let options = self.options.clone();
        let around: tether_remoting::Chain = self.attempt_interceptors.clone().into();
        let wire = self.protocol.clone();
        Arc::new(move |url: &str| {
            let made = match &wire {
                Some(name) => match protocols.by_name(name) {
                    Some(p) => p.proxy(url, &options),
                    None => {
                        return Err(RemoteError::config(format!(
                            "protocol {name:?}: no such wire"
                        )))
                    }
                },
                None => protocols.proxy(url, &options),
            };
            made.map(|p| tether_remoting::Intercepted::wrap(&around, p))
                .map_err(|e| RemoteError::config(format!("{url}: {e}")))
        })
    }

    fn build(&self) -> Result<Arc<LazyPool>, ContextError> {
        let mut config = self.config.clone();
        config.mode = Mode::parse(&self.mode, self.retries, self.forks).ok_or_else(|| {
            format!(
                "mode {:?}: expected failover, failfast, failsafe, forking or broadcast",
                self.mode
            )
        })?;
        let name = self.name.get().map(String::as_str).unwrap_or("pool");
        let pool = Pool::new(name, config);
        let make = self.member_maker();
        let weight = |key: &str| {
            self.weights
                .iter()
                .find(|(k, _)| k == key)
                .map_or(1, |(_, w)| *w)
        };
        for url in &self.urls {
            let inv = make(url).map_err(|e| {
                ContextError::from(format!("property 'service_urls': {}", e.message()))
            })?;
            pool.add_weighted(url, inv, weight(url));
        }
        for (id, inv) in &self.refs {
            let inv = tether_remoting::Intercepted::wrap(&self.attempt_interceptors, inv.clone());
            pool.add_weighted(&format!("ref:{id}"), inv, weight(id));
        }
        let source = match &self.source {
            Some(url) => Some((
                url.clone(),
                self.directories
                    .for_url(url)
                    .map_err(|e| e.to_string())?
                    .clone(),
            )),
            None => None,
        };
        pool.set_stall_checker(make.clone());
        Ok(Arc::new(LazyPool {
            pool,
            source,
            make,
            started: tokio::sync::OnceCell::new(),
            interval: self.interval,
        }))
    }

    /// The pool (built on first use from the properties).
    pub fn pool(&self) -> Result<Pool, ContextError> {
        Ok(self.lazy()?.pool.clone())
    }

    fn lazy(&self) -> Result<Arc<LazyPool>, ContextError> {
        if let Some(b) = self.built.get() {
            return Ok(b.clone());
        }
        let b = self.build()?;
        Ok(self.built.get_or_init(|| b).clone())
    }
}

/// The pool, with its discovery source started on the first call.
struct LazyPool {
    pool: Pool,
    /// The `discovery` URL and the directory that answers it.
    source: Option<(String, Arc<dyn Directory>)>,
    make: crate::discovery::MakeInvoker,
    started: tokio::sync::OnceCell<()>,
    /// How often a polled directory is read.
    interval: Duration,
}

impl LazyPool {
    async fn start(&self) -> Result<(), RemoteError> {
        let Some((url, directory)) = &self.source else {
            return Ok(());
        };
        self.started
            .get_or_try_init(|| async {
                let members = directory.follow(url, self.interval).await?;
                self.pool.follow(members, self.make.clone());
                Ok::<(), RemoteError>(())
            })
            .await
            .map(|_| ())
    }
}

impl Invoker for LazyPool {
    fn invoke(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(async move {
            self.start().await.map_err(RemoteError::not_sent)?;
            self.pool.call(call).await
        })
    }

    fn describe(&self) -> BoxFuture<'_, Result<Option<tether_core::Description>, RemoteError>> {
        Box::pin(async move {
            self.start().await.map_err(RemoteError::not_sent)?;
            self.pool.describe().await
        })
    }
}

impl Component for PoolProxyFactory {
    fn set_property(&mut self, name: &str, value: ContextValue) -> Result<(), ContextError> {
        if self.built.get().is_some() {
            return Err(ContextError::from("the pool is already in use"));
        }
        let c = &mut self.config;
        match name {
            "service_urls" => {
                let items = value
                    .as_seq()
                    .ok_or("property 'service_urls' expects a <list> of URLs or refs")?;
                for item in items {
                    if let Some(obj) = item.as_object() {
                        let inv = obj.invoker().ok_or_else(|| {
                            format!("service_urls: '{}' is not a proxy factory", obj.id())
                        })?;
                        self.refs.push((obj.id().to_string(), inv));
                    } else {
                        let url = item
                            .to_string_value()
                            .map_err(|e| ContextError::from(format!("property 'service_urls': {e}")))?;
                        // Checked now: a URL no protocol claims is an error at this line.
                        self.protocols
                            .for_url(&url)
                            .map_err(|e| ContextError::from(format!("property 'service_urls': {e}")))?;
                        self.urls.push(url);
                    }
                }
            }
            "discovery" => {
                let v = value
                    .to_string_value()
                    .map_err(|e| ContextError::from(format!("property 'discovery': {e}")))?;
                self.directories
                    .for_url(&v)
                    .and_then(|d| d.check(&v, Role::Follow))
                    .map_err(|e| ContextError::from(format!("property 'discovery': {e}")))?;
                self.source = Some(v);
            }
            "weights" => {
                let entries = value
                    .as_dict()
                    .ok_or("property 'weights' expects a <dict> of URL (or ref id) to weight")?;
                for (k, v) in entries {
                    let w = u32::try_from(v.to_i64()?)
                        .ok()
                        .filter(|w| *w > 0)
                        .ok_or_else(|| ContextError::from(format!("weights: {k}: a weight is a whole number of 1 or more")))?;
                    self.weights.push((k.clone(), w));
                }
            }
            "idempotent_methods" => {
                c.idempotent = list_of_text(name, &value)?.into_iter().collect();
            }
            "balance" => {
                let v = value.to_string_value()?;
                c.balance = Balance::parse(&v).ok_or_else(|| {
                    format!("balance {v:?}: expected round_robin, weighted_random, least_active or consistent_hash[:N]")
                })?;
            }
            "mode" => self.mode = value.to_string_value()?,
            "retries" => {
                self.retries = u32::try_from(value.to_i64()?)
                    .map_err(|_| "property 'retries' must be 0 or more".to_string())?
            }
            "forks" => {
                self.forks = usize::try_from(value.to_i64()?)
                    .map_err(|_| "property 'forks' must be 1 or more".to_string())?
            }
            "deadline" => c.deadline = Some(seconds(name, &value)?),
            "retry_backoff" => c.retry_backoff = Some(seconds(name, &value)?),
            "eject_after" => {
                c.health.eject_after = u32::try_from(value.to_i64()?)
                    .map_err(|_| "property 'eject_after' must be 1 or more".to_string())?
                    .max(1)
            }
            "ejection" => c.health.base_ejection = seconds(name, &value)?,
            "max_ejection" => c.health.max_ejection = seconds(name, &value)?,
            "probe_timeout" => c.health.probe_timeout = seconds(name, &value)?,
            "stall_check_after" => {
                c.health.stall_check_after = if value.is_none() {
                    None
                } else {
                    Some(seconds(name, &value)?)
                }
            }
            "discovery_interval" => self.interval = seconds(name, &value)?,
            "timeout" => self.options.timeout = timeout_prop(name, &value)?,
            "serializer" => self.options.serializer = text_prop(name, &value)?,
            "interceptors" => self.interceptors = interceptors_prop(name, &value)?,
            "attempt_interceptors" => self.attempt_interceptors = interceptors_prop(name, &value)?,
            "methods" => self.methods = Some(text_list_prop(name, &value)?),
            "protocol" => self.protocol = text_prop(name, &value)?,
            other => {
                return Err(format!(
                    "has no property '{other}' (expected one of service_urls, weights, discovery, discovery_interval, idempotent_methods, balance, mode, retries, forks, deadline, retry_backoff, eject_after, ejection, max_ejection, probe_timeout, stall_check_after, timeout, serializer, interceptors, attempt_interceptors, methods, protocol)"
                ).into())
            }
        }
        Ok(())
    }

    fn after_properties_set(&self, init: &InitContext) -> Result<(), ContextError> {
        let _ = self.name.set(init.object_id().to_string());
        if self.urls.is_empty() && self.refs.is_empty() && self.source.is_none() {
            return Err(ContextError::from(
                "a pool needs service_urls or a discovery source",
            ));
        }
        self.lazy().map(|_| ())
    }

    fn invoker(&self) -> Option<Arc<dyn Invoker>> {
        if let Some(w) = self.wrapped.get() {
            return Some(w.clone());
        }
        match self.lazy() {
            Ok(p) => {
                // The observers (a pool span, pool metrics) outermost, then the user's
                // interceptors; each attempt is a member proxy's call, observed on its own.
                let name = self.name.get().map(String::as_str).unwrap_or("pool");
                let w = tether_remoting::observe::observe_invoker(
                    tether_remoting::observe::CallSite::pool(name),
                    tether_remoting::Intercepted::wrap(&self.interceptors, p as Arc<dyn Invoker>),
                );
                Some(self.wrapped.get_or_init(|| w).clone())
            }
            Err(e) => {
                tracing::error!(target: "tether.cluster", "{e}");
                None
            }
        }
    }

    /// Exported, the pool forwards: a gateway in front of every member.
    fn dispatcher(&self) -> Option<Arc<dyn tether_core::Dispatch>> {
        let target = self.invoker()?;
        let d = self
            .forward
            .get_or_init(|| tether_remoting::gateway::forwarder(target, self.methods.as_deref()));
        Some(d.clone())
    }
}
