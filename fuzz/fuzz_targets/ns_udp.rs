//! The name server's UDP side on hostile datagrams: the responder's check of a locate request,
//! and a locate reply read as a URI by the client.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tether_fuzz as _; // the capped allocator (fuzz/src/lib.rs)
use tether_pyro::naming::broadcast::{is_request, reply_text};

fuzz_target!(|data: &[u8]| {
    let _ = is_request(data);
    let text = reply_text(data);
    let _ = tether_pyro::PyroUri::parse(&text);
});
