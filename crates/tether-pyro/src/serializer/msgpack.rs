//! msgpack as Pyro5 uses it (serializer id 4 in Pyro5, 6 in Pyro4).
//!
//! Pyro's `MsgpackSerializer` is `msgpack.packb(data, use_bin_type=True, default=...)` read back
//! with `msgpack.unpackb(raw=False, object_hook=..., ext_hook=...)`. Its `default` hook adds ext
//! types for what msgpack lacks; their payloads use the Python host's *native* byte order
//! (`struct.pack("d")`), which is little-endian on every platform Pyro runs on in practice, so
//! this codec reads and writes them little-endian.
//!
//! | [`Value`] | written as | read back as |
//! |---|---|---|
//! | `None` / `Bool` | nil `c0` / `c2`, `c3` | same |
//! | `Int32`, `Int` | the smallest int form, as Python's packer picks it (positive fixint, uint8..64 for non-negative, negative fixint, int8..64 for negative) | `Int` (uint64 above `i64::MAX` becomes `BigInt`) |
//! | `BigInt` | uint64 / int64 when it fits (as Python would), else ext `0x31` with the ASCII decimal digits | ext `0x31` → `Int` if it fits, else `BigInt` |
//! | `Float` | float64 `cb` (Python never writes float32) | float32 and float64 → `Float` |
//! | `Str` | fixstr / str8 / str16 / str32 | `Str` (must be UTF-8, as with `raw=False`) |
//! | `Bytes` | bin8 / bin16 / bin32 (`use_bin_type=True`) | `Bytes` |
//! | `List`, `Tuple`, `Set` | fixarray / array16 / array32 (Pyro turns sets into tuples; msgpack writes tuples as arrays) | `List` (Python also unpacks arrays as lists) |
//! | `Map` | fixmap / map16 / map32, keys of any type | `Map`, keys of any type, kept in wire order. Note: Python's `unpackb` (`strict_map_key=True`) refuses keys other than str and bytes |
//! | `DateTime` | ext `0x32`: float64 seconds since the epoch (Pyro writes naive `datetime.timestamp()`, i.e. the Python host's local time; a Python peer running in UTC reads back the same instant) | ext `0x32` → `DateTime` (milliseconds, rounded); ext `0x33` (date: C `long` day ordinal, 8 or 4 bytes) → `DateTime` at midnight UTC; msgpack's own timestamp ext `-1` (4, 8 or 12 bytes) → `DateTime` |
//! | `Object` | map with `"__class__"` first, then the fields (Pyro's `class_to_dict` shape) | `Map` (no class name ever picks a Rust type) |
//! | `Typed` | its inner list or map | `List` / `Map` |
//!
//! Ext `0x30` (complex: two float64) has no [`Value`] and is refused, as is any other ext type
//! (Pyro raises SerializeError for unknown codes too). The reader rejects the unused byte `c1`,
//! truncation, trailing data (Python's `ExtraData`), and every declared length or count that
//! exceeds the bytes left, before allocating anything; depth and item count follow [`Limits`].

use crate::serializer::common::{check_encode_depth, error_at, Budget, MAX_INT_DIGITS};
use crate::serializer::{Detached, Limits, Splice};
use num_bigint::BigInt;
use num_traits::ToPrimitive;
use tether_core::{RemoteError, Value};

const FORMAT: &str = "msgpack";

/// Pyro's ext code for complex numbers (refused: no [`Value`] for them).
const EXT_COMPLEX: i8 = 0x30;
/// Pyro's ext code for ints beyond 64 bits: ASCII decimal.
const EXT_BIGINT: i8 = 0x31;
/// Pyro's ext code for naive datetimes: float64 timestamp, native (little-endian) order.
const EXT_DATETIME: i8 = 0x32;
/// Pyro's ext code for dates: C `long` day ordinal (day 1 = 0001-01-01), native order.
const EXT_DATE: i8 = 0x33;
/// msgpack's own timestamp extension.
const EXT_TIMESTAMP: i8 = -1;

/// Appends the msgpack encoding of `value` to `out`.
pub fn encode(value: &Value, out: &mut Vec<u8>) -> Result<(), RemoteError> {
    let mut none = Vec::new();
    Writer {
        out,
        splices: &mut none,
        min_splice: usize::MAX,
    }
    .value(value, 0)
}

