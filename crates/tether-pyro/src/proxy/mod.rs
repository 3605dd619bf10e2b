//! [`Proxy`]: the Pyro5 client for one remote object, an [`Invoker`].
//!
//! It does what Python's `Pyro5.client.Proxy` does on the wire: connect lazily on the first
//! call (so building an application context does no network I/O), CONNECT with
//! `{'handshake': 'hello', 'object': id}`, learn the metadata from CONNECTOK (sets, lists or
//! `()`; falling back to `Pyro.Daemon.get_metadata` when it is empty), then one INVOKE per call
//! with the sequence number starting at 1, checking that each reply has the call's seq and
//! serializer. Calls to methods the server marks oneway (or [`Call::oneway`] calls) are sent
//! with flag 0x04 and no reply is read.
//!
//! Streamed results (the remote method returned an iterator or generator; the reply has flag
//! ITEMSTREAMRESULT and the stream id in annotation `STRM`): [`Proxy::invoke_stream`] returns a
//! lazy [`ValueStream`] that fetches one item per `Pyro.Daemon.get_next_stream_item` call on
//! this proxy's connection and sends `close_stream` (oneway) if it is dropped before the end,
//! as Python's `_StreamResultIterator` does. A plain [`Proxy::call`] of such a method collects
//! the items into a `Value::List` of at most [`Limits::max_items`]; past that the stream is
//! closed and the call fails, so an endless generator cannot exhaust the client's memory.
//!
//! One connection per proxy, calls serialized on it (clones share it). When a call fails on
//! the connection (socket error, timeout, protocol error, or the caller dropping the future)
//! the connection is discarded and the next call reconnects; the failed call itself is not
//! retried, because the server may already have run it.

mod call;
mod future;
mod session;
mod streams;

use session::read_reply;

use crate::exception;
use crate::message::Message;
use crate::metadata::Metadata;
use crate::pyro5::{flags, msg_type, Header, PING_SERIALIZER_ID};
use crate::serializer::{Limits, Serializer};
use crate::socket::Socket;
use crate::uri::{Location, PyroUri};
use crate::wire::{WireConnection, WireVersion};
use crate::DAEMON_OBJECT_ID;
use std::sync::Arc;
use std::time::Duration;
use tether_core::{
    BoxFuture, Call, Invoker, RemoteError, Reply, StreamSource, Value, ValueStream, GETATTR,
    SETATTR,
};
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::Mutex;

/// Settings, fixed once the proxy is built (the `with_*` methods make a new proxy).
#[derive(Clone, Debug)]
struct Settings {
    uri: String,
    target: PyroUri,
    serializer: Serializer,
    timeout: Option<Duration>,
    corr_id: Option<[u8; 16]>,
    handshake: Value,
    compress: bool,
    limits: Limits,
    max_message_size: usize,
    tls: Option<tether_tls::ClientTls>,
    wire: WireVersion,
    hmac: Option<crate::pyro4::HmacKey>,
}

/// The live connection and its handshake result.
struct Live {
    conn: WireConnection,
    /// The object id this connection's handshake was for (resolved, for PYRONAME/PYROMETA).
    object: String,
    meta: Metadata,
}

struct State {
    /// Boxed: a call holds it across awaits, and inline it would grow every call's future.
    live: Option<Box<Live>>,
    seq: u16,
}

/// A client for one Pyro object (`PYRO:obj@host:port`, `PYRO:obj@./u:/path`, `PYROLOC://…`).
#[derive(Clone)]
pub struct Proxy {
    settings: Arc<Settings>,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("uri", &self.settings.uri)
            .field("serializer", &self.settings.serializer)
            .finish()
    }
}

