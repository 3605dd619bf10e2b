//! The wire-independent part of framing: what [`Connection`](crate::Connection)'s bounded
//! reader needs to know of a wire's frames ([`FrameFormat`]), and why a frame is refused
//! ([`FrameError`]). Pyro5 implements it in `pyro5/format.rs`; Pyro4's 24-byte header and
//! Pyro 3's 18-byte one implement the same trait and reuse the reader as it is.

use std::fmt;
use tether_core::{ErrorKind, RemoteError};

/// A wire's frame layout: a fixed-size header that declares the body's length.
pub trait FrameFormat {
    /// The decoded header.
    type Header: Copy + fmt::Debug;

    /// Size of the fixed header.
    const HEADER_SIZE: usize;

    /// Checks what can be checked of the first bytes (up to `HEADER_SIZE`), so garbage is
    /// refused before the reader waits for, or allocates, anything more.
    fn check_prefix(buf: &[u8]) -> Result<(), FrameError<Self::Header>>;

    /// Parses and validates a complete header (`buf` is exactly `HEADER_SIZE` bytes);
    /// `max_size` bounds the declared body and is checked here, before any allocation.
    fn parse_header(buf: &[u8], max_size: usize) -> Result<Self::Header, FrameError<Self::Header>>;

    /// The body length the header declares (u64: two 4 GiB fields cannot overflow).
    fn body_len(header: &Self::Header) -> u64;

    /// Whether a large byte string in this frame's body should be received into its own
    /// buffer, looking at the start of the body received so far (`min` is the smallest worth
    /// it). The default never detaches.
    fn find_detachable(header: &Self::Header, body_start: &[u8], min: usize) -> Detachable {
        let _ = (header, body_start, min);
        Detachable::No
    }
}

/// The answer of [`FrameFormat::find_detachable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detachable {
    /// Nothing to detach in this frame (or not worth looking further).
    No,
    /// Ask again when more of the body is in.
    NeedMore,
    /// A byte string of `len` bytes starts at `at` (an offset in the body).
    At {
        /// Offset of the first data byte in the body.
        at: usize,
        /// Its length.
        len: usize,
    },
}

/// Why a frame was refused. Each maps onto a [`RemoteError`] of kind `Protocol`,
/// `MessageTooLarge` or `Connection`.
#[derive(Debug)]
pub enum FrameError<H> {
    /// The first bytes are not the wire's tag (`PYRO`).
    BadTag,
    /// The version field is not the wire's (a Pyro5 reader seeing a Pyro4 peer gets 48).
    BadVersion(u16),
    /// The magic number is wrong (Pyro5).
    BadMagic(u16),
    /// The header checksum is wrong (Pyro4).
    BadChecksum(u16),
    /// The declared length is impossible (Pyro4's signed length is negative).
    BadLength(i64),
    /// The message's signature (Pyro4's HMAC) is missing, unexpected or wrong.
    Hmac(&'static str),
    /// Annotations plus payload exceed the configured maximum message size.
    TooLarge {
        /// What the header declared.
        size: u64,
        /// The configured limit.
        max: usize,
        /// The header, so a server can still address an error reply to the request.
        header: H,
    },
    /// The annotation chunks do not add up to the declared length.
    BadAnnotations(&'static str),
    /// The zlib payload is corrupt or inflates beyond the size limit.
    Decompress(String),
    /// The peer closed the connection in the middle of a frame.
    Truncated,
    /// No complete frame arrived in time.
    Timeout,
    /// The server's budget for buffering large messages (all connections together) is spent.
    Overloaded,
    /// A socket error.
    Io(std::io::Error),
}

impl<H> fmt::Display for FrameError<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::BadTag => f.write_str("invalid data (not a Pyro message)"),
            FrameError::BadVersion(v) => write!(f, "invalid protocol version: {v}"),
            FrameError::BadMagic(m) => write!(f, "invalid magic number 0x{m:04x}"),
            FrameError::BadChecksum(c) => write!(f, "header checksum mismatch (0x{c:04x})"),
            FrameError::BadLength(n) => write!(f, "invalid message size {n}"),
            FrameError::Hmac(why) => f.write_str(why),
            FrameError::TooLarge { size, max, .. } => {
                write!(f, "message too large ({size}, max={max})")
            }
            FrameError::BadAnnotations(why) => write!(f, "invalid annotations: {why}"),
            FrameError::Decompress(why) => write!(f, "cannot decompress payload: {why}"),
            FrameError::Truncated => f.write_str("connection closed in the middle of a message"),
            FrameError::Timeout => f.write_str("timed out waiting for a complete message"),
            FrameError::Overloaded => {
                f.write_str("the server is buffering too much data from other clients; try again")
            }
            FrameError::Io(e) => write!(f, "socket error: {e}"),
        }
    }
}

impl<H: fmt::Debug> std::error::Error for FrameError<H> {}

impl<H> FrameError<H> {
    /// The same error with its header (only [`FrameError::TooLarge`] has one) mapped.
    pub fn map_header<H2>(self, f: impl FnOnce(H) -> H2) -> FrameError<H2> {
        match self {
            FrameError::BadTag => FrameError::BadTag,
            FrameError::BadVersion(v) => FrameError::BadVersion(v),
            FrameError::BadMagic(m) => FrameError::BadMagic(m),
            FrameError::BadChecksum(c) => FrameError::BadChecksum(c),
            FrameError::BadLength(n) => FrameError::BadLength(n),
            FrameError::Hmac(w) => FrameError::Hmac(w),
            FrameError::TooLarge { size, max, header } => FrameError::TooLarge {
                size,
                max,
                header: f(header),
            },
            FrameError::BadAnnotations(w) => FrameError::BadAnnotations(w),
            FrameError::Decompress(w) => FrameError::Decompress(w),
            FrameError::Truncated => FrameError::Truncated,
            FrameError::Timeout => FrameError::Timeout,
            FrameError::Overloaded => FrameError::Overloaded,
            FrameError::Io(e) => FrameError::Io(e),
        }
    }
}

impl<H> From<std::io::Error> for FrameError<H> {
    fn from(e: std::io::Error) -> Self {
        FrameError::Io(e)
    }
}

impl<H> From<FrameError<H>> for RemoteError {
    fn from(e: FrameError<H>) -> Self {
        let kind = match &e {
            FrameError::TooLarge { .. } => ErrorKind::MessageTooLarge,
            FrameError::Timeout => ErrorKind::Timeout,
            FrameError::Hmac(_) => ErrorKind::Security,
            FrameError::Truncated | FrameError::Io(_) | FrameError::Overloaded => {
                ErrorKind::Connection
            }
            _ => ErrorKind::Protocol,
        };
        RemoteError::new(kind, e.to_string())
    }
}
