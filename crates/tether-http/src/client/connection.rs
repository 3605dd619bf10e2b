//! [`ClientConnection`]: one HTTP/1.1 connection seen from the client, framed over a read
//! buffer.
//!
//! A request goes out in one write (head and body in one buffer, so with TCP_NODELAY it is
//! one segment for small calls), and a reply is read through one buffer that keeps whatever
//! arrived past it. The reply's body is framed by Content-Length, by chunked transfer coding,
//! or (HTTP/1.0 style) by the close of the connection; every length the server states is
//! checked against the limits before anything is allocated for it.

use crate::body::{self, ChunkLimits, Fill, Short};
use bytes::{Bytes, BytesMut};
use std::borrow::Cow;
use std::ops::Range;
use tether_core::{ErrorKind, RemoteError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Most bytes of a reply's status line and headers.
const MAX_HEAD: usize = 64 * 1024;
/// Most headers in a reply.
const MAX_HEADERS: usize = 100;
/// A chunked reply's framing limits: a chunk-size line (with extensions) or trailer line of
/// at most 1 KiB, at most 100 trailer lines.
const CHUNKS: ChunkLimits = ChunkLimits {
    line: 1024,
    trailers: MAX_HEADERS,
};
/// Most slices handed to one vectored write (well under every system's `IOV_MAX`).
const MAX_SLICES: usize = 64;

/// A byte stream the client talks over: TCP or TLS.
pub(crate) trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// A reply as read off the wire, before any content coding is undone.
#[derive(Debug)]
pub(crate) struct RawReply {
    /// The status line and headers as they came; kept whole, so that reading a reply copies
    /// none of its headers (they are read again from here when asked for).
    head: Bytes,
    /// The status code.
    pub status: u16,
    /// The body, as sent (de-chunked).
    pub body: BytesMut,
    /// Whether the connection may carry another request.
    pub keep_alive: bool,
    /// The body comes in chunks (the last transfer coding is chunked).
    chunked: bool,
    /// The Content-Length, as sent (checked when the body is read).
    length: Option<Range<usize>>,
    /// The body's Content-Encoding, if it has one.
    content_encoding: Option<Range<usize>>,
}

/// What the client acts on in a reply's headers, read as the head is parsed.
#[derive(Default)]
struct Framed {
    close: bool,
    keep: bool,
    chunked: bool,
    length: Option<Range<usize>>,
    content_encoding: Option<Range<usize>>,
}

impl Framed {
    /// Takes in one header (its name and value as ranges of `head`).
    #[inline]
    fn header(&mut self, head: &[u8], name: Range<usize>, value: Range<usize>) {
        let (name, v) = (&head[name], &head[value.clone()]);
        let is = |want: &str| crate::name::token_is(name, want.as_bytes());
        let tokens = || crate::head::comma_list(v);
        match name.len() {
            10 if is("connection") => {
                self.close |= tokens().any(|t| t.eq_ignore_ascii_case(b"close"));
                self.keep |= tokens().any(|t| t.eq_ignore_ascii_case(b"keep-alive"));
            }
            17 if is("transfer-encoding") => {
                self.chunked = tokens()
                    .next_back()
                    .is_some_and(|t| t.eq_ignore_ascii_case(b"chunked"));
            }
            14 if is("content-length") => {
                self.length.get_or_insert(value);
            }
            16 if is("content-encoding") => {
                self.content_encoding.get_or_insert(value);
            }
            _ => {}
        }
    }
}

impl RawReply {
    /// Whether the body came gzipped (its first Content-Encoding, read as the head was
    /// parsed).
    pub fn gzipped(&self) -> bool {
        self.content_encoding
            .clone()
            .and_then(|r| self.head.get(r))
            .is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"gzip"))
    }

    /// The headers, in order, names and values read lossily.
    pub fn headers(&self) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
        crate::head::lines(&self.head).map(|(k, v)| {
            (
                String::from_utf8_lossy(&self.head[k]),
                String::from_utf8_lossy(&self.head[v]),
            )
        })
    }

    /// `HTTP/1.1 200 OK`: the status line as it came.
    pub fn status_line(&self) -> Cow<'_, str> {
        let end = self
            .head
            .iter()
            .position(|&b| b == b'\r' || b == b'\n')
            .unwrap_or(self.head.len());
        String::from_utf8_lossy(&self.head[..end])
    }
}

