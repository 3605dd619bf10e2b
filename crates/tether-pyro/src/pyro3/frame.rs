//! Pyro 3's 18-byte frame: `PYRO`, protocol version 5, header size 18, body size (signed),
//! flags, and an Adler-32 checksum, all big-endian. Flags are each sender's own choice: zlib
//! compression (only when it makes the body smaller), the checksum of the body as sent, and
//! the Gnosis XML pickle flag, which tether refuses.

use crate::framing::{FrameError, FrameFormat};
use bytes::Bytes;
use std::io::Read;
use tether_core::RemoteError;

/// Header size.
pub const HEADER_SIZE: usize = 18;
/// The protocol version field of every Pyro 3 frame.
pub const VERSION: u16 = 5;

/// Header flag bits.
pub mod flags {
    /// The body is zlib-compressed.
    pub const COMPRESSED: u16 = 0x01;
    /// The checksum field holds the Adler-32 of the body as sent.
    pub const CHECKSUM: u16 = 0x02;
    /// The body is a Gnosis XML pickle (refused: it rebuilds classes by name too).
    pub const XML_PICKLE: u16 = 0x04;
}

/// A parsed header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header3 {
    /// Declared body length.
    pub body_len: u32,
    /// Flag bits.
    pub flags: u16,
    /// The checksum field.
    pub checksum: u32,
}

/// Pyro 3 frames for the shared bounded reader.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pyro3;

impl FrameFormat for Pyro3 {
    type Header = Header3;
    const HEADER_SIZE: usize = HEADER_SIZE;

    fn check_prefix(buf: &[u8]) -> Result<(), FrameError<Header3>> {
        let n = buf.len().min(4);
        if buf[..n] != b"PYRO"[..n] {
            return Err(FrameError::BadTag);
        }
        if buf.len() >= 6 {
            let v = u16::from_be_bytes([buf[4], buf[5]]);
            if v != VERSION {
                return Err(FrameError::BadVersion(v));
            }
        }
        Ok(())
    }

    fn parse_header(buf: &[u8], max_size: usize) -> Result<Header3, FrameError<Header3>> {
        Self::check_prefix(buf)?;
        let hsize = u16::from_be_bytes([buf[6], buf[7]]);
        if hsize as usize != HEADER_SIZE {
            return Err(FrameError::BadAnnotations("header size is not 18"));
        }
        let len = i32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
        if len < 0 {
            return Err(FrameError::BadLength(len as i64));
        }
        let header = Header3 {
            body_len: len as u32,
            flags: u16::from_be_bytes([buf[12], buf[13]]),
            checksum: u32::from_be_bytes([buf[14], buf[15], buf[16], buf[17]]),
        };
        if len as u64 > max_size as u64 {
            return Err(FrameError::TooLarge {
                size: len as u64,
                max: max_size,
                header,
            });
        }
        Ok(header)
    }

    fn body_len(header: &Header3) -> u64 {
        header.body_len as u64
    }
}

/// Adler-32 (RFC 1950), what Python's `zlib.adler32` computes.
pub fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the most that cannot overflow u32 before the modulo.
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += x as u32;
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// Appends one frame: header and body, compressed when asked and smaller, with a checksum
/// when asked.
pub fn encode(body: &[u8], compress: bool, checksum: bool, out: &mut Vec<u8>) {
    let mut flags = 0u16;
    let packed;
    let mut body = body;
    if compress {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        if std::io::Write::write_all(&mut z, body).is_ok() {
            if let Ok(c) = z.finish() {
                if c.len() < body.len() {
                    packed = c;
                    body = &packed;
                    flags |= flags::COMPRESSED;
                }
            }
        }
    }
    let crc = if checksum {
        flags |= flags::CHECKSUM;
        adler32(body)
    } else {
        0
    };
    out.reserve(HEADER_SIZE + body.len());
    out.extend_from_slice(&header(body.len(), flags, crc));
    out.extend_from_slice(body);
}

/// A frame's header: its body's length, flags and checksum.
fn header(len: usize, flags: u16, crc: u32) -> [u8; HEADER_SIZE] {
    let mut h = [0u8; HEADER_SIZE];
    h[..4].copy_from_slice(b"PYRO");
    h[4..6].copy_from_slice(&VERSION.to_be_bytes());
    h[6..8].copy_from_slice(&(HEADER_SIZE as u16).to_be_bytes());
    h[8..12].copy_from_slice(&(len as u32).to_be_bytes());
    h[12..14].copy_from_slice(&flags.to_be_bytes());
    h[14..18].copy_from_slice(&crc.to_be_bytes());
    h
}

