//! [`Daemon`]: the Pyro5 server. It owns a listening socket and a table of objects
//! (`object id → Arc<dyn Dispatch>`), and serves every connection in its own task.
//!
//! - `mod.rs` (this file): configuration, the public handle, binding, accepting, shutdown.
//! - `session.rs`: one connection: handshake, then INVOKE/PING until the peer leaves.
//! - `route.rs`: one call: exposure checks, attributes, batches, the `Pyro.Daemon` object,
//!   and running the service method in its own task so a panic becomes an error reply.
//! - `objects.rs`: the object table, and the object each connection called last (reused while
//!   the table is unchanged, so a call takes no shared lock and clones no `Arc`).
//! - `streams.rs`: open item streams (results of methods that return iterators), read with
//!   `Pyro.Daemon.get_next_stream_item` and closed with `close_stream`, as in Python.
//!
//! Behaviour follows Python's `Pyro5.server.Daemon`, with
//! one documented choice: a reply carries the correlation id (flag 0x40) only when the request
//! did; Python invents a fresh uuid4 for every reply that had none, which no client reads.

mod conns;
mod latch;
mod objects;
#[cfg(feature = "pyro3")]
mod pyro3;
mod quiet;
mod route;
mod session;
mod streams;

use crate::serializer::{Limits, Serializer};
use crate::socket::Socket;
use crate::uri::Location;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tether_core::stats::ServerStats;
use tether_core::{Dispatch, RemoteError, Value};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{watch, Semaphore};

/// The id of the daemon's own object, present in every daemon.
pub const DAEMON_OBJECT_ID: &str = "Pyro.Daemon";

