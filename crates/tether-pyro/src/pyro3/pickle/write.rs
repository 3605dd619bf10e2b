//! The pickle writer: protocol 2, as cPickle writes it for the values tether sends (without
//! memo entries, which a reader does not need). Global names are `&'static str`: only names
//! written in this crate's source can be emitted, never one that arrived from a peer.

use super::op;
use num_bigint::BigInt;
use tether_core::{RemoteError, Value};

/// Deepest nesting written (the writer recurses once per level).
const MAX_DEPTH: usize = 512;

/// Appends protocol-2 pickle opcodes to a buffer.
pub struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    /// A writer appending to `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        Writer { out }
    }

    /// `PROTO 2`.
    pub fn proto(&mut self) {
        self.out.extend_from_slice(&[op::PROTO, 2]);
    }

    /// `STOP`.
    pub fn stop(&mut self) {
        self.out.push(op::STOP);
    }

    /// One opcode without an argument (`MARK`, `OBJ`, `REDUCE`, `BUILD`, ...).
    pub fn op(&mut self, code: u8) {
        self.out.push(code);
    }

    /// `GLOBAL module name`, from constants only.
    pub fn global(&mut self, module: &'static str, name: &'static str) {
        self.out.push(op::GLOBAL);
        self.out.extend_from_slice(module.as_bytes());
        self.out.push(b'\n');
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b'\n');
    }

    /// A Python 2 `str` with these bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        if b.len() < 256 {
            self.out
                .extend_from_slice(&[op::SHORT_BINSTRING, b.len() as u8]);
        } else {
            self.out.push(op::BINSTRING);
            self.out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        }
        self.out.extend_from_slice(b);
    }

    /// A string: `str` when ASCII (what Python 2 code itself mostly holds), else `unicode`.
    pub fn text(&mut self, s: &str) {
        if s.is_ascii() {
            self.bytes(s.as_bytes());
        } else {
            self.out.push(op::BINUNICODE);
            self.out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            self.out.extend_from_slice(s.as_bytes());
        }
    }

    fn int(&mut self, v: i64) {
        if (0..256).contains(&v) {
            self.out.extend_from_slice(&[op::BININT1, v as u8]);
        } else if (0..65536).contains(&v) {
            self.out.push(op::BININT2);
            self.out.extend_from_slice(&(v as u16).to_le_bytes());
        } else if let Ok(v) = i32::try_from(v) {
            self.out.push(op::BININT);
            self.out.extend_from_slice(&v.to_le_bytes());
        } else {
            // cPickle's own form for an int beyond 32 bits.
            self.out.push(op::INT);
            self.out.extend_from_slice(v.to_string().as_bytes());
            self.out.push(b'\n');
        }
    }

    fn long(&mut self, v: &BigInt) {
        let b = v.to_signed_bytes_le();
        if b.len() < 256 {
            self.out.extend_from_slice(&[op::LONG1, b.len() as u8]);
        } else {
            self.out.push(op::LONG4);
            self.out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        }
        self.out.extend_from_slice(&b);
    }

    fn items(&mut self, items: &[Value], depth: usize) -> Result<(), RemoteError> {
        for v in items {
            self.value_at(v, depth + 1)?;
        }
        Ok(())
    }

    fn tuple(&mut self, items: &[Value], depth: usize) -> Result<(), RemoteError> {
        match items.len() {
            0 => self.out.push(op::EMPTY_TUPLE),
            1..=3 => {
                self.items(items, depth)?;
                self.out
                    .push([op::TUPLE1, op::TUPLE2, op::TUPLE3][items.len() - 1]);
            }
            _ => {
                self.out.push(op::MARK);
                self.items(items, depth)?;
                self.out.push(op::TUPLE);
            }
        }
        Ok(())
    }

    fn list(&mut self, items: &[Value], depth: usize) -> Result<(), RemoteError> {
        self.out.push(op::EMPTY_LIST);
        // cPickle's batches of 1000.
        for chunk in items.chunks(1000) {
            if chunk.len() == 1 {
                self.value_at(&chunk[0], depth + 1)?;
                self.out.push(op::APPEND);
            } else {
                self.out.push(op::MARK);
                self.items(chunk, depth)?;
                self.out.push(op::APPENDS);
            }
        }
        Ok(())
    }

    fn dict<'v>(
        &mut self,
        entries: impl ExactSizeIterator<Item = (Option<&'v str>, &'v Value, &'v Value)>,
        depth: usize,
    ) -> Result<(), RemoteError> {
        self.out.push(op::EMPTY_DICT);
        let n = entries.len();
        if n == 0 {
            return Ok(());
        }
        self.out.push(op::MARK);
        for (i, (key_text, k, v)) in entries.enumerate() {
            if i > 0 && i % 1000 == 0 {
                self.out.extend_from_slice(&[op::SETITEMS, op::MARK]);
            }
            match key_text {
                Some(t) => self.text(t),
                None => self.value_at(k, depth + 1)?,
            }
            self.value_at(v, depth + 1)?;
        }
        self.out.push(op::SETITEMS);
        Ok(())
    }

    /// Writes one value (see the table in the module docs).
    pub fn value(&mut self, v: &Value) -> Result<(), RemoteError> {
        self.value_at(v, 0)
    }

    fn value_at(&mut self, v: &Value, depth: usize) -> Result<(), RemoteError> {
        if depth > MAX_DEPTH {
            return Err(RemoteError::serialization(format!(
                "pickle: value nested deeper than {MAX_DEPTH} levels"
            )));
        }
        match v {
            Value::None => self.out.push(op::NONE),
            Value::Bool(true) => self.out.push(op::NEWTRUE),
            Value::Bool(false) => self.out.push(op::NEWFALSE),
            Value::Int32(i) => self.int(*i as i64),
            Value::Int(i) => self.int(*i),
            Value::BigInt(b) => self.long(b),
            Value::Float(f) => {
                self.out.push(op::BINFLOAT);
                self.out.extend_from_slice(&f.to_be_bytes());
            }
            Value::Str(s) => self.text(s),
            Value::Bytes(b) => self.bytes(b),
            Value::Tuple(items) => self.tuple(items, depth)?,
            Value::List(items) => self.list(items, depth)?,
            Value::Set(items) => {
                self.global("__builtin__", "set");
                self.list(items, depth)?;
                self.out.extend_from_slice(&[op::TUPLE1, op::REDUCE]);
            }
            Value::Map(entries) => {
                self.dict(entries.iter().map(|(k, v)| (None, k, v)), depth)?;
            }
            Value::DateTime(ms) => self.datetime(*ms)?,
            Value::Object(o) => {
                let class = Value::Str(o.class.clone());
                let fields: Vec<(Option<&str>, &Value, &Value)> =
                    std::iter::once((Some("__class__"), &Value::None, &class))
                        .chain(
                            o.fields
                                .iter()
                                .map(|(k, v)| (Some(k.as_str()), &Value::None, v)),
                        )
                        .collect();
                self.dict(fields.into_iter(), depth)?;
            }
            Value::Typed(t) => self.value_at(&t.value, depth + 1)?,
            Value::BackRef(_) => {
                return Err(RemoteError::serialization(
                    crate::serializer::common::loop_refused("pickle for Pyro 3"),
                ))
            }
            other => {
                return Err(RemoteError::serialization(format!(
                    "pickle: cannot write {other:?} for Pyro 3"
                )))
            }
        }
        Ok(())
    }

    /// `datetime.datetime` from its pickled state: year (2 bytes, big-endian), month, day,
    /// hour, minute, second, microsecond (3 bytes).
    fn datetime(&mut self, ms: i64) -> Result<(), RemoteError> {
        let secs = ms.div_euclid(1000);
        let micros = (ms.rem_euclid(1000) * 1000) as u32;
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (y, m, d) = tether_core::python::civil_from_days(days);
        if !(1..=9999).contains(&y) {
            return Err(RemoteError::serialization(
                "pickle: a date-time outside the years 1 to 9999",
            ));
        }
        let mut state = Vec::with_capacity(10);
        state.extend_from_slice(&(y as u16).to_be_bytes());
        state.extend_from_slice(&[
            m as u8,
            d as u8,
            (rem / 3600) as u8,
            (rem / 60 % 60) as u8,
            (rem % 60) as u8,
        ]);
        state.extend_from_slice(&micros.to_be_bytes()[1..]);
        self.global("datetime", "datetime");
        self.bytes(&state);
        self.out.extend_from_slice(&[op::TUPLE1, op::REDUCE]);
        Ok(())
    }
}

