//! The Hessian codec: values of Hessian 2.0 and 1.0 to and from [`tether_core::Value`], and the
//! call/reply/fault envelopes of both versions.
//!
//! | Hessian | `Value` (decoding) | `Value` → Hessian 2 (encoding) |
//! |---|---|---|
//! | null `N` | `None` | `None` → `N` |
//! | boolean `T`/`F` | `Bool` | `Bool` |
//! | int (32-bit, every compact form) | `Int32` | `Int32` → int, compact as Caucho writes it |
//! | long (64-bit, every compact form) | `Int` | `Int` → long; `BigInt` that fits → long (else an error) |
//! | double (`5b`..`5f` compact forms, `D`) | `Float` | `Float` → the compact forms Caucho uses, but `-0.0` as `D` (Caucho loses its sign) |
//! | date `J`/`K` | `DateTime` (ms since the epoch, UTC) | `DateTime` → `K` when whole minutes, else `J` |
//! | string (chunked, UTF-16 lengths) | `Str` | `Str` (chunks of 32768 units, non-BMP as surrogates) |
//! | binary (chunked) | `Bytes` | `Bytes` |
//! | untyped list `X`/`W`/`0x78..` | `List` | `List`, `Tuple`, `Set` → untyped list |
//! | typed list `V`/`U`/`0x70..` (`[int`, `java.util.ArrayList`) | `Typed(class, List)` | `Typed(class, List)` → typed list |
//! | untyped map `H` | `Map` | `Map` → `H` |
//! | typed map `M` (`java.util.TreeMap`) | `Typed(class, Map)` | `Typed(class, Map)` → `M` |
//! | object (`C` class definition + `O`/`0x60..`) | `Object(class, fields)` | `Object` → class definition (once per message) + instance |
//! | ref `Q` to a complete value | a copy of the value it names (identity is not kept) | never written |
//! | ref `Q` to an enclosing container (a loop) | `BackRef(n)`: `n` containers up | `BackRef(n)` → `Q` naming that container |
//!
//! Hessian 1.0 (`I`, `L`, `D`, `d`, `S`/`s`, `B`/`b`, `V`, `M`, `R`) maps the same way; a typed
//! map in Hessian 1 is how Java writes an object, and it decodes as `Typed(class, Map)`.
//!
//! A class name is a label: nothing here picks a Rust type from it. A decoder assumes a
//! hostile peer: every length is checked against what is left before anything is allocated,
//! nesting depth and the total of items and bytes produced (refs counted as expanded) are
//! bounded by [`Limits`], a ref to nothing is refused, and a ref to a container still being
//! read (a loop) is never expanded: it becomes a [`Value::BackRef`](tether_core::Value::BackRef)
//! (in a fault's detail it reads as `None`: a Java exception's `cause` is the exception
//! itself). A copy of a value whose loop points outside it is placed so the loop still names the
//! same container; where no copy can (a ref into a loop from outside it) the message is refused.

mod envelope;
mod read;
pub mod strings;
mod write;

pub use envelope::{
    parse_call, parse_reply, write_call, write_fault, write_reply, CallVersion, Fault, ParsedCall,
};
pub use read::{decode_h1, decode_h2};
pub use write::{encode_h1, encode_h2};

use std::fmt;

/// Bounds on what one message may make the decoder build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most levels of nested lists, maps and objects. Default 64.
    pub max_depth: usize,
    /// Most values (every list item, map entry and object field counts, refs as expanded) in
    /// one message. Default 1,000,000.
    pub max_items: usize,
    /// Most bytes of strings and binaries (refs as expanded) in one message. Default 64 MiB.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_items: 1_000_000,
            max_bytes: 64 << 20,
        }
    }
}

/// Why bytes could not be decoded: what, and at which offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Offset in the message.
    pub at: usize,
    /// What is wrong.
    pub what: String,
}

impl DecodeError {
    #[cold]
    pub(crate) fn at(at: usize, what: impl Into<String>) -> Self {
        DecodeError {
            at,
            what: what.into(),
        }
    }

    #[cold]
    pub(crate) fn truncated(at: usize) -> Self {
        DecodeError::at(at, "truncated message")
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.what, self.at)
    }
}

impl std::error::Error for DecodeError {}

impl From<DecodeError> for tether_core::RemoteError {
    fn from(e: DecodeError) -> Self {
        tether_core::RemoteError::serialization(format!("Hessian: {e}"))
    }
}