/// One connection: the stream and what was read past the last reply.
pub(crate) struct ClientConnection {
    io: Box<dyn Io>,
    buf: BytesMut,
    /// Bytes read since the last request went out.
    read_since_send: usize,
}

fn protocol(why: impl Into<String>) -> RemoteError {
    RemoteError::protocol(why.into())
}

impl ClientConnection {
    pub fn new(io: Box<dyn Io>) -> ClientConnection {
        ClientConnection {
            io,
            buf: BytesMut::with_capacity(8 * 1024),
            read_since_send: 0,
        }
    }

    /// Whether bytes arrived that no request asked for (the server is confused or closing):
    /// such a connection is not reused.
    pub fn has_stray_bytes(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Writes a whole request in one write.
    pub async fn send(&mut self, request: &[u8]) -> std::io::Result<()> {
        self.read_since_send = 0;
        self.io.write_all(request).await?;
        self.io.flush().await
    }

    /// Writes `head` and then `parts` from where they are, with vectored writes (a writev
    /// of them all, and more only for what a write leaves).
    pub async fn send_parts(&mut self, head: &[u8], parts: &[&[u8]]) -> std::io::Result<()> {
        self.read_since_send = 0;
        let all: Vec<&[u8]> = std::iter::once(head)
            .chain(parts.iter().copied())
            .filter(|p| !p.is_empty())
            .collect();
        // (part, offset in it) of the first byte not yet written.
        let (mut i, mut off) = (0usize, 0usize);
        while i < all.len() {
            let slices: Vec<std::io::IoSlice<'_>> = std::iter::once(&all[i][off..])
                .chain(all[i + 1..].iter().copied())
                .take(MAX_SLICES)
                .map(std::io::IoSlice::new)
                .collect();
            let mut n = self.io.write_vectored(&slices).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            while i < all.len() && n >= all[i].len() - off {
                n -= all[i].len() - off;
                i += 1;
                off = 0;
            }
            off += n;
        }
        self.io.flush().await
    }

    /// Reads more bytes into the buffer; `Ok(0)` at the end of the stream. A socket or TLS
    /// error (a refused client certificate shows up here under TLS 1.3) is a connection error.
    async fn fill(&mut self) -> Result<usize, RemoteError> {
        Fill::fill(self).await.map_err(connection_error)
    }

    /// Whether not one byte came back since the last request went out.
    pub fn closed_before_reply(&self) -> bool {
        self.read_since_send == 0 && self.buf.is_empty()
    }

    /// Reads one reply (skipping `100 Continue` and other interim replies); the body may be
    /// at most `max_body` bytes.
    pub async fn read_reply(&mut self, max_body: usize) -> Result<RawReply, RemoteError> {
        loop {
            let head = self.read_head().await?;
            if (100..200).contains(&head.status) {
                continue;
            }
            return self.read_body(head, max_body).await;
        }
    }

    async fn read_head(&mut self) -> Result<RawReply, RemoteError> {
        loop {
            let mut framing = Framed::default();
            let buf = &self.buf[..];
            let parsed = crate::head::response(buf, MAX_HEADERS, |k, v| framing.header(buf, k, v));
            match parsed {
                Ok(Some(line)) => {
                    let keep_alive = if framing.close {
                        false
                    } else {
                        framing.keep || line.minor == 1
                    };
                    return Ok(RawReply {
                        head: self.buf.split_to(line.len).freeze(),
                        status: line.code,
                        body: BytesMut::new(),
                        keep_alive,
                        chunked: framing.chunked,
                        length: framing.length,
                        content_encoding: framing.content_encoding,
                    });
                }
                Ok(None) => {
                    if self.buf.len() > MAX_HEAD {
                        return Err(protocol(format!(
                            "the reply's headers are over {MAX_HEAD} bytes"
                        )));
                    }
                }
                Err(e) => return Err(protocol(format!("malformed HTTP reply: {e}"))),
            }
            if self.fill().await? == 0 {
                return Err(if self.buf.is_empty() {
                    RemoteError::connection("the server closed the connection without a reply")
                } else {
                    protocol("the connection closed in the middle of the reply's headers")
                });
            }
        }
    }

    async fn read_body(
        &mut self,
        mut reply: RawReply,
        max_body: usize,
    ) -> Result<RawReply, RemoteError> {
        if reply.status == 204 || reply.status == 304 {
            return Ok(reply);
        }
        if reply.chunked {
            reply.body = body::read_chunked(self, max_body, CHUNKS)
                .await
                .map_err(|e| short_reply(e, None, max_body))?;
            return Ok(reply);
        }
        match reply.length.clone() {
            Some(range) => {
                let v = &reply.head[range];
                let n = crate::head::content_length(v).ok_or_else(|| {
                    protocol(format!(
                        "the reply's Content-Length {:?} is not a number",
                        String::from_utf8_lossy(v)
                    ))
                })?;
                if n > max_body as u64 {
                    return Err(too_large(n, max_body));
                }
                reply.body = body::read_exact(self, n as usize)
                    .await
                    .map_err(|e| short_reply(e, Some(n as usize), max_body))?;
            }
            None => {
                // Framed by the end of the connection.
                reply.keep_alive = false;
                loop {
                    if self.buf.len() > max_body {
                        return Err(too_large(self.buf.len() as u64, max_body));
                    }
                    if self.fill().await? == 0 {
                        break;
                    }
                }
                reply.body = self.buf.split();
            }
        }
        Ok(reply)
    }
}

impl Fill for ClientConnection {
    fn buf(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    async fn fill(&mut self) -> std::io::Result<usize> {
        if self.buf.capacity() - self.buf.len() < 4096 {
            self.buf.reserve(8 * 1024);
        }
        let n = self.io.read_buf(&mut self.buf).await?;
        self.read_since_send += n;
        Ok(n)
    }
}

fn connection_error(e: std::io::Error) -> RemoteError {
    RemoteError::connection(e.to_string()).with_source(e)
}

/// A reply body that could not be read, as the caller's error (`length`: the Content-Length
/// it was read by, `None` for a chunked one).
fn short_reply(short: Short, length: Option<usize>, max: usize) -> RemoteError {
    match short {
        Short::Closed { have } => match length {
            Some(n) => protocol(format!(
                "the connection closed after {have} of the reply's {n} bytes"
            )),
            None => protocol("the connection closed in the middle of a chunked reply"),
        },
        Short::Io(e) => connection_error(e),
        Short::LineTooLong => protocol("a chunk-size line is too long"),
        Short::BadChunkSize(size) => protocol(format!("bad chunk size {size:?}")),
        Short::TooManyTrailers => protocol("too many trailers in a chunked reply"),
        Short::ChunkTooLong => protocol("a chunk is longer than its stated size"),
        Short::TooLarge(total) => too_large(total, max),
    }
}

fn too_large(n: u64, max: usize) -> RemoteError {
    RemoteError::new(
        ErrorKind::MessageTooLarge,
        format!("the reply's body of {n} bytes is over the limit of {max}"),
    )
}

/// Bytes a server "sent", read back in small pieces, writes thrown away (the fuzz target).
#[doc(hidden)]
pub struct Replay {
    data: Vec<u8>,
    at: usize,
}

impl Replay {
    /// Replays `data`.
    pub fn new(data: &[u8]) -> Replay {
        Replay {
            data: data.to_vec(),
            at: 0,
        }
    }
}

impl tokio::io::AsyncRead for Replay {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        // Small pieces: every framing boundary of the reader gets crossed mid-read.
        let n = (self.data.len() - self.at).min(buf.remaining()).min(97);
        let at = self.at;
        buf.put_slice(&self.data[at..at + n]);
        self.at += n;
        std::task::Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for Replay {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}
