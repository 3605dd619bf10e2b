//! [`DaemonHolder`]: one server per (protocol, resolved address), shared by every exporter on
//! it, as Spring Python's `PyroDaemonHolder` does, with its log lines.
//!
//! Differences on purpose: the holder is an object (each context has its own, the programmatic
//! API uses [`DaemonHolder::global`]) instead of module state; binding fails on an address in
//! use instead of scanning upward for a free port; shutdown is explicit and graceful
//! ([`DaemonHolder::shutdown_all`] waits for in-flight calls).

use crate::error::{TransportError, TransportErrorKind};
use crate::options::ServerOptions;
use crate::protocol::{ClassFamily, ExportServer, LogSite, Protocol};
use std::collections::{BTreeSet, HashMap};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex, OnceLock};
use tether_core::Dispatch;
use tokio::task::JoinHandle;

type Key = (&'static str, SocketAddr);

struct Slot {
    server: Arc<dyn ExportServer>,
    names: BTreeSet<String>,
    family: ClassFamily,
    options: ServerOptions,
    /// The object id of the exporter that started the server (for conflict messages).
    owner: String,
}

#[derive(Default)]
struct State {
    slots: HashMap<Key, Slot>,
    retiring: Vec<JoinHandle<()>>,
}

/// The servers of one context (or of the process, for the programmatic API).
#[derive(Default)]
pub struct DaemonHolder {
    state: Mutex<State>,
}

impl std::fmt::Debug for DaemonHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DaemonHolder")
            .field("servers", &self.server_addrs())
            .finish()
    }
}

/// Where one exporter is registered; give it back to [`DaemonHolder::deregister`].
#[derive(Clone, Debug)]
pub struct Registration {
    key: Key,
    /// The exported name.
    pub name: String,
    /// The object's URI (`PYRO:name@host:port`).
    pub uri: String,
    /// The bound address of the server (the real port when 0 was configured).
    pub local_addr: SocketAddr,
    /// The host as configured (for log lines).
    pub host: String,
    /// The port as configured.
    pub port: u16,
    family: ClassFamily,
}

fn log(family: &ClassFamily, site: LogSite, args: std::fmt::Arguments<'_>) {
    (family.log)(site, args)
}

/// Resolves a configured host and port the way `PyroDaemonHolder.resolve` does (IPv4 first),
/// so `localhost` and `127.0.0.1` share one server.
pub fn resolve(host: &str, port: u16) -> Result<SocketAddr, TransportError> {
    let bad = |m: String| TransportError::new(TransportErrorKind::Bind, m);
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| bad(format!("cannot resolve host {host:?}: {e}")))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| bad(format!("host {host:?} resolves to no address")))
}

