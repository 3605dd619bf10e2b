//! The marshal decoder on hostile bytes, as a value and as a Pyro call; what it reads, written
//! again, reads back the same (references copied out, so the writer's output has none).
#![no_main]
use libfuzzer_sys::fuzz_target;
use tether_fuzz as _; // the capped allocator (fuzz/src/lib.rs)
use tether_pyro::serializer::{Limits, Serializer};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(v) = Serializer::Marshal.decode(data, &limits) {
        let mut again = Vec::new();
        if Serializer::Marshal.encode(&v, &mut again).is_ok() {
            let back = Serializer::Marshal.decode(&again, &limits);
            // NaN is the one value that is not equal to itself.
            if !format!("{v:?}").contains("NaN") {
                assert_eq!(back.ok().as_ref(), Some(&v));
            }
        }
    }
    let _ = Serializer::Marshal.decode_call(data, &limits);
});
