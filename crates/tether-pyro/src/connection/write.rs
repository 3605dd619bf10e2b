//! Vectored writes: a buffer with large byte strings spliced in, without copying them.

use super::*;

/// Writes `buf` with `splices` inserted at their offsets (see [`Splice`]) using vectored writes,
/// looping over partial writes until every byte is out. Offsets must be non-decreasing and
/// within `buf` (checked: an `InvalidInput` error otherwise, before anything is written).
pub async fn write_all_spliced<W: AsyncWrite + Unpin>(
    w: &mut W,
    buf: &[u8],
    splices: &[Splice<'_>],
) -> std::io::Result<()> {
    if check_splices(buf.len(), splices).is_err() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "spliced byte strings out of order",
        ));
    }
    let mut parts: Vec<&[u8]> = Vec::with_capacity(2 * splices.len() + 1);
    let mut from = 0;
    for s in splices {
        parts.push(&buf[from..s.at]);
        parts.push(s.data);
        from = s.at;
    }
    parts.push(&buf[from..]);
    parts.retain(|p| !p.is_empty());
    // The I/O vectors are rebuilt from `parts` after each partial write (cheap: at most
    // MAX_IOVECS of them), trimming the part the write ended in.
    let mut first = 0;
    let mut iov: Vec<IoSlice<'_>> = Vec::with_capacity(parts.len().min(MAX_IOVECS));
    while first < parts.len() {
        iov.clear();
        iov.extend(
            parts[first..]
                .iter()
                .take(MAX_IOVECS)
                .map(|p| IoSlice::new(p)),
        );
        let mut n = w.write_vectored(&iov).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        while n > 0 && first < parts.len() {
            let len = parts[first].len();
            if n >= len {
                n -= len;
                first += 1;
            } else {
                parts[first] = &parts[first][n..];
                n = 0;
            }
        }
    }
    Ok(())
}
