//! The least time TLS can add to a 1 MiB echo: every byte is sealed and opened once each way,
//! with the AEAD rustls negotiates first (TLS 1.3's AES-256-GCM, by `ring` as rustls's ring
//! provider does it) in 16 KiB records. Pinned, one CPU does all four passes one after the
//! other; split, the client's and the server's two passes each run on their own CPU.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use std::time::Instant;

/// TLS's largest record's plaintext.
const RECORD: usize = 16 * 1024;

/// Milliseconds to seal and then open `bytes` once in 16 KiB records (median of 7).
pub fn seal_and_open_ms(bytes: usize) -> Option<f64> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).ok()?);
    let mut record = vec![0x5au8; RECORD];
    let mut times = Vec::new();
    for _ in 0..7 {
        let start = Instant::now();
        let mut n: u64 = 0;
        let mut done = 0;
        while done < bytes {
            let nonce = |n: u64| {
                let mut b = [0u8; 12];
                b[4..].copy_from_slice(&n.to_be_bytes());
                Nonce::assume_unique_for_key(b)
            };
            record.truncate(RECORD);
            key.seal_in_place_append_tag(nonce(n), Aad::empty(), &mut record)
                .ok()?;
            let plain = key
                .open_in_place(nonce(n), Aad::empty(), &mut record)
                .ok()?;
            std::hint::black_box(&plain);
            n += 1;
            done += RECORD;
        }
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    Some(times[times.len() / 2])
}