impl Proxy {
    /// Parses the URI; does no I/O. Defaults: serpent (Pyro's default), no timeout, no
    /// correlation id, 64 MiB message limit, default decoder [`Limits`].
    pub fn new(uri: &str) -> Result<Proxy, RemoteError> {
        let target = PyroUri::parse(uri)?;
        Ok(Proxy::from_settings(Settings {
            uri: uri.trim().to_string(),
            target,
            serializer: Serializer::Serpent,
            timeout: None,
            corr_id: None,
            handshake: Value::str("hello"),
            compress: false,
            limits: Limits::default(),
            max_message_size: 64 * 1024 * 1024,
            tls: None,
            wire: WireVersion::Pyro5,
            hmac: None,
        }))
    }

    fn from_settings(settings: Settings) -> Proxy {
        Proxy {
            settings: Arc::new(settings),
            state: Arc::new(Mutex::new(State { live: None, seq: 0 })),
        }
    }

    fn with(&self, f: impl FnOnce(&mut Settings)) -> Proxy {
        let mut s = (*self.settings).clone();
        f(&mut s);
        Proxy::from_settings(s)
    }

    /// Uses another serializer (a fresh, unconnected proxy).
    pub fn with_serializer(self, serializer: Serializer) -> Proxy {
        self.with(|s| s.serializer = serializer)
    }

    /// Bounds each call, including connecting and the handshake when the call needs them.
    /// On expiry the call fails with kind `Timeout` and the connection is dropped.
    pub fn with_timeout(self, timeout: Duration) -> Proxy {
        self.with(|s| s.timeout = Some(timeout))
    }

    /// Sends this correlation id (raw UUID bytes) with every message (flag 0x40).
    pub fn with_correlation_id(self, id: [u8; 16]) -> Proxy {
        self.with(|s| s.corr_id = Some(id))
    }

    /// Sends `data` as the CONNECT handshake (Pyro's `_pyroHandshake`, default `"hello"`), for
    /// servers that check it (see `DaemonConfig::handshake`).
    pub fn with_handshake(self, data: Value) -> Proxy {
        self.with(|s| s.handshake = data)
    }

    /// Compresses request payloads over 100 bytes with zlib (Pyro's `COMPRESSION=True`);
    /// every Pyro5 server inflates them. Off by default.
    pub fn with_compression(self, on: bool) -> Proxy {
        self.with(|s| s.compress = on)
    }

    /// Changes the message size limit (both ways).
    pub fn with_max_message_size(self, max: usize) -> Proxy {
        self.with(|s| s.max_message_size = max)
    }

    /// Changes the decoder limits for replies.
    pub fn with_limits(self, limits: Limits) -> Proxy {
        self.with(|s| s.limits = limits)
    }

    /// Connects over TLS (the shared `tether-tls` layer), checking the server's certificate
    /// against the URI's host; a Pyro5 daemon with `SSL=True` (Python) or
    /// [`crate::DaemonConfig::tls`] (tether) is on the other end.
    pub fn with_tls(self, tls: tether_tls::ClientTls) -> Proxy {
        self.with(|s| s.tls = Some(tls))
    }

    /// Speaks another wire version: [`WireVersion::Pyro4`] for a Python Pyro4 daemon (the
    /// `PYRO:` URIs look the same). Default Pyro5.
    pub fn with_wire(self, wire: WireVersion) -> Proxy {
        self.with(|s| s.wire = wire)
    }

    /// Signs every message with Pyro4's HMAC and requires signed replies (Pyro4's
    /// `_pyroHmacKey`). Used by the Pyro4 wire only (Pyro5 has no HMAC: use TLS).
    pub fn with_hmac_key(self, key: crate::pyro4::HmacKey) -> Proxy {
        self.with(|s| s.hmac = Some(key))
    }

    /// A proxy to another object with this one's settings (serializer, timeout, wire, key,
    /// TLS), e.g. for the name server that resolves this proxy's `PYRONAME:`.
    pub(crate) fn sibling(&self, uri: &str) -> Result<Proxy, RemoteError> {
        let target = PyroUri::parse(uri)?;
        Ok(self.with(|s| {
            s.uri = uri.to_string();
            s.target = target;
            s.corr_id = None;
            s.handshake = Value::str("hello");
        }))
    }

