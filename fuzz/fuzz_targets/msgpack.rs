//! The msgpack decoder on hostile bytes, as a value and as a Pyro call; a call in a fixarray
//! (read by the usual-shape path first) decodes as the same call behind an array16 header
//! (the general path), or fails the same way.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tether_fuzz as _; // the capped allocator (fuzz/src/lib.rs)
use tether_pyro::serializer::{Limits, Serializer};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let _ = Serializer::Msgpack.decode(data, &limits);
    let direct = Serializer::Msgpack.decode_call(data, &limits);
    if let Some(tail) = data.strip_prefix(&[0x94]) {
        let general = [&[0xdc, 0x00, 0x04][..], tail].concat();
        match (direct, Serializer::Msgpack.decode_call(&general, &limits)) {
            (Ok((oa, ca)), Ok((ob, cb))) => {
                assert_eq!(oa, ob);
                assert_eq!((ca.method, ca.args, ca.kwargs), (cb.method, cb.args, cb.kwargs));
            }
            (Err(ea), Err(eb)) => assert_eq!(ea.kind(), eb.kind()),
            (a, b) => panic!("{a:?} / {b:?}"),
        }
    }
});