/// Appends the msgpack encoding of `value` to `out`, except the data of byte strings of at least
/// `min_splice` bytes: for those only the bin header is written, and the data is recorded in
/// `splices` at the offset of `out` where it belongs (see [`Splice`]). Inserting the splices
/// into `out` gives exactly what [`encode`] writes.
pub fn encode_spliced<'v>(
    value: &'v Value,
    out: &mut Vec<u8>,
    splices: &mut Vec<Splice<'v>>,
    min_splice: usize,
) -> Result<(), RemoteError> {
    Writer {
        out,
        splices,
        min_splice,
    }
    .value(value, 0)
}

/// The encoder's state: the output buffer and where large byte strings go.
struct Writer<'o, 's, 'v> {
    out: &'o mut Vec<u8>,
    splices: &'s mut Vec<Splice<'v>>,
    min_splice: usize,
}

impl<'v> Writer<'_, '_, 'v> {
    fn value(&mut self, value: &'v Value, depth: usize) -> Result<(), RemoteError> {
        check_encode_depth(FORMAT, depth)?;
        let out = &mut *self.out;
        match value {
            Value::None => out.push(0xc0),
            Value::Bool(false) => out.push(0xc2),
            Value::Bool(true) => out.push(0xc3),
            Value::Int32(i) => write_int(i64::from(*i), out),
            Value::Int(i) => write_int(*i, out),
            Value::BigInt(b) => {
                if let Some(i) = b.to_i64() {
                    write_int(i, out);
                } else if let Some(u) = b.to_u64() {
                    out.push(0xcf);
                    out.extend_from_slice(&u.to_be_bytes());
                } else {
                    write_ext(EXT_BIGINT, b.to_string().as_bytes(), out)?;
                }
            }
            Value::Float(x) => {
                out.push(0xcb);
                out.extend_from_slice(&x.to_be_bytes());
            }
            Value::Str(s) => write_str(s, out)?,
            Value::Bytes(b) => {
                write_len(b.len(), [0xc4, 0xc5, 0xc6], None, out)?;
                if b.len() >= self.min_splice {
                    self.splices.push(Splice {
                        at: out.len(),
                        data: b,
                    });
                } else {
                    out.extend_from_slice(b);
                }
            }
            Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
                write_len(items.len(), [0, 0xdc, 0xdd], Some((0x90, 16)), out)?;
                for item in items {
                    self.value(item, depth + 1)?;
                }
            }
            Value::Map(entries) => {
                write_len(entries.len(), [0, 0xde, 0xdf], Some((0x80, 16)), out)?;
                for (k, v) in entries {
                    self.value(k, depth + 1)?;
                    self.value(v, depth + 1)?;
                }
            }
            Value::DateTime(ms) => {
                let secs = *ms as f64 / 1000.0;
                write_ext(EXT_DATETIME, &secs.to_le_bytes(), out)?;
            }
            Value::Object(obj) => {
                write_len(obj.fields.len() + 1, [0, 0xde, 0xdf], Some((0x80, 16)), out)?;
                write_str("__class__", out)?;
                write_str(&obj.class, out)?;
                for (k, v) in &obj.fields {
                    write_str(k, self.out)?;
                    self.value(v, depth + 1)?;
                }
            }
            Value::Typed(t) => self.value(&t.value, depth)?,
            other => return Err(crate::serializer::common::unsupported(FORMAT, other)),
        }
        Ok(())
    }
}

