//! The Hessian decoders on hostile bytes: a call (both versions), a reply or fault, and a bare
//! value of each version.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tether_fuzz as _; // the capped allocator (fuzz/src/lib.rs)
use tether_hessian::codec::{decode_h1, decode_h2, parse_call, parse_reply, Limits};

fuzz_target!(|data: &[u8]| {
    let l = Limits::default();
    let _ = parse_call(data, &l);
    let _ = parse_reply(data, &l);
    let _ = decode_h2(data, &l);
    let _ = decode_h1(data, &l);
});