/// Appends one frame whose body `write` appends: straight behind the header when the body is
/// not to be compressed (the header's length and checksum are filled in after), else through
/// [`encode`]. On an error `out` is left as it was.
pub fn encode_with<E>(
    compress: bool,
    checksum: bool,
    out: &mut Vec<u8>,
    write: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
) -> Result<(), E> {
    let start = out.len();
    if compress {
        let mut body = Vec::new();
        write(&mut body)?;
        encode(&body, compress, checksum, out);
        return Ok(());
    }
    out.extend_from_slice(&[0; HEADER_SIZE]);
    if let Err(e) = write(out) {
        out.truncate(start);
        return Err(e);
    }
    let body = &out[start + HEADER_SIZE..];
    let (flags, crc) = if checksum {
        (flags::CHECKSUM, adler32(body))
    } else {
        (0, 0)
    };
    let h = header(body.len(), flags, crc);
    out[start..start + HEADER_SIZE].copy_from_slice(&h);
    Ok(())
}

/// The body of a received frame, checked and inflated: the checksum must match, the XML flag
/// is refused, and a compressed body may inflate to at most `max_size` bytes (and at most
/// `inflate_ratio` times its size, with a 64 KiB allowance).
pub fn open(
    header: &Header3,
    body: Bytes,
    max_size: usize,
    inflate_ratio: usize,
) -> Result<Bytes, RemoteError> {
    if header.flags & flags::XML_PICKLE != 0 {
        return Err(RemoteError::protocol(
            "xml pickle (PYRO_XML_PICKLE) is not supported: use the default pickle",
        ));
    }
    if header.flags & flags::CHECKSUM != 0 && adler32(&body) != header.checksum {
        return Err(RemoteError::protocol("checksum error"));
    }
    if header.flags & flags::COMPRESSED == 0 {
        return Ok(body);
    }
    let cap = max_size.min(body.len().saturating_mul(inflate_ratio).max(64 * 1024));
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(&body[..])
        .take(cap as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| RemoteError::protocol(format!("cannot decompress the body: {e}")))?;
    if out.len() > cap {
        return Err(RemoteError::new(
            tether_core::ErrorKind::MessageTooLarge,
            format!("the compressed body inflates past {cap} bytes"),
        ));
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body written behind its header makes the frame `encode` makes, with or without a
    /// checksum or compression; a failed write leaves the buffer as it was.
    #[test]
    fn a_body_written_in_place_makes_the_same_frame() {
        let body: Vec<u8> = (0..3000u32).map(|i| (i % 7) as u8).collect();
        for compress in [false, true] {
            for checksum in [false, true] {
                let mut want = b"before".to_vec();
                encode(&body, compress, checksum, &mut want);
                let mut got = b"before".to_vec();
                encode_with(compress, checksum, &mut got, |b| {
                    b.extend_from_slice(&body);
                    Ok::<_, ()>(())
                })
                .expect("written");
                assert_eq!(got, want, "compress {compress}, checksum {checksum}");
                let mut failed = b"before".to_vec();
                let r = encode_with(compress, checksum, &mut failed, |b| {
                    b.extend_from_slice(b"half");
                    Err("no")
                });
                assert_eq!((r, &failed[..]), (Err("no"), &b"before"[..]));
            }
        }
    }

    #[test]
    fn adler32_matches_zlib() {
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        let big = vec![0xffu8; 100_000];
        // python: zlib.adler32(b'\xff'*100000) & 0xffffffff
        assert_eq!(adler32(&big), 0x149a_302c);
    }

    #[test]
    fn header_checks() {
        let mut f = Vec::new();
        encode(b"abc", false, true, &mut f);
        let h = Pyro3::parse_header(&f[..18], 100).unwrap();
        assert_eq!(h.body_len, 3);
        assert_eq!(h.flags, flags::CHECKSUM);
        assert!(open(&h, Bytes::from_static(b"abc"), 100, 10).is_ok());
        assert!(open(&h, Bytes::from_static(b"abd"), 100, 10).is_err());
        let mut lie = f.clone();
        lie[8..12].copy_from_slice(&(-1i32).to_be_bytes());
        assert!(matches!(
            Pyro3::parse_header(&lie[..18], 100),
            Err(FrameError::BadLength(-1))
        ));
        lie[8..12].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(matches!(
            Pyro3::parse_header(&lie[..18], 100),
            Err(FrameError::TooLarge { .. })
        ));
        let mut v5 = f.clone();
        v5[5] = 0xf6;
        v5[4] = 1;
        assert!(matches!(
            Pyro3::parse_header(&v5[..18], 100),
            Err(FrameError::BadVersion(502))
        ));
    }

    #[test]
    fn compression_only_when_smaller_and_inflate_is_capped() {
        let mut f = Vec::new();
        encode(b"ab", true, false, &mut f);
        assert_eq!(u16::from_be_bytes([f[12], f[13]]), 0);
        let zeros = vec![0u8; 1 << 20];
        let mut f = Vec::new();
        encode(&zeros, true, true, &mut f);
        let h = Pyro3::parse_header(&f[..18], 1 << 21).unwrap();
        assert_eq!(h.flags, flags::COMPRESSED | flags::CHECKSUM);
        let body = Bytes::copy_from_slice(&f[18..]);
        assert_eq!(
            open(&h, body.clone(), 2 << 20, 2000).unwrap().len(),
            1 << 20
        );
        // The same bomb against a small cap is refused, not inflated.
        assert!(open(&h, body, 100_000, 2000).is_err());
    }
}
