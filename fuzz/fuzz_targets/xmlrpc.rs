//! The XML-RPC decoders on hostile bytes: a call and a response; and the direct reader, which
//! must read every document it accepts as the XML tree does.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tether_fuzz as _; // the capped allocator (fuzz/src/lib.rs)
use tether_xmlrpc::codec::{check_direct_reader, parse_call, parse_response};

fuzz_target!(|data: &[u8]| {
    let _ = parse_call(data);
    let _ = parse_response(data);
    check_direct_reader(data);
});
