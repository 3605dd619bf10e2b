//! [`ServerConnection`]: one HTTP/1.1 connection seen from the server, framed over a read
//! buffer.
//!
//! Why not hyper: the HTTP wires carry one small POST and one small reply per call, and a
//! general server spends most of such a call on what these wires never use (a header map
//! hashed and allocated per request, a request and a response object, a body stream polled
//! chunk by chunk, its own buffers between them): under callgrind it was half of a Hessian
//! call's instructions. Here a request's head is parsed where it lies in the read buffer
//! (`head.rs`), what the server acts on is read from each header as the parser passes it
//! (nothing is collected: the rare caller who wants every header reads them again from the
//! head's bytes), its body is taken from the same buffer, and a reply goes out in one write.
//!
//! Every limit is checked before anything is allocated for it: the head's size and header
//! count, a declared Content-Length, each chunk's size against what the body may still take.

use crate::body::{self, ChunkLimits, Fill, Short};
use crate::head::HeadError;
use bytes::{Bytes, BytesMut};
use std::ops::Range;
use tether_core::decimal::Decimal;
use tether_core::trace::b3::{
    B3_FLAGS_HEADER, B3_HEADER, B3_SAMPLED_HEADER, B3_SPAN_ID_HEADER, B3_TRACE_ID_HEADER,
};
use tether_core::trace::baggage::BAGGAGE_HEADER;
use tether_core::trace::{Incoming, TIMEOUT_HEADER, TRACEPARENT_HEADER, TRACESTATE_HEADER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Most bytes of a request's line and headers (431 beyond).
pub(crate) const MAX_HEAD: usize = 64 * 1024;
/// Most headers in a request (431 beyond).
const MAX_HEADERS: usize = 100;

/// The headers a call's trace, baggage and deadline travel in, in the order
/// [`Head::call_headers`] reads them (baggage last).
const CALL_HEADER_NAMES: [&str; CALL_HEADERS] = [
    TRACEPARENT_HEADER,
    TRACESTATE_HEADER,
    TIMEOUT_HEADER,
    B3_HEADER,
    B3_TRACE_ID_HEADER,
    B3_SPAN_ID_HEADER,
    B3_SAMPLED_HEADER,
    B3_FLAGS_HEADER,
    BAGGAGE_HEADER,
];
const CALL_HEADERS: usize = 9;
/// A call header not sent (see [`Head::call_headers`]).
const NOT_SENT: (u32, u32) = (0, 0);
/// The lengths of [`CALL_HEADER_NAMES`], as bits (a header name of another length is none of
/// them, without a comparison).
const CALL_HEADER_LENGTHS: u64 = {
    let mut bits = 0u64;
    let mut i = 0;
    while i < CALL_HEADERS {
        bits |= 1 << CALL_HEADER_NAMES[i].len();
        i += 1;
    }
    bits
};
/// A chunked request's framing limits: a chunk-size line (with extensions) or trailer line of
/// at most 4 KiB, at most 100 trailer lines.
const CHUNKS: ChunkLimits = ChunkLimits {
    line: 4 * 1024,
    trailers: 100,
};
/// A reply's body up to this size is copied behind its head (one write); a larger one is
/// written from where it is, after the head.
const COPY_BODY_UP_TO: usize = 64 * 1024;

/// A byte stream the server talks over: TCP or TLS.
pub(crate) trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// How a request's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body.
    Empty,
    /// This many bytes (Content-Length).
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
}

