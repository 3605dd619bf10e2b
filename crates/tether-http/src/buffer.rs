//! How the server and the client grow a read buffer for a body whose length was declared.

use bytes::BytesMut;

/// Most bytes of a body reserved ahead of what has arrived. A declared length is a claim: a
/// thousand connections each declaring 64 MiB and sending nothing must not make the server
/// reserve 64 GiB, so memory follows the bytes (doubling as they come) and not the claim.
pub(crate) const READ_AHEAD: usize = 256 * 1024;

/// Makes room in `buf` for the next read of a body that ends at `n` bytes: what is missing,
/// up to [`READ_AHEAD`].
pub(crate) fn reserve_ahead(buf: &mut BytesMut, n: usize) {
    let want = n.saturating_sub(buf.len()).min(READ_AHEAD);
    if buf.capacity() - buf.len() < want {
        buf.reserve(want);
    }
}
