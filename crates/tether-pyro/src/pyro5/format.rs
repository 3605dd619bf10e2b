//! [`Pyro5`]: the Pyro5 frame as a [`FrameFormat`], including which frames carry a large
//! msgpack byte string worth receiving straight into its own buffer.

use super::header::{flags, msg_type, FrameError, Header, HEADER_SIZE};
use super::ids::serializer_id;
use crate::framing::{Detachable, FrameFormat};
use crate::serializer::msgpack::{find_large_bin, BinScan};
use crate::serializer::Serializer;

/// How much of a payload's start is searched for a large bin before giving up.
const SCAN_WINDOW: usize = 4096;

/// The Pyro5 wire's frame format.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pyro5;

impl FrameFormat for Pyro5 {
    type Header = Header;
    const HEADER_SIZE: usize = HEADER_SIZE;

    fn check_prefix(buf: &[u8]) -> Result<(), FrameError> {
        Header::check_prefix(&buf[..buf.len().min(6)])
    }

    fn parse_header(buf: &[u8], max_size: usize) -> Result<Header, FrameError> {
        let mut head = [0u8; HEADER_SIZE];
        head.copy_from_slice(&buf[..HEADER_SIZE]);
        Header::parse(&head, max_size)
    }

    fn body_len(header: &Header) -> u64 {
        header.body_len()
    }

    /// A large uncompressed msgpack INVOKE or RESULT: the first bin of at least `min` bytes
    /// near the start of its payload (after the annotations).
    fn find_detachable(h: &Header, body_start: &[u8], min: usize) -> Detachable {
        let eligible = h.serializer_id == serializer_id(Serializer::Msgpack)
            && matches!(h.msg_type, msg_type::INVOKE | msg_type::RESULT)
            && h.flags & flags::COMPRESSED == 0
            && h.data_len as usize >= min;
        if !eligible {
            return Detachable::No;
        }
        let payload_start = h.annotations_len as usize;
        if body_start.len() <= payload_start {
            return Detachable::NeedMore;
        }
        let end = body_start.len().min(payload_start + SCAN_WINDOW);
        match find_large_bin(&body_start[payload_start..end], min) {
            BinScan::Found { at, len } => Detachable::At {
                at: payload_start + at,
                len,
            },
            BinScan::NeedMore if end - payload_start < SCAN_WINDOW => Detachable::NeedMore,
            BinScan::NeedMore | BinScan::None => Detachable::No,
        }
    }
}
