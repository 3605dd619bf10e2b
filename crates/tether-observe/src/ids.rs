//! Trace and span ids: random, from a per-thread generator seeded once from the OS, so making
//! an id costs a few instructions and no system call.

use std::cell::Cell;

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::getrandom(&mut b).is_err() {
        // No OS randomness: the time and the thread still make ids unlikely to meet.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let id = format!("{:?}", std::thread::current().id());
        return t ^ id.len() as u64 ^ (id.as_ptr() as u64);
    }
    u64::from_le_bytes(b) | 1
}

/// SplitMix64: one step.
fn next() -> u64 {
    STATE.with(|s| {
        let x = s.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        s.set(x);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

/// A new span id (never all zero).
pub fn span_id() -> [u8; 8] {
    loop {
        let v = next();
        if v != 0 {
            return v.to_be_bytes();
        }
    }
}

/// A new trace id (never all zero).
pub fn trace_id() -> [u8; 16] {
    let mut t = [0u8; 16];
    t[..8].copy_from_slice(&next().to_be_bytes());
    t[8..].copy_from_slice(&span_id());
    t
}
