//! A strict pickle codec for Pyro 3: protocol 2 written, protocols 0 to 2 read.
//!
//! Pyro 3 peers send `cPickle` data, and `pickle.loads` on a hostile payload runs code. This
//! codec is written so it cannot: the reader (`read.rs`) is a closed opcode set run by an
//! iterative machine that builds plain data, a `GLOBAL` is an inert name, and the conversion
//! (`convert.rs`) accepts only the few named things Pyro 3's own traffic holds; the writer
//! (`write.rs`) emits constant global names only (never one that came from input). Most
//! traffic is plain data with no shared reference: `direct.rs` reads that straight into a
//! [`Value`] in one pass, and hands anything else to the reader and the conversion.
//!
//! | Python 2 | read as [`Value`] | written from [`Value`] |
//! |---|---|---|
//! | `None`, `bool` | `None`, `Bool` | `NONE`, `NEWTRUE`/`NEWFALSE` |
//! | `int` (64-bit) | `Int` | `Int32`/`Int`: `BININT1`/`BININT2`/`BININT`, beyond 32 bits the text `INT` (as cPickle writes a 64-bit `int`) |
//! | `long` | `BigInt` (even a small one, so `5L` comes back as `5L`) | `BigInt`: `LONG1` (`LONG4` past 255 bytes) |
//! | `float` | `Float` | `BINFLOAT` |
//! | `str` (bytes) | `Str` when it is UTF-8, else `Bytes` | `Str` if ASCII, `Bytes`: `SHORT_BINSTRING`/`BINSTRING` |
//! | `unicode` | `Str` | `Str` with a non-ASCII character: `BINUNICODE` |
//! | `tuple`, `list`, `dict` | `Tuple`, `List`, `Map` | the same |
//! | `set`, `frozenset` (`__builtin__.set([...])`) | `Set` | `Set`: `__builtin__.set` of a list |
//! | `datetime.datetime` | `DateTime` (its fields as UTC; tzinfo refused) | `DateTime`: `datetime.datetime` of its 10-byte state |
//! | anything else | refused: a protocol error naming the class | `Object`: a dict with `__class__` first; `Typed`: its value |
//!
//! Shared references: the reader keeps them shared (one node, many references); turning the
//! result into [`Value`] copies each use within the item budget of [`Limits`], so a "memo
//! bomb" (a list referenced twice at every level) is refused at the budget, not expanded.
//! Recursive containers end at the depth limit.

mod convert;
mod direct;
mod read;
mod text;
mod write;

pub use convert::{to_value, NamedInstance};
pub use direct::plain_value;
pub use read::{read, Node, NodeId, Pickle, ReadLimits};
pub use write::{write, write_global_call, write_request, Writer};

#[cfg(doc)]
use crate::serializer::Limits;
#[cfg(doc)]
use tether_core::Value;

/// Longest decimal integer literal read (CPython's `int_max_str_digits`).
pub(crate) const MAX_INT_DIGITS: usize = 4300;
/// Longest `LONG1`/`LONG4` read, in bytes.
pub(crate) const MAX_LONG_BYTES: usize = 4096;

/// The opcodes of pickle protocols 0 to 2. The reader accepts all of these except the
/// persistent-id and extension-registry ones; anything else (protocols 3 to 5) is unknown.
pub(crate) mod op {
    pub const MARK: u8 = b'(';
    pub const STOP: u8 = b'.';
    pub const POP: u8 = b'0';
    pub const POP_MARK: u8 = b'1';
    pub const DUP: u8 = b'2';
    pub const FLOAT: u8 = b'F';
    pub const INT: u8 = b'I';
    pub const BININT: u8 = b'J';
    pub const BININT1: u8 = b'K';
    pub const LONG: u8 = b'L';
    pub const BININT2: u8 = b'M';
    pub const NONE: u8 = b'N';
    pub const PERSID: u8 = b'P';
    pub const BINPERSID: u8 = b'Q';
    pub const REDUCE: u8 = b'R';
    pub const STRING: u8 = b'S';
    pub const BINSTRING: u8 = b'T';
    pub const SHORT_BINSTRING: u8 = b'U';
    pub const UNICODE: u8 = b'V';
    pub const BINUNICODE: u8 = b'X';
    pub const APPEND: u8 = b'a';
    pub const BUILD: u8 = b'b';
    pub const GLOBAL: u8 = b'c';
    pub const DICT: u8 = b'd';
    pub const EMPTY_DICT: u8 = b'}';
    pub const APPENDS: u8 = b'e';
    pub const GET: u8 = b'g';
    pub const BINGET: u8 = b'h';
    pub const INST: u8 = b'i';
    pub const LONG_BINGET: u8 = b'j';
    pub const LIST: u8 = b'l';
    pub const EMPTY_LIST: u8 = b']';
    pub const OBJ: u8 = b'o';
    pub const PUT: u8 = b'p';
    pub const BINPUT: u8 = b'q';
    pub const LONG_BINPUT: u8 = b'r';
    pub const SETITEM: u8 = b's';
    pub const TUPLE: u8 = b't';
    pub const EMPTY_TUPLE: u8 = b')';
    pub const SETITEMS: u8 = b'u';
    pub const BINFLOAT: u8 = b'G';
    pub const PROTO: u8 = 0x80;
    pub const NEWOBJ: u8 = 0x81;
    pub const EXT1: u8 = 0x82;
    pub const EXT2: u8 = 0x83;
    pub const EXT4: u8 = 0x84;
    pub const TUPLE1: u8 = 0x85;
    pub const TUPLE2: u8 = 0x86;
    pub const TUPLE3: u8 = 0x87;
    pub const NEWTRUE: u8 = 0x88;
    pub const NEWFALSE: u8 = 0x89;
    pub const LONG1: u8 = 0x8a;
    pub const LONG4: u8 = 0x8b;

    /// The name of a known opcode the reader refuses (for the error message).
    pub fn name(code: u8) -> Option<&'static str> {
        Some(match code {
            PERSID => "PERSID",
            BINPERSID => "BINPERSID",
            EXT1 => "EXT1",
            EXT2 => "EXT2",
            EXT4 => "EXT4",
            0x8c => "SHORT_BINUNICODE",
            0x8d => "BINUNICODE8",
            0x8e => "BINBYTES8",
            0x8f => "EMPTY_SET",
            0x90 => "ADDITEMS",
            0x91 => "FROZENSET",
            0x92 => "NEWOBJ_EX",
            0x93 => "STACK_GLOBAL",
            0x94 => "MEMOIZE",
            0x95 => "FRAME",
            0x96 => "BYTEARRAY8",
            0x97 => "NEXT_BUFFER",
            0x98 => "READONLY_BUFFER",
            b'B' => "BINBYTES",
            b'C' => "SHORT_BINBYTES",
            _ => return None,
        })
    }
}