/// Daemon settings. Build with struct-update syntax (`DaemonConfig { port: 0,
/// ..Default::default() }`), so fields added later don't break callers.
#[derive(Clone, Debug)]
pub struct DaemonConfig {
    /// Host name or address to bind (and to put in URIs). Default `"localhost"`, like Pyro's
    /// `HOST`. Ignored by [`Daemon::bind_unix`].
    pub host: String,
    /// Port to bind; 0 (the default) lets the OS pick one, see [`Daemon::local_addr`].
    pub port: u16,
    /// Host to advertise in URIs instead of `host` (Pyro's NAT host), e.g. when binding
    /// `0.0.0.0`. Default `None`.
    pub advertised_host: Option<String>,
    /// Most bytes of annotations + payload in one message, checked on receive before anything
    /// is allocated and on send. Default 64 MiB (Pyro's default of 1 GiB lets one client pin a
    /// gigabyte; raise it if you really ship such payloads).
    pub max_message_size: usize,
    /// Most connections served at once. When they are all taken, the established connection
    /// idle the longest (at least `shed_idle_after`, default 0; with no call running) is closed to make
    /// room; only when there is none does a new client get CONNECTFAIL. Default 1024.
    pub max_connections: usize,
    /// Limits for the payload decoders (nesting depth, item count). Default [`Limits::default`].
    pub limits: Limits,
    /// Close a connection that sends nothing for this long. Default `None`: wait forever, as
    /// Pyro does (`COMMTIMEOUT=0`); Python proxies don't reconnect when an idle connection is
    /// closed, so only set this when all clients can cope.
    pub idle_timeout: Option<Duration>,
    /// Most time from the first to the last byte of one message, so a stalled or dribbling
    /// peer is dropped. Default 30 s.
    pub frame_timeout: Duration,
    /// Most time between accepting a connection and receiving its CONNECT. Default 10 s.
    pub handshake_timeout: Duration,
    /// How long a new client may stay silent before it is taken for a Pyro 3 client (which
    /// waits for the server to speak first) and challenged, or, without [`Self::pyro3`]-style
    /// support, told `DENIED0` and closed. Pyro4 and Pyro5 clients speak at once, so this
    /// delays only Pyro 3 connects. Default 500 ms.
    pub silent_client_wait: Duration,
    /// Answer Pyro 3 clients on this port (see [`Self::silent_client_wait`]), with these
    /// settings. Default `None`: silent clients get `DENIED0`. Only with the `pyro3` feature.
    #[cfg(feature = "pyro3")]
    pub pyro3: Option<crate::pyro3::Pyro3Settings>,
    /// Deadline for one call; when it passes the client gets `Pyro5.errors.TimeoutError` and
    /// the call's task is aborted. Default `None` (no deadline).
    pub call_timeout: Option<Duration>,
    /// How long [`Daemon::shutdown`] lets in-flight calls finish before closing connections
    /// anyway. Default 5 s.
    pub shutdown_grace: Duration,
    /// Compress reply payloads over 100 bytes with zlib (Pyro's `COMPRESSION`). Default
    /// `false`, as in Pyro; compressed requests are always accepted.
    pub compress_replies: bool,
    /// Checks the `handshake` data of every CONNECT (Pyro's `Daemon.validateHandshake`).
    /// Default `None`: every client is accepted and gets `"hello"` back, as in Pyro.
    pub handshake: Option<HandshakeValidator>,
    /// Serve TLS (the shared `tether-tls` layer: certificates, client-certificate
    /// requirement, `verify_fields`). The TLS handshake runs on the connection's own task
    /// under the TLS settings' handshake timeout, and the verified client subject reaches
    /// services in [`tether_core::CallContext::tls_subject`]. Default `None`: plain TCP.
    /// Python clients connect with Pyro's `SSL=True` (and `SSL_CACERTS`, `SSL_CLIENTCERT`, ...).
    pub tls: Option<tether_tls::ServerTls>,
    /// Most open item streams (results of methods that return a stream) one connection may
    /// hold; opening another answers `PyroError('too many open item streams ...')` and drops
    /// the new stream. Default 100. Python has no such limit; without one a client that
    /// opens streams and never reads them makes the server hold them forever.
    pub max_streams_per_connection: usize,
    /// Most open item streams in the whole daemon, lingering ones included. Default 10,000.
    pub max_streams: usize,
    /// Drop a stream this long after it was created, read or not (Pyro's
    /// `ITER_STREAM_LIFETIME`, also counted from creation). Default `None`: never, as Pyro's 0.
    pub stream_lifetime: Option<Duration>,
    /// Keep a disconnected client's streams this long, so it can reconnect and go on reading
    /// them (Pyro's `ITER_STREAM_LINGER`). Default 30 s, as in Pyro; zero drops them when the
    /// connection closes. Lingering streams still count against `max_streams`.
    pub stream_linger: Duration,
    /// Most oneway calls of one connection running at once. When they are all busy the
    /// connection is not read until one finishes (back-pressure: a client streaming oneway
    /// calls at a slow method waits instead of growing the server). Default 16.
    pub max_oneway_per_connection: usize,
    /// Most oneway calls running at once in the whole daemon, with the same back-pressure.
    /// Default 1024.
    pub max_oneway_calls: usize,
    /// Most connections still in their handshake (no CONNECT yet). A new connection beyond it
    /// closes the oldest of them, so silent sockets cannot keep new clients out. Default 256.
    pub max_pending_handshakes: usize,
    /// Most bytes all connections together may hold for incoming messages larger than 8 KiB
    /// while they arrive; a client whose message does not fit is told the server is busy and
    /// closed. Small messages never count. Default 256 MiB.
    pub max_buffered_bytes: usize,
    /// Most time one reply may take to write; a client that stops reading is dropped instead
    /// of pinning the reply's buffer. Default 30 s.
    pub write_timeout: Duration,
    /// How long an established connection must have been idle before it may be closed to
    /// make room for a new client. Default 0: a new client is served at once whenever a
    /// connection with no call running can be closed (the longest idle goes first); raise it
    /// to spare clients that pause between calls, at the price of refusing new ones meanwhile.
    pub shed_idle_after: Duration,
    /// Also answer Pyro4 clients (protocol 48) on the same port, each in its own wire (the
    /// first six bytes of a connection tell them apart; see [`crate::wire`]). Default `true`.
    pub pyro4: bool,
    /// Pyro4's shared HMAC key (`_pyroHmacKey`): every Pyro4 message must be signed with it,
    /// and Pyro5 clients, which cannot sign, are refused with CONNECTFAIL. Default `None`:
    /// no signing; a Pyro4 client that signs is refused, as Pyro4 does.
    pub hmac_key: Option<crate::pyro4::HmacKey>,
    /// The serializers a Pyro4 client may use (Pyro4's `SERIALIZERS_ACCEPTED`); any other is
    /// refused at CONNECT, in Pyro4's words, and a call in one closes the connection. Default
    /// serpent, marshal and json, as Pyro4's daemon (add [`Serializer::Msgpack`] as Pyro4
    /// users add `msgpack`). Pyro5 clients may use any of the four: Pyro5's daemon has no such
    /// setting.
    pub pyro4_serializers_accepted: Vec<Serializer>,
    /// How many times its compressed size a received payload may inflate to, checked while
    /// inflating (never more than `max_message_size`; 1 MiB is always allowed). Default 100:
    /// a zlib bomb is refused after a few milliseconds of work.
    pub max_inflate_ratio: usize,
}