/// A request's line and headers, kept as they came, with what the server itself reads of
/// them found in one pass.
#[derive(Debug)]
pub(crate) struct Head {
    /// The request line and headers (what the ranges index).
    raw: Bytes,
    /// The method.
    pub method: http::Method,
    /// The request target, as sent.
    target: Range<usize>,
    /// The target's path (see [`Head::path`]) in `raw`; `None` for an absolute target with no
    /// path, whose path is `/`.
    path: Option<Range<usize>>,
    /// `0` for HTTP/1.0, `1` for HTTP/1.1.
    pub minor: u8,
    /// How the body is delimited.
    pub framing: Framing,
    /// Whether the connection may carry another request after this one.
    pub keep_alive: bool,
    /// The client waits for `100 Continue` before it sends the body.
    pub expects_continue: bool,
    /// The client takes gzipped replies (Accept-Encoding).
    pub accepts_gzip: bool,
    /// The body's Content-Encoding, if it has one.
    content_encoding: Option<Range<usize>>,
    /// The values of the headers that carry a call's trace, baggage and deadline, where
    /// present (the first of each; see [`Head::call_headers`] for the order): each as its
    /// start and end in `raw`, `NOT_SENT` when absent (no value starts where the request
    /// line does). Small, as a `Head` is made for every request.
    call_headers: [(u32, u32); CALL_HEADERS],
    /// How many `baggage` headers came (more than one are joined).
    baggage_headers: u8,
}
/// Why no request could be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The connection ended (cleanly between requests, or in the middle of one): nothing to
    /// answer.
    Closed,
    /// The request is bad: answer this status and message, then close.
    Bad(u16, String),
}

#[cold]
fn bad(status: u16, why: impl Into<String>) -> ReadError {
    ReadError::Bad(status, why.into())
}

impl Head {
    /// The request target as sent (`/RPC2`, `http://host/RPC2?x`).
    pub fn target(&self) -> &str {
        std::str::from_utf8(&self.raw[self.target.clone()]).unwrap_or("")
    }

    /// The target's path: without a query or fragment, and without the scheme and host of an
    /// absolute target.
    pub fn path(&self) -> &str {
        match &self.path {
            Some(r) => std::str::from_utf8(&self.raw[r.clone()]).unwrap_or(""),
            None => "/",
        }
    }

    /// The first header named `name` (ASCII case-insensitive), as bytes.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers()
            .find(|(k, _)| k.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// Every header, in order, as (name, value) bytes.
    pub fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        crate::head::lines(&self.raw).map(|(k, v)| (&self.raw[k], &self.raw[v]))
    }

    /// The body's Content-Encoding, if it has one.
    pub fn content_encoding(&self) -> Option<&[u8]> {
        self.content_encoding.clone().map(|r| &self.raw[r])
    }

    /// Whether any header that carries a call's trace, baggage or time left came.
    pub fn has_call_headers(&self) -> bool {
        self.call_headers.iter().any(|&r| r != NOT_SENT)
    }

    /// The values of the headers that carry a call's trace (W3C and B3), baggage and time
    /// left. Several `baggage` headers are joined with commas (W3C allows a list to be split
    /// over headers), in `joined`.
    pub fn call_headers<'a>(&'a self, joined: &'a mut Vec<u8>) -> Incoming<'a> {
        let [traceparent, tracestate, timeout, b3, b3_trace_id, b3_span_id, b3_sampled, b3_flags, mut baggage] =
            self.call_headers.map(|(start, end)| {
                if (start, end) == NOT_SENT {
                    return None;
                }
                self.raw.get(start as usize..end as usize)
            });
        if self.baggage_headers > 1 {
            for (i, (_, v)) in self
                .headers()
                .filter(|(k, _)| k.eq_ignore_ascii_case(BAGGAGE_HEADER.as_bytes()))
                .enumerate()
            {
                if i > 0 {
                    joined.push(b',');
                }
                joined.extend_from_slice(v);
            }
            baggage = Some(&joined[..]);
        }
        Incoming {
            traceparent,
            tracestate,
            b3,
            b3_trace_id,
            b3_span_id,
            b3_sampled,
            b3_flags,
            baggage,
            timeout,
        }
    }

    /// `HTTP/1.0` or `HTTP/1.1`.
    pub fn version(&self) -> &'static str {
        if self.minor == 0 {
            "HTTP/1.0"
        } else {
            "HTTP/1.1"
        }
    }
}

/// What a header is to the server.
enum Kind {
    ContentLength,
    TransferEncoding,
    Connection,
    Expect,
    AcceptEncoding,
    ContentEncoding,
    /// One of [`CALL_HEADER_NAMES`], by its index.
    Call(usize),
    Other,
}

