//! The fixed 40-byte Pyro5 message header (protocol version 502), its message types and flags.
//!
//! Layout, all integers big-endian:
//!
//! | off | size | field |
//! |---|---|---|
//! | 0 | 4 | tag `PYRO` |
//! | 4 | 2 | protocol version, 502 |
//! | 6 | 1 | message type |
//! | 7 | 1 | serializer id |
//! | 8 | 2 | flags |
//! | 10 | 2 | sequence number |
//! | 12 | 4 | payload length (annotations not included) |
//! | 16 | 4 | annotations length |
//! | 20 | 16 | correlation id |
//! | 36 | 2 | reserved, 0 |
//! | 38 | 2 | magic 0x4dc5 |
//!
//! Validation happens in the same order as Python's receiver (tag and version as soon as six
//! bytes are in, then magic and size once the header is complete) so that garbage is refused
//! before the server waits for, or allocates, anything more.

use crate::framing::FrameError as GenericFrameError;

/// A framing error of the Pyro5 wire.
pub type FrameError = GenericFrameError<Header>;

/// Size of the fixed header.
pub const HEADER_SIZE: usize = 40;
/// The protocol version this crate speaks (Pyro5).
pub const PROTOCOL_VERSION: u16 = 502;
/// The magic number at offset 38; Pyro5's replacement for Pyro4's checksum.
pub const MAGIC: u16 = 0x4dc5;
/// The tag every message starts with.
pub const TAG: &[u8; 4] = b"PYRO";

/// Message types (header byte 6).
pub mod msg_type {
    /// Client → server: first message on a connection, carries the handshake.
    pub const CONNECT: u8 = 1;
    /// Server → client: handshake accepted, carries metadata.
    pub const CONNECTOK: u8 = 2;
    /// Server → client: handshake refused, carries the reason as a string.
    pub const CONNECTFAIL: u8 = 3;
    /// Client → server: a method call.
    pub const INVOKE: u8 = 4;
    /// Server → client: the result (or exception) of a call.
    pub const RESULT: u8 = 5;
    /// Either way: liveness check; the payload is never deserialized.
    pub const PING: u8 = 6;
}

/// Header flag bits (header bytes 8-9).
pub mod flags {
    /// The payload is an exception dict.
    pub const EXCEPTION: u16 = 0x01;
    /// The payload is zlib-compressed (annotations never are).
    pub const COMPRESSED: u16 = 0x02;
    /// The caller wants no reply.
    pub const ONEWAY: u16 = 0x04;
    /// A batch of calls (request) or a list of their results (reply).
    pub const BATCH: u16 = 0x08;
    /// The result is a remote iterator: its id is in annotation `STRM` (see `daemon/streams.rs`).
    pub const ITEMSTREAMRESULT: u16 = 0x10;
    /// Serialized-blob pass-through (Python-only; refused by tether).
    pub const KEEPSERIALIZED: u16 = 0x20;
    /// The correlation id field is valid.
    pub const CORR_ID: u16 = 0x40;
}

/// Serializer id Python uses for PING messages (nothing is deserialized).
pub const PING_SERIALIZER_ID: u8 = 42;

/// The decoded fixed header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// One of [`msg_type`].
    pub msg_type: u8,
    /// Serializer id (1 serpent, 3 json, 4 msgpack; 42 for PING).
    pub serializer_id: u8,
    /// Bit set of [`flags`].
    pub flags: u16,
    /// Request/reply sequence number; a reply copies its request's.
    pub seq: u16,
    /// Payload length in bytes (excluding annotations).
    pub data_len: u32,
    /// Total length of all annotation chunks.
    pub annotations_len: u32,
    /// Raw correlation UUID; meaningful only with [`flags::CORR_ID`].
    pub corr_id: [u8; 16],
}

impl Header {
    /// A header with the given type, serializer, flags and seq; lengths are filled in when the
    /// message is encoded.
    pub fn new(msg_type: u8, serializer_id: u8, flags: u16, seq: u16) -> Header {
        Header {
            msg_type,
            serializer_id,
            flags,
            seq,
            data_len: 0,
            annotations_len: 0,
            corr_id: [0; 16],
        }
    }

