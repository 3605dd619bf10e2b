//! Pyro's marshal serializer (id 2 in Pyro5, 3 in Pyro4): CPython's own `marshal` format, which
//! Python's Pyro5 and Pyro4 daemons accept by default (`SERIALIZERS_ACCEPTED` is
//! `serpent,marshal,json`), so a Python client configured with `SERIALIZER = "marshal"` reaches
//! a tether server, and a tether proxy can call a Python daemon in it.
//!
//! A marshal value is one type byte, then its body. The type byte's high bit (`FLAG_REF`, 0x80)
//! asks the reader to remember the value: later, `r` and a 4-byte index stand for it again
//! (CPython's writer flags every object it holds more than one reference to, so real payloads
//! carry flags and references: an argument that appears twice, a small int). Numbers are
//! little-endian; lengths are 4-byte signed.
//!
//! | [`Value`] | written as | read back as |
//! |---|---|---|
//! | `None` / `Bool` | `N` / `T`, `F` | same |
//! | `Int32`, `Int`, `BigInt` | `i` (4 bytes) when it fits, else `l` (15-bit digits), as CPython writes | `Int` if it fits in i64, else `BigInt` |
//! | `Float` | `g` (binary double) | `Float`; the old text form `f` is read too |
//! | `Str` | ASCII: `z` (under 256 bytes) or `a`; else `u` (UTF-8) | `Str` (`a`/`z` and their interned forms read as Latin-1, as CPython does; a lone surrogate in `u` is an error: Rust strings cannot hold one) |
//! | `Bytes` | `s` | `Bytes` |
//! | `Tuple` / `List` / `Set` | `)` (under 256 items) or `(` / `[` / `<` | `Tuple` / `List` / `Set` (a frozenset `>` too) |
//! | `Map` | `{` key, value, ..., `0` | `Map` (keys as they come) |
//! | `DateTime` | **error**, as Pyro's `MarshalSerializer` raises for a datetime (marshal has no date, and Pyro gives it no fallback) | – |
//! | `Object` | dict with `"__class__"` first, then the fields (Pyro's `class_to_dict`) | `Map` (no class name ever picks a Rust type) |
//! | `Typed` | its inner list or map | `List` / `Map` |
//!
//! Refused when read: code objects (`c`: marshal's way to ship functions; never run, never
//! kept), complex numbers (no [`Value`] for them, as msgpack's ext 0x30), `Ellipsis`,
//! `StopIteration`, slices, unknown types, and a reference to a container that is still being
//! read (a loop: the other serializers cannot carry one either). A reference to a finished
//! value reads that value's bytes again, counted against [`Limits`] as if it were written out
//! in full (and all references together may read at most the payload's length plus 16 MiB
//! again), so a few bytes of references cannot expand into a huge or deep value. Every
//! declared length is checked against the bytes that are left before anything is allocated
//! for it.

use crate::serializer::common::{check_encode_depth, error_at, unsupported, Budget};
use crate::serializer::Limits;
use num_bigint::{BigInt, Sign};
use num_traits::ToPrimitive;
use tether_core::{RemoteError, Value};

const FORMAT: &str = "marshal";

/// The type byte's flag: remember this value for later references.
const FLAG_REF: u8 = 0x80;

/// Appends the marshal encoding of `value` to `out`.
pub fn encode(value: &Value, out: &mut Vec<u8>) -> Result<(), RemoteError> {
    write_value(value, out, 0)
}

fn write_len(n: usize, out: &mut Vec<u8>) -> Result<(), RemoteError> {
    let n = i32::try_from(n).map_err(|_| {
        RemoteError::serialization(format!("{FORMAT}: {n} is longer than marshal can say"))
    })?;
    out.extend_from_slice(&n.to_le_bytes());
    Ok(())
}