/// A semaphore size from a configured count: at least 1, at most what a semaphore holds.
pub(crate) fn bounded_permits(n: usize) -> usize {
    n.clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize))
}

/// Decides whether a client may connect, from the `handshake` value its CONNECT carries
/// (a Python client sets it with `proxy._pyroHandshake = ...`, a tether one with
/// [`crate::Proxy::with_handshake`]). `Ok(reply)` accepts, and `reply` travels back in
/// CONNECTOK; `Err(reason)` refuses with CONNECTFAIL and the reason, which the client reports
/// as "connection ... rejected: reason".
#[derive(Clone)]
pub struct HandshakeValidator(Arc<ValidateFn>);

/// The validation function behind a [`HandshakeValidator`].
// The error is the reason Pyro's handshake sends the refused client, as text.
type ValidateFn = dyn Fn(&Value) -> Result<Value, String> + Send + Sync;

impl HandshakeValidator {
    /// Wraps a validation function.
    pub fn new(f: impl Fn(&Value) -> Result<Value, String> + Send + Sync + 'static) -> Self {
        HandshakeValidator(Arc::new(f))
    }

    pub(crate) fn validate(&self, data: &Value) -> Result<Value, String> {
        (self.0)(data)
    }
}

impl std::fmt::Debug for HandshakeValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HandshakeValidator(..)")
    }
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            host: "localhost".to_string(),
            port: 0,
            advertised_host: None,
            max_message_size: 64 * 1024 * 1024,
            max_connections: 1024,
            limits: Limits::default(),
            idle_timeout: None,
            frame_timeout: Duration::from_secs(30),
            pyro4: true,
            hmac_key: None,
            pyro4_serializers_accepted: vec![
                Serializer::Serpent,
                Serializer::Marshal,
                Serializer::Json,
            ],
            handshake_timeout: Duration::from_secs(10),
            silent_client_wait: Duration::from_millis(500),
            #[cfg(feature = "pyro3")]
            pyro3: None,
            call_timeout: None,
            shutdown_grace: Duration::from_secs(5),
            compress_replies: false,
            handshake: None,
            tls: None,
            max_streams_per_connection: 100,
            max_streams: 10_000,
            max_oneway_per_connection: 16,
            max_oneway_calls: 1024,
            max_pending_handshakes: 256,
            write_timeout: Duration::from_secs(30),
            max_buffered_bytes: 256 << 20,
            shed_idle_after: Duration::ZERO,
            max_inflate_ratio: crate::message::DEFAULT_INFLATE_RATIO,
            stream_lifetime: None,
            stream_linger: Duration::from_secs(30),
        }
    }
}

impl DaemonConfig {
    fn stream_limits(&self) -> streams::StreamLimits {
        streams::StreamLimits {
            per_connection: self.max_streams_per_connection,
            total: self.max_streams,
            lifetime: self.stream_lifetime,
            linger: self.stream_linger,
        }
    }
}

/// Lifecycle states, published on a watch channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum State {
    /// Accepting and serving.
    Running,
    /// Not accepting; sessions finish their current call and close.
    Stopping,
    /// Grace period over: sessions abort whatever they are doing.
    Closing,
    /// Everything is closed.
    Stopped,
}

