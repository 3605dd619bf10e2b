//! Decoding Hessian 2.0 and 1.0 values (see the table in `mod.rs`). One [`Reader`] per
//! message: it owns the message's three tables (values for refs, class definitions, type
//! names) and the budget of items and bytes.

use super::strings::decode_units;
use super::{DecodeError, Limits};
use tether_core::Value;

/// A class definition of a Hessian 2 message.
#[derive(Clone, Debug)]
struct ClassDef {
    name: String,
    fields: Vec<String>,
}

/// A value of the ref table: decoded, or still being decoded (an ancestor: a ref to it is a
/// loop, read as a [`Value::BackRef`]).
enum Slot {
    Pending,
    Done {
        value: Value,
        items: usize,
        bytes: usize,
        /// Where the container was opened: its index in [`Reader::open`].
        depth: usize,
        /// How many levels of containers it spans (1 for one holding no container): a copy
        /// of it placed deeper must still fit the depth limit.
        height: usize,
        /// When a loop inside the value points at a container enclosing it: the slots of
        /// `open[lowest target..depth]` as they were. A copy of the value is only right where
        /// those containers still enclose the place of the copy.
        escapes: Option<(usize, Vec<usize>)>,
    },
}

/// A container being decoded: its slot, the outermost container a loop inside it points at,
/// and the deepest level (a value of [`Reader::depth`]) reached inside it so far.
struct Open {
    slot: usize,
    lowest_target: usize,
    peak: usize,
}

/// Reads values from one message.
pub(crate) struct Reader<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) pos: usize,
    limits: Limits,
    refs: Vec<Slot>,
    /// The containers being decoded, outermost first (each encloses the next).
    open: Vec<Open>,
    classes: Vec<ClassDef>,
    types: Vec<String>,
    depth: usize,
    items: usize,
    bytes: usize,
    /// Read a ref to an enclosing container as `None` instead of refusing it (fault details:
    /// a Java exception's `cause` is the exception itself).
    pub(crate) loops_as_none: bool,
    /// Keep a copy of every complete container for refs to name. Off on the first reading of a
    /// message: most hold no ref, and copying every container once more made a list of 100,000
    /// objects decode in about 205 ms instead of 28 (and grow faster than linearly). A ref to a
    /// complete value sets `needs_values` and stops that reading, and [`read_twice`] reads the
    /// message again with this on.
    keep_values: bool,
    /// The first reading met a ref to a complete value.
    needs_values: bool,
}

