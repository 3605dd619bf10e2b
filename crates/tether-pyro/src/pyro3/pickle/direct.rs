//! A shortcut for the pickles Pyro 3 traffic is made of: plain data (strings, numbers,
//! tuples, lists, dicts) with no shared reference, read straight into a [`Value`].
//!
//! The general reader (`read.rs`) builds an arena of nodes so that shared and recursive
//! references stay what they were, and `convert.rs` then copies the nodes into values: per
//! call, a node for each part, a string copied twice, a hash map for the memo. A request or a
//! reply of Python 2's `cPickle` is almost always plain data whose memo entries (`BINPUT`) are
//! never read back, and that is what this reader takes, in one pass, each string copied once.
//!
//! It answers `None` for anything else: an opcode outside the plain-data set (a `GET` of a
//! memo entry, a `GLOBAL`, a constructor, protocol 0's text forms, ...), a limit reached, or
//! malformed bytes. The caller then runs the general reader, which decides, and words any
//! error; so a `Some` here is always the value the general reader and [`super::to_value`]
//! give for the same bytes (the tests and the `pyro3_pickle` fuzz target check exactly that).

use super::op;
use super::read::ReadLimits;
use crate::serializer::Limits;
use tether_core::Value;

/// The value of `data` if it is plain data within the limits (see the module docs); `None`
/// sends the caller to the general reader.
pub fn plain_value(data: &[u8], read: &ReadLimits, limits: &Limits) -> Option<Value> {
    Direct {
        data,
        pos: 0,
        stack: Vec::with_capacity(8),
        marks: Vec::new(),
        made: 0,
        puts: 0,
        read,
        // The same cap as the conversion's (it recurses; so would dropping a deep value).
        max_height: limits.max_depth.min(super::convert::HARD_MAX_DEPTH),
        max_items: limits.max_items,
    }
    .run()
}

/// A value on the stack and its height: 0 for a scalar, 1 + its tallest item's for a
/// container. (The conversion refuses a container at depth `max_depth` or below, i.e. a
/// root taller than `max_depth`.)
struct Slot {
    value: Value,
    height: usize,
}

struct Direct<'a> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<Slot>,
    /// The stack's length at each `MARK`.
    marks: Vec<usize>,
    /// Values made: each ends up in the result (no opcode here discards one), so this is the
    /// item count the conversion would reach.
    made: usize,
    /// Memo entries written (counted, never kept: nothing here reads them back).
    puts: usize,
    read: &'a ReadLimits,
    max_height: usize,
    max_items: usize,
}

