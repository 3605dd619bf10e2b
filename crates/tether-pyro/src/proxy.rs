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

use crate::connection::Connection;
use crate::exception;
use crate::message::Message;
use crate::metadata::Metadata;
use crate::pyro5::{flags, msg_type, Header, PING_SERIALIZER_ID};
use crate::serializer::{Limits, Serializer};
use crate::socket::Socket;
use crate::uri::{Location, PyroUri};
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
}

/// The live connection and its handshake result.
struct Live {
    conn: Connection<Socket>,
    /// The object id this connection's handshake was for (resolved, for PYRONAME/PYROMETA).
    object: String,
    meta: Metadata,
}

struct State {
    live: Option<Live>,
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

    /// The URI as given.
    pub fn uri(&self) -> &str {
        &self.settings.uri
    }

    /// The serializer in use.
    pub fn serializer(&self) -> Serializer {
        self.settings.serializer
    }

    async fn bounded<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T, RemoteError>>,
    ) -> Result<T, RemoteError> {
        match self.settings.timeout {
            Some(d) => tokio::time::timeout(d, fut).await.map_err(|_| {
                RemoteError::timeout(format!(
                    "call to {} timed out after {d:?}",
                    self.settings.uri
                ))
            })?,
            None => fut.await,
        }
    }

    /// Connects and handshakes now (Python's `_pyroBind`); a no-op when connected.
    pub async fn connect(&self) -> Result<(), RemoteError> {
        self.bounded(async {
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
        self.bounded(async {
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
    pub async fn call(&self, call: Call) -> Result<Value, RemoteError> {
        let max = self.settings.limits.max_items;
        self.call_reply(call).await?.into_value(max).await
    }

    /// Calls a method whose result is iterated: a streamed result comes back as a lazy
    /// [`ValueStream`]; a list, tuple or set result streams its items; anything else is a
    /// `builtins.TypeError`.
    pub async fn invoke_stream(&self, call: Call) -> Result<ValueStream, RemoteError> {
        self.call_reply(call).await?.into_stream()
    }

    /// Sends a call and returns its value or, for a streamed result, the remote stream.
    async fn call_reply(&self, call: Call) -> Result<Reply, RemoteError> {
        let kwargs_none = call.method == GETATTR || call.method == SETATTR;
        let Some(reply) = self.exchange(call, kwargs_none, 0).await? else {
            return Ok(Reply::Value(Value::None));
        };
        if reply.header.flags & flags::ITEMSTREAMRESULT == 0 {
            return self.decode_result(reply).map(Reply::Value);
        }
        let id = reply
            .annotation(b"STRM")
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        if id.is_empty() {
            return Err(RemoteError::protocol(
                "result of call is an iterator, but the server is not configured to allow streaming",
            ));
        }
        Ok(Reply::Stream(ValueStream::from_source(RemoteStream {
            proxy: self.clone(),
            id: Some(id),
        })))
    }

    /// Fetches the next item of stream `id`; `None` at its end (`StopIteration`).
    async fn next_stream_item(&self, id: &str) -> Option<Result<Value, RemoteError>> {
        let call = Call::new("get_next_stream_item", vec![Value::str(id)]);
        let reply = match self
            .exchange_to(call, false, 0, Some(DAEMON_OBJECT_ID))
            .await
        {
            Ok(Some(reply)) => reply,
            Ok(None) => {
                return Some(Err(RemoteError::protocol(
                    "no reply to get_next_stream_item",
                )))
            }
            Err(e) => return Some(Err(e)),
        };
        match self.decode_result(reply) {
            Ok(v) => Some(Ok(v)),
            Err(e) if e.class() == Some("builtins.StopIteration") => None,
            Err(e) => Some(Err(e)),
        }
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

    fn decode_result(&self, mut reply: Message) -> Result<Value, RemoteError> {
        let detached = reply.take_detached();
        let value = self.settings.serializer.decode_detached(
            &reply.payload,
            detached,
            &self.settings.limits,
        )?;
        let f = reply.header.flags;
        if f & flags::ITEMSTREAMRESULT != 0 {
            return Err(RemoteError::protocol(
                "unexpected streamed result (an iterator inside a batch, metadata or stream item)",
            ));
        }
        if f & flags::EXCEPTION != 0 {
            return Err(exception::from_value(&value));
        }
        Ok(value)
    }

    /// The INVOKE payload, built by moving the call's values (no copy of large arguments):
    /// `(object, method, vargs, kwargs)`, or json's `{"object", "method", "params", "kwargs"}`;
    /// the same shapes as [`Serializer::encode_call`].
    fn call_payload(&self, object: &str, call: Call, kwargs_none: bool) -> Value {
        let kwargs = if kwargs_none {
            Value::None
        } else {
            Value::Map(
                call.kwargs
                    .into_iter()
                    .map(|(k, v)| (Value::Str(k), v))
                    .collect(),
            )
        };
        match self.settings.serializer {
            Serializer::Json => Value::Map(vec![
                (Value::str("object"), Value::str(object)),
                (Value::str("method"), Value::Str(call.method)),
                (Value::str("params"), Value::List(call.args)),
                (Value::str("kwargs"), kwargs),
            ]),
            _ => Value::Tuple(vec![
                Value::str(object),
                Value::Str(call.method),
                Value::Tuple(call.args),
                kwargs,
            ]),
        }
    }

    /// Sends one INVOKE and (unless oneway) reads its RESULT, connecting first if needed.
    async fn exchange(
        &self,
        call: Call,
        kwargs_none: bool,
        extra_flags: u16,
    ) -> Result<Option<Message>, RemoteError> {
        self.exchange_to(call, kwargs_none, extra_flags, None).await
    }

    /// [`Self::exchange`], to `object` instead of the proxy's own object when given (the
    /// daemon object, for stream items).
    async fn exchange_to(
        &self,
        call: Call,
        kwargs_none: bool,
        extra_flags: u16,
        object: Option<&str>,
    ) -> Result<Option<Message>, RemoteError> {
        let s = &self.settings;
        self.bounded(async {
            let mut st = self.state.lock().await;
            // Taken out while in use: if this future is dropped mid-call, the half-used
            // connection is dropped with it instead of being reused out of sync.
            // A connection the server closed while we were idle is replaced before anything is
            // sent on it (so this is not a retry: the call has not been made yet).
            let mut live = match st.live.take() {
                Some(l) if !l.conn.is_stale() => l,
                Some(mut l) => {
                    tracing::debug!(target: "tether::pyro::proxy", "idle connection closed by the server, reconnecting");
                    l.conn.shutdown().await;
                    self.open(&mut st.seq).await.map_err(RemoteError::not_sent)?
                }
                None => self.open(&mut st.seq).await.map_err(RemoteError::not_sent)?,
            };
            st.seq = st.seq.wrapping_add(1);
            let seq = st.seq;
            let oneway =
                call.oneway || (object.is_none() && live.meta.oneway.contains(&call.method));
            let payload = self.call_payload(object.unwrap_or(&live.object), call, kwargs_none);
            let f = extra_flags | if oneway { flags::ONEWAY } else { 0 };
            let header = Header::new(msg_type::INVOKE, crate::pyro5::serializer_id(s.serializer), f, seq)
                .with_corr_id(s.corr_id);
            // Large byte strings are written from `payload` itself (vectored), not copied.
            let splices = match live.conn.encode_spliced(header, &[], |b, sp| {
                s.serializer.encode_spliced(&payload, b, sp)
            }) {
                Ok(splices) => splices,
                Err(e) => {
                    // Nothing was sent: the connection is still good.
                    st.live = Some(live);
                    return Err(e.not_sent());
                }
            };
            live.conn.flush_spliced(&splices).await?;
            if oneway {
                st.live = Some(live);
                return Ok(None);
            }
            let reply = read_reply(&mut live.conn).await?;
            let h = reply.header;
            if h.msg_type != msg_type::RESULT {
                return Err(RemoteError::protocol(format!(
                    "invalid msg type {} received (expected: 5)",
                    h.msg_type
                )));
            }
            if h.seq != seq {
                return Err(RemoteError::protocol(format!(
                    "invoke: reply sequence out of sync, got {} expected {seq}",
                    h.seq
                )));
            }
            if h.serializer_id != crate::pyro5::serializer_id(s.serializer) {
                return Err(RemoteError::serialization(format!(
                    "invalid serializer in response: {}",
                    h.serializer_id
                )));
            }
            st.live = Some(live);
            Ok(Some(reply))
        })
        .await
    }

    /// Connects and performs the handshake.
    async fn open(&self, seq: &mut u16) -> Result<Live, RemoteError> {
        let s = &self.settings;
        let (object, location) = match &s.target {
            PyroUri::Direct { object, location } => (object.clone(), location.clone()),
            // Boxed: resolving uses a proxy to the name server, whose `open` lands here again.
            other => crate::resolve::resolve(other.clone(), s.serializer, s.timeout).await?,
        };
        let (object, location) = (object.as_str(), &location);
        let stream = match location {
            Location::Tcp { host, port } => {
                let tcp = TcpStream::connect((host.as_str(), *port))
                    .await
                    .map_err(|e| {
                        RemoteError::connection(format!("cannot connect to {location}: {e}"))
                            .with_source(e)
                    })?;
                Socket::tcp(tcp)?
            }
            Location::Unix(path) => Socket::Unix(UnixStream::connect(path).await.map_err(|e| {
                RemoteError::connection(format!("cannot connect to {location}: {e}")).with_source(e)
            })?),
        };
        let mut conn = Connection::new(stream, s.max_message_size);
        conn.set_compression(s.compress);
        // Large byte strings in results are received straight into their own buffers.
        conn.set_detach_large_bytes(Some(crate::serializer::SPLICE_THRESHOLD));
        let hello = Value::Map(vec![
            (Value::str("handshake"), s.handshake.clone()),
            (Value::str("object"), Value::str(object)),
        ]);
        let header = Header::new(
            msg_type::CONNECT,
            crate::pyro5::serializer_id(s.serializer),
            0,
            *seq,
        )
        .with_corr_id(s.corr_id);
        conn.send(header, &[], |b| s.serializer.encode(&hello, b))
            .await?;
        let reply = read_reply(&mut conn).await?;
        let data = if reply.payload.is_empty() {
            Value::None
        } else {
            match crate::pyro5::serializer_for_id(reply.header.serializer_id) {
                Some(ser) => ser.decode(&reply.payload, &s.limits)?,
                None => {
                    return Err(RemoteError::protocol(format!(
                        "handshake reply with unsupported serializer id {}",
                        reply.header.serializer_id
                    )))
                }
            }
        };
        match reply.header.msg_type {
            msg_type::CONNECTOK => {
                let meta = exception::field(&data, "meta")
                    .map(Metadata::from_value)
                    .unwrap_or_default();
                let mut live = Live {
                    conn,
                    object: object.to_string(),
                    meta,
                };
                if live.meta.is_empty() && object != DAEMON_OBJECT_ID {
                    live.meta = self.fetch_metadata(&mut live, object, seq).await?;
                }
                Ok(live)
            }
            msg_type::CONNECTFAIL => {
                let reason = match &data {
                    Value::Str(s) => s.clone(),
                    other => other.to_string(),
                };
                Err(RemoteError::connection(format!(
                    "connection to {location} rejected: {reason}"
                )))
            }
            other => Err(RemoteError::protocol(format!(
                "cannot connect to {location}: invalid msg type {other} received"
            ))),
        }
    }

    /// `Pyro.Daemon.get_metadata(object)` on the fresh connection (when CONNECTOK had none).
    async fn fetch_metadata(
        &self,
        live: &mut Live,
        object: &str,
        seq: &mut u16,
    ) -> Result<Metadata, RemoteError> {
        let s = &self.settings;
        let call = Call::new("get_metadata", vec![Value::str(object)]);
        *seq = seq.wrapping_add(1);
        let seq = *seq;
        let header = Header::new(
            msg_type::INVOKE,
            crate::pyro5::serializer_id(s.serializer),
            0,
            seq,
        )
        .with_corr_id(s.corr_id);
        live.conn
            .send(header, &[], |b| {
                s.serializer.encode_call(DAEMON_OBJECT_ID, &call, false, b)
            })
            .await?;
        let reply = read_reply(&mut live.conn).await?;
        let value = self.decode_result(reply)?;
        Ok(Metadata::from_value(&value))
    }
}

async fn read_reply(conn: &mut Connection<Socket>) -> Result<Message, RemoteError> {
    conn.read_message(None, None)
        .await?
        .ok_or_else(|| RemoteError::connection("connection closed by the server"))
}

/// A server-side stream read through a proxy; closes it on the server when dropped early.
struct RemoteStream {
    proxy: Proxy,
    /// `None` once the stream ended (the server has removed it by itself then).
    id: Option<String>,
}

impl StreamSource for RemoteStream {
    fn next_item(&mut self) -> BoxFuture<'_, Option<Result<Value, RemoteError>>> {
        Box::pin(async move {
            let id = self.id.as_deref()?;
            let item = self.proxy.next_stream_item(id).await;
            if !matches!(item, Some(Ok(_))) {
                // End or error: the server removed the stream already (or it is unreachable).
                self.id = None;
            }
            item
        })
    }
}

impl Drop for RemoteStream {
    fn drop(&mut self) {
        let Some(id) = self.id.take() else { return };
        // Stopped early: tell the server (oneway), as Python's iterator does on close().
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            tracing::debug!(target: "tether::pyro::proxy", "no runtime to close stream {id}; the server's limits will drop it");
            return;
        };
        let proxy = self.proxy.clone();
        rt.spawn(async move {
            let call = Call::new("close_stream", vec![Value::Str(id)]).oneway();
            if let Err(e) = proxy
                .exchange_to(call, false, 0, Some(DAEMON_OBJECT_ID))
                .await
            {
                tracing::debug!(target: "tether::pyro::proxy", "close_stream failed: {e}");
            }
        });
    }
}

impl Invoker for Proxy {
    fn invoke(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(self.call(call))
    }

    fn invoke_stream(&self, call: Call) -> BoxFuture<'_, Result<ValueStream, RemoteError>> {
        Box::pin(Proxy::invoke_stream(self, call))
    }
}
