//! [`xorshift`]: the deterministic numbers the tests that mutate or generate inputs draw.

/// A xorshift64 generator from `seed` (non-zero): the same sequence on every run, so a test
/// that draws its inputs from it fails the same way every time it fails.
pub fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