fn write_str(s: &str, out: &mut Vec<u8>) -> Result<(), RemoteError> {
    if s.is_ascii() {
        if s.len() < 256 {
            out.push(b'z');
            out.push(s.len() as u8);
        } else {
            out.push(b'a');
            write_len(s.len(), out)?;
        }
    } else {
        out.push(b'u');
        write_len(s.len(), out)?;
    }
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn write_int(i: i64, out: &mut Vec<u8>) {
    match i32::try_from(i) {
        Ok(small) => {
            out.push(b'i');
            out.extend_from_slice(&small.to_le_bytes());
        }
        Err(_) => write_long(&BigInt::from(i), out),
    }
}

/// `l`: the digit count (negative for a negative number), then 15-bit digits, least
/// significant first.
fn write_long(v: &BigInt, out: &mut Vec<u8>) {
    let (sign, magnitude) = (v.sign(), v.magnitude());
    let mut digits: Vec<u16> = Vec::new();
    // Base 2^15: split the magnitude's bits into 15-bit groups.
    let bits = magnitude.to_u32_digits();
    let (mut acc, mut have) = (0u64, 0u32);
    for word in bits {
        acc |= u64::from(word) << have;
        have += 32;
        while have >= 15 {
            digits.push((acc & 0x7fff) as u16);
            acc >>= 15;
            have -= 15;
        }
    }
    if have > 0 {
        digits.push((acc & 0x7fff) as u16);
    }
    while digits.last() == Some(&0) {
        digits.pop();
    }
    let n = digits.len() as i32;
    out.push(b'l');
    let n = if sign == Sign::Minus { -n } else { n };
    out.extend_from_slice(&n.to_le_bytes());
    for d in digits {
        out.extend_from_slice(&d.to_le_bytes());
    }
}

fn write_items(
    tag: u8,
    items: &[Value],
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), RemoteError> {
    if tag == b'(' && items.len() < 256 {
        out.push(b')');
        out.push(items.len() as u8);
    } else {
        out.push(tag);
        write_len(items.len(), out)?;
    }
    for item in items {
        write_value(item, out, depth + 1)?;
    }
    Ok(())
}

fn write_value(value: &Value, out: &mut Vec<u8>, depth: usize) -> Result<(), RemoteError> {
    check_encode_depth(FORMAT, depth)?;
    match value {
        Value::None => out.push(b'N'),
        Value::Bool(true) => out.push(b'T'),
        Value::Bool(false) => out.push(b'F'),
        Value::Int32(i) => write_int(i64::from(*i), out),
        Value::Int(i) => write_int(*i, out),
        Value::BigInt(b) => match b.to_i64() {
            Some(i) => write_int(i, out),
            None => write_long(b, out),
        },
        Value::Float(x) => {
            out.push(b'g');
            out.extend_from_slice(&x.to_le_bytes());
        }
        Value::Str(s) => write_str(s, out)?,
        Value::Bytes(b) => {
            out.push(b's');
            write_len(b.len(), out)?;
            out.extend_from_slice(b);
        }
        Value::Tuple(items) => write_items(b'(', items, out, depth)?,
        Value::List(items) => write_items(b'[', items, out, depth)?,
        Value::Set(items) => write_items(b'<', items, out, depth)?,
        Value::Map(entries) => {
            out.push(b'{');
            for (k, v) in entries {
                write_value(k, out, depth + 1)?;
                write_value(v, out, depth + 1)?;
            }
            out.push(b'0');
        }
        Value::DateTime(_) => {
            return Err(RemoteError::serialization(
                "marshal cannot encode a datetime: don't know how to serialize class <class 'datetime.datetime'> using serializer MarshalSerializer (as Pyro's; use serpent, json or msgpack)",
            ))
        }
        Value::Object(obj) => {
            out.push(b'{');
            write_str("__class__", out)?;
            write_str(&obj.class, out)?;
            for (k, v) in &obj.fields {
                write_str(k, out)?;
                write_value(v, out, depth + 1)?;
            }
            out.push(b'0');
        }
        Value::Typed(t) => write_value(&t.value, out, depth)?,
        other => return Err(unsupported(FORMAT, other)),
    }
    Ok(())
}

/// Decodes one marshal value that must span all of `bytes`.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Value, RemoteError> {
    let mut r = Reader {
        s: bytes,
        pos: 0,
        budget: Budget::new(FORMAT, limits),
        refs: Vec::new(),
        replaying: false,
        copy_left: bytes.len().saturating_add(COPY_ALLOWANCE),
    };
    let v = r.value()?;
    if r.pos != bytes.len() {
        return Err(error_at(
            FORMAT,
            r.pos,
            format_args!("{} bytes of trailing data", bytes.len() - r.pos),
        ));
    }
    Ok(v)
}