/// Reads `buf` with `f`: first keeping no copies of containers for refs, and once more keeping
/// them if a ref to a complete value turned up (so a message with refs costs two readings, at
/// most, and one without them one).
pub(crate) fn read_twice<T>(
    buf: &[u8],
    limits: &Limits,
    f: impl Fn(&mut Reader<'_>) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    let mut r = Reader::new(buf, *limits);
    match f(&mut r) {
        Err(_) if r.needs_values => {
            let mut r = Reader::new(buf, *limits);
            r.keep_values = true;
            f(&mut r)
        }
        other => other,
    }
}

/// Decodes one Hessian 2 value that fills `buf` exactly.
pub fn decode_h2(buf: &[u8], limits: &Limits) -> Result<Value, DecodeError> {
    read_twice(buf, limits, |r| {
        let v = r.h2()?;
        r.end()?;
        Ok(v)
    })
}

/// Decodes one Hessian 1 value that fills `buf` exactly.
pub fn decode_h1(buf: &[u8], limits: &Limits) -> Result<Value, DecodeError> {
    read_twice(buf, limits, |r| {
        let v = r.h1()?;
        r.end()?;
        Ok(v)
    })
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], limits: Limits) -> Self {
        Reader {
            buf,
            pos: 0,
            limits,
            refs: Vec::new(),
            open: Vec::new(),
            classes: Vec::new(),
            types: Vec::new(),
            depth: 0,
            items: 0,
            bytes: 0,
            loops_as_none: false,
            keep_values: false,
            needs_values: false,
        }
    }

    pub(crate) fn end(&self) -> Result<(), DecodeError> {
        if self.pos != self.buf.len() {
            return Err(DecodeError::at(self.pos, "trailing bytes after the value"));
        }
        Ok(())
    }

    pub(crate) fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| DecodeError::truncated(self.pos))?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn peek(&self) -> Result<u8, DecodeError> {
        self.buf
            .get(self.pos)
            .copied()
            .ok_or_else(|| DecodeError::truncated(self.pos))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() - self.pos < n {
            return Err(DecodeError::at(
                self.pos,
                format!(
                    "truncated: {n} bytes declared, {} left",
                    self.buf.len() - self.pos
                ),
            ));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn i32(&mut self) -> Result<i32, DecodeError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i64(&mut self) -> Result<i64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }

    fn count_item(&mut self) -> Result<(), DecodeError> {
        self.items += 1;
        if self.items > self.limits.max_items {
            return Err(DecodeError::at(
                self.pos,
                format!("more than {} values in one message", self.limits.max_items),
            ));
        }
        Ok(())
    }

    fn count_bytes(&mut self, n: usize) -> Result<(), DecodeError> {
        self.bytes = self.bytes.saturating_add(n);
        if self.bytes > self.limits.max_bytes {
            return Err(DecodeError::at(
                self.pos,
                format!(
                    "more than {} bytes of strings and binaries in one message",
                    self.limits.max_bytes
                ),
            ));
        }
        Ok(())
    }

    /// A declared element count, checked against the bytes left (each element takes at least
    /// one byte) before anything is allocated.
    fn count(&self, n: i64, at: usize) -> Result<usize, DecodeError> {
        let left = self.buf.len() - self.pos;
        if n < 0 || n as u64 > left as u64 {
            return Err(DecodeError::at(
                at,
                format!("length {n} is impossible with {left} bytes left"),
            ));
        }
        Ok(n as usize)
    }

    fn enter(&mut self, at: usize) -> Result<(), DecodeError> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(DecodeError::at(
                at,
                format!("nested deeper than {}", self.limits.max_depth),
            ));
        }
        Ok(())
    }

    /// Opens a container that refs may name: reserves its slot.
    fn open_ref(&mut self) -> (usize, usize, usize) {
        self.refs.push(Slot::Pending);
        let slot = self.refs.len() - 1;
        self.open.push(Open {
            slot,
            lowest_target: usize::MAX,
            peak: self.depth,
        });
        (slot, self.items, self.bytes)
    }

    fn close_ref(&mut self, slot: (usize, usize, usize), value: &Value) {
        let (i, items, bytes) = slot;
        let depth = self.open.len() - 1;
        let (lowest, peak) = self
            .open
            .pop()
            .map_or((usize::MAX, self.depth), |o| (o.lowest_target, o.peak));
        let escapes = (lowest < depth).then(|| {
            let slots = self.open[lowest..depth].iter().map(|o| o.slot).collect();
            (lowest, slots)
        });
        if let Some(parent) = self.open.last_mut() {
            parent.lowest_target = parent.lowest_target.min(lowest);
            parent.peak = parent.peak.max(peak);
        }
        self.refs[i] = Slot::Done {
            // Read by a ref only in a reading that keeps values (see `keep_values`).
            value: if self.keep_values {
                value.clone()
            } else {
                Value::None
            },
            items: self.items - items,
            bytes: self.bytes - bytes,
            depth,
            height: peak + 1 - self.depth,
            escapes,
        };
        self.depth -= 1;
    }

    /// Notes that the container being decoded holds a loop to `open[target]`.
    fn note_target(&mut self, target: usize) {
        if let Some(top) = self.open.last_mut() {
            top.lowest_target = top.lowest_target.min(target);
        }
    }

    fn deref(&mut self, n: i64, at: usize) -> Result<Value, DecodeError> {
        let index = usize::try_from(n).ok().filter(|i| *i < self.refs.len());
        let Some(index) = index else {
            return Err(DecodeError::at(at, format!("ref {n} names nothing")));
        };
        match &self.refs[index] {
            Slot::Pending if self.loops_as_none => Ok(Value::None),
            Slot::Pending => {
                // A container still being decoded encloses this ref: a loop, carried as the
                // number of containers up it points.
                let target = self
                    .open
                    .iter()
                    .rposition(|o| o.slot == index)
                    .ok_or_else(|| {
                        DecodeError::at(at, format!("ref {n} names a value not yet complete"))
                    })?;
                let up = self.open.len() - 1 - target;
                let up = u32::try_from(up)
                    .map_err(|_| DecodeError::at(at, "a loop deeper than 2^32 containers"))?;
                self.note_target(target);
                Ok(Value::BackRef(up))
            }
            Slot::Done { .. } if !self.keep_values => {
                self.needs_values = true;
                Err(DecodeError::at(at, "a ref to a complete value: read again"))
            }
            Slot::Done {
                value,
                items,
                bytes,
                depth,
                height,
                escapes,
            } => {
                let (i, b, depth) = (*items, *bytes, *depth);
                // The copy nests as deep as the original, from here: the limit holds for the
                // value the message expands to, as for one written out in full.
                let reach = self.depth + *height;
                if reach > self.limits.max_depth {
                    return Err(DecodeError::at(
                        at,
                        format!(
                            "nested deeper than {} (refs expanded)",
                            self.limits.max_depth
                        ),
                    ));
                }
                if let Some(top) = self.open.last_mut() {
                    top.peak = top.peak.max(reach);
                }
                let mut v = value.clone();
                if let Some((lowest, slots)) = escapes {
                    // The value holds a loop to a container around it: the copy must sit
                    // inside those same containers, one level further down per level moved.
                    let here = self
                        .open
                        .get(*lowest..depth)
                        .map(|o| o.iter().map(|o| o.slot));
                    let same = here.is_some_and(|h| h.eq(slots.iter().copied()));
                    if !same || self.open.len() < depth {
                        return Err(DecodeError::at(
                            at,
                            format!(
                                "ref {n} names a value inside a loop from outside that loop \
                                 (not carried: a copy cannot keep the loop)"
                            ),
                        ));
                    }
                    let lowest = *lowest;
                    let moved = u32::try_from(self.open.len() - depth)
                        .map_err(|_| DecodeError::at(at, "a loop deeper than 2^32 containers"))?;
                    shift_escaping(&mut v, 0, moved);
                    self.note_target(lowest);
                }
                // The copy costs what the original did.
                self.items = self.items.saturating_add(i);
                if self.items > self.limits.max_items {
                    return Err(DecodeError::at(
                        at,
                        format!(
                            "more than {} values in one message (refs expanded)",
                            self.limits.max_items
                        ),
                    ));
                }
                self.count_bytes(b)?;
                Ok(v)
            }
        }
    }

    // ---- Hessian 2 -------------------------------------------------------------------

    /// One Hessian 2 value.
    pub(crate) fn h2(&mut self) -> Result<Value, DecodeError> {
        let at = self.pos;
        let code = self.byte()?;
        self.count_item()?;
        let v = match code {
            b'N' => Value::None,
            b'T' => Value::Bool(true),
            b'F' => Value::Bool(false),
            0x80..=0xbf => Value::Int32(i32::from(code) - 0x90),
            0xc0..=0xcf => {
                let b0 = self.byte()?;
                Value::Int32(((i32::from(code) - 0xc8) << 8) + i32::from(b0))
            }
            0xd0..=0xd7 => {
                let b = self.take(2)?;
                Value::Int32(
                    ((i32::from(code) - 0xd4) << 16) + (i32::from(b[0]) << 8) + i32::from(b[1]),
                )
            }
            b'I' => Value::Int32(self.i32()?),
            0xd8..=0xef => Value::Int(i64::from(code) - 0xe0),
            0xf0..=0xff => {
                let b0 = self.byte()?;
                Value::Int(((i64::from(code) - 0xf8) << 8) + i64::from(b0))
            }
            0x38..=0x3f => {
                let b = self.take(2)?;
                Value::Int(
                    ((i64::from(code) - 0x3c) << 16) + (i64::from(b[0]) << 8) + i64::from(b[1]),
                )
            }
            b'Y' => Value::Int(i64::from(self.i32()?)),
            b'L' => Value::Int(self.i64()?),
            0x5b => Value::Float(0.0),
            0x5c => Value::Float(1.0),
            0x5d => Value::Float(f64::from(self.byte()? as i8)),
            0x5e => {
                let b = self.take(2)?;
                Value::Float(f64::from(i16::from_be_bytes([b[0], b[1]])))
            }
            0x5f => Value::Float(0.001 * f64::from(self.i32()?)),
            b'D' => Value::Float(f64::from_bits(self.i64()? as u64)),
            b'J' => Value::DateTime(self.i64()?),
            b'K' => Value::DateTime(i64::from(self.i32()?) * 60_000),
            0x00..=0x1f | 0x30..=0x33 | b'S' | b'R' => {
                self.pos = at;
                Value::Str(self.h2_string()?)
            }
            0x20..=0x2f | 0x34..=0x37 | b'B' | b'A' => {
                self.pos = at;
                Value::Bytes(self.h2_binary()?)
            }
            b'V' | b'U' | b'X' | b'W' | 0x70..=0x7f => self.h2_list(code, at)?,
            b'H' | b'M' => self.h2_map(code, at)?,
            b'C' => {
                self.h2_class_def()?;
                // A class definition is not a value: the instance follows.
                self.items -= 1;
                return self.h2();
            }
            b'O' | 0x60..=0x6f => self.h2_object(code, at)?,
            b'Q' => {
                let n = self.h2_int_value()?;
                self.items -= 1;
                self.deref(n, at)?
            }
            other => {
                return Err(DecodeError::at(
                    at,
                    format!("0x{other:02x} is not a Hessian 2 value code"),
                ))
            }
        };
        Ok(v)
    }

    /// An int in any Hessian 2 int form (list lengths, class refs, argument counts).
    pub(crate) fn h2_int_value(&mut self) -> Result<i64, DecodeError> {
        let at = self.pos;
        let code = self.byte()?;
        Ok(match code {
            0x80..=0xbf => i64::from(code) - 0x90,
            0xc0..=0xcf => ((i64::from(code) - 0xc8) << 8) + i64::from(self.byte()?),
            0xd0..=0xd7 => {
                let b = self.take(2)?;
                ((i64::from(code) - 0xd4) << 16) + (i64::from(b[0]) << 8) + i64::from(b[1])
            }
            b'I' => i64::from(self.i32()?),
            other => {
                return Err(DecodeError::at(
                    at,
                    format!("expected an int, got 0x{other:02x}"),
                ))
            }
        })
    }

    /// A Hessian 2 string (any chunking).
    pub(crate) fn h2_string(&mut self) -> Result<String, DecodeError> {
        let mut out = String::new();
        let mut pending = None;
        loop {
            let at = self.pos;
            let code = self.byte()?;
            let (units, last) = match code {
                0x00..=0x1f => (usize::from(code), true),
                0x30..=0x33 => (
                    ((usize::from(code) - 0x30) << 8) + usize::from(self.byte()?),
                    true,
                ),
                b'S' => (usize::from(self.u16()?), true),
                b'R' => (usize::from(self.u16()?), false),
                other => {
                    return Err(DecodeError::at(
                        at,
                        format!("expected a string, got 0x{other:02x}"),
                    ))
                }
            };
            // At least one byte per unit: a length past the end is refused before reading.
            self.count(units as i64, at)?;
            self.count_bytes(units)?;
            decode_units(self.buf, &mut self.pos, units, &mut out, &mut pending)?;
            if last {
                break;
            }
        }
        if pending.is_some() {
            return Err(DecodeError::at(
                self.pos,
                "lone surrogate at the end of a string",
            ));
        }
        Ok(out)
    }

    fn h2_binary(&mut self) -> Result<Vec<u8>, DecodeError> {
        let mut out = Vec::new();
        loop {
            let at = self.pos;
            let code = self.byte()?;
            let (len, last) = match code {
                0x20..=0x2f => (usize::from(code - 0x20), true),
                0x34..=0x37 => (
                    ((usize::from(code) - 0x34) << 8) + usize::from(self.byte()?),
                    true,
                ),
                b'B' => (usize::from(self.u16()?), true),
                b'A' => (usize::from(self.u16()?), false),
                other => {
                    return Err(DecodeError::at(
                        at,
                        format!("expected binary, got 0x{other:02x}"),
                    ))
                }
            };
            self.count_bytes(len)?;
            out.extend_from_slice(self.take(len)?);
            if last {
                break;
            }
        }
        Ok(out)
    }

    /// A type name: a string (added to the type table) or an int (an index into it).
    fn h2_type(&mut self) -> Result<String, DecodeError> {
        let at = self.pos;
        match self.peek()? {
            0x00..=0x1f | 0x30..=0x33 | b'S' | b'R' => {
                let t = self.h2_string()?;
                self.types.push(t.clone());
                Ok(t)
            }
            _ => {
                let n = self.h2_int_value()?;
                usize::try_from(n)
                    .ok()
                    .and_then(|i| self.types.get(i))
                    .cloned()
                    .ok_or_else(|| DecodeError::at(at, format!("type ref {n} names nothing")))
            }
        }
    }

    fn h2_list(&mut self, code: u8, at: usize) -> Result<Value, DecodeError> {
        let class = match code {
            b'V' | b'U' | 0x70..=0x77 => Some(self.h2_type()?),
            _ => None,
        };
        let len = match code {
            b'V' | b'X' => Some(self.h2_int_value()?),
            0x70..=0x77 => Some(i64::from(code - 0x70)),
            0x78..=0x7f => Some(i64::from(code - 0x78)),
            _ => None,
        };
        self.enter(at)?;
        let slot = self.open_ref();
        let mut items = Vec::new();
        match len {
            Some(n) => {
                let n = self.count(n, at)?;
                items.reserve(n);
                for _ in 0..n {
                    items.push(self.h2()?);
                }
            }
            None => loop {
                if self.peek()? == b'Z' {
                    self.pos += 1;
                    break;
                }
                items.push(self.h2()?);
            },
        }
        let list = Value::List(items);
        let v = match class {
            Some(c) => Value::typed(c, list),
            None => list,
        };
        self.close_ref(slot, &v);
        Ok(v)
    }

    fn h2_map(&mut self, code: u8, at: usize) -> Result<Value, DecodeError> {
        let class = if code == b'M' {
            Some(self.h2_type()?)
        } else {
            None
        };
        self.enter(at)?;
        let slot = self.open_ref();
        let mut entries = Vec::new();
        loop {
            if self.peek()? == b'Z' {
                self.pos += 1;
                break;
            }
            let k = self.h2()?;
            let v = self.h2()?;
            entries.push((k, v));
        }
        let map = Value::Map(entries);
        let v = match class {
            Some(c) => Value::typed(c, map),
            None => map,
        };
        self.close_ref(slot, &v);
        Ok(v)
    }

    fn h2_class_def(&mut self) -> Result<(), DecodeError> {
        let name = self.h2_string()?;
        let at = self.pos;
        let n = self.h2_int_value()?;
        let n = self.count(n, at)?;
        let mut fields = Vec::with_capacity(n);
        for _ in 0..n {
            fields.push(self.h2_string()?);
        }
        self.classes.push(ClassDef { name, fields });
        Ok(())
    }

    fn h2_object(&mut self, code: u8, at: usize) -> Result<Value, DecodeError> {
        let n = if code == b'O' {
            self.h2_int_value()?
        } else {
            i64::from(code - 0x60)
        };
        let def = usize::try_from(n)
            .ok()
            .and_then(|i| self.classes.get(i))
            .cloned()
            .ok_or_else(|| {
                DecodeError::at(
                    at,
                    format!("object of class definition {n}, which does not exist"),
                )
            })?;
        self.enter(at)?;
        let slot = self.open_ref();
        let mut fields = Vec::with_capacity(def.fields.len().min(self.buf.len() - self.pos));
        for f in def.fields {
            fields.push((f, self.h2()?));
        }
        let v = Value::object(def.name, fields);
        self.close_ref(slot, &v);
        Ok(v)
    }

    // ---- Hessian 1 -------------------------------------------------------------------

    /// One Hessian 1 value.
    pub(crate) fn h1(&mut self) -> Result<Value, DecodeError> {
        let at = self.pos;
        let code = self.byte()?;
        self.count_item()?;
        Ok(match code {
            b'N' => Value::None,
            b'T' => Value::Bool(true),
            b'F' => Value::Bool(false),
            b'I' => Value::Int32(self.i32()?),
            b'L' => Value::Int(self.i64()?),
            b'D' => Value::Float(f64::from_bits(self.i64()? as u64)),
            b'd' => Value::DateTime(self.i64()?),
            b'S' | b's' | b'X' | b'x' => {
                self.pos = at;
                Value::Str(self.h1_string()?)
            }
            b'B' | b'b' => {
                self.pos = at;
                let mut out = Vec::new();
                loop {
                    let c = self.byte()?;
                    let len = usize::from(self.u16()?);
                    self.count_bytes(len)?;
                    out.extend_from_slice(self.take(len)?);
                    match c {
                        b'B' => break,
                        b'b' => continue,
                        other => {
                            return Err(DecodeError::at(
                                self.pos,
                                format!("expected binary chunk, got 0x{other:02x}"),
                            ))
                        }
                    }
                }
                Value::Bytes(out)
            }
            b'V' => {
                let class = self.h1_type()?;
                let mut declared = None;
                if self.peek()? == b'l' {
                    self.pos += 1;
                    declared = Some(self.i32()?);
                }
                self.enter(at)?;
                let slot = self.open_ref();
                let mut items = Vec::new();
                if let Some(n) = declared.filter(|n| *n >= 0) {
                    items.reserve(self.count(i64::from(n), at)?);
                }
                loop {
                    if self.peek()? == b'z' {
                        self.pos += 1;
                        break;
                    }
                    items.push(self.h1()?);
                }
                let list = Value::List(items);
                let v = match class {
                    Some(c) if !c.is_empty() => Value::typed(c, list),
                    _ => list,
                };
                self.close_ref(slot, &v);
                v
            }
            b'M' => {
                let class = self.h1_type()?;
                self.enter(at)?;
                let slot = self.open_ref();
                let mut entries = Vec::new();
                loop {
                    if self.peek()? == b'z' {
                        self.pos += 1;
                        break;
                    }
                    let k = self.h1()?;
                    let v = self.h1()?;
                    entries.push((k, v));
                }
                let map = Value::Map(entries);
                let v = match class {
                    Some(c) if !c.is_empty() => Value::typed(c, map),
                    _ => map,
                };
                self.close_ref(slot, &v);
                v
            }
            b'R' => {
                let n = self.i32()?;
                self.items -= 1;
                self.deref(i64::from(n), at)?
            }
            other => {
                return Err(DecodeError::at(
                    at,
                    format!("0x{other:02x} is not a Hessian 1 value code"),
                ))
            }
        })
    }

    /// A Hessian 1 string (`S`/`X` final, `s`/`x` non-final chunks, u16 lengths in units).
    pub(crate) fn h1_string(&mut self) -> Result<String, DecodeError> {
        let mut out = String::new();
        let mut pending = None;
        loop {
            let at = self.pos;
            let code = self.byte()?;
            let last = match code {
                b'S' | b'X' => true,
                b's' | b'x' => false,
                other => {
                    return Err(DecodeError::at(
                        at,
                        format!("expected a string, got 0x{other:02x}"),
                    ))
                }
            };
            let units = usize::from(self.u16()?);
            self.count(units as i64, at)?;
            self.count_bytes(units)?;
            decode_units(self.buf, &mut self.pos, units, &mut out, &mut pending)?;
            if last {
                break;
            }
        }
        if pending.is_some() {
            return Err(DecodeError::at(
                self.pos,
                "lone surrogate at the end of a string",
            ));
        }
        Ok(out)
    }

    /// An optional Hessian 1 type (`t` len16 name).
    fn h1_type(&mut self) -> Result<Option<String>, DecodeError> {
        if self.peek()? != b't' {
            return Ok(None);
        }
        self.pos += 1;
        let len = usize::from(self.u16()?);
        let mut s = String::new();
        let mut pending = None;
        self.count(len as i64, self.pos)?;
        decode_units(self.buf, &mut self.pos, len, &mut s, &mut pending)?;
        if pending.is_some() {
            return Err(DecodeError::at(self.pos, "lone surrogate in a type name"));
        }
        Ok(Some(s))
    }
}