/// State shared by the accept loop, all sessions and all handles.
pub(crate) struct Shared {
    pub(crate) config: DaemonConfig,
    pub(crate) objects: objects::ObjectTable,
    pub(crate) location: Location,
    pub(crate) local_addr: Option<SocketAddr>,
    pub(crate) state: watch::Sender<State>,
    /// One permit per open connection; shutdown acquires them all to know every session ended.
    pub(crate) permits: Arc<Semaphore>,
    /// One permit per running oneway call ([`DaemonConfig::max_oneway_calls`]).
    pub(crate) oneway_permits: Arc<Semaphore>,
    unix_path: Option<PathBuf>,
    /// Set by the accept loop once its listener is dropped (the address is free again).
    listener_closed: watch::Sender<bool>,
    /// Open item streams.
    pub(crate) streams: streams::StreamTable,
    /// Open connections, for shedding when full.
    pub(crate) conns: conns::ConnTable,
    /// Rate limit of the warnings clients cause.
    pub(crate) warn_limit: quiet::WarnLimit,
    /// Bytes of large incoming messages all connections may hold ([`DaemonConfig::max_buffered_bytes`]).
    pub(crate) budget: Arc<crate::connection::ByteBudget>,
    /// Source of connection ids (stream ownership).
    next_conn: AtomicU64,
    /// Connections, shedding, refusals and back-pressure, for the metrics endpoint.
    pub(crate) stats: Arc<tether_core::stats::ServerStats>,
}

impl Shared {
    pub(crate) fn object(&self, id: &str) -> Option<Arc<dyn Dispatch>> {
        self.objects.get(id)
    }

    pub(crate) fn object_ids(&self) -> Vec<String> {
        let mut ids = vec![DAEMON_OBJECT_ID.to_string()];
        let mut rest = self.objects.ids();
        rest.sort();
        ids.extend(rest);
        ids
    }

    /// Moves the lifecycle on to `to` (states only advance) and tells every session.
    fn advance(&self, to: State) {
        self.state.send_if_modified(|s| {
            if *s < to {
                *s = to;
                true
            } else {
                false
            }
        });
        // After the state is published: a connection opened meanwhile either is in the table
        // now or reads the new state itself (`open_conn`).
        self.conns.raise_all(latch::bits_of(*self.state.borrow()));
    }

    /// Registers a new connection, its latch already raised if the daemon is stopping.
    pub(crate) fn open_conn(&self, id: u64) -> Arc<conns::ConnEntry> {
        let entry = self.conns.open(id);
        entry.latch.raise(latch::bits_of(*self.state.borrow()));
        entry
    }

    pub(crate) fn new_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    fn max_permits(&self) -> u32 {
        self.config
            .max_connections
            .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize)) as u32
    }
}

/// Signals the accept loop and sessions to stop when the last [`Daemon`] handle is dropped.
struct Handle {
    shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.advance(State::Stopping);
    }
}

/// A running Pyro5 server. Cheap to clone; dropping the last clone stops it (like
/// [`Daemon::shutdown`], without waiting).
#[derive(Clone)]
pub struct Daemon {
    handle: Arc<Handle>,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("location", &self.handle.shared.location)
            .finish()
    }
}

impl Daemon {
    /// Binds a TCP listener on `config.host:config.port` now (so bind errors surface here) and
    /// serves it in a spawned task. Must be called inside a tokio runtime.
    pub async fn bind(config: DaemonConfig) -> Result<Daemon, RemoteError> {
        let host = config
            .host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let listener = tether_core::net::bind_tcp(&config.host, config.port).await?;
        let local = listener.local_addr()?;
        let uri_host = config
            .advertised_host
            .clone()
            .unwrap_or_else(|| host.clone());
        let location = Location::Tcp {
            host: uri_host,
            port: local.port(),
        };
        let shared = Self::shared(config, location, Some(local), None);
        tokio::spawn(accept_loop(shared.clone(), Listener::Tcp(listener)));
        tokio::spawn(housekeeper(Arc::downgrade(&shared)));
        tracing::info!(target: "tether::pyro::daemon", "daemon bound on {local}");
        Ok(Daemon {
            handle: Arc::new(Handle { shared }),
        })
    }

    /// Binds a Unix domain socket at `path` (an existing socket file there is replaced) and
    /// serves it in a spawned task. URIs look like `PYRO:obj@./u:/path`.
    pub async fn bind_unix(
        path: impl AsRef<Path>,
        config: DaemonConfig,
    ) -> Result<Daemon, RemoteError> {
        let path = path.as_ref().to_path_buf();
        if let Ok(meta) = std::fs::symlink_metadata(&path) {
            use std::os::unix::fs::FileTypeExt;
            if meta.file_type().is_socket() {
                let _ = std::fs::remove_file(&path);
            }
        }
        let listener = UnixListener::bind(&path).map_err(|e| {
            RemoteError::connection(format!("cannot bind unix socket {}: {e}", path.display()))
        })?;
        let location = Location::Unix(path.to_string_lossy().into_owned());
        let shared = Self::shared(config, location, None, Some(path));
        tokio::spawn(accept_loop(shared.clone(), Listener::Unix(listener)));
        tokio::spawn(housekeeper(Arc::downgrade(&shared)));
        Ok(Daemon {
            handle: Arc::new(Handle { shared }),
        })
    }