    /// The wire version spoken.
    pub fn wire(&self) -> WireVersion {
        self.settings.wire
    }

    /// The URI as given.
    pub fn uri(&self) -> &str {
        &self.settings.uri
    }

    /// The serializer in use.
    pub fn serializer(&self) -> Serializer {
        self.settings.serializer
    }

    /// Runs `fut` within the proxy's timeout and the call's deadline, whichever ends first.
    ///
    /// Not an `async fn`: one would keep `fut` both as its argument and inside the timeout,
    /// doubling the size of every call's future (which is copied into a box per call).
    ///
    /// The limit is worked out, and the timer made, when the future is first polled (as an
    /// `async fn` would), so a call's future can be made outside a runtime and awaited in one.
    fn bounded<'a, T: 'a>(
        &'a self,
        deadline: Option<std::time::Instant>,
        fut: impl std::future::Future<Output = Result<T, RemoteError>> + 'a,
    ) -> impl std::future::Future<Output = Result<T, RemoteError>> + 'a {
        future::Bounded::new(self, deadline, fut)
    }

    /// Connects and handshakes now (Python's `_pyroBind`); a no-op when connected.
    pub async fn connect(&self) -> Result<(), RemoteError> {
        self.bounded(None, async {
            let mut st = self.state.lock().await;
            if st.live.is_none() {
                let mut seq = st.seq;
                let live = self.open(&mut seq).await;
                st.seq = seq;
                st.live = Some(live?);
            }
            Ok(())
        })
        .await
    }

    /// Closes the connection (the next call reconnects).
    pub async fn close(&self) {
        if let Some(mut live) = self.state.lock().await.live.take() {
            live.conn.shutdown().await;
        }
    }

    /// The object's metadata from the handshake (connects if needed).
    pub async fn metadata(&self) -> Result<Metadata, RemoteError> {
        self.connect().await?;
        let st = self.state.lock().await;
        Ok(st.live.as_ref().map(|l| l.meta.clone()).unwrap_or_default())
    }

    /// Sends a MSG_PING and waits for the pong (nothing is deserialized).
    pub async fn ping(&self) -> Result<(), RemoteError> {
        self.bounded(None, async {
            let mut st = self.state.lock().await;
            let mut live = match st.live.take() {
                Some(l) if !l.conn.is_stale() => l,
                _ => self.open(&mut st.seq).await?,
            };
            let h = Header::new(msg_type::PING, PING_SERIALIZER_ID, 0, 0)
                .with_corr_id(self.settings.corr_id);
            live.conn
                .send(h, &[], |b| {
                    b.extend_from_slice(b"ping");
                    Ok(())
                })
                .await?;
            let reply = read_reply(&mut live.conn).await?;
            if reply.header.msg_type != msg_type::PING {
                return Err(RemoteError::protocol(format!(
                    "invalid msg type {} received (expected: 6)",
                    reply.header.msg_type
                )));
            }
            st.live = Some(live);
            Ok(())
        })
        .await
    }

    /// Calls a method (the [`Invoker`] entry point). A streamed result is collected into a
    /// `Value::List` (see the module docs).
    pub fn call(
        &self,
        call: Call,
    ) -> impl std::future::Future<Output = Result<Value, RemoteError>> + Send + '_ {
        let max = self.settings.limits.max_items;
        let kwargs_none = call.method == GETATTR || call.method == SETATTR;
        // Not an async block, for the reasons `exchange` and future.rs give: the call's future
        // holds the exchange once and never moves it.
        future::Called::new(self, max, self.exchange(call, kwargs_none, 0))
    }

    /// Calls a method whose result is iterated: a streamed result comes back as a lazy
    /// [`ValueStream`]; a list, tuple or set result streams its items; anything else is a
    /// `builtins.TypeError`.
    pub async fn invoke_stream(&self, call: Call) -> Result<ValueStream, RemoteError> {
        self.call_reply(call).await?.into_stream()
    }

    /// Reads an exposed attribute (`__getattr__`).
    pub async fn get_attr(&self, name: &str) -> Result<Value, RemoteError> {
        self.call(Call::get_attr(name)).await
    }

    /// Writes an exposed attribute (`__setattr__`).
    pub async fn set_attr(&self, name: &str, value: Value) -> Result<(), RemoteError> {
        self.call(Call::set_attr(name, value)).await.map(|_| ())
    }

    /// Sends several calls in one message (flag 0x08) and returns one result per call that
    /// ran: the server stops at the first exception, which is the last item then.
    pub async fn batch(
        &self,
        calls: Vec<Call>,
    ) -> Result<Vec<Result<Value, RemoteError>>, RemoteError> {
        let items = calls
            .into_iter()
            .map(|c| {
                let kwargs = c
                    .kwargs
                    .into_iter()
                    .map(|(k, v)| (Value::Str(k), v))
                    .collect();
                Value::Tuple(vec![
                    Value::Str(c.method),
                    Value::Tuple(c.args),
                    Value::Map(kwargs),
                ])
            })
            .collect();
        let reply = self
            .exchange(Call::new("<batch>", items), true, flags::BATCH)
            .await?
            .ok_or_else(|| RemoteError::protocol("no reply to a batch"))?;
        let value = self.decode_result(reply)?;
        let (Value::List(items) | Value::Tuple(items)) = value else {
            return Err(RemoteError::protocol("batch reply is not a list"));
        };
        Ok(items
            .into_iter()
            .map(|v| match exception::from_wrapper(&v) {
                Some(e) => Err(e),
                None => Ok(v),
            })
            .collect())
    }
}

