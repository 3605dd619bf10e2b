//! The Pyro5 frame reader on hostile bytes: header checks, annotation chunks, zlib inflation
//! (with its ratio limit), then the payload decoded by the serializer the header names.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tether_fuzz as _; // the capped allocator (fuzz/src/lib.rs)
use tether_pyro::framing::FrameFormat;
use tether_pyro::message::Message;
use tether_pyro::pyro5::{msg_type, serializer_for_id, Pyro5, HEADER_SIZE};
use tether_pyro::serializer::Limits;

const MAX: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    // Several frames back to back, as a connection would read them.
    while !rest.is_empty() {
        if Pyro5::check_prefix(&rest[..rest.len().min(HEADER_SIZE)]).is_err()
            || rest.len() < HEADER_SIZE
        {
            return;
        }
        let Ok(h) = Pyro5::parse_header(&rest[..HEADER_SIZE], MAX) else {
            return;
        };
        let end = HEADER_SIZE + Pyro5::body_len(&h) as usize;
        if rest.len() < end {
            return;
        }
        let body = bytes::Bytes::copy_from_slice(&rest[HEADER_SIZE..end]);
        rest = &rest[end..];
        let Ok(msg) = Message::from_body(h, body, MAX) else {
            continue;
        };
        if let Some(ser) = serializer_for_id(msg.header.serializer_id) {
            let limits = Limits::default();
            match msg.header.msg_type {
                msg_type::INVOKE => {
                    let _ = ser.decode_call(&msg.payload, &limits);
                }
                _ => {
                    let _ = ser.decode(&msg.payload, &limits);
                }
            }
        }
    }
});