/// Where a value flagged for reference lies in the payload: a reference to it reads those
/// bytes again. Nothing is copied while reading, and a reference costs what reading the value
/// costs (items, depth, allocation), charged to the same limits, so a few bytes of
/// references cannot expand into a huge or deep value. `None` until the value is complete.
type Span = Option<(usize, usize)>;

/// References may read this many bytes again beyond the payload's own length: a legitimate
/// payload refers back to small ints, names and the odd shared argument, while a hostile one
/// could otherwise turn a few kilobytes of references to one large string into gigabytes.
const COPY_ALLOWANCE: usize = 16 << 20;

struct Reader<'a> {
    s: &'a [u8],
    pos: usize,
    budget: Budget,
    /// Values flagged for reference, in the order their reading began (CPython numbers them
    /// so); a container's entry is `None` while it is still being read (a reference to it
    /// then would be a loop).
    refs: Vec<Span>,
    /// Reading a referenced value again: its flags were numbered the first time.
    replaying: bool,
    /// Bytes that references may still read again.
    copy_left: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], RemoteError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.s.len());
        match end {
            Some(end) => {
                let b = &self.s[self.pos..end];
                self.pos = end;
                Ok(b)
            }
            None => Err(error_at(
                FORMAT,
                self.pos,
                format_args!(
                    "truncated: {n} bytes declared, {} left",
                    self.s.len() - self.pos
                ),
            )),
        }
    }

    fn byte(&mut self) -> Result<u8, RemoteError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, RemoteError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i32(&mut self) -> Result<i32, RemoteError> {
        Ok(self.u32()? as i32)
    }

    /// A 4-byte length: not negative, and no more than the bytes left allow at `min_bytes`
    /// each (checked before anything is allocated for it).
    fn len(&mut self, min_bytes: usize) -> Result<usize, RemoteError> {
        let at = self.pos;
        let n = self.i32()?;
        let n = usize::try_from(n)
            .map_err(|_| error_at(FORMAT, at, format_args!("negative length {n}")))?;
        let left = self.s.len() - self.pos;
        if n.saturating_mul(min_bytes) > left {
            return Err(error_at(
                FORMAT,
                at,
                format_args!("truncated: {n} declared, {left} bytes left"),
            ));
        }
        Ok(n)
    }

    fn value(&mut self) -> Result<Value, RemoteError> {
        let at = self.pos;
        let code = self.byte()?;
        let t = code & !FLAG_REF;
        if t == b'r' {
            return self.reference(at);
        }
        // The number is taken when reading begins, and the value's place recorded when it is
        // complete.
        let slot = (code & FLAG_REF != 0 && !self.replaying).then(|| {
            self.refs.push(None);
            self.refs.len() - 1
        });
        let v = self.body(t, at)?;
        if let Some(slot) = slot {
            self.refs[slot] = Some((at, self.pos));
        }
        Ok(v)
    }

    /// `r`: the value read before at that number, read again from its bytes.
    fn reference(&mut self, at: usize) -> Result<Value, RemoteError> {
        let index = self.u32()? as usize;
        let (from, to) = match self.refs.get(index) {
            Some(Some(span)) => *span,
            Some(None) => {
                return Err(error_at(
                    FORMAT,
                    at,
                    "a reference to a container that is still being read (a loop) is refused",
                ))
            }
            None => {
                return Err(error_at(
                    FORMAT,
                    at,
                    format_args!("reference {index} to nothing read yet"),
                ))
            }
        };
        self.copy_left = self.copy_left.checked_sub(to - from).ok_or_else(|| {
            error_at(
                FORMAT,
                at,
                "references read more than the payload holds again (plus 16 MiB)",
            )
        })?;
        let (back, was) = (self.pos, self.replaying);
        self.pos = from;
        self.replaying = true;
        let v = self.value();
        self.pos = back;
        self.replaying = was;
        v
    }

    fn body(&mut self, t: u8, at: usize) -> Result<Value, RemoteError> {
        Ok(match t {
            b'N' => Value::None,
            b'T' => Value::Bool(true),
            b'F' => Value::Bool(false),
            b'i' => Value::Int(i64::from(self.i32()?)),
            b'l' => self.long(at)?,
            b'g' => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Value::Float(f64::from_le_bytes(a))
            }
            b'f' => {
                let n = usize::from(self.byte()?);
                let text = self.take(n)?;
                let x = std::str::from_utf8(text)
                    .ok()
                    .and_then(|t| t.trim().parse::<f64>().ok())
                    .ok_or_else(|| error_at(FORMAT, at, "bad float text"))?;
                Value::Float(x)
            }
            b's' => {
                let n = self.len(1)?;
                Value::Bytes(self.take(n)?.to_vec())
            }
            b'u' | b't' => {
                let n = self.len(1)?;
                let b = self.take(n)?;
                match std::str::from_utf8(b) {
                    Ok(s) => Value::Str(s.to_owned()),
                    Err(e) => {
                        return Err(error_at(
                            FORMAT,
                            at + 5 + e.valid_up_to(),
                            "invalid UTF-8 in str (a lone surrogate cannot be held)",
                        ))
                    }
                }
            }
            b'a' | b'A' => {
                let n = self.len(1)?;
                Value::Str(latin1(self.take(n)?))
            }
            b'z' | b'Z' => {
                let n = usize::from(self.byte()?);
                Value::Str(latin1(self.take(n)?))
            }
            b')' => {
                let n = usize::from(self.byte()?);
                Value::Tuple(self.items(n, at)?)
            }
            b'(' => {
                let n = self.len(1)?;
                Value::Tuple(self.items(n, at)?)
            }
            b'[' => {
                let n = self.len(1)?;
                Value::List(self.items(n, at)?)
            }
            b'<' | b'>' => {
                let n = self.len(1)?;
                Value::Set(self.items(n, at)?)
            }
            b'{' => self.dict(at)?,
            b'c' => {
                return Err(error_at(
                    FORMAT,
                    at,
                    "code objects are refused (marshal can carry functions; they are never run)",
                ))
            }
            b'y' | b'x' => return Err(error_at(FORMAT, at, "complex numbers are not supported")),
            b'.' => return Err(error_at(FORMAT, at, "Ellipsis is not supported")),
            b'S' => return Err(error_at(FORMAT, at, "StopIteration is not supported")),
            b':' => return Err(error_at(FORMAT, at, "slices are not supported")),
            b'0' => return Err(error_at(FORMAT, at, "a dict's end marker outside a dict")),
            other => {
                return Err(error_at(
                    FORMAT,
                    at,
                    format_args!("unknown type code 0x{other:02x}"),
                ))
            }
        })
    }

    /// `l`: a digit count (its sign is the number's), then that many 15-bit digits.
    fn long(&mut self, at: usize) -> Result<Value, RemoteError> {
        let n = self.i32()?;
        let count = n.unsigned_abs() as usize;
        let left = self.s.len() - self.pos;
        if count.saturating_mul(2) > left {
            return Err(error_at(
                FORMAT,
                at,
                format_args!("truncated: {count} digits declared, {left} bytes left"),
            ));
        }
        let mut words: Vec<u32> = Vec::with_capacity(count * 15 / 32 + 1);
        let (mut acc, mut have) = (0u64, 0u32);
        let mut last = 0u16;
        for _ in 0..count {
            let b = self.take(2)?;
            let d = u16::from_le_bytes([b[0], b[1]]);
            if d > 0x7fff {
                return Err(error_at(FORMAT, at, "digit out of range in long"));
            }
            last = d;
            acc |= u64::from(d) << have;
            have += 15;
            if have >= 32 {
                words.push(acc as u32);
                acc >>= 32;
                have -= 32;
            }
        }
        if count > 0 && last == 0 {
            return Err(error_at(FORMAT, at, "unnormalized long data"));
        }
        if have > 0 {
            words.push(acc as u32);
        }
        let sign = if n < 0 { Sign::Minus } else { Sign::Plus };
        let big = BigInt::from_slice(sign, &words);
        Ok(match big.to_i64() {
            Some(i) => Value::Int(i),
            None => Value::BigInt(big),
        })
    }

    fn items(&mut self, n: usize, at: usize) -> Result<Vec<Value>, RemoteError> {
        self.budget.items(n, at)?;
        self.budget.enter(at)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.value()?);
        }
        self.budget.leave();
        Ok(out)
    }

    /// `{`: key, value pairs until the `0` that ends them.
    fn dict(&mut self, at: usize) -> Result<Value, RemoteError> {
        self.budget.enter(at)?;
        let mut entries = Vec::new();
        loop {
            let here = self.pos;
            if self.s.get(here) == Some(&b'0') {
                self.pos += 1;
                break;
            }
            self.budget.items(1, here)?;
            let k = self.value()?;
            let v = self.value()?;
            entries.push((k, v));
        }
        self.budget.leave();
        Ok(Value::Map(entries))
    }
}