    /// Sets the correlation id and the [`flags::CORR_ID`] flag (or clears both with `None`).
    pub fn with_corr_id(mut self, corr: Option<[u8; 16]>) -> Header {
        match corr {
            Some(id) => {
                self.corr_id = id;
                self.flags |= flags::CORR_ID;
            }
            None => {
                self.corr_id = [0; 16];
                self.flags &= !flags::CORR_ID;
            }
        }
        self
    }

    /// The correlation id if the flag says it is valid.
    pub fn corr(&self) -> Option<[u8; 16]> {
        (self.flags & flags::CORR_ID != 0).then_some(self.corr_id)
    }

    /// Writes the 40 header bytes.
    pub fn encode(&self, out: &mut [u8; HEADER_SIZE]) {
        out[0..4].copy_from_slice(TAG);
        out[4..6].copy_from_slice(&PROTOCOL_VERSION.to_be_bytes());
        out[6] = self.msg_type;
        out[7] = self.serializer_id;
        out[8..10].copy_from_slice(&self.flags.to_be_bytes());
        out[10..12].copy_from_slice(&self.seq.to_be_bytes());
        out[12..16].copy_from_slice(&self.data_len.to_be_bytes());
        out[16..20].copy_from_slice(&self.annotations_len.to_be_bytes());
        out[20..36].copy_from_slice(&self.corr_id);
        out[36..38].copy_from_slice(&[0, 0]);
        out[38..40].copy_from_slice(&MAGIC.to_be_bytes());
    }

    /// Checks what can be checked of a header prefix (tag from 4 bytes, version from 6), so
    /// that garbage is refused without waiting for a full header.
    pub fn check_prefix(buf: &[u8]) -> Result<(), FrameError> {
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

    /// Parses and validates a complete header. `max_size` bounds annotations + payload, and is
    /// checked here, before anything is allocated for the body.
    pub fn parse(buf: &[u8; HEADER_SIZE], max_size: usize) -> Result<Header, FrameError> {
        Header::check_prefix(buf)?;
        let u16_at = |i: usize| u16::from_be_bytes([buf[i], buf[i + 1]]);
        let u32_at = |i: usize| u32::from_be_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
        let magic = u16_at(38);
        if magic != MAGIC {
            return Err(FrameError::BadMagic(magic));
        }
        let mut corr_id = [0u8; 16];
        corr_id.copy_from_slice(&buf[20..36]);
        let header = Header {
            msg_type: buf[6],
            serializer_id: buf[7],
            flags: u16_at(8),
            seq: u16_at(10),
            data_len: u32_at(12),
            annotations_len: u32_at(16),
            corr_id,
        };
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

    /// Annotations plus payload, as declared (u64 so two 4 GiB fields cannot overflow).
    pub fn body_len(&self) -> u64 {
        u64::from(self.data_len) + u64::from(self.annotations_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let h = Header {
            msg_type: msg_type::INVOKE,
            serializer_id: 1,
            flags: flags::CORR_ID,
            seq: 7,
            data_len: 71,
            annotations_len: 0,
            corr_id: [0x11; 16],
        };
        let mut b = [0u8; HEADER_SIZE];
        h.encode(&mut b);
        assert_eq!(&b[..8], &[0x50, 0x59, 0x52, 0x4f, 0x01, 0xf6, 0x04, 0x01]);
        assert_eq!(&b[38..], &[0x4d, 0xc5]);
        assert_eq!(Header::parse(&b, 1000).unwrap(), h);
    }

    #[test]
    fn refuses_bad_prefix_and_huge_lengths() {
        assert!(matches!(
            Header::check_prefix(b"GET "),
            Err(FrameError::BadTag)
        ));
        assert!(matches!(Header::check_prefix(b"PY"), Ok(())));
        assert!(matches!(
            Header::check_prefix(b"PYRO\x00\x30"),
            Err(FrameError::BadVersion(48))
        ));
        let mut b = [0u8; HEADER_SIZE];
        Header::new(msg_type::INVOKE, 1, 0, 1).encode(&mut b);
        b[12..16].copy_from_slice(&u32::MAX.to_be_bytes());
        b[16..20].copy_from_slice(&u32::MAX.to_be_bytes());
        match Header::parse(&b, 1 << 20) {
            Err(FrameError::TooLarge { size, .. }) => assert_eq!(size, 2 * u64::from(u32::MAX)),
            other => panic!("{other:?}"),
        }
        b[38] = 0;
        assert!(matches!(
            Header::parse(&b, 1 << 20),
            Err(FrameError::BadMagic(_))
        ));
    }
}
