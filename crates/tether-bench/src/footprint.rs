//! What a call's code footprint costs on this machine, apart from its instruction count.
//!
//! `serve raw-tokio:code` is the raw tokio echo with about 2,300 extra instructions a call, all
//! distinct and in a straight line (≈ 9 KiB, 146 more cache lines to fetch each call);
//! `serve raw-tokio:loop` adds the same instructions as a loop over 48 of them (10 lines).
//! Both run on `raw::serve_tokio`'s echo.
//! Driven by the raw-tokio client (`client raw-tokio ADDR ...`), the two differ only in how
//! much code each call runs through, so their calls/s and the server's CPU per call show what
//! fetching that code costs once the kernel's TCP path has run between two calls (the
//! instruction cache is shared with it). `scripts/footprint.sh` counts the lines of a real
//! call; this turns a count of lines into time.

use crate::drive::BoxErr;
use std::hint::black_box;

/// How the echo pads each call.
#[derive(Clone, Copy, Debug)]
pub enum Pad {
    /// Distinct straight-line code.
    Code,
    /// The same instructions as a loop.
    Loop,
}

impl Pad {
    /// The pad a `serve` kind names (`raw-tokio:code`, `raw-tokio:loop`).
    pub fn of(kind: &str) -> Option<Pad> {
        match kind {
            "raw-tokio:code" => Some(Pad::Code),
            "raw-tokio:loop" => Some(Pad::Loop),
            _ => None,
        }
    }

    fn run(self, seed: u64) -> u64 {
        match self {
            Pad::Code => straight(seed),
            Pad::Loop => looped(seed),
        }
    }
}

// One step: three instructions (xor with an immediate, rotate, add), a dependency chain the
// compiler cannot fold or turn back into a loop.
macro_rules! step {
    ($x:ident, $y:ident) => {
        $x = ($x ^ 0x5bd1_e995).rotate_left(13).wrapping_add($y);
    };
}
macro_rules! x4 {
    ($($t:tt)*) => { $($t)* $($t)* $($t)* $($t)* };
}
macro_rules! x3 {
    ($($t:tt)*) => { $($t)* $($t)* $($t)* };
}

/// 768 steps in a straight line.
#[inline(never)]
fn straight(seed: u64) -> u64 {
    let (mut x, y) = (seed, black_box(seed | 1));
    x4! { x4! { x4! { x3! { x4! { step!(x, y); } } } } }
    x
}

/// 16 rounds of the same 48 steps: as many instructions, a few cache lines.
#[inline(never)]
fn looped(seed: u64) -> u64 {
    let (mut x, y) = (seed, black_box(seed | 1));
    for _ in 0..black_box(16u32) {
        x4! { x3! { x4! { step!(x, y); } } }
    }
    x
}

/// Serves the raw echo on `listener` (`raw::serve_tokio`'s), `pad` run once per message;
/// never returns.
pub async fn serve(listener: tokio::net::TcpListener, pad: Pad) -> Result<(), BoxErr> {
    crate::raw::serve_tokio_with(listener, move |body: &[u8]| {
        black_box(pad.run(body.len() as u64));
    })
    .await
}