impl Invoker for Proxy {
    fn invoke(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(self.call(call))
    }

    fn invoke_stream(&self, call: Call) -> BoxFuture<'_, Result<ValueStream, RemoteError>> {
        Box::pin(Proxy::invoke_stream(self, call))
    }

    fn invoke_reply(&self, call: Call) -> BoxFuture<'_, Result<tether_core::Reply, RemoteError>> {
        Box::pin(self.call_reply(call))
    }

    /// The metadata of the object's handshake (connects if needed).
    fn describe(&self) -> BoxFuture<'_, Result<Option<tether_core::Description>, RemoteError>> {
        Box::pin(async move {
            let m = self.metadata().await?;
            Ok(Some(tether_core::Description {
                methods: m.methods,
                oneway: m.oneway,
                attrs: m.attrs,
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call's future is boxed once per call by `Invoker::invoke`: kept within glibc's
    /// per-thread cache of small blocks (1032 bytes), its allocation stays on the fast path,
    /// and many calls in flight cost little memory.
    #[test]
    fn a_calls_future_is_small() {
        let p = Proxy::new("PYRO:echo@127.0.0.1:9").expect("uri");
        let f = p.call(Call::new("echo", vec![Value::str("x")]));
        assert!(
            std::mem::size_of_val(&f) <= 1024,
            "{}",
            std::mem::size_of_val(&f)
        );
    }

    /// The timeout's timer is made when the call is first polled: a call's future can be
    /// made outside a runtime and awaited in one.
    #[test]
    fn a_call_made_outside_a_runtime_runs_in_one() {
        let p = Proxy::new("PYRO:echo@127.0.0.1:1")
            .expect("uri")
            .with_timeout(Duration::from_secs(5));
        let f = p.call(Call::new("echo", vec![Value::str("x")]));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let e = rt.block_on(f).expect_err("nobody listens on port 1");
        assert_eq!(e.kind(), tether_core::ErrorKind::Connection, "{e}");
    }
}
