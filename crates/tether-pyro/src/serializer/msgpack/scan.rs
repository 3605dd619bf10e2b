//! [`find_large_bin`]: where a large byte string starts near the beginning of a payload, so
//! a reader can receive its bytes straight into their own buffer.

/// What [`find_large_bin`] found in the beginning of a payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinScan {
    /// The first bin of at least the asked length: its data starts at `at` and is `len` long.
    Found {
        /// Offset of the bin's first data byte.
        at: usize,
        /// The bin's declared length.
        len: usize,
    },
    /// The prefix ended inside the value's items before such a bin was seen.
    NeedMore,
    /// No such bin within the prefix (or the prefix is not msgpack).
    None,
}

/// Walks the items of a msgpack payload in wire order (container headers, then their items;
/// msgpack is prefix-ordered, so no recursion is needed) looking for the first bin of at least
/// `min` bytes, without decoding anything; lets the frame reader receive that bin directly
/// into its own buffer. Only headers are read: the result is a hint, the decoder checks again.
pub fn find_large_bin(prefix: &[u8], min: usize) -> BinScan {
    let mut pos = 0usize;
    let be = |at: usize, n: usize| -> Option<usize> {
        let b = prefix.get(at..at.checked_add(n)?)?;
        Some(b.iter().fold(0usize, |acc, &x| (acc << 8) | usize::from(x)))
    };
    while pos < prefix.len() {
        let b = prefix[pos];
        // (header bytes including the type byte, data bytes after the header)
        let (head, data): (usize, Option<usize>) = match b {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 | 0x80..=0x9f => (1, Some(0)),
            0xa0..=0xbf => (1, Some(usize::from(b & 0x1f))),
            0xc1 => return BinScan::None,
            0xc4..=0xc6 => {
                let w = [1, 2, 4][usize::from(b - 0xc4)];
                let Some(n) = be(pos + 1, w) else {
                    return BinScan::NeedMore;
                };
                if n >= min {
                    return BinScan::Found {
                        at: pos + 1 + w,
                        len: n,
                    };
                }
                (1 + w, Some(n))
            }
            0xc7..=0xc9 => {
                let w = [1, 2, 4][usize::from(b - 0xc7)];
                (1 + w + 1, be(pos + 1, w))
            }
            0xca => (5, Some(0)),
            0xcb => (9, Some(0)),
            0xcc..=0xcf => (1 + [1, 2, 4, 8][usize::from(b - 0xcc)], Some(0)),
            0xd0..=0xd3 => (1 + [1, 2, 4, 8][usize::from(b - 0xd0)], Some(0)),
            0xd4..=0xd8 => (2 + [1, 2, 4, 8, 16][usize::from(b - 0xd4)], Some(0)),
            0xd9..=0xdb => {
                let w = [1, 2, 4][usize::from(b - 0xd9)];
                (1 + w, be(pos + 1, w))
            }
            0xdc | 0xde => (3, Some(0)),
            0xdd | 0xdf => (5, Some(0)),
        };
        let Some(data) = data else {
            return BinScan::NeedMore;
        };
        pos = match pos.checked_add(head).and_then(|p| p.checked_add(data)) {
            Some(p) => p,
            None => return BinScan::None,
        };
    }
    BinScan::NeedMore
}
