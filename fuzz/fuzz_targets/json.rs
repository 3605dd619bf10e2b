//! The json decoder on hostile bytes, as a value and as a Pyro call.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tether_fuzz as _; // the capped allocator (fuzz/src/lib.rs)
use tether_pyro::serializer::{Limits, Serializer};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let _ = Serializer::Json.decode(data, &limits);
    let _ = Serializer::Json.decode_call(data, &limits);
});
