//! [`WireConnection`]: a connection that speaks Pyro5 or Pyro4, chosen when it opens, with
//! one set of methods in Pyro5's terms. The daemon and the proxy are written against it, so
//! every rule they apply (limits, timeouts, streams, batches) holds for both wires.
//!
//! How a daemon tells the two apart on one port: both start with the tag `PYRO` followed by a
//! big-endian u16 protocol version, 502 for Pyro5 and 48 for Pyro4, and a client always speaks
//! first (CONNECT). The daemon reads those first six bytes ([`WireConnection::accept`]) and
//! hands them, with the stream, to the reader of that version. Anything else (garbage, another
//! version) goes to the Pyro5 reader, which refuses it with the error Pyro5 gives.

use crate::connection::{ByteBudget, Connection};
use crate::framing::FrameError;
use crate::message::{Annotation, Message};
use crate::pyro4::{HmacKey, Pyro4, PROTOCOL_VERSION as PYRO4_VERSION};
use crate::pyro5::{Header, Pyro5};
use crate::serializer::Splice;
use crate::socket::Socket;
use std::sync::Arc;
use std::time::Duration;
use tether_core::RemoteError;
use tokio::io::AsyncReadExt;

/// Which Pyro wire a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum WireVersion {
    /// Pyro5 (protocol 502), the default.
    #[default]
    Pyro5,
    /// Pyro4 (protocol 48).
    Pyro4,
}

impl WireVersion {
    /// `"pyro5"` or `"pyro4"`.
    pub fn name(self) -> &'static str {
        match self {
            WireVersion::Pyro5 => "pyro5",
            WireVersion::Pyro4 => "pyro4",
        }
    }
}

impl std::fmt::Display for WireVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

enum Inner {
    V5(Connection<Socket, Pyro5>),
    V4(Connection<Socket, Pyro4>, Option<HmacKey>),
}

/// A Pyro5 or Pyro4 connection, used in Pyro5's terms (see the module docs).
pub struct WireConnection {
    inner: Inner,
}

impl std::fmt::Debug for WireConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireConnection")
            .field("version", &self.version())
            .finish()
    }
}

/// Applies the same call to whichever connection is inside.
macro_rules! both {
    ($self:expr, $c:ident => $e:expr) => {
        match &mut $self.inner {
            Inner::V5($c) => $e,
            Inner::V4($c, _) => $e,
        }
    };
}

impl WireConnection {
    /// A connection of a known version (the client side). `hmac` is used by Pyro4 only.
    pub fn new(
        stream: Socket,
        version: WireVersion,
        max_message_size: usize,
        hmac: Option<HmacKey>,
    ) -> WireConnection {
        let inner = match version {
            WireVersion::Pyro5 => Inner::V5(Connection::new(stream, max_message_size)),
            WireVersion::Pyro4 => {
                Inner::V4(Connection::with_format(stream, max_message_size), hmac)
            }
        };
        WireConnection { inner }
    }

    /// The server side: reads the client's first bytes to learn its version (see the module
    /// docs). Pyro4 clients are taken only when `pyro4` is true. The caller bounds the wait.
    pub async fn accept(
        mut stream: Socket,
        max_message_size: usize,
        pyro4: bool,
        hmac: Option<HmacKey>,
    ) -> std::io::Result<WireConnection> {
        let mut head = [0u8; 6];
        let mut n = 0;
        // Stop as soon as the bytes cannot be a Pyro tag: the Pyro5 reader refuses them
        // without waiting for more.
        while n < head.len() && head[..n.min(4)] == b"PYRO"[..n.min(4)] {
            let got = stream.read(&mut head[n..]).await?;
            if got == 0 {
                break;
            }
            n += got;
        }
        let v4 =
            pyro4 && n == 6 && &head[..4] == b"PYRO" && head[4..6] == PYRO4_VERSION.to_be_bytes();
        let mut conn = if v4 {
            WireConnection::new(stream, WireVersion::Pyro4, max_message_size, hmac)
        } else {
            WireConnection::new(stream, WireVersion::Pyro5, max_message_size, None)
        };
        both!(conn, c => c.preload(&head[..n]));
        Ok(conn)
    }

    /// The version this connection speaks.
    pub fn version(&self) -> WireVersion {
        match self.inner {
            Inner::V5(_) => WireVersion::Pyro5,
            Inner::V4(..) => WireVersion::Pyro4,
        }
    }

