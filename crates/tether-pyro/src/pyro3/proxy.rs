//! [`Pyro3Proxy`]: a client for a Pyro 3 object (a Python 2 Pyro 3.16 daemon, Spring Python
//! 1.3's `PyroServiceExporter`, or tether's daemon), an [`Invoker`].
//!
//! One connection, one call at a time (replies are matched by order only), opened on the
//! first call: read the challenge, send `CONNECT` and the token, expect `GRANTED`, then
//! resolve a `PYROLOC` name on the daemon. A connection that broke is dropped; the next call
//! opens a new one (a failure before the request went out is marked not sent).

use super::frame::{self, Header3, Pyro3, HEADER_SIZE};
use super::{auth, capsule, request, Denied, Pyro3Url, GRANTED};
use crate::connection::Connection;
use crate::framing::FrameFormat;
use crate::serializer::Limits;
use crate::socket::Socket;
use std::time::{Duration, Instant};
use tether_core::{BoxFuture, Call, ErrorKind, Invoker, RemoteError, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

#[derive(Clone, Debug)]
struct Settings {
    url: Pyro3Url,
    passphrase: Option<Vec<u8>>,
    timeout: Option<Duration>,
    connect_timeout: Duration,
    max_message_size: usize,
    compress: bool,
    checksum: bool,
    limits: Limits,
}

struct Live {
    conn: Connection<Socket, Pyro3>,
    object: String,
}

/// A Pyro 3 client for one object (see the module docs).
pub struct Pyro3Proxy {
    settings: Settings,
    live: Mutex<Option<Live>>,
}

impl std::fmt::Debug for Pyro3Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pyro3Proxy")
            .field("url", &self.settings.url.to_string())
            .finish()
    }
}

impl Clone for Pyro3Proxy {
    /// A proxy for the same object with its own connection.
    fn clone(&self) -> Self {
        Pyro3Proxy {
            settings: self.settings.clone(),
            live: Mutex::new(None),
        }
    }
}

fn denied(code: u8) -> RemoteError {
    RemoteError::new(ErrorKind::Security, Denied::reason(code))
        .with_class("Pyro.errors.ConnectionDeniedError")
}

impl Pyro3Proxy {
    /// A proxy for `PYROLOC://host:port/name` or `PYRO://host:port/objectid`; does no I/O.
    pub fn new(url: &str) -> Result<Pyro3Proxy, RemoteError> {
        Ok(Pyro3Proxy {
            settings: Settings {
                url: Pyro3Url::parse(url)?,
                passphrase: None,
                timeout: None,
                connect_timeout: Duration::from_secs(10),
                max_message_size: 16 << 20,
                compress: false,
                checksum: false,
                limits: Limits::default(),
            },
            live: Mutex::new(None),
        })
    }

    fn with(mut self, f: impl FnOnce(&mut Settings)) -> Self {
        f(&mut self.settings);
        self
    }

    /// Identifies with this passphrase (Pyro's `_setIdentification`). Default none.
    pub fn with_passphrase(self, passphrase: &[u8]) -> Self {
        let p = passphrase.to_vec();
        self.with(|s| s.passphrase = Some(p))
    }

    /// Bounds each call, and connecting. Default: calls unbounded, connecting 10 s.
    pub fn with_timeout(self, t: Duration) -> Self {
        self.with(|s| {
            s.timeout = Some(t);
            s.connect_timeout = t;
        })
    }

    /// Compresses requests when that makes them smaller (`PYRO_COMPRESSION`). Default off.
    pub fn with_compression(self, on: bool) -> Self {
        self.with(|s| s.compress = on)
    }

    /// Adds an Adler-32 checksum to requests (`PYRO_CHECKSUM`). Default off.
    pub fn with_checksum(self, on: bool) -> Self {
        self.with(|s| s.checksum = on)
    }

    /// Largest reply accepted (after inflation too). Default 16 MiB.
    pub fn with_max_message_size(self, n: usize) -> Self {
        self.with(|s| s.max_message_size = n)
    }

    /// Decoding limits for replies. Default [`Limits::default`].
    pub fn with_limits(self, limits: Limits) -> Self {
        self.with(|s| s.limits = limits)
    }

    /// The URL.
    pub fn url(&self) -> String {
        self.settings.url.to_string()
    }

    /// Drops the connection (the next call opens a new one).
    pub async fn close(&self) {
        if let Some(mut live) = self.live.lock().await.take() {
            live.conn.shutdown().await;
        }
    }

    /// Connects now (calls connect by themselves).
    pub async fn connect(&self) -> Result<(), RemoteError> {
        let mut guard = self.live.lock().await;
        if guard.is_none() {
            *guard = Some(
                self.open(Instant::now() + self.settings.connect_timeout)
                    .await?,
            );
        }
        Ok(())
    }

