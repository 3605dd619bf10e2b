//! The fixed 24-byte Pyro4 message header (protocol version 48).
//!
//! Layout, all integers big-endian:
//!
//! | off | size | field |
//! |---|---|---|
//! | 0 | 4 | tag `PYRO` |
//! | 4 | 2 | protocol version, 48 |
//! | 6 | 2 | message type (the same numbers as Pyro5) |
//! | 8 | 2 | flags |
//! | 10 | 2 | sequence number |
//! | 12 | 4 | payload length, signed (at most 2 GiB - 1) |
//! | 16 | 2 | serializer id |
//! | 18 | 2 | annotations length |
//! | 20 | 2 | reserved, 0 |
//! | 22 | 2 | checksum: the sum of the fields above (version included) + 0x34E9, mod 2^16 |
//!
//! Annotation chunks that follow have a 4-byte id and a **u16** length (Pyro5: u32).

use crate::framing::FrameError;

/// Size of the fixed header.
pub const HEADER_SIZE: usize = 24;
/// The Pyro4 protocol version.
pub const PROTOCOL_VERSION: u16 = 48;
/// Added to the field sum to make the checksum.
const CHECKSUM_MAGIC: u32 = 0x34E9;
const TAG: &[u8; 4] = b"PYRO";

/// A decoded Pyro4 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header4 {
    /// Message type (1 CONNECT .. 6 PING, as in Pyro5).
    pub msg_type: u16,
    /// Pyro4 flag bits (see [`super::flags_from_v4`]).
    pub flags: u16,
    /// Sequence number; a reply copies its request's.
    pub seq: u16,
    /// Payload length (annotations not included).
    pub data_len: u32,
    /// Pyro4 serializer id (1 serpent, 2 json, 3 marshal, 6 msgpack, 42 for PING).
    pub serializer_id: u16,
    /// Total length of the annotation chunks.
    pub annotations_len: u16,
}

impl Header4 {
    /// The checksum Pyro4 puts at offset 22: the low 16 bits of the fields' sum (Python adds
    /// them as unbounded ints; a wrapping sum has the same low bits, and a lying length such
    /// as 0xffffffff must not overflow).
    pub fn checksum(&self) -> u16 {
        let sum = [
            u32::from(self.msg_type),
            u32::from(PROTOCOL_VERSION),
            self.data_len,
            u32::from(self.annotations_len),
            u32::from(self.serializer_id),
            u32::from(self.flags),
            u32::from(self.seq),
            CHECKSUM_MAGIC,
        ]
        .into_iter()
        .fold(0u32, u32::wrapping_add);
        (sum & 0xffff) as u16
    }

    /// Writes the 24 header bytes (checksum computed).
    pub fn encode(&self, out: &mut [u8; HEADER_SIZE]) {
        out[0..4].copy_from_slice(TAG);
        out[4..6].copy_from_slice(&PROTOCOL_VERSION.to_be_bytes());
        out[6..8].copy_from_slice(&self.msg_type.to_be_bytes());
        out[8..10].copy_from_slice(&self.flags.to_be_bytes());
        out[10..12].copy_from_slice(&self.seq.to_be_bytes());
        out[12..16].copy_from_slice(&self.data_len.to_be_bytes());
        out[16..18].copy_from_slice(&self.serializer_id.to_be_bytes());
        out[18..20].copy_from_slice(&self.annotations_len.to_be_bytes());
        out[20..22].copy_from_slice(&[0, 0]);
        out[22..24].copy_from_slice(&self.checksum().to_be_bytes());
    }

    /// Checks a prefix of up to 6 bytes (tag, then version).
    pub fn check_prefix(buf: &[u8]) -> Result<(), FrameError<Header4>> {
        let n = buf.len().min(4);
        if buf[..n] != TAG[..n] {
            return Err(FrameError::BadTag);
        }
        if buf.len() >= 6 {
            let version = u16::from_be_bytes([buf[4], buf[5]]);
            if version != PROTOCOL_VERSION {
                return Err(FrameError::BadVersion(version));
            }
        }
        Ok(())
    }

    /// Parses and validates a complete header: tag, version, checksum, a non-negative length,
    /// and annotations + payload within `max_size` (before anything is allocated).
    pub fn parse(buf: &[u8], max_size: usize) -> Result<Header4, FrameError<Header4>> {
        if buf.len() < HEADER_SIZE {
            return Err(FrameError::Truncated);
        }
        Header4::check_prefix(&buf[..6])?;
        let u16_at = |i: usize| u16::from_be_bytes([buf[i], buf[i + 1]]);
        let data_len = i32::from_be_bytes([buf[12], buf[13], buf[14], buf[15]]);
        let header = Header4 {
            msg_type: u16_at(6),
            flags: u16_at(8),
            seq: u16_at(10),
            data_len: data_len as u32,
            serializer_id: u16_at(16),
            annotations_len: u16_at(18),
        };
        let checksum = u16_at(22);
        if checksum != header.checksum() {
            return Err(FrameError::BadChecksum(checksum));
        }
        if data_len < 0 {
            return Err(FrameError::BadLength(i64::from(data_len)));
        }
        let size = header.body_len();
        if size > max_size as u64 {
            return Err(FrameError::TooLarge {
                size,
                max: max_size,
                header,
            });
        }
        Ok(header)
    }

    /// Annotations plus payload, as declared.
    pub fn body_len(&self) -> u64 {
        u64::from(self.data_len) + u64::from(self.annotations_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CONNECT Python's Pyro4 4.82 sends (captured): ser 1, META_ON_CONNECT, 75 bytes.
    #[test]
    fn python_connect_header_round_trips() {
        let wire = [
            0x50, 0x59, 0x52, 0x4f, 0x00, 0x30, 0x00, 0x01, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x4b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x35, 0x76,
        ];
        let h = Header4::parse(&wire, 1 << 20).unwrap();
        assert_eq!(
            h,
            Header4 {
                msg_type: 1,
                flags: 0x10,
                seq: 0,
                data_len: 75,
                serializer_id: 1,
                annotations_len: 0
            }
        );
        let mut out = [0u8; HEADER_SIZE];
        h.encode(&mut out);
        assert_eq!(out, wire);
    }

    #[test]
    fn refuses_bad_checksum_negative_and_huge_lengths() {
        let mut h = Header4 {
            msg_type: 4,
            flags: 0,
            seq: 1,
            data_len: 10,
            serializer_id: 1,
            annotations_len: 0,
        };
        let mut b = [0u8; HEADER_SIZE];
        h.encode(&mut b);
        b[23] ^= 1;
        assert!(matches!(
            Header4::parse(&b, 100),
            Err(FrameError::BadChecksum(_))
        ));
        // 2 GiB declared (the largest a signed length allows), refused by the limit
        h.data_len = i32::MAX as u32;
        h.encode(&mut b);
        assert!(matches!(
            Header4::parse(&b, 1 << 20),
            Err(FrameError::TooLarge { .. })
        ));
        // negative lengths, with a correct checksum (-1 is the 4 GiB lie; the checksum's sum
        // wraps, as Python's low 16 bits of an unbounded sum do)
        for lie in [0x8000_0000, 0xffff_ffff, 0xffff_fff0] {
            h.data_len = lie;
            h.flags = 0xffff;
            h.seq = 0xffff;
            h.annotations_len = 0xffff;
            h.encode(&mut b);
            assert!(matches!(
                Header4::parse(&b, usize::MAX),
                Err(FrameError::BadLength(_))
            ));
        }
        assert!(matches!(
            Header4::check_prefix(b"PYRO\x01\xf6"),
            Err(FrameError::BadVersion(502))
        ));
    }
}