impl<'a> Direct<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let b = self.data.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(b)
    }

    fn u8(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn u32(&mut self) -> Option<u32> {
        let b = self.take(4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The bottom of what an opcode may pop: the last mark.
    fn floor(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn push(&mut self, value: Value, height: usize) -> Option<()> {
        self.made += 1;
        if self.made > self.read.max_nodes
            || self.made > self.max_items
            || height > self.max_height
            || self.stack.len() + self.marks.len() >= self.read.max_stack
        {
            return None;
        }
        self.stack.push(Slot { value, height });
        Some(())
    }

    fn pop(&mut self) -> Option<Slot> {
        if self.stack.len() <= self.floor() {
            return None;
        }
        self.stack.pop()
    }

    /// Everything above the last mark, and the mark.
    fn pop_mark(&mut self) -> Option<(Vec<Value>, usize)> {
        let at = self.marks.pop()?;
        Some(self.drain_from(at))
    }

    /// The values from stack position `at` up, and the tallest one's height.
    fn drain_from(&mut self, at: usize) -> (Vec<Value>, usize) {
        let mut height = 0;
        let items = self
            .stack
            .drain(at..)
            .map(|s| {
                height = height.max(s.height);
                s.value
            })
            .collect();
        (items, height)
    }

    /// Adds `items` (of tallest `height`) to the list or dict on top of the stack.
    fn extend_top(&mut self, items: Vec<Value>, height: usize, dict: bool) -> Option<()> {
        if self.stack.len() <= self.floor() {
            return None;
        }
        let top = self.stack.last_mut()?;
        match (&mut top.value, dict) {
            (Value::List(v), false) => v.extend(items),
            (Value::Map(m), true) if items.len().is_multiple_of(2) => {
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    m.push((k, v));
                }
            }
            _ => return None,
        }
        top.height = top.height.max(height + 1);
        (top.height <= self.max_height).then_some(())
    }

    fn string(&mut self, n: usize) -> Option<()> {
        let b = self.take(n)?;
        let v = match std::str::from_utf8(b) {
            Ok(s) => Value::Str(s.to_owned()),
            Err(_) => Value::Bytes(b.to_vec()),
        };
        self.push(v, 0)
    }

    fn memo_put(&mut self) -> Option<()> {
        self.puts += 1;
        (self.stack.len() > self.floor() && self.puts <= self.read.max_memo).then_some(())
    }

    fn run(mut self) -> Option<Value> {
        let mut ops = 0usize;
        loop {
            ops += 1;
            if ops > self.read.max_ops {
                return None;
            }
            let code = self.u8()?;
            match code {
                op::PROTO => {
                    if self.u8()? > 2 {
                        return None;
                    }
                }
                op::STOP => {
                    if self.stack.len() != 1
                        || !self.marks.is_empty()
                        || self.pos != self.data.len()
                    {
                        return None;
                    }
                    return self.stack.pop().map(|s| s.value);
                }
                op::MARK => {
                    if self.stack.len() + self.marks.len() >= self.read.max_stack {
                        return None;
                    }
                    self.marks.push(self.stack.len());
                }
                op::NONE => self.push(Value::None, 0)?,
                op::NEWTRUE => self.push(Value::Bool(true), 0)?,
                op::NEWFALSE => self.push(Value::Bool(false), 0)?,
                op::BININT => {
                    let v = self.u32()? as i32;
                    self.push(Value::Int(i64::from(v)), 0)?
                }
                op::BININT1 => {
                    let v = self.u8()?;
                    self.push(Value::Int(i64::from(v)), 0)?
                }
                op::BININT2 => {
                    let b = self.take(2)?;
                    self.push(Value::Int(i64::from(u16::from_le_bytes([b[0], b[1]]))), 0)?
                }
                op::INT => {
                    // Protocol 2 writes an int past 32 bits as text; `I00`/`I01` (booleans)
                    // and anything that is not a plain 64-bit decimal go the general way.
                    let rest = self.data.get(self.pos..)?;
                    let n = rest.iter().position(|&b| b == b'\n')?;
                    let text = std::str::from_utf8(&rest[..n]).ok()?;
                    if text.len() < 3 || text.len() > 20 {
                        return None;
                    }
                    let v: i64 = text.parse().ok()?;
                    self.pos += n + 1;
                    self.push(Value::Int(v), 0)?
                }
                op::LONG1 => {
                    let n = usize::from(self.u8()?);
                    let b = self.take(n)?;
                    self.push(
                        Value::BigInt(num_bigint::BigInt::from_signed_bytes_le(b)),
                        0,
                    )?
                }
                op::BINFLOAT => {
                    let b = self.take(8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    self.push(Value::Float(f64::from_be_bytes(a)), 0)?
                }
                op::SHORT_BINSTRING => {
                    let n = self.u8()?;
                    self.string(usize::from(n))?
                }
                op::BINSTRING => {
                    let n = usize::try_from(self.u32()? as i32).ok()?;
                    self.string(n)?
                }
                op::BINUNICODE => {
                    let n = self.u32()? as usize;
                    let s = std::str::from_utf8(self.take(n)?).ok()?;
                    self.push(Value::Str(s.to_owned()), 0)?
                }
                op::EMPTY_TUPLE => self.push(Value::Tuple(Vec::new()), 1)?,
                op::EMPTY_LIST => self.push(Value::List(Vec::new()), 1)?,
                op::EMPTY_DICT => self.push(Value::Map(Vec::new()), 1)?,
                op::TUPLE1 | op::TUPLE2 | op::TUPLE3 => {
                    let n = usize::from(code - op::TUPLE1 + 1);
                    if self.stack.len() < self.floor() + n {
                        return None;
                    }
                    let (items, height) = self.drain_from(self.stack.len() - n);
                    self.push(Value::Tuple(items), height + 1)?
                }
                op::TUPLE => {
                    let (items, height) = self.pop_mark()?;
                    self.push(Value::Tuple(items), height + 1)?
                }
                op::LIST => {
                    let (items, height) = self.pop_mark()?;
                    self.push(Value::List(items), height + 1)?
                }
                op::DICT => {
                    let (items, height) = self.pop_mark()?;
                    if !items.len().is_multiple_of(2) {
                        return None;
                    }
                    let mut entries = Vec::with_capacity(items.len() / 2);
                    let mut it = items.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        entries.push((k, v));
                    }
                    self.push(Value::Map(entries), height + 1)?
                }
                op::APPEND => {
                    let v = self.pop()?;
                    self.extend_top(vec![v.value], v.height, false)?
                }
                op::APPENDS => {
                    let (items, height) = self.pop_mark()?;
                    self.extend_top(items, height, false)?
                }
                op::SETITEM => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    self.extend_top(vec![k.value, v.value], k.height.max(v.height), true)?
                }
                op::SETITEMS => {
                    let (items, height) = self.pop_mark()?;
                    self.extend_top(items, height, true)?
                }
                op::BINPUT => {
                    self.u8()?;
                    self.memo_put()?
                }
                op::LONG_BINPUT => {
                    self.u32()?;
                    self.memo_put()?
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyro3::pickle::{read, to_value, write};

    /// What the general reader and the conversion make of `data`, as text (a NaN equals
    /// itself there), or its error.
    fn general(data: &[u8], read_limits: &ReadLimits, limits: &Limits) -> Result<String, String> {
        let p = read(data, read_limits).map_err(|e| e.to_string())?;
        to_value(&p, p.root, limits)
            .map(|v| format!("{v:?}"))
            .map_err(|e| e.to_string())
    }

    fn agree(data: &[u8], read_limits: &ReadLimits, limits: &Limits) -> bool {
        match plain_value(data, read_limits, limits) {
            Some(v) => general(data, read_limits, limits) == Ok(format!("{v:?}")),
            None => true,
        }
    }

    fn samples() -> Vec<Value> {
        vec![
            Value::None,
            Value::Bool(true),
            Value::Int(7),
            Value::Int(300),
            Value::Int(-5),
            Value::Int(1 << 40),
            Value::Float(f64::NAN),
            Value::Float(-0.0),
            Value::str("Hello"),
            Value::str("é ascii no more"),
            Value::Bytes(vec![0xff, 0, 1]),
            Value::Bytes(vec![b'x'; 300]),
            Value::Tuple(vec![]),
            Value::Tuple(vec![Value::Int(1)]),
            Value::Tuple(vec![Value::Int(1), Value::str("a"), Value::None]),
            Value::Tuple((0..5).map(Value::Int).collect()),
            Value::List((0..1200).map(Value::Int).collect()),
            Value::Map(vec![
                (Value::str("k"), Value::List(vec![Value::Int(1)])),
                (Value::Int(2), Value::Tuple(vec![])),
            ]),
            Value::Tuple(vec![
                Value::str("c0000000011000001000000010000001"),
                Value::str("get_data"),
                Value::Int(3),
                Value::Tuple(vec![
                    Value::Tuple(vec![Value::str("Hello")]),
                    Value::Map(vec![]),
                ]),
            ]),
        ]
    }

    /// Every plain value written by tether's writer reads back the same by both readers, and
    /// this one takes it (so the shortcut is the path a call actually takes).
    #[test]
    fn plain_data_reads_as_the_general_reader_reads_it() {
        let (rl, l) = (ReadLimits::default(), Limits::default());
        for v in samples() {
            let mut data = Vec::new();
            write(&v, &mut data).expect("write");
            let got = plain_value(&data, &rl, &l);
            assert!(got.is_some(), "{v:?} not taken by the shortcut");
            assert!(agree(&data, &rl, &l), "{v:?}");
        }
    }

    /// The bytes Python 2's cPickle writes for a Pyro 3 request (protocol 2, memo entries that
    /// are never read back), taken by the shortcut.
    #[test]
    fn a_cpickle_request_is_taken() {
        let request: &[u8] = b"\x80\x02(U c0000000011000001000000010000001q\x01U\x08get_dataq\x02K\x03U\x05Helloq\x03\x85q\x04}\x86t.";
        // ('x', [1, 2, {'a': (1.5, None, True)}], 2**40, 2**70)
        let mixed: &[u8] = b"\x80\x02(U\x01x]q\x01(K\x01K\x02}q\x02U\x01aG?\xf8\x00\x00\x00\x00\x00\x00N\x88\x87seI1099511627776\n\x8a\t\x00\x00\x00\x00\x00\x00\x00\x00@t.";
        let (rl, l) = (ReadLimits::default(), Limits::default());
        for data in [request, mixed] {
            let v = plain_value(data, &rl, &l).expect("taken");
            assert_eq!(general(data, &rl, &l), Ok(format!("{v:?}")));
        }
    }

    /// What the shortcut leaves to the general reader: shared references, names, protocol 0,
    /// and everything past a limit; and it never disagrees on bytes cut short or changed.
    #[test]
    fn anything_else_goes_to_the_general_reader() {
        let (rl, l) = (ReadLimits::default(), Limits::default());
        let left: &[&[u8]] = &[
            b"\x80\x02]q\x01h\x01a.",                   // a list that holds itself
            b"\x80\x02c__builtin__\nset\nq\x01]\x85R.", // a set
            b"I01\n.",                                  // protocol 0's True
            b"I5\n.",                                   // protocol 0's short text int
            b"\x80\x03N.",                              // protocol 3
            b"\x80\x02NN.",                             // two values left
            b"\x80\x02N",                               // no STOP
            b"\x80\x02(N.",                             // a mark left
            b"\x80\x02T\xff\xff\xff\xffx.",             // a negative length
            b"\x80\x02X\x00\x00\x00\x40x.",             // a 1 GiB length
            b"\x80\x02a.",                              // APPEND to nothing
        ];
        for data in left {
            assert!(plain_value(data, &rl, &l).is_none(), "{data:?}");
        }
        // Deeper than the limit, or more items: the general reader words the refusal.
        let deep = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        let mut data = Vec::new();
        let nested = (0..4).fold(Value::Int(1), |v, _| Value::List(vec![v]));
        write(&nested, &mut data).expect("write");
        assert!(plain_value(&data, &rl, &deep).is_none());
        assert!(general(&data, &rl, &deep).is_err());
        let few = Limits {
            max_items: 10,
            ..Limits::default()
        };
        let mut data = Vec::new();
        write(&Value::List((0..10).map(Value::Int).collect()), &mut data).expect("write");
        assert!(plain_value(&data, &rl, &few).is_none());
        assert!(general(&data, &rl, &few).is_err());
        // Every cut and every one-byte change of every sample: never a different answer.
        for v in samples() {
            let mut data = Vec::new();
            write(&v, &mut data).expect("write");
            for cut in 0..data.len() {
                assert!(agree(&data[..cut], &rl, &l), "{v:?} cut at {cut}");
            }
            for i in 0..data.len().min(64) {
                for b in [0x00, 0x01, 0x28, 0x2e, 0x61, 0x85, 0x87, 0xff] {
                    let mut d = data.clone();
                    d[i] = b;
                    assert!(agree(&d, &rl, &l), "{v:?} byte {i} = {b:#x}");
                }
            }
        }
    }
}
