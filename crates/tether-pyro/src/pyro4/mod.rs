//! The Pyro4 wire version (protocol 48): its 24-byte header with a checksum (`header.rs`), its
//! own serializer ids and flag bits (`ids.rs`), its frame format for the shared reader
//! (`format.rs`), and HMAC-SHA1 message signing with a shared key (`hmac.rs`).
//!
//! tether's daemon and proxy work in Pyro5's terms; a Pyro4 frame is translated to and from
//! them at the connection (see [`crate::wire`]), so routing, streams, batches and limits are
//! the same code for both wires. What the translation changes, and only there:
//!
//! | | Pyro4 | Pyro5 (tether's internal form) |
//! |---|---|---|
//! | serializer ids | 1 serpent, 2 json, 3 marshal, 6 msgpack | 1 serpent, 3 json, 2 marshal, 4 msgpack |
//! | flags | 0x10 META_ON_CONNECT, 0x20 ITEMSTREAMRESULT, 0x40 KEEPSERIALIZED | 0x10 ITEMSTREAMRESULT, 0x20 KEEPSERIALIZED (META_ON_CONNECT: [`META_ON_CONNECT`]) |
//! | correlation id | annotation `CORR` (16 bytes) | header field + flag 0x40 |
//! | class names | `Pyro4.errors.*`, `Pyro4.core.URI`, `Pyro4.futures._ExceptionWrapper` | `Pyro5.errors.*`, `Pyro5.core.URI`, `Pyro5.core._ExceptionWrapper` |

pub mod dialect;
mod format;
pub mod header;
pub mod hmac;
mod ids;

/// What the echo service's `error()` says to Pyro4 clients: the wording of Pyro4's own echo
/// server (`Pyro4.test.echoserver`), where Pyro5's says another thing.
pub const ECHO_ERROR_TEXT: &str = "expected error from echoserver error() method";
pub use format::Pyro4;
pub use header::{Header4, HEADER_SIZE, PROTOCOL_VERSION};
pub use hmac::HmacKey;
pub use ids::{flags_from_v4, flags_to_v4, serializer_id_from_v4, serializer_id_to_v4};

/// Pyro4's META_ON_CONNECT flag in tether's internal (Pyro5-shaped) header: a bit Pyro5 never
/// uses, set on a translated CONNECT that asked for the metadata in the reply (and on the
/// CONNECTOK that carries it). It never reaches a Pyro5 wire.
pub const META_ON_CONNECT: u16 = 0x8000;

/// A Pyro4 header in Pyro5 terms (lengths as declared; the annotations are parsed apart).
pub fn normalize(h: Header4) -> crate::pyro5::Header {
    let mut out = crate::pyro5::Header::new(
        u8::try_from(h.msg_type).unwrap_or(0),
        serializer_id_from_v4(h.serializer_id),
        flags_from_v4(h.flags),
        h.seq,
    );
    out.data_len = h.data_len;
    out.annotations_len = u32::from(h.annotations_len);
    out
}
