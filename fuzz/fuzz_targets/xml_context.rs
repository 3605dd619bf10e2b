//! The XML context loader on hostile text (definitions only: no object is created).
#![no_main]
use libfuzzer_sys::fuzz_target;
use tether_fuzz as _; // the capped allocator (fuzz/src/lib.rs)

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = tether_context::xml::parse_str(text, None);
    }
});
