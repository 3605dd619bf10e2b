//! The XML-RPC decoders on hostile bytes: a call and a response.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tether_fuzz as _; // the capped allocator (fuzz/src/lib.rs)
use tether_xmlrpc::codec::{parse_call, parse_response};

fuzz_target!(|data: &[u8]| {
    let _ = parse_call(data);
    let _ = parse_response(data);
});
