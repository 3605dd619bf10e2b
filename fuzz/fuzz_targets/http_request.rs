//! The HTTP server's request reader (Hessian's and XML-RPC's exporters, the admin endpoint) on
//! hostile bytes: request lines, headers, Content-Length and chunked framing, trace headers,
//! several requests in a row on one kept-alive connection, delivered in small pieces.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tether_fuzz as _; // the capped allocator (fuzz/src/lib.rs)

fuzz_target!(|data: &[u8]| {
    tether_http::fuzz_request(data);
});