/// What `name` is to the server (by its length first: most headers are compared with one
/// name at most, many with none).
#[inline]
fn kind(name: &[u8]) -> Kind {
    let is = |want: &str| crate::name::token_is(name, want.as_bytes());
    match name.len() {
        14 if is("content-length") => return Kind::ContentLength,
        17 if is("transfer-encoding") => return Kind::TransferEncoding,
        10 if is("connection") => return Kind::Connection,
        6 if is("expect") => return Kind::Expect,
        15 if is("accept-encoding") => return Kind::AcceptEncoding,
        16 if is("content-encoding") => return Kind::ContentEncoding,
        _ => {}
    }
    if name.len() < 64 && CALL_HEADER_LENGTHS >> name.len() & 1 == 1 {
        if let Some(i) = CALL_HEADER_NAMES.iter().position(|n| is(n)) {
            return Kind::Call(i);
        }
    }
    Kind::Other
}

/// The headers that decide a request's framing and its connection's fate, read as the head is
/// parsed (the rest goes straight into the [`Head`]).
#[derive(Default)]
struct Framed {
    length: Option<u64>,
    chunked: bool,
    coded: bool,
    close: bool,
    keep: bool,
    /// The first header the request is refused for.
    refused: Option<ReadError>,
}

impl Head {
    /// A head with nothing read yet (every field filled in as the request is parsed).
    fn empty() -> Box<Head> {
        Box::new(Head {
            raw: Bytes::new(),
            method: http::Method::GET,
            target: 0..0,
            path: None,
            minor: 1,
            framing: Framing::Empty,
            keep_alive: true,
            expects_continue: false,
            accepts_gzip: false,
            content_encoding: None,
            call_headers: [NOT_SENT; CALL_HEADERS],
            baggage_headers: 0,
        })
    }

    /// Takes in one header (its name and value as ranges of `raw`): what the server acts on,
    /// rejecting what HTTP/1.1 says a server must not guess at (a Content-Length that is not
    /// a number, two that differ).
    #[inline]
    fn take_header(&mut self, raw: &[u8], name: Range<usize>, v: Range<usize>, f: &mut Framed) {
        if f.refused.is_some() {
            return;
        }
        let value = &raw[v.clone()];
        match kind(&raw[name]) {
            Kind::ContentLength => match crate::head::content_length(value) {
                None => {
                    f.refused = Some(bad(
                        400,
                        format!(
                            "Content-Length {:?} is not a number",
                            String::from_utf8_lossy(value)
                        ),
                    ))
                }
                Some(n) if f.length.is_some_and(|l| l != n) => {
                    f.refused = Some(bad(400, "two different Content-Length headers"))
                }
                Some(n) => f.length = Some(n),
            },
            Kind::TransferEncoding => {
                f.coded = true;
                f.chunked = crate::head::comma_list(value)
                    .last()
                    .is_some_and(|t| t.eq_ignore_ascii_case(b"chunked"));
            }
            Kind::Connection => {
                for t in crate::head::comma_list(value) {
                    f.close |= t.eq_ignore_ascii_case(b"close");
                    f.keep |= t.eq_ignore_ascii_case(b"keep-alive");
                }
            }
            Kind::Expect => self.expects_continue = value.eq_ignore_ascii_case(b"100-continue"),
            Kind::AcceptEncoding => {
                self.accepts_gzip |= crate::head::comma_list(value).any(|e| e.starts_with(b"gzip"));
            }
            Kind::ContentEncoding => {
                self.content_encoding.get_or_insert(v);
            }
            Kind::Call(i) => {
                if i == CALL_HEADERS - 1 {
                    self.baggage_headers = self.baggage_headers.saturating_add(1);
                }
                // A head is at most MAX_HEAD bytes: every offset fits.
                if let (Some(slot), Ok(start), Ok(end)) = (
                    self.call_headers.get_mut(i),
                    u32::try_from(v.start),
                    u32::try_from(v.end),
                ) {
                    if *slot == NOT_SENT {
                        *slot = (start, end);
                    }
                }
            }
            Kind::Other => {}
        }
    }