/// Bytes as Latin-1 text (CPython reads marshal's one-byte string forms so).
fn latin1(b: &[u8]) -> String {
    if b.is_ascii() {
        String::from_utf8_lossy(b).into_owned()
    } else {
        b.iter().map(|&c| char::from(c)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    fn round(v: &Value) -> Value {
        let mut out = Vec::new();
        encode(v, &mut out).expect("encode");
        decode(&out, &Limits::default()).expect("decode")
    }

    /// What CPython 3.11's `marshal.dumps(('test.echoserver', 'echo', ['hello', 'hello', 1,
    /// 2**40, -3, 1.5, b'ab', None, True, (1, 2), {1, 2}, {'a': [1]}, 'é'], {}))` writes: flags
    /// and references included.
    #[test]
    fn reads_what_cpython_writes() {
        let b = hex("2904fa0f746573742e6563686f736572766572da046563686f5b0d000000da0568656c6c6f7202000000e901000000ec03000000000000000004e9fdffffffe7000000000000f83ff30200000061624e54a9027203000000e9020000003c02000000720300000072090000007bda01615b01000000720300000030f502000000c3a97b30");
        let v = decode(&b, &Limits::default()).expect("decode");
        let want = Value::Tuple(vec![
            Value::str("test.echoserver"),
            Value::str("echo"),
            Value::List(vec![
                Value::str("hello"),
                Value::str("hello"),
                Value::Int(1),
                Value::Int(1 << 40),
                Value::Int(-3),
                Value::Float(1.5),
                Value::Bytes(b"ab".to_vec()),
                Value::None,
                Value::Bool(true),
                Value::Tuple(vec![Value::Int(1), Value::Int(2)]),
                Value::Set(vec![Value::Int(1), Value::Int(2)]),
                Value::Map(vec![(Value::str("a"), Value::List(vec![Value::Int(1)]))]),
                Value::str("é"),
            ]),
            Value::Map(vec![]),
        ]);
        assert_eq!(v, want);
    }

    /// CPython's forms for ints: `i` within 32 bits, `l` beyond (15-bit digits, sign in the
    /// count).
    #[test]
    fn ints_are_written_as_cpython_writes_them() {
        let enc = |v: Value| {
            let mut out = Vec::new();
            encode(&v, &mut out).expect("encode");
            out
        };
        assert_eq!(enc(Value::Int(0)), hex("6900000000"));
        assert_eq!(enc(Value::Int(-(1 << 40))), hex("6cfdffffff000000000004"));
        assert_eq!(enc(Value::Int(1 << 31)), hex("6c03000000000000000200"));
        let big: BigInt = BigInt::from(7) << 200;
        assert_eq!(
            round(&Value::BigInt(big.clone())),
            Value::BigInt(big.clone())
        );
        assert_eq!(round(&Value::BigInt(-big.clone())), Value::BigInt(-big));
        assert_eq!(round(&Value::Int(i64::MIN)), Value::Int(i64::MIN));
        assert_eq!(round(&Value::Int(i64::MAX)), Value::Int(i64::MAX));
    }

    #[test]
    fn values_come_back_as_the_table_says() {
        for v in [
            Value::None,
            Value::Bool(false),
            Value::Float(-0.0),
            Value::str("x".repeat(300)),
            Value::str("naïve ✓"),
            Value::Bytes(vec![0, 255, 7]),
            Value::Tuple((0..300).map(Value::Int).collect()),
            Value::List(vec![Value::None, Value::List(vec![])]),
            Value::Set(vec![Value::str("a")]),
            Value::Map(vec![(Value::Int(1), Value::Tuple(vec![]))]),
        ] {
            assert_eq!(round(&v), v);
        }
        let mut out = Vec::new();
        let e = encode(&Value::DateTime(1_704_164_645_600), &mut out).expect_err("no dates");
        assert!(e.message().contains("MarshalSerializer"), "{e}");
        assert_eq!(round(&Value::Int32(5)), Value::Int(5));
    }

    fn err(b: &[u8]) -> String {
        decode(b, &Limits::default())
            .expect_err("should fail")
            .message()
            .to_string()
    }

    /// Garbage, truncation and lying lengths get an error, never a panic or a large
    /// allocation.
    #[test]
    fn bad_input_is_refused_with_a_reason() {
        assert!(err(b"").contains("truncated"));
        assert!(err(b"s\xff\xff\xff\x7f").contains("truncated"), "4 GiB lie");
        assert!(err(b"[\xff\xff\xff\x7f").contains("truncated"));
        assert!(err(b"s\xff\xff\xff\xff").contains("negative"));
        assert!(err(b"l\xff\xff\xff\x7f").contains("truncated"));
        assert!(err(b"l\x01\x00\x00\x00\x00\x80").contains("digit out of range"));
        assert!(err(b"l\x01\x00\x00\x00\x00\x00").contains("unnormalized"));
        assert!(err(b"c\x00\x00\x00\x00").contains("code objects"));
        assert!(err(b"y").contains("complex"));
        assert!(err(b"Nx").contains("trailing"));
        assert!(err(b"u\x02\x00\x00\x00\xed\xa0").contains("UTF-8"));
        assert!(err(b"r\x00\x00\x00\x00").contains("reference 0"));
        assert!(err(b"{N").contains("truncated"));
        assert!(err(b"0").contains("end marker"));
        // A list whose element refers to the list itself.
        assert!(err(b"\xdb\x01\x00\x00\x00r\x00\x00\x00\x00").contains("loop"));
        // Every truncation of a good payload fails cleanly.
        let mut good = Vec::new();
        encode(
            &Value::Map(vec![(
                Value::str("k"),
                Value::List(vec![
                    Value::Int(1 << 40),
                    Value::str("é"),
                    Value::Float(1.0),
                ]),
            )]),
            &mut good,
        )
        .expect("encode");
        for cut in 0..good.len() {
            assert!(
                decode(&good[..cut], &Limits::default()).is_err(),
                "cut {cut}"
            );
        }
    }

    /// References cost what their copies cost: a few bytes that refer to a big list again and
    /// again run into the item limit, and deep values referred to deeper still into the depth
    /// limit.
    #[test]
    fn references_are_charged_in_full() {
        let limits = Limits {
            max_depth: 64,
            max_items: 10_000,
        };
        // A flagged list of 1,000 Nones, then a list of 100 references to it.
        let mut b = vec![b'[' | FLAG_REF, 2, 0, 0, 0];
        b.extend_from_slice(b"\xdb\xe8\x03\x00\x00");
        b.extend(std::iter::repeat_n(b'N', 1000));
        b.extend_from_slice(b"[\x64\x00\x00\x00");
        for _ in 0..100 {
            b.extend_from_slice(b"r\x01\x00\x00\x00");
        }
        let e = decode(&b, &limits).expect_err("item limit");
        assert!(e.message().contains("items"), "{e}");
        // 40 levels, referred to from 40 levels down: 80 > 64.
        let mut deep = Vec::new();
        deep.extend_from_slice(b")\x02");
        for _ in 0..40 {
            deep.extend_from_slice(b"\xa9\x01");
        }
        deep.push(b'N');
        for _ in 0..40 {
            deep.extend_from_slice(b")\x01");
        }
        deep.extend_from_slice(b"r\x00\x00\x00\x00");
        let e = decode(&deep, &Limits::default()).expect_err("depth limit");
        assert!(e.message().contains("nesting"), "{e}");
        // A flagged 1 MiB string, then 100 references to it: 100 MiB from 1 MiB of payload.
        let mut wide = b"[\x65\x00\x00\x00\xf3\x00\x00\x10\x00".to_vec();
        wide.extend(std::iter::repeat_n(b'x', 1 << 20));
        for _ in 0..100 {
            wide.extend_from_slice(b"r\x00\x00\x00\x00");
        }
        let e = decode(&wide, &Limits::default()).expect_err("copy limit");
        assert!(e.message().contains("references read more"), "{e}");
        // A few references to a shared argument are fine.
        let mut shared = b"(\x03\x00\x00\x00\xf3\x00\x00\x10\x00".to_vec();
        shared.extend(std::iter::repeat_n(b'x', 1 << 20));
        shared.extend_from_slice(b"r\x00\x00\x00\x00r\x00\x00\x00\x00");
        let v = decode(&shared, &Limits::default()).expect("two references");
        assert!(matches!(v, Value::Tuple(ref t) if t.len() == 3));
    }
}