impl DaemonHolder {
    /// A new, empty holder.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The process-wide holder of the programmatic API.
    pub fn global() -> Arc<Self> {
        static GLOBAL: OnceLock<Arc<DaemonHolder>> = OnceLock::new();
        GLOBAL.get_or_init(DaemonHolder::new).clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers `target` as `name` at `host:port` over `protocol`, starting a server there
    /// with `options` if none runs yet. `owner` is the exporter's object id: an exporter whose
    /// options differ from those the server was started with is refused, naming both.
    #[allow(clippy::too_many_arguments)]
    pub fn register(
        &self,
        family: &ClassFamily,
        protocol: &Arc<dyn Protocol>,
        owner: &str,
        name: &str,
        (host, port): (&str, u16),
        options: ServerOptions,
        target: Arc<dyn Dispatch>,
    ) -> Result<Registration, TransportError> {
        let word = family.word;
        log(
            family,
            LogSite::Holder,
            format_args!("Registering {name} at {host}:{port} with the {word} server"),
        );
        let addr = resolve(host, port)?;
        let key: Key = (protocol.server_key(), addr);
        let mut st = self.lock();
        match st.slots.entry(key) {
            std::collections::hash_map::Entry::Vacant(vacant) => {
                log(
                    family,
                    LogSite::Holder,
                    format_args!(
                        "{word} thread needs to be started at {}:{}",
                        addr.ip(),
                        addr.port()
                    ),
                );
                let server = protocol
                    .bind(&addr.ip().to_string(), addr, &options)
                    .map_err(|e| {
                        e.context(format_args!(
                            "cannot serve at {}:{}",
                            addr.ip(),
                            addr.port()
                        ))
                    })?;
                let bound = server.local_addr();
                log(
                    family,
                    LogSite::Thread,
                    format_args!(
                        "Starting up {word} server thread for {}:{}",
                        bound.ip(),
                        bound.port()
                    ),
                );
                vacant.insert(Slot {
                    server,
                    names: BTreeSet::new(),
                    family: *family,
                    options,
                    owner: owner.to_string(),
                });
            }
            std::collections::hash_map::Entry::Occupied(slot) => {
                let slot = slot.get();
                if slot.options != options {
                    let who = |id: &str| {
                        if id.is_empty() {
                            "(an exporter built in code)".to_string()
                        } else {
                            format!("'{id}'")
                        }
                    };
                    return Err(TransportError::new(
                        TransportErrorKind::Conflict,
                        format!(
                            "exporters {} and {} share {} address {}:{} but not its server options ({} differ); give them the same options or different ports",
                            who(&slot.owner),
                            who(owner),
                            protocol.name(),
                            addr.ip(),
                            addr.port(),
                            slot.options.difference(&options)
                        ),
                    ));
                }
            }
        }
        let slot = st
            .slots
            .get_mut(&key)
            .ok_or_else(|| TransportError::new(TransportErrorKind::Bind, "server vanished"))?;
        if slot.names.contains(name) {
            return Err(TransportError::new(
                TransportErrorKind::Conflict,
                format!(
                    "the name {name:?} is already exported at {}:{} (each exporter on one address needs its own service_name)",
                    addr.ip(),
                    addr.port()
                ),
            ));
        }
        let uri = slot.server.register(name, target)?;
        slot.names.insert(name.to_string());
        Ok(Registration {
            key,
            name: name.to_string(),
            uri,
            local_addr: slot.server.local_addr(),
            host: host.to_string(),
            port,
            family: *family,
        })
    }

    /// Removes one registration; the last one on an address shuts its server down (in the
    /// background; [`shutdown_idle`](Self::shutdown_idle) waits for it).
    pub fn deregister(&self, reg: &Registration) {
        let family = &reg.family;
        let word = family.word;
        log(
            family,
            LogSite::Holder,
            format_args!(
                "Deregistering {} at {}:{} with the {word} server",
                reg.name, reg.host, reg.port
            ),
        );
        let mut st = self.lock();
        let Some(slot) = st.slots.get_mut(&reg.key) else {
            return;
        };
        slot.server.unregister(&reg.name);
        slot.names.remove(&reg.name);
        if slot.names.is_empty() {
            let addr = reg.key.1;
            log(
                family,
                LogSite::Holder,
                format_args!("Shutting down thread on {}:{}", addr.ip(), addr.port()),
            );
            if let Some(slot) = st.slots.remove(&reg.key) {
                log(
                    family,
                    LogSite::Holder,
                    format_args!(
                        "Shutting down {} daemon at {}:{}",
                        word.to_lowercase(),
                        addr.ip(),
                        addr.port()
                    ),
                );
                let fut = slot.server.shutdown();
                match tokio::runtime::Handle::try_current() {
                    Ok(h) => st.retiring.push(h.spawn(fut)),
                    Err(_) => drop(fut),
                }
            }
        }
    }

    /// Waits until every server whose last exporter left has shut down.
    pub async fn shutdown_idle(&self) {
        let handles: Vec<JoinHandle<()>> = std::mem::take(&mut self.lock().retiring);
        for h in handles {
            let _ = h.await;
        }
    }

    /// Shuts every server down gracefully (in-flight calls finish) and waits.
    pub async fn shutdown_all(&self) {
        let slots: Vec<(Key, Slot)> = self.lock().slots.drain().collect();
        for ((_, addr), slot) in slots {
            let word = slot.family.word;
            log(
                &slot.family,
                LogSite::Holder,
                format_args!(
                    "Shutting down {} daemon at {}:{}",
                    word.to_lowercase(),
                    addr.ip(),
                    addr.port()
                ),
            );
            slot.server.shutdown().await;
            log(
                &slot.family,
                LogSite::Thread,
                format_args!(
                    "Signaling shutdown of {word} server thread for {}:{}",
                    addr.ip(),
                    addr.port()
                ),
            );
        }
        self.shutdown_idle().await;
    }

    /// The bound addresses of the running servers.
    pub fn server_addrs(&self) -> Vec<SocketAddr> {
        let mut v: Vec<SocketAddr> = self
            .lock()
            .slots
            .values()
            .map(|s| s.server.local_addr())
            .collect();
        v.sort();
        v
    }

    /// How many servers run.
    pub fn server_count(&self) -> usize {
        self.lock().slots.len()
    }
}