    async fn open(&self, deadline: Instant) -> Result<Live, RemoteError> {
        let s = &self.settings;
        let u = &s.url;
        let timed_out = || RemoteError::timeout(format!("connecting to {u} timed out"));
        let handshake = async {
            let tcp = tokio::net::TcpStream::connect((u.host.as_str(), u.port))
                .await
                .map_err(|e| {
                    RemoteError::connection(format!("cannot connect to {u}: {e}")).with_source(e)
                })?;
            let mut sock = Socket::tcp(tcp)?;
            // The server speaks first: a framed challenge, or a raw DENIED.
            let mut head = [0u8; HEADER_SIZE];
            sock.read_exact(&mut head[..7]).await.map_err(|e| {
                RemoteError::connection(format!("{u}: no challenge from the server: {e}"))
            })?;
            if &head[..6] == b"DENIED" {
                return Err(denied(head[6]));
            }
            sock.read_exact(&mut head[7..]).await?;
            let h = Pyro3::parse_header(&head, 1024)
                .map_err(|e| RemoteError::protocol(format!("{u}: not a Pyro 3 server ({e})")))?;
            if h.body_len as usize != auth::CHALLENGE_SIZE {
                return Err(RemoteError::protocol(format!(
                    "{u}: the challenge is {} bytes, not 16",
                    h.body_len
                )));
            }
            let mut challenge = [0u8; auth::CHALLENGE_SIZE];
            sock.read_exact(&mut challenge).await?;
            frame::open(&h, bytes::Bytes::copy_from_slice(&challenge), 1024, 1)?;
            let ident = auth::ident(s.passphrase.as_deref());
            let mut body = b"CONNECT".to_vec();
            body.extend_from_slice(&auth::token(&challenge, &ident));
            let mut out = Vec::new();
            frame::encode(&body, false, s.checksum, &mut out);
            sock.write_all(&out).await?;
            let mut answer = [0u8; 7];
            sock.read_exact(&mut answer)
                .await
                .map_err(|e| RemoteError::connection(format!("{u}: no answer to CONNECT: {e}")))?;
            if &answer != GRANTED {
                return Err(if &answer[..6] == b"DENIED" {
                    denied(answer[6])
                } else {
                    RemoteError::protocol(format!("{u}: invalid answer to CONNECT"))
                });
            }
            Ok::<_, RemoteError>(sock)
        };
        let sock = tokio::time::timeout_at(deadline.into(), handshake)
            .await
            .map_err(|_| timed_out())??;
        let mut live = Live {
            conn: Connection::with_format(sock, s.max_message_size),
            object: u.object.clone(),
        };
        if u.by_name {
            let buf = live.conn.write_buffer();
            buf.clear();
            frame::encode_with(s.compress, s.checksum, buf, |b| {
                request::encode_resolve(&u.object, b)
            })?;
            match self.exchange(&mut live, Some(deadline)).await? {
                Ok(Value::Str(id)) => live.object = id,
                Ok(other) => {
                    return Err(RemoteError::protocol(format!(
                        "{u}: ResolvePYROLOC answered {other:?}, not an object id"
                    )))
                }
                Err(e) => return Err(e),
            }
        }
        Ok(live)
    }

    /// Sends the request in the connection's write buffer and reads its reply.
    async fn exchange(
        &self,
        live: &mut Live,
        deadline: Option<Instant>,
    ) -> Result<Result<Value, RemoteError>, RemoteError> {
        let s = &self.settings;
        let io = async {
            live.conn.flush_encoded().await?;
            let f = live
                .conn
                .read_frame(None, None)
                .await?
                .ok_or_else(|| RemoteError::connection("the server closed the connection"))?;
            reply_value(&f.header, f.body, s)
        };
        match deadline {
            Some(d) => tokio::time::timeout_at(d.into(), io)
                .await
                .map_err(|_| RemoteError::timeout(format!("call to {} timed out", s.url)))?,
            None => io.await,
        }
    }

    /// Calls a method: its value, or the remote exception.
    pub async fn call(&self, call: Call) -> Result<Value, RemoteError> {
        let s = &self.settings;
        let started = Instant::now();
        let deadline = match (call.context.deadline, s.timeout.map(|t| started + t)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut guard = tether_core::lock::lock_now(&self.live).await;
        // Taken out while in use: Pyro 3 numbers no request, so if this future is dropped
        // mid-call (a caller's timeout, a pool's attempt cut short), the reply still to come
        // would answer the next call made on the connection. Dropped with the future
        // instead, the connection cannot be reused out of step.
        let mut live = match guard.take() {
            Some(l) if !l.conn.is_stale() => l,
            _ => {
                let d = deadline.unwrap_or(started + s.connect_timeout);
                self.open(d).await.map_err(RemoteError::not_sent)?
            }
        };
        // Pickled straight into the connection's write buffer, behind its header.
        let buf = live.conn.write_buffer();
        buf.clear();
        let object = &live.object;
        if let Err(e) = frame::encode_with(s.compress, s.checksum, buf, |b| {
            request::encode(object, &call, b)
        }) {
            *guard = Some(live);
            return Err(RemoteError::not_sent(e));
        }
        if call.oneway {
            live.conn.flush_encoded().await?;
            *guard = Some(live);
            return Ok(Value::None);
        }
        // On an error the connection is not put back: whatever arrives later on it would
        // answer this call.
        let r = self.exchange(&mut live, deadline).await?;
        *guard = Some(live);
        r
    }
}

fn reply_value(
    header: &Header3,
    body: bytes::Bytes,
    s: &Settings,
) -> Result<Result<Value, RemoteError>, RemoteError> {
    let body = frame::open(header, body, s.max_message_size, 1000)?;
    let read = super::read_limits(s.max_message_size);
    // Plain data (no exception capsule, no shared reference) in one pass; the rest, and
    // anything malformed, through the general reader.
    if let Some(v) = super::pickle::plain_value(&body, &read, &s.limits) {
        return Ok(Ok(v));
    }
    let p = super::pickle::read(&body, &read)?;
    capsule::read_reply(&p, &s.limits)
}

impl Invoker for Pyro3Proxy {
    fn invoke(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(self.call(call))
    }
}