/// The smallest form for an integer, as Python's msgpack packer chooses it.
fn write_int(i: i64, out: &mut Vec<u8>) {
    if i >= 0 {
        let u = i as u64;
        if u < 0x80 {
            out.push(u as u8);
        } else if u <= 0xff {
            out.extend_from_slice(&[0xcc, u as u8]);
        } else if u <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(u as u16).to_be_bytes());
        } else if u <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(u as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&u.to_be_bytes());
        }
    } else if i >= -32 {
        out.push(i as u8);
    } else if i >= -0x80 {
        out.extend_from_slice(&[0xd0, i as u8]);
    } else if i >= -0x8000 {
        out.push(0xd1);
        out.extend_from_slice(&(i as i16).to_be_bytes());
    } else if i >= -0x8000_0000 {
        out.push(0xd2);
        out.extend_from_slice(&(i as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

fn write_str(s: &str, out: &mut Vec<u8>) -> Result<(), RemoteError> {
    write_len(s.len(), [0xd9, 0xda, 0xdb], Some((0xa0, 32)), out)?;
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// Writes a length header: the fix form `(base, limit)` when given and `len < limit`, else the
/// 8-, 16- or 32-bit form (`codes[0]` is only used when non-zero: arrays and maps have no 8-bit form).
fn write_len(
    len: usize,
    codes: [u8; 3],
    fix: Option<(u8, usize)>,
    out: &mut Vec<u8>,
) -> Result<(), RemoteError> {
    match fix {
        Some((base, limit)) if len < limit => out.push(base | len as u8),
        _ if codes[0] != 0 && len <= 0xff => out.extend_from_slice(&[codes[0], len as u8]),
        _ if len <= 0xffff => {
            out.push(codes[1]);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            let len = u32::try_from(len).map_err(|_| {
                RemoteError::serialization("msgpack: item longer than 4 GiB cannot be encoded")
            })?;
            out.push(codes[2]);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    Ok(())
}

fn write_ext(code: i8, data: &[u8], out: &mut Vec<u8>) -> Result<(), RemoteError> {
    match data.len() {
        1 => out.push(0xd4),
        2 => out.push(0xd5),
        4 => out.push(0xd6),
        8 => out.push(0xd7),
        16 => out.push(0xd8),
        n if n <= 0xff => out.extend_from_slice(&[0xc7, n as u8]),
        n if n <= 0xffff => {
            out.push(0xc8);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            let n = u32::try_from(n)
                .map_err(|_| RemoteError::serialization("msgpack: ext longer than 4 GiB"))?;
            out.push(0xc9);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
    out.push(code as u8);
    out.extend_from_slice(data);
    Ok(())
}

/// Decodes one msgpack value spanning all of `bytes`.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Value, RemoteError> {
    decode_detached(bytes, None, limits)
}

/// Decodes one msgpack value spanning all of `bytes` plus, when given, the detached byte string
/// that belongs at its offset (see [`Detached`]): the bin whose header ends there, and whose
/// declared length is the detached length, becomes `Value::Bytes` of that `Vec` (no copy). A
/// detached string that no bin claims is an error, as is trailing data.
pub fn decode_detached(
    bytes: &[u8],
    detached: Option<Detached>,
    limits: &Limits,
) -> Result<Value, RemoteError> {
    let mut r = Reader {
        s: bytes,
        pos: 0,
        budget: Budget::new(FORMAT, limits),
        detached,
    };
    let v = r.value()?;
    if r.pos != bytes.len() {
        return Err(r.err("extra data after the value"));
    }
    if r.detached.is_some() {
        return Err(r.err("detached bytes do not belong to any bin"));
    }
    Ok(v)
}

/// What [`find_large_bin`] found in the beginning of a payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinScan {
    /// The first bin of at least the asked length: its data starts at `at` and is `len` long.
    Found {
        /// Offset of the bin's first data byte.
        at: usize,
        /// The bin's declared length.
        len: usize,
    },
    /// The prefix ended inside the value's items before such a bin was seen.
    NeedMore,
    /// No such bin within the prefix (or the prefix is not msgpack).
    None,
}

/// Walks the items of a msgpack payload in wire order (container headers, then their items;
/// msgpack is prefix-ordered, so no recursion is needed) looking for the first bin of at least
/// `min` bytes, without decoding anything; lets the frame reader receive that bin directly
/// into its own buffer. Only headers are read: the result is a hint, the decoder checks again.
pub fn find_large_bin(prefix: &[u8], min: usize) -> BinScan {
    let mut pos = 0usize;
    let be = |at: usize, n: usize| -> Option<usize> {
        let b = prefix.get(at..at.checked_add(n)?)?;
        Some(b.iter().fold(0usize, |acc, &x| (acc << 8) | usize::from(x)))
    };
    while pos < prefix.len() {
        let b = prefix[pos];
        // (header bytes including the type byte, data bytes after the header)
        let (head, data): (usize, Option<usize>) = match b {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 | 0x80..=0x9f => (1, Some(0)),
            0xa0..=0xbf => (1, Some(usize::from(b & 0x1f))),
            0xc1 => return BinScan::None,
            0xc4..=0xc6 => {
                let w = [1, 2, 4][usize::from(b - 0xc4)];
                let Some(n) = be(pos + 1, w) else {
                    return BinScan::NeedMore;
                };
                if n >= min {
                    return BinScan::Found {
                        at: pos + 1 + w,
                        len: n,
                    };
                }
                (1 + w, Some(n))
            }
            0xc7..=0xc9 => {
                let w = [1, 2, 4][usize::from(b - 0xc7)];
                (1 + w + 1, be(pos + 1, w))
            }
            0xca => (5, Some(0)),
            0xcb => (9, Some(0)),
            0xcc..=0xcf => (1 + [1, 2, 4, 8][usize::from(b - 0xcc)], Some(0)),
            0xd0..=0xd3 => (1 + [1, 2, 4, 8][usize::from(b - 0xd0)], Some(0)),
            0xd4..=0xd8 => (2 + [1, 2, 4, 8, 16][usize::from(b - 0xd4)], Some(0)),
            0xd9..=0xdb => {
                let w = [1, 2, 4][usize::from(b - 0xd9)];
                (1 + w, be(pos + 1, w))
            }
            0xdc | 0xde => (3, Some(0)),
            0xdd | 0xdf => (5, Some(0)),
        };
        let Some(data) = data else {
            return BinScan::NeedMore;
        };
        pos = match pos.checked_add(head).and_then(|p| p.checked_add(data)) {
            Some(p) => p,
            None => return BinScan::None,
        };
    }
    BinScan::NeedMore
}

struct Reader<'a> {
    s: &'a [u8],
    pos: usize,
    budget: Budget,
    /// The byte string cut out of `s` at its offset, until a bin claims it.
    detached: Option<Detached>,
}

impl<'a> Reader<'a> {
    fn err(&self, what: impl std::fmt::Display) -> RemoteError {
        error_at(FORMAT, self.pos, what)
    }

    /// Takes `n` bytes, failing (without allocating) when fewer are left.
    fn take(&mut self, n: usize) -> Result<&'a [u8], RemoteError> {
        let s: &'a [u8] = self.s;
        match self.pos.checked_add(n).and_then(|end| s.get(self.pos..end)) {
            Some(b) => {
                self.pos += n;
                Ok(b)
            }
            None => Err(self.err(format_args!(
                "truncated: {n} bytes declared, {} left",
                s.len() - self.pos
            ))),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], RemoteError> {
        let b = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(b);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, RemoteError> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<usize, RemoteError> {
        Ok(u16::from_be_bytes(self.array()?) as usize)
    }
    fn u32(&mut self) -> Result<usize, RemoteError> {
        Ok(u32::from_be_bytes(self.array()?) as usize)
    }

    fn value(&mut self) -> Result<Value, RemoteError> {
        let at = self.pos;
        let b = self.u8()?;
        Ok(match b {
            0x00..=0x7f => Value::Int(i64::from(b)),
            0x80..=0x8f => self.map(usize::from(b & 0x0f), at)?,
            0x90..=0x9f => self.list(usize::from(b & 0x0f), at)?,
            0xa0..=0xbf => self.string(usize::from(b & 0x1f))?,
            0xc0 => Value::None,
            0xc1 => return Err(error_at(FORMAT, at, "invalid type byte 0xc1")),
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xc4 => {
                let n = self.u8()?.into();
                self.bin(n)?
            }
            0xc5 => {
                let n = self.u16()?;
                self.bin(n)?
            }
            0xc6 => {
                let n = self.u32()?;
                self.bin(n)?
            }
            0xc7 => {
                let n = self.u8()?.into();
                self.ext(n, at)?
            }
            0xc8 => {
                let n = self.u16()?;
                self.ext(n, at)?
            }
            0xc9 => {
                let n = self.u32()?;
                self.ext(n, at)?
            }
            0xca => Value::Float(f64::from(f32::from_be_bytes(self.array()?))),
            0xcb => Value::Float(f64::from_be_bytes(self.array()?)),
            0xcc => Value::Int(i64::from(self.u8()?)),
            0xcd => Value::Int(i64::from(u16::from_be_bytes(self.array()?))),
            0xce => Value::Int(i64::from(u32::from_be_bytes(self.array()?))),
            0xcf => {
                let u = u64::from_be_bytes(self.array()?);
                match i64::try_from(u) {
                    Ok(i) => Value::Int(i),
                    Err(_) => Value::BigInt(BigInt::from(u)),
                }
            }
            0xd0 => Value::Int(i64::from(i8::from_be_bytes(self.array()?))),
            0xd1 => Value::Int(i64::from(i16::from_be_bytes(self.array()?))),
            0xd2 => Value::Int(i64::from(i32::from_be_bytes(self.array()?))),
            0xd3 => Value::Int(i64::from_be_bytes(self.array()?)),
            0xd4 => self.ext(1, at)?,
            0xd5 => self.ext(2, at)?,
            0xd6 => self.ext(4, at)?,
            0xd7 => self.ext(8, at)?,
            0xd8 => self.ext(16, at)?,
            0xd9 => {
                let n = self.u8()?.into();
                self.string(n)?
            }
            0xda => {
                let n = self.u16()?;
                self.string(n)?
            }
            0xdb => {
                let n = self.u32()?;
                self.string(n)?
            }
            0xdc => {
                let n = self.u16()?;
                self.list(n, at)?
            }
            0xdd => {
                let n = self.u32()?;
                self.list(n, at)?
            }
            0xde => {
                let n = self.u16()?;
                self.map(n, at)?
            }
            0xdf => {
                let n = self.u32()?;
                self.map(n, at)?
            }
            0xe0..=0xff => Value::Int(i64::from(b as i8)),
        })
    }

    /// A bin's data: the detached string if it belongs here, else `n` bytes of the input.
    fn bin(&mut self, n: usize) -> Result<Value, RemoteError> {
        if let Some(d) = self
            .detached
            .take_if(|d| d.at == self.pos && d.data.len() == n)
        {
            return Ok(Value::Bytes(d.data));
        }
        Ok(Value::Bytes(self.take(n)?.to_vec()))
    }

    fn string(&mut self, n: usize) -> Result<Value, RemoteError> {
        let at = self.pos;
        let b = self.take(n)?;
        match std::str::from_utf8(b) {
            Ok(s) => Ok(Value::Str(s.to_owned())),
            Err(e) => Err(error_at(
                FORMAT,
                at + e.valid_up_to(),
                "invalid UTF-8 in str",
            )),
        }
    }

    /// Checks a declared element count against the limits and the bytes left (every element
    /// takes at least `min_bytes` bytes) before anything is allocated for it.
    fn check_count(&mut self, n: usize, min_bytes: usize, at: usize) -> Result<(), RemoteError> {
        let left = self.s.len() - self.pos;
        if n.saturating_mul(min_bytes) > left {
            return Err(error_at(
                FORMAT,
                at,
                format_args!("truncated: {n} elements declared, {left} bytes left"),
            ));
        }
        self.budget.items(n, at)
    }

    fn list(&mut self, n: usize, at: usize) -> Result<Value, RemoteError> {
        self.check_count(n, 1, at)?;
        self.budget.enter(at)?;
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(self.value()?);
        }
        self.budget.leave();
        Ok(Value::List(items))
    }

    fn map(&mut self, n: usize, at: usize) -> Result<Value, RemoteError> {
        self.check_count(n, 2, at)?;
        self.budget.enter(at)?;
        let mut entries = Vec::with_capacity(n);
        for _ in 0..n {
            let k = self.value()?;
            let v = self.value()?;
            entries.push((k, v));
        }
        self.budget.leave();
        Ok(Value::Map(entries))
    }

    fn ext(&mut self, n: usize, at: usize) -> Result<Value, RemoteError> {
        let code = self.u8()? as i8;
        let data = self.take(n)?;
        let bad = |what: &str| error_at(FORMAT, at, format_args!("ext {code:#04x}: {what}"));
        match code {
            EXT_BIGINT => {
                let text = std::str::from_utf8(data).map_err(|_| bad("not ASCII digits"))?;
                let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
                if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                    return Err(bad("not a decimal integer"));
                }
                if digits.len() > MAX_INT_DIGITS {
                    return Err(bad("integer of too many digits"));
                }
                let b: BigInt = text.parse().map_err(|_| bad("not a decimal integer"))?;
                Ok(Value::from_bigint(b))
            }
            EXT_DATETIME => {
                let a: [u8; 8] = data.try_into().map_err(|_| bad("expected 8 bytes"))?;
                let secs = f64::from_le_bytes(a);
                let ms = (secs * 1000.0).round();
                if !ms.is_finite() || ms.abs() > 9.0e15 {
                    return Err(bad("timestamp out of range"));
                }
                Ok(Value::DateTime(ms as i64))
            }
            EXT_DATE => {
                let ordinal = match data.len() {
                    8 => i64::from_le_bytes(data.try_into().map_err(|_| bad("bad length"))?),
                    4 => i64::from(i32::from_le_bytes(
                        data.try_into().map_err(|_| bad("bad length"))?,
                    )),
                    _ => return Err(bad("expected 4 or 8 bytes")),
                };
                // Python dates span ordinals 1 (0001-01-01) to 3652059 (9999-12-31).
                if !(1..=3_652_059).contains(&ordinal) {
                    return Err(bad("date ordinal out of range"));
                }
                Ok(Value::DateTime((ordinal - 719_163) * 86_400_000))
            }
            EXT_TIMESTAMP => {
                let (secs, nanos) = match data.len() {
                    4 => (
                        i64::from(u32::from_be_bytes(
                            data.try_into().map_err(|_| bad("bad length"))?,
                        )),
                        0,
                    ),
                    8 => {
                        let v = u64::from_be_bytes(data.try_into().map_err(|_| bad("bad length"))?);
                        ((v & 0x3_ffff_ffff) as i64, (v >> 34) as i64)
                    }
                    12 => {
                        let nanos = u32::from_be_bytes(
                            data[..4].try_into().map_err(|_| bad("bad length"))?,
                        );
                        let secs = i64::from_be_bytes(
                            data[4..].try_into().map_err(|_| bad("bad length"))?,
                        );
                        (secs, i64::from(nanos))
                    }
                    _ => return Err(bad("timestamp of 4, 8 or 12 bytes expected")),
                };
                if nanos >= 1_000_000_000 {
                    return Err(bad("nanoseconds out of range"));
                }
                secs.checked_mul(1000)
                    .and_then(|ms| ms.checked_add(nanos / 1_000_000))
                    .map(Value::DateTime)
                    .ok_or_else(|| bad("timestamp out of range"))
            }
            EXT_COMPLEX => Err(bad("complex numbers are not supported")),
            _ => Err(bad("unknown ext type")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        encode(v, &mut out).unwrap();
        out
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn ints_take_pythons_smallest_form() {
        assert_eq!(enc(&Value::Int(200)), hex("ccc8"));
        assert_eq!(enc(&Value::Int(-100)), hex("d09c"));
        let two63: BigInt = BigInt::from(1u64 << 63);
        assert_eq!(enc(&Value::BigInt(two63)), hex("cf8000000000000000"));
        let two64: BigInt = BigInt::from(u64::MAX) + 1;
        assert_eq!(
            enc(&Value::BigInt(two64)),
            hex("c714313138343436373434303733373039353531363136")
        );
        assert_eq!(enc(&Value::Float(1.5)), hex("cb3ff8000000000000"));
    }

    #[test]
    fn lying_lengths_fail_without_allocating() {
        for h in [
            "dbffffffff",
            "ddffffffff",
            "dfffffffff",
            "c6ffffffff",
            "c9ffffffff31",
        ] {
            assert!(decode(&hex(h), &Limits::default()).is_err(), "{h}");
        }
    }

    /// Inserts the splices into the buffer: what a vectored write puts on the wire.
    fn joined(buf: &[u8], splices: &[Splice<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut from = 0;
        for s in splices {
            assert!(s.at >= from && s.at <= buf.len(), "splice offsets in order");
            out.extend_from_slice(&buf[from..s.at]);
            out.extend_from_slice(s.data);
            from = s.at;
        }
        out.extend_from_slice(&buf[from..]);
        out
    }

    #[test]
    fn spliced_encoding_joins_to_the_plain_encoding() {
        let min = 1000;
        // sizes around the threshold and around the bin8/bin16/bin32 boundaries
        let mut sizes = vec![0, 1, 255, 256, 65_535, 65_536, 70_000];
        sizes.extend(min - 2..=min + 2);
        for &n in &sizes {
            let big = Value::Bytes((0..n).map(|i| (i % 251) as u8).collect());
            let other = Value::Bytes(vec![7u8; n / 2]);
            let values = [
                big.clone(),
                Value::Tuple(vec![
                    Value::str("obj"),
                    Value::str("echo"),
                    Value::Tuple(vec![big.clone(), Value::Int(5), other.clone()]),
                    Value::Map(vec![(Value::str("k"), big.clone())]),
                ]),
                Value::List(vec![other.clone(), big.clone(), big.clone(), Value::None]),
            ];
            for v in &values {
                let plain = enc(v);
                // a non-empty buffer in front, as in a message (header and annotations)
                let mut buf = b"prefix".to_vec();
                let mut splices = Vec::new();
                encode_spliced(v, &mut buf, &mut splices, min).unwrap();
                assert!(splices.iter().all(|s| s.data.len() >= min));
                assert_eq!(joined(&buf, &splices)[6..], plain[..], "size {n}");
                // and it decodes (tuples come back as lists, as from the plain encoding)
                assert!(decode(&joined(&buf, &splices)[6..], &Limits::default()).is_ok());
                if n < min {
                    assert!(splices.is_empty());
                }
            }
        }
        // the depth limit holds on the spliced path as on the plain one
        let mut deep = Value::Bytes(vec![1; 10]);
        for _ in 0..600 {
            deep = Value::List(vec![deep]);
        }
        assert!(encode(&deep, &mut Vec::new()).is_err());
        assert!(encode_spliced(&deep, &mut Vec::new(), &mut Vec::new(), 1).is_err());
    }

    #[test]
    fn large_bins_are_found_and_decode_from_a_detached_buffer() {
        let big = Value::Bytes((0..5000u32).map(|i| i as u8).collect());
        let call = Value::Tuple(vec![
            Value::str("obj"),
            Value::str("echo"),
            Value::Tuple(vec![
                Value::Bytes(vec![1; 10]),
                Value::Float(1.0),
                big.clone(),
            ]),
            Value::Map(vec![]),
        ]);
        let bytes = enc(&call);
        let BinScan::Found { at, len } = find_large_bin(&bytes, 1000) else {
            panic!("not found")
        };
        assert_eq!((len, &bytes[at..at + len]), (5000, &enc(&big)[3..]));
        // every prefix that stops before the bin's header is complete wants more
        for cut in 0..at {
            assert_eq!(
                find_large_bin(&bytes[..cut], 1000),
                BinScan::NeedMore,
                "{cut}"
            );
        }
        assert_eq!(find_large_bin(&bytes, 6000), BinScan::NeedMore);
        assert_eq!(find_large_bin(&hex("c1"), 1), BinScan::None);
        // the payload without the bin's bytes, plus the bytes, decodes as the whole payload
        let mut cut = bytes[..at].to_vec();
        cut.extend_from_slice(&bytes[at + len..]);
        let data = bytes[at..at + len].to_vec();
        let d = |at, data: &Vec<u8>| {
            Some(Detached {
                at,
                data: data.clone(),
            })
        };
        let limits = Limits::default();
        assert_eq!(
            decode_detached(&cut, d(at, &data), &limits).unwrap(),
            decode(&bytes, &limits).unwrap()
        );
        // a detached part nobody claims (wrong offset or length) is an error, never a panic
        assert!(decode_detached(&cut, d(at - 1, &data), &limits).is_err());
        assert!(decode_detached(&cut, d(at, &data[1..].to_vec()), &limits).is_err());
        assert!(decode_detached(&cut, d(usize::MAX, &data), &limits).is_err());
    }
}