    fn shared(
        config: DaemonConfig,
        location: Location,
        local_addr: Option<SocketAddr>,
        unix_path: Option<PathBuf>,
    ) -> Arc<Shared> {
        let (state, _) = watch::channel(State::Running);
        let config_oneway = config.max_oneway_calls;
        let config_budget = config.max_buffered_bytes;
        let permits = config
            .max_connections
            .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        let address = match (&local_addr, &unix_path) {
            (Some(a), _) => a.to_string(),
            (None, Some(p)) => p.display().to_string(),
            (None, None) => String::new(),
        };
        Arc::new(Shared {
            stats: tether_core::stats::ServerStats::registered("pyro", address),
            config,
            objects: objects::ObjectTable::default(),
            location,
            local_addr,
            state,
            permits: Arc::new(Semaphore::new(permits)),
            oneway_permits: Arc::new(Semaphore::new(bounded_permits(config_oneway))),
            unix_path,
            listener_closed: watch::channel(false).0,
            streams: streams::StreamTable::default(),
            conns: conns::ConnTable::default(),
            warn_limit: quiet::WarnLimit::default(),
            budget: crate::connection::ByteBudget::new(config_budget),
            next_conn: AtomicU64::new(1),
        })
    }

    /// How many item streams are open (lingering ones included); for tests and monitoring.
    pub fn open_streams(&self) -> usize {
        self.handle.shared.streams.len()
    }

    /// The bound TCP address (with the real port when 0 was asked); `None` for Unix sockets.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.handle.shared.local_addr
    }

    /// Registers `object` under `object_id` and returns its URI. An empty id gets a generated
    /// `obj_<uuid>` one, as in Pyro. Fails if the id is taken or is `Pyro.Daemon`.
    pub fn register(
        &self,
        object_id: &str,
        object: Arc<dyn Dispatch>,
    ) -> Result<String, RemoteError> {
        let id = if object_id.is_empty() {
            format!("obj_{}", uuid::Uuid::new_v4().simple())
        } else {
            object_id.to_string()
        };
        let daemon_error = |m: &str| RemoteError::exception("Pyro5.errors.DaemonError", m);
        if id == DAEMON_OBJECT_ID {
            return Err(daemon_error(
                "an object or class is already registered with that id",
            ));
        }
        match self.handle.shared.objects.insert(id.clone(), object) {
            Ok(()) => Ok(self.uri_for(&id)),
            Err(objects::InsertError::Taken) => Err(daemon_error(
                "an object or class is already registered with that id",
            )),
            Err(objects::InsertError::Poisoned) => Err(daemon_error("object table poisoned")),
        }
    }

    /// Removes an object; true if it was registered. New calls to it get `unknown object`.
    pub fn unregister(&self, object_id: &str) -> bool {
        self.handle.shared.objects.remove(object_id)
    }

    /// The URI of `object_id` on this daemon (whether or not it is registered).
    pub fn uri_for(&self, object_id: &str) -> String {
        format!("PYRO:{object_id}@{}", self.handle.shared.location)
    }

    /// The location part of this daemon's URIs (`host:port` or `./u:/path`).
    pub fn location(&self) -> String {
        self.handle.shared.location.to_string()
    }

    /// Graceful shutdown: stop accepting (the listening socket is closed, and its address free,
    /// when this returns), let in-flight calls finish (up to `config.shutdown_grace`), then
    /// close every connection. Idempotent; concurrent callers
    /// all return once the daemon is stopped.
    pub async fn shutdown(&self) {
        let shared = &self.handle.shared;
        shared.advance(State::Stopping);
        // The listener is gone before shutdown returns, so the address can be bound again.
        let mut closed = shared.listener_closed.subscribe();
        let _ = tokio::time::timeout(Duration::from_secs(2), closed.wait_for(|c| *c)).await;
        let all = shared.max_permits();
        let grace = shared.config.shutdown_grace;
        let drained = tokio::time::timeout(grace, shared.permits.acquire_many(all)).await;
        if drained.is_err() {
            tracing::warn!(target: "tether::pyro::daemon", "shutdown grace period over, closing busy connections");
            shared.advance(State::Closing);
            let _ = tokio::time::timeout(Duration::from_secs(1), shared.permits.acquire_many(all))
                .await;
        }
        drop(drained);
        if let Some(path) = &shared.unix_path {
            let _ = std::fs::remove_file(path);
        }
        shared.streams.clear();
        shared.advance(State::Stopped);
    }

    /// Resolves once the daemon has been shut down (by [`Daemon::shutdown`] from anywhere, e.g.
    /// after the echo service's `shutdown()` was called remotely).
    pub async fn wait(&self) {
        let mut rx = self.handle.shared.state.subscribe();
        let _ = rx.wait_for(|s| *s == State::Stopped).await;
    }
}

