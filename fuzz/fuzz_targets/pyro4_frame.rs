//! The Pyro4 frame reader on hostile bytes: header and checksum, u16 annotation chunks, the
//! HMAC check (with and without a key), zlib inflation, then the payload decoded by the
//! serializer the header names.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tether_fuzz as _; // the capped allocator (fuzz/src/lib.rs)
use tether_pyro::framing::FrameFormat;
use tether_pyro::message::Message;
use tether_pyro::pyro4::{HmacKey, Pyro4, HEADER_SIZE};
use tether_pyro::pyro5::{msg_type, serializer_for_id};
use tether_pyro::serializer::Limits;

const MAX: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let key = HmacKey::new(b"fuzz");
    let mut rest = data;
    while !rest.is_empty() {
        if Pyro4::check_prefix(&rest[..rest.len().min(HEADER_SIZE)]).is_err()
            || rest.len() < HEADER_SIZE
        {
            return;
        }
        let Ok(h) = Pyro4::parse_header(&rest[..HEADER_SIZE], MAX) else {
            return;
        };
        let end = HEADER_SIZE + Pyro4::body_len(&h) as usize;
        if rest.len() < end {
            return;
        }
        let body = bytes::Bytes::copy_from_slice(&rest[HEADER_SIZE..end]);
        rest = &rest[end..];
        let _ = Message::from_pyro4_body(h, body.clone(), Some(&key), MAX, 100);
        let Ok(msg) = Message::from_pyro4_body(h, body, None, MAX, 100) else {
            continue;
        };
        if let Some(ser) = serializer_for_id(msg.header.serializer_id) {
            let limits = Limits::default();
            if msg.header.msg_type == msg_type::INVOKE {
                let _ = ser.decode_call(&msg.payload, &limits);
            } else {
                let _ = ser.decode(&msg.payload, &limits);
            }
        }
    }
});