    /// The framing and the connection's fate from what [`Head::take_header`] read (a transfer
    /// coding that does not end in chunked is refused).
    fn settle(&mut self, f: Framed) -> Result<(), ReadError> {
        if let Some(refused) = f.refused {
            return Err(refused);
        }
        if f.coded && !f.chunked {
            return Err(bad(
                501,
                "a Transfer-Encoding that does not end in chunked is not supported",
            ));
        }
        self.framing = match (f.chunked, f.length) {
            (true, _) => Framing::Chunked,
            (false, Some(0)) | (false, None) => Framing::Empty,
            (false, Some(n)) => Framing::Length(n),
        };
        self.keep_alive = if self.minor == 0 {
            f.keep && !f.close
        } else {
            !f.close
        };
        // Both framings at once is how requests are smuggled past proxies: read it as
        // chunked (what HTTP/1.1 says) and take no further request from this connection.
        if f.chunked && f.length.is_some() {
            self.keep_alive = false;
        }
        self.expects_continue &= self.minor == 1;
        Ok(())
    }
}

/// The path of a request target: without a query or fragment, and without the scheme and
/// host of an absolute target.
/// The part of a request target that is its path (without a query or fragment, and without
/// the scheme and host of an absolute target); `None` for an absolute target with no path
/// (whose path is `/`).
/// (As bytes: a target is cut at ASCII bytes only, so a UTF-8 target's path is UTF-8.)
fn target_path(t: &[u8]) -> Option<&[u8]> {
    let t = if t.first() == Some(&b'/') {
        t
    } else {
        match t.windows(3).position(|w| w == b"://") {
            Some(i) => {
                let rest = t.get(i + 3..)?;
                rest.get(rest.iter().position(|&b| b == b'/')?..)?
            }
            None => t,
        }
    };
    let end = t
        .iter()
        .position(|&b| b == b'?' || b == b'#')
        .unwrap_or(t.len());
    t.get(..end)
}

/// Where `part` (a slice of `whole`) lies in it.
fn range_in(whole: &[u8], part: &[u8]) -> Range<usize> {
    let start = (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize);
    start..start + part.len()
}

/// A reply's head fields beyond the status, content type and body.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReplyOptions {
    /// Send the head only (a reply to HEAD: the body's length, not the body).
    pub head_only: bool,
    /// Say `Connection: close` (the server closes after this reply).
    pub close: bool,
    /// Say `Connection: keep-alive` (an HTTP/1.0 client that asked for it).
    pub keep_alive_10: bool,
    /// Say `Content-Encoding: gzip`.
    pub gzip: bool,
}

/// One connection: the stream, what was read past the last request, and the reply buffer.
pub(crate) struct ServerConnection {
    io: Box<dyn Io>,
    buf: BytesMut,
    out: Vec<u8>,
}

impl ServerConnection {
    /// A connection over `io`. Its buffers are allocated at its first request, not before: a
    /// connection that opens and waits costs its socket and its task, nothing more.
    pub fn new(io: Box<dyn Io>) -> ServerConnection {
        ServerConnection {
            io,
            buf: BytesMut::new(),
            out: Vec::new(),
        }
    }

    async fn fill_or_closed(&mut self) -> Result<(), ReadError> {
        match Fill::fill(self).await {
            Ok(0) | Err(_) => Err(ReadError::Closed),
            Ok(_) => Ok(()),
        }
    }

    /// Reads the next request's line and headers. Blank lines before a request are skipped,
    /// as HTTP/1.1 asks of a server.
    /// The head is boxed: it moves with the request through the server's futures (into the
    /// call, into the handler's), and a pointer moves for less than the head's ~190 bytes.
    pub async fn read_head(&mut self) -> Result<Box<Head>, ReadError> {
        loop {
            let blanks = self
                .buf
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            if blanks > 0 {
                let _ = self.buf.split_to(blanks);
            }
            if !self.buf.is_empty() {
                if let Some(head) = self.parse_head()? {
                    return Ok(head);
                }
                if self.buf.len() > MAX_HEAD {
                    return Err(bad(
                        431,
                        format!("the request's headers are over {MAX_HEAD} bytes"),
                    ));
                }
            }
            self.fill_or_closed().await?;
        }
    }

