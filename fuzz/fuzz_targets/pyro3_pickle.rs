//! Pyro 3's decoders on hostile bytes: a frame header, a body (checksum, inflate), the pickle
//! reader and its conversion, a request, a reply or exception capsule; and the plain-data
//! shortcut, which must give exactly what the reader and the conversion give whenever it
//! takes the bytes at all.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tether_fuzz as _; // the capped allocator (fuzz/src/lib.rs)
use tether_pyro::framing::FrameFormat;
use tether_pyro::pyro3::pickle::{plain_value, read, to_value, ReadLimits};
use tether_pyro::pyro3::{capsule, frame, request, Pyro3};
use tether_pyro::serializer::Limits;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let read_limits = ReadLimits::default();
    if data.len() >= 18 {
        if let Ok(h) = Pyro3::parse_header(&data[..18], 1 << 20) {
            let _ = frame::open(&h, bytes::Bytes::copy_from_slice(&data[18..]), 1 << 20, 100);
        }
    }
    let _ = request::decode(data, &read_limits, &limits);
    if let Ok(p) = read(data, &read_limits) {
        let _ = to_value(&p, p.root, &limits);
        let _ = capsule::read_reply(&p, &limits);
    }
    // Tight limits too, so the shortcut's limit checks meet the general ones.
    let tight = Limits {
        max_depth: 4,
        max_items: 40,
        ..Limits::default()
    };
    for limits in [&limits, &tight] {
        if let Some(v) = plain_value(data, &read_limits, limits) {
            let general = read(data, &read_limits).and_then(|p| to_value(&p, p.root, limits));
            match general {
                Ok(w) => assert_eq!(format!("{v:?}"), format!("{w:?}")),
                Err(e) => panic!("the shortcut took bytes the general reader refuses: {e}"),
            }
        }
    }
});
