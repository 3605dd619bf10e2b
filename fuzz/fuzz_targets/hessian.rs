//! The Hessian decoders on hostile bytes: a call (both versions), a reply or fault, and a bare
//! value of each version. A value that decodes must encode again and decode to itself: loops
//! (`Value::BackRef`) and copies of shared values included.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tether_fuzz as _; // the capped allocator (fuzz/src/lib.rs)
use tether_hessian::codec::{
    decode_h1, decode_h2, encode_h1, encode_h2, parse_call, parse_reply, Limits,
};

fuzz_target!(|data: &[u8]| {
    let l = Limits::default();
    let _ = parse_call(data, &l);
    let _ = parse_reply(data, &l);
    if let Ok(v) = decode_h2(data, &l) {
        let mut out = Vec::new();
        encode_h2(&v, &mut out).expect("a decoded Hessian 2 value encodes");
        assert_eq!(decode_h2(&out, &l).expect("its encoding decodes"), v);
    }
    if let Ok(v) = decode_h1(data, &l) {
        let mut out = Vec::new();
        encode_h1(&v, &mut out).expect("a decoded Hessian 1 value encodes");
        assert_eq!(decode_h1(&out, &l).expect("its encoding decodes"), v);
    }
});
