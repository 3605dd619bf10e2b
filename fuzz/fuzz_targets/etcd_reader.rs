//! The etcd client's reader (its JSON gateway's replies and watch streams) on hostile bytes:
//! chunk-size lines, JSON split over lines, errors, a reply without end.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tether_fuzz as _; // the capped allocator (fuzz/src/lib.rs)

fuzz_target!(|data: &[u8]| {
    tether_cluster::discovery::etcd::fuzz_read_messages(data);
});
