//! The HTTP client's reply reader (Hessian's and XML-RPC's proxies) on hostile bytes: status
//! lines, headers, Content-Length and chunked framing, interim replies, several replies in a
//! row on one kept-alive connection, delivered in small pieces.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tether_fuzz as _; // the capped allocator (fuzz/src/lib.rs)

fuzz_target!(|data: &[u8]| {
    tether_http::fuzz_reply(data);
});
