//! Reading a body off a read buffer, as the server reads requests' and the client replies':
//! by a declared length or in chunks, each length checked against the limit before anything
//! is read for it, and memory reserved as the bytes come rather than as a length claims.
//!
//! Both sides' connections implement [`Fill`]; each turns a [`Short`] into its own error (a
//! status for a request, a [`tether_core::RemoteError`] for a reply).

use bytes::BytesMut;
use std::future::Future;

/// Most bytes of a body reserved ahead of what has arrived. A declared length is a claim: a
/// thousand connections each declaring 64 MiB and sending nothing must not make the server
/// reserve 64 GiB, so memory follows the bytes (doubling as they come) and not the claim.
pub(crate) const READ_AHEAD: usize = 256 * 1024;

/// Makes room in `buf` for the next read of a body that ends at `n` bytes: what is missing,
/// up to [`READ_AHEAD`].
fn reserve_ahead(buf: &mut BytesMut, n: usize) {
    let want = n.saturating_sub(buf.len()).min(READ_AHEAD);
    if buf.capacity() - buf.len() < want {
        buf.reserve(want);
    }
}

/// A connection's read side: its buffer, and a way to read more into it.
pub(crate) trait Fill {
    /// The bytes read and not yet taken.
    fn buf(&mut self) -> &mut BytesMut;
    /// Reads more into the buffer; `Ok(0)` at the end of the stream.
    fn fill(&mut self) -> impl Future<Output = std::io::Result<usize>> + Send;
}

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum Short {
    /// The stream ended with this many bytes of what was wanted in the buffer.
    Closed { have: usize },
    /// Reading failed.
    Io(std::io::Error),
    /// A chunk-size or trailer line is longer than allowed.
    LineTooLong,
    /// A chunk size that is not a hexadecimal number (as sent).
    BadChunkSize(String),
    /// More trailer lines than allowed.
    TooManyTrailers,
    /// A chunk's data is longer than its stated size.
    ChunkTooLong,
    /// The body would be this many bytes, over the limit.
    TooLarge(u64),
}

/// The limits of a chunked body's framing.
#[derive(Clone, Copy)]
pub(crate) struct ChunkLimits {
    /// Most bytes of a chunk-size or trailer line.
    pub line: usize,
    /// Most trailer lines.
    pub trailers: usize,
}

async fn more<F: Fill>(f: &mut F, want: usize) -> Result<(), Short> {
    match f.fill().await {
        Ok(0) => Err(Short::Closed {
            have: f.buf().len().min(want),
        }),
        Ok(_) => Ok(()),
        Err(e) => Err(Short::Io(e)),
    }
}

/// The next `n` bytes.
pub(crate) async fn read_exact<F: Fill>(f: &mut F, n: usize) -> Result<BytesMut, Short> {
    while f.buf().len() < n {
        reserve_ahead(f.buf(), n);
        more(f, n).await?;
    }
    Ok(f.buf().split_to(n))
}

/// The next line, without its CRLF (or LF).
async fn read_line<F: Fill>(f: &mut F, max: usize) -> Result<BytesMut, Short> {
    loop {
        let buf = f.buf();
        if let Some(i) = buf.iter().position(|&b| b == b'\n') {
            let mut line = buf.split_to(i + 1);
            line.truncate(i);
            if line.last() == Some(&b'\r') {
                line.truncate(i - 1);
            }
            return Ok(line);
        }
        if buf.len() > max {
            return Err(Short::LineTooLong);
        }
        more(f, usize::MAX).await?;
    }
}

/// A chunked body of at most `max` bytes, its trailers read and dropped.
pub(crate) async fn read_chunked<F: Fill>(
    f: &mut F,
    max: usize,
    limits: ChunkLimits,
) -> Result<BytesMut, Short> {
    let mut body = BytesMut::new();
    loop {
        let line = read_line(f, limits.line).await?;
        let size = line[..]
            .split(|&b| b == b';')
            .next()
            .unwrap_or(&[])
            .trim_ascii();
        let n = std::str::from_utf8(size)
            .ok()
            .filter(|s| !s.is_empty() && s.len() <= 16)
            .and_then(|s| u64::from_str_radix(s, 16).ok())
            .ok_or_else(|| Short::BadChunkSize(String::from_utf8_lossy(size).into_owned()))?;
        if n == 0 {
            for _ in 0..=limits.trailers {
                if read_line(f, limits.line).await?.is_empty() {
                    return Ok(body);
                }
            }
            return Err(Short::TooManyTrailers);
        }
        let total = body.len() as u64 + n;
        if total > max as u64 {
            return Err(Short::TooLarge(total));
        }
        let chunk = read_exact(f, n as usize).await?;
        if body.is_empty() {
            body = chunk;
        } else {
            body.extend_from_slice(&chunk);
        }
        if !read_line(f, limits.line).await?.is_empty() {
            return Err(Short::ChunkTooLong);
        }
    }
}