/// Pyro's housekeeping: drops item streams past their lifetime or linger time, once a
/// second while any is open, and all of them when the daemon stops. Holds the daemon only
/// weakly.
///
/// While no stream is open it waits for one (or for the daemon's state to change) with no
/// timer: a pending timer, however distant, makes every park of the runtime's workers pass a
/// timeout to `epoll_wait`, and the kernel then arms and cancels a timer of its own each time
/// (≈ 0.3 µs a call on a server whose worker sleeps between calls).
async fn housekeeper(weak: Weak<Shared>) {
    let Some((opened, mut state)) = weak
        .upgrade()
        .map(|s| (s.streams.opened(), s.state.subscribe()))
    else {
        return;
    };
    loop {
        let idle = {
            let Some(shared) = weak.upgrade() else {
                break;
            };
            if *shared.state.borrow() != State::Running {
                shared.streams.clear();
                break;
            }
            shared.streams.sweep(&shared.config.stream_limits());
            shared.streams.len() == 0
        };
        if idle {
            tokio::select! {
                _ = opened.notified() => {}
                changed = state.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    continue;
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

impl Listener {
    async fn accept(&self) -> std::io::Result<(Socket, String)> {
        match self {
            Listener::Tcp(l) => {
                let (s, peer) = l.accept().await?;
                Ok((Socket::tcp(s)?, peer.to_string()))
            }
            Listener::Unix(l) => {
                let (s, _) = l.accept().await?;
                Ok((Socket::Unix(s), "unix".to_string()))
            }
        }
    }
}

async fn accept_loop(shared: Arc<Shared>, listener: Listener) {
    let mut state = shared.state.subscribe();
    loop {
        let accepted = tokio::select! {
            _ = state.wait_for(|s| *s != State::Running) => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off briefly instead of spinning.
                quiet::warn_limited!(shared.warn_limit, "accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Too many sockets that have not said CONNECT yet: the oldest makes room.
        if shared.conns.pending() >= shared.config.max_pending_handshakes.max(1)
            && shared.conns.shed_pending()
        {
            ServerStats::bump(&shared.stats.shed);
        }
        match shared.permits.clone().try_acquire_owned() {
            Ok(permit) => {
                tokio::spawn(session::run(shared.clone(), stream, peer, permit));
            }
            Err(_) => {
                let idle_ms = shared.config.shed_idle_after.as_millis() as u64;
                if shared.conns.shed_idle(idle_ms) || shared.conns.shed_pending() {
                    ServerStats::bump(&shared.stats.shed);
                    // A connection is closing; its permit comes back in a moment.
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        let wait = Duration::from_secs(2);
                        match tokio::time::timeout(wait, shared.permits.clone().acquire_owned())
                            .await
                        {
                            Ok(Ok(permit)) => session::run(shared, stream, peer, permit).await,
                            _ => {
                                ServerStats::bump(&shared.stats.refused);
                                session::refuse(shared, stream).await
                            }
                        }
                    });
                } else {
                    quiet::warn_limited!(shared.warn_limit, %peer, "connection limit reached, refusing");
                    ServerStats::bump(&shared.stats.refused);
                    tokio::spawn(session::refuse(shared.clone(), stream));
                }
            }
        }
    }
    drop(listener);
    shared.listener_closed.send_replace(true);
    tracing::debug!(target: "tether::pyro::daemon", "accept loop ended");
}