    /// Whether messages are signed (Pyro4 with a key).
    pub fn has_hmac(&self) -> bool {
        matches!(self.inner, Inner::V4(_, Some(_)))
    }

    /// See [`Connection::set_compression`].
    pub fn set_compression(&mut self, on: bool) {
        both!(self, c => c.set_compression(on))
    }

    /// See [`Connection::set_max_inflate_ratio`].
    pub fn set_max_inflate_ratio(&mut self, ratio: usize) {
        both!(self, c => c.set_max_inflate_ratio(ratio))
    }

    /// See [`Connection::set_write_timeout`].
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) {
        both!(self, c => c.set_write_timeout(timeout))
    }

    /// See [`Connection::set_budget`].
    pub fn set_budget(&mut self, budget: Option<Arc<ByteBudget>>) {
        both!(self, c => c.set_budget(budget))
    }

    /// See [`Connection::set_detach_large_bytes`] (Pyro5 only: a Pyro4 payload is signed
    /// whole).
    pub fn set_detach_large_bytes(&mut self, min: Option<usize>) {
        if let Inner::V5(c) = &mut self.inner {
            c.set_detach_large_bytes(min)
        }
    }

    /// Reads one message, in Pyro5's terms. `Ok(None)`: the peer closed between messages.
    pub async fn read_message(
        &mut self,
        idle: Option<Duration>,
        frame: Option<Duration>,
    ) -> Result<Option<Message>, FrameError<Header>> {
        match &mut self.inner {
            Inner::V5(c) => c.read_message(idle, frame).await,
            Inner::V4(c, key) => c.read_message_v4(idle, frame, key.as_ref()).await,
        }
    }

    /// Encodes a message into the write buffer (see [`Connection::encode`]).
    pub fn encode(
        &mut self,
        header: Header,
        annotations: &[Annotation],
        payload: impl FnOnce(&mut Vec<u8>) -> Result<(), RemoteError>,
    ) -> Result<(), RemoteError> {
        match &mut self.inner {
            Inner::V5(c) => c.encode(header, annotations, payload),
            Inner::V4(c, key) => c.encode_v4(header, annotations, key.as_ref(), |b, _| payload(b)),
        }
    }

    /// Encodes with large byte strings left in place (see [`Connection::encode_spliced`]);
    /// a Pyro4 message copies them in and returns no splices.
    pub fn encode_spliced<'v>(
        &mut self,
        header: Header,
        annotations: &[Annotation],
        payload: impl FnOnce(&mut Vec<u8>, &mut Vec<Splice<'v>>) -> Result<(), RemoteError>,
    ) -> Result<Vec<Splice<'v>>, RemoteError> {
        match &mut self.inner {
            Inner::V5(c) => c.encode_spliced(header, annotations, payload),
            Inner::V4(c, key) => c
                .encode_v4(header, annotations, key.as_ref(), payload)
                .map(|()| Vec::new()),
        }
    }

    /// Encodes and sends one message in one write.
    pub async fn send(
        &mut self,
        header: Header,
        annotations: &[Annotation],
        payload: impl FnOnce(&mut Vec<u8>) -> Result<(), RemoteError>,
    ) -> Result<(), RemoteError> {
        self.encode(header, annotations, payload)?;
        self.flush_encoded().await
    }

    /// Writes what an encode call left in the buffer.
    pub async fn flush_encoded(&mut self) -> Result<(), RemoteError> {
        both!(self, c => c.flush_encoded().await)
    }

    /// Writes the buffer with the splices an [`Self::encode_spliced`] returned.
    pub async fn flush_spliced(&mut self, splices: &[Splice<'_>]) -> Result<(), RemoteError> {
        both!(self, c => c.flush_spliced(splices).await)
    }

    /// Shuts the write side down (best effort).
    pub async fn shutdown(&mut self) {
        both!(self, c => c.shutdown().await)
    }

    /// See [`Connection::is_stale`].
    pub fn is_stale(&self) -> bool {
        match &self.inner {
            Inner::V5(c) => c.is_stale(),
            Inner::V4(c, _) => c.is_stale(),
        }
    }

    /// Sends raw bytes (tests, and paths that must send what a codec would refuse).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        both!(self, c => c.send_raw(bytes).await)
    }
}