    /// Parses a complete head off the front of the buffer, if one is there.
    fn parse_head(&mut self) -> Result<Option<Box<Head>>, ReadError> {
        let mut head = Head::empty();
        let mut framed = Framed::default();
        let buf = &self.buf[..];
        let parsed = crate::head::request(buf, MAX_HEADERS, |k, v| {
            head.take_header(buf, k, v, &mut framed)
        });
        let line = match parsed {
            // A head over the limit is refused whether or not it came whole in one read.
            Ok(Some(line)) if line.len > MAX_HEAD => {
                return Err(bad(
                    431,
                    format!("the request's headers are over {MAX_HEAD} bytes"),
                ))
            }
            Ok(Some(line)) => line,
            Ok(None) => return Ok(None),
            Err(HeadError::TooManyHeaders) => {
                return Err(bad(
                    431,
                    format!("the request has more than {MAX_HEADERS} headers"),
                ))
            }
            Err(e) => return Err(bad(400, format!("malformed HTTP request: {e}"))),
        };
        head.method = http::Method::from_bytes(&buf[line.method])
            .map_err(|_| bad(400, "malformed method"))?;
        head.path = target_path(&buf[line.target.clone()]).map(|p| range_in(&buf[..line.len], p));
        head.target = line.target;
        head.minor = line.minor;
        head.settle(framed)?;
        head.raw = self.buf.split_to(line.len).freeze();
        Ok(Some(head))
    }

    /// Whether the whole body `framing` describes is already in the buffer (so reading it
    /// needs no wait, and no timer).
    pub fn body_is_here(&self, framing: Framing) -> bool {
        match framing {
            Framing::Empty => true,
            Framing::Length(n) => self.buf.len() as u64 >= n,
            Framing::Chunked => false,
        }
    }

    /// Writes `100 Continue` (the client waits for it before it sends the body).
    pub async fn send_continue(&mut self) -> std::io::Result<()> {
        self.io.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
        self.io.flush().await
    }

    /// Reads the body `framing` describes, at most `max` bytes.
    pub async fn read_body(&mut self, framing: Framing, max: usize) -> Result<Bytes, ReadError> {
        let read = match framing {
            Framing::Empty => return Ok(Bytes::new()),
            Framing::Length(n) if n > max as u64 => return Err(too_large(n, max)),
            Framing::Length(n) => body::read_exact(self, n as usize).await,
            Framing::Chunked => body::read_chunked(self, max, CHUNKS).await,
        };
        read.map(BytesMut::freeze).map_err(|short| match short {
            Short::Closed { .. } | Short::Io(_) => ReadError::Closed,
            Short::LineTooLong => bad(400, "a chunk-size or trailer line is too long"),
            Short::BadChunkSize(size) => bad(400, format!("bad chunk size {size:?}")),
            Short::TooManyTrailers => bad(400, "too many trailers after a chunked body"),
            Short::ChunkTooLong => bad(400, "a chunk is longer than its stated size"),
            Short::TooLarge(n) => too_large(n, max),
        })
    }

    /// Writes a reply: its head and body in one write (a large body right after its head).
    pub async fn write_reply(
        &mut self,
        status: u16,
        content_type: &str,
        body: &[u8],
        options: ReplyOptions,
    ) -> std::io::Result<()> {
        let status = if (100..1000).contains(&status) {
            status
        } else {
            500
        };
        let reason = http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        self.out.clear();
        let out = &mut self.out;
        out.extend_from_slice(b"HTTP/1.1 ");
        out.extend_from_slice(Decimal::unsigned(u64::from(status)).as_bytes());
        out.push(b' ');
        out.extend_from_slice(reason.as_bytes());
        out.extend_from_slice(b"\r\ncontent-type: ");
        out.extend_from_slice(content_type.as_bytes());
        out.extend_from_slice(b"\r\ncontent-length: ");
        out.extend_from_slice(Decimal::unsigned(body.len() as u64).as_bytes());
        out.extend_from_slice(b"\r\ndate: ");
        crate::server::date::append(out);
        out.extend_from_slice(b"\r\n");
        if options.gzip {
            out.extend_from_slice(b"content-encoding: gzip\r\n");
        }
        if options.close {
            out.extend_from_slice(b"connection: close\r\n");
        } else if options.keep_alive_10 {
            out.extend_from_slice(b"connection: keep-alive\r\n");
        }
        out.extend_from_slice(b"\r\n");
        let body = if options.head_only { &[][..] } else { body };
        if body.len() <= COPY_BODY_UP_TO {
            out.extend_from_slice(body);
            self.io.write_all(&self.out).await?;
        } else {
            self.io.write_all(&self.out).await?;
            self.io.write_all(body).await?;
        }
        self.io.flush().await
    }

