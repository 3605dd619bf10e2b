//! The XML context loader on hostile text (definitions only: no object is created).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = tether_context::xml::parse_str(text, None);
    }
});
