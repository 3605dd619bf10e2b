//! The serpent decoder on hostile bytes, as a value and as a Pyro call; and its plain-literal
//! path and its INVOKE path against the general one (they must agree on every input).
#![no_main]
use libfuzzer_sys::fuzz_target;
use tether_fuzz as _; // the capped allocator (fuzz/src/lib.rs)
use tether_pyro::serializer::{Limits, Serializer};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let _ = Serializer::Serpent.decode(data, &limits);
    let _ = Serializer::Serpent.decode_call(data, &limits);
    tether_pyro::serializer::serpent::check_plain_strings(data);
    tether_pyro::serializer::serpent::check_invoke(data);
});