    /// Ends the connection: TLS's close_notify, then the write side's FIN.
    pub async fn close(&mut self) {
        let _ = self.io.shutdown().await;
    }
}

impl Fill for ServerConnection {
    fn buf(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    async fn fill(&mut self) -> std::io::Result<usize> {
        // A small call's request fits in a few KiB; a larger body has room made for it as it
        // comes (`body::read_exact`).
        if self.buf.capacity() - self.buf.len() < 1024 {
            self.buf.reserve(4 * 1024);
        }
        self.io.read_buf(&mut self.buf).await
    }
}

/// The 413 for a body of `n` bytes over `max`.
#[cold]
pub(super) fn too_large(n: u64, max: usize) -> ReadError {
    bad(
        413,
        format!("request body of {n} bytes is over the limit of {max}"),
    )
}

#[cfg(test)]
mod tests {
    /// Two `baggage` headers are joined; a request with no call header has none.
    #[test]
    fn call_headers_are_read_and_baggage_joined() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let req = b"POST / HTTP/1.1\r\nHost: x\r\nB3: a-b-1\r\nbaggage: a=1\r\nX-B3-Flags: 1\r\nBaggage: b=2\r\nContent-Length: 0\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let io = crate::client::connection::Replay::new(req);
        let mut conn = super::ServerConnection::new(Box::new(io));
        rt.block_on(async {
            let head = conn.read_head().await.map_err(|_| ()).expect("head");
            assert!(head.has_call_headers());
            let mut joined = Vec::new();
            let got = head.call_headers(&mut joined);
            assert_eq!(got.b3, Some(&b"a-b-1"[..]));
            assert_eq!(got.b3_flags, Some(&b"1"[..]));
            assert_eq!(got.baggage, Some(&b"a=1,b=2"[..]));
            assert_eq!(got.traceparent, None);
            let plain = conn.read_head().await.map_err(|_| ()).expect("second head");
            assert!(!plain.has_call_headers());
        });
    }

    /// A declared length that the bytes never follow reserves a bounded amount.
    #[test]
    fn memory_follows_the_bytes_not_the_declared_length() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let lie = b"POST / HTTP/1.1\r\nContent-Length: 60000000\r\n\r\n0123456789";
        let io = crate::client::connection::Replay::new(lie);
        let mut conn = super::ServerConnection::new(Box::new(io));
        rt.block_on(async {
            let head = conn.read_head().await.map_err(|_| ()).expect("head");
            assert_eq!(head.framing, super::Framing::Length(60_000_000));
            assert!(conn.read_body(head.framing, 64 << 20).await.is_err());
        });
        assert!(
            conn.buf.capacity() <= 2 * crate::body::READ_AHEAD,
            "{} bytes reserved for 10 that came",
            conn.buf.capacity()
        );
    }

    #[test]
    fn target_paths() {
        for (target, path) in [
            ("/RPC2", "/RPC2"),
            ("/a/b?q=1#f", "/a/b"),
            ("http://h:1/x?y", "/x"),
            ("https://h", "/"),
            ("*", "*"),
        ] {
            assert_eq!(
                super::target_path(target.as_bytes()).unwrap_or(b"/"),
                path.as_bytes()
            );
        }
    }
}