/// Adds `moved` to every back reference in `v` that points above `v` (`inside` containers of
/// `v` enclose it): what a copy placed `moved` levels deeper than its original needs.
fn shift_escaping(v: &mut Value, inside: u32, moved: u32) {
    match v {
        Value::BackRef(k) if *k >= inside => *k += moved,
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
            for i in items {
                shift_escaping(i, inside + 1, moved);
            }
        }
        Value::Map(m) => {
            for (k, x) in m {
                shift_escaping(k, inside + 1, moved);
                shift_escaping(x, inside + 1, moved);
            }
        }
        Value::Object(o) => {
            for (_, x) in &mut o.fields {
                shift_escaping(x, inside + 1, moved);
            }
        }
        Value::Typed(t) => match &mut t.value {
            Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
                for i in items {
                    shift_escaping(i, inside + 1, moved);
                }
            }
            Value::Map(m) => {
                for (k, x) in m {
                    shift_escaping(k, inside + 1, moved);
                    shift_escaping(x, inside + 1, moved);
                }
            }
            other => shift_escaping(other, inside, moved),
        },
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::encode_h2;

    /// `levels` fixed-length untyped lists of one element each, around `inner`.
    fn nested(levels: usize, inner: &[u8]) -> Vec<u8> {
        let mut b = vec![0x79; levels];
        b.extend_from_slice(inner);
        b
    }

    /// A ref's copy nests as deep as its original from where the ref stands: the depth limit
    /// holds for the value the message expands to (found by the `hessian` fuzz target: the
    /// copy was accepted 71 levels deep, and the value's own encoding then did not decode).
    #[test]
    fn a_refs_copy_counts_against_the_depth_limit() {
        let l = Limits::default();
        // [A, [[...[ref to A]...]]]: A is 60 lists deep, slot 1 (the outer list is slot 0).
        let a = nested(60, &[0x90]);
        let deep = |levels: usize| {
            let mut b = vec![0x7a];
            b.extend_from_slice(&a);
            b.extend_from_slice(&nested(levels, &[b'Q', 0x91]));
            b
        };
        // 1 + 10 + 60 levels: over the limit of 64
        let e = decode_h2(&deep(10), &l).expect_err("too deep once expanded");
        assert!(e.to_string().contains("nested deeper than 64"), "{e}");
        // 1 + 3 + 60: fits, and the value's own encoding reads back to it
        let v = decode_h2(&deep(3), &l).expect("fits the limit");
        let mut out = Vec::new();
        encode_h2(&v, &mut out).unwrap();
        assert_eq!(decode_h2(&out, &l).unwrap(), v);
    }
}