/// A whole pickle of one value: `PROTO 2`, the value, `STOP`.
pub fn write(v: &Value, out: &mut Vec<u8>) -> Result<(), RemoteError> {
    let mut w = Writer::new(out);
    w.proto();
    w.value(v)?;
    w.stop();
    Ok(())
}

/// A whole pickle of a Pyro 3 request, `(object, method, flags, (args, kwargs))`, written from
/// the call's parts: what [`write()`] writes for that tuple, without building it (and copying
/// the arguments into it) on every call.
pub fn write_request(
    object: &str,
    method: &str,
    flags: i64,
    args: &[Value],
    kwargs: &[(String, Value)],
    out: &mut Vec<u8>,
) -> Result<(), RemoteError> {
    let mut w = Writer::new(out);
    w.proto();
    w.out.push(op::MARK);
    w.text(object);
    w.text(method);
    w.int(flags);
    // The depths are those of the tuple's parts: the (args, kwargs) pair is at 1.
    w.tuple(args, 2)?;
    let unused_key = Value::None;
    w.dict(
        kwargs
            .iter()
            .map(|(k, v)| (Some(k.as_str()), &unused_key, v)),
        2,
    )?;
    w.out.push(op::TUPLE2);
    w.out.push(op::TUPLE);
    w.stop();
    Ok(())
}

/// A whole pickle of `module.name(*args)` (an exception, say), the global a constant.
pub fn write_global_call(
    module: &'static str,
    name: &'static str,
    args: &[Value],
    out: &mut Vec<u8>,
) -> Result<(), RemoteError> {
    let mut w = Writer::new(out);
    w.proto();
    w.global(module, name);
    w.value(&Value::Tuple(args.to_vec()))?;
    w.op(op::REDUCE);
    w.stop();
    Ok(())
}
