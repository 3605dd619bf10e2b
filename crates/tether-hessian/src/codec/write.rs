//! Encoding values as Hessian 2.0 (the compact forms Caucho's writer picks) and 1.0.

use super::strings::{bmp_units, encode_units, split_at_units};
use tether_core::{RemoteError, Value};

/// Most UTF-16 units (or bytes, for binary) in one chunk, as Caucho writes them.
const CHUNK: usize = 0x8000;

/// Writes the values of one message: its class-definition and type tables (Hessian 2) and the
/// numbering of its containers, which a reference names (both versions).
#[derive(Default)]
pub(crate) struct Writer {
    classes: Vec<(String, Vec<String>)>,
    types: Vec<String>,
    /// Lists, maps and objects written so far: the next one's number in the ref table.
    containers: usize,
    /// The numbers of the containers being written, outermost first.
    open: Vec<usize>,
}

/// Encodes `v` as one Hessian 2 value.
pub fn encode_h2(v: &Value, out: &mut Vec<u8>) -> Result<(), RemoteError> {
    Writer::default().h2(v, out)
}

/// Encodes `v` as one Hessian 1 value.
pub fn encode_h1(v: &Value, out: &mut Vec<u8>) -> Result<(), RemoteError> {
    Writer::default().h1(v, out)
}

fn unsupported(what: &str) -> RemoteError {
    RemoteError::serialization(format!("Hessian cannot carry {what}"))
}

impl Writer {
    /// Starts a container: numbers it as the reader will.
    fn open(&mut self) {
        self.open.push(self.containers);
        self.containers += 1;
    }

    fn close(&mut self) {
        self.open.pop();
    }

    /// The ref-table number of the container `up` levels above the value being written.
    fn back_ref(&self, up: u32) -> Result<i32, RemoteError> {
        let n = usize::try_from(up)
            .ok()
            .and_then(|up| self.open.len().checked_sub(up + 1))
            .map(|i| self.open[i])
            .ok_or_else(|| {
                RemoteError::serialization(format!(
                    "a back reference {up} levels up, outside the value being written"
                ))
            })?;
        len_i32(n)
    }

    pub(crate) fn h2(&mut self, v: &Value, out: &mut Vec<u8>) -> Result<(), RemoteError> {
        let container = matches!(
            v,
            Value::List(_)
                | Value::Tuple(_)
                | Value::Set(_)
                | Value::Map(_)
                | Value::Typed(_)
                | Value::Object(_)
        );
        if container {
            self.open();
        }
        let r = self.h2_value(v, out);
        if container {
            self.close();
        }
        r
    }

    fn h2_value(&mut self, v: &Value, out: &mut Vec<u8>) -> Result<(), RemoteError> {
        match v {
            Value::None => out.push(b'N'),
            Value::Bool(b) => out.push(if *b { b'T' } else { b'F' }),
            Value::Int32(i) => int(*i, out),
            Value::Int(i) => long(*i, out),
            Value::BigInt(b) => {
                let i = i64::try_from(b)
                    .map_err(|_| unsupported(&format!("the integer {b} (more than 64 bits)")))?;
                long(i, out)
            }
            Value::Float(d) => double(*d, out),
            Value::BackRef(up) => {
                out.push(b'Q');
                int(self.back_ref(*up)?, out);
            }
            Value::DateTime(ms) => {
                if ms % 60_000 == 0 {
                    if let Ok(min) = i32::try_from(ms / 60_000) {
                        out.push(b'K');
                        out.extend_from_slice(&min.to_be_bytes());
                        return Ok(());
                    }
                }
                out.push(b'J');
                out.extend_from_slice(&ms.to_be_bytes());
            }
            Value::Str(s) => string(s, out),
            Value::Bytes(b) => binary(b, out),
            Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
                if items.len() <= 7 {
                    out.push(0x78 + items.len() as u8);
                } else {
                    out.push(b'X');
                    int(len_i32(items.len())?, out);
                }
                for i in items {
                    self.h2(i, out)?;
                }
            }
            Value::Map(entries) => {
                out.push(b'H');
                self.entries(entries, out)?;
            }
            Value::Typed(t) => match &t.value {
                Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
                    if items.len() <= 7 {
                        out.push(0x70 + items.len() as u8);
                        self.type_name(&t.class, out);
                    } else {
                        out.push(b'V');
                        self.type_name(&t.class, out);
                        int(len_i32(items.len())?, out);
                    }
                    for i in items {
                        self.h2(i, out)?;
                    }
                }
                Value::Map(entries) => {
                    out.push(b'M');
                    self.type_name(&t.class, out);
                    self.entries(entries, out)?;
                }
                _ => {
                    return Err(unsupported(
                        "a typed value that is neither a list nor a map",
                    ))
                }
            },
            Value::Object(o) => {
                let names: Vec<String> = o.fields.iter().map(|(n, _)| n.clone()).collect();
                let idx = match self
                    .classes
                    .iter()
                    .position(|(c, f)| *c == o.class && *f == names)
                {
                    Some(i) => i,
                    None => {
                        out.push(b'C');
                        string(&o.class, out);
                        int(len_i32(names.len())?, out);
                        for n in &names {
                            string(n, out);
                        }
                        self.classes.push((o.class.clone(), names));
                        self.classes.len() - 1
                    }
                };
                if idx < 16 {
                    out.push(0x60 + idx as u8);
                } else {
                    out.push(b'O');
                    int(len_i32(idx)?, out);
                }
                for (_, v) in &o.fields {
                    self.h2(v, out)?;
                }
            }
            _ => return Err(unsupported(v.type_name())),
        }
        Ok(())
    }

    fn entries(
        &mut self,
        entries: &[(Value, Value)],
        out: &mut Vec<u8>,
    ) -> Result<(), RemoteError> {
        for (k, v) in entries {
            self.h2(k, out)?;
            self.h2(v, out)?;
        }
        out.push(b'Z');
        Ok(())
    }

    /// A type name: the string the first time in this message, its index after.
    fn type_name(&mut self, t: &str, out: &mut Vec<u8>) {
        match self.types.iter().position(|x| x == t) {
            Some(i) => int(i as i32, out),
            None => {
                string(t, out);
                self.types.push(t.to_string());
            }
        }
    }
}

fn len_i32(n: usize) -> Result<i32, RemoteError> {
    i32::try_from(n).map_err(|_| unsupported("more than 2^31 elements"))
}

/// A Hessian 2 int in its shortest form.
pub(crate) fn int(i: i32, out: &mut Vec<u8>) {
    if (-16..=47).contains(&i) {
        out.push((i + 0x90) as u8);
    } else if (-2048..=2047).contains(&i) {
        out.push((0xc8 + (i >> 8)) as u8);
        out.push(i as u8);
    } else if (-262_144..=262_143).contains(&i) {
        out.push((0xd4 + (i >> 16)) as u8);
        out.push((i >> 8) as u8);
        out.push(i as u8);
    } else {
        out.push(b'I');
        out.extend_from_slice(&i.to_be_bytes());
    }
}

fn long(i: i64, out: &mut Vec<u8>) {
    if (-8..=15).contains(&i) {
        out.push((i + 0xe0) as u8);
    } else if (-2048..=2047).contains(&i) {
        out.push((0xf8 + (i >> 8)) as u8);
        out.push(i as u8);
    } else if (-262_144..=262_143).contains(&i) {
        out.push((0x3c + (i >> 16)) as u8);
        out.push((i >> 8) as u8);
        out.push(i as u8);
    } else if let Ok(small) = i32::try_from(i) {
        out.push(b'Y');
        out.extend_from_slice(&small.to_be_bytes());
    } else {
        out.push(b'L');
        out.extend_from_slice(&i.to_be_bytes());
    }
}

fn double(d: f64, out: &mut Vec<u8>) {
    // -0.0 in full: Caucho's compact zero would lose its sign.
    if d == 0.0 && d.is_sign_positive() {
        out.push(0x5b);
        return;
    }
    if d == 1.0 {
        out.push(0x5c);
        return;
    }
    if d.fract() == 0.0 && d != 0.0 {
        if (-128.0..=127.0).contains(&d) {
            out.push(0x5d);
            out.push(d as i8 as u8);
            return;
        }
        if (-32768.0..=32767.0).contains(&d) {
            out.push(0x5e);
            out.extend_from_slice(&(d as i16).to_be_bytes());
            return;
        }
    }
    // "double mill": an int32 of the value in thousandths, when exact (Caucho's test).
    if d.is_finite() && d != 0.0 {
        let m = d * 1000.0;
        if m.fract() == 0.0 && (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&m) {
            let mills = m as i32;
            if 0.001 * f64::from(mills) == d {
                out.push(0x5f);
                out.extend_from_slice(&mills.to_be_bytes());
                return;
            }
        }
    }
    out.push(b'D');
    out.extend_from_slice(&d.to_bits().to_be_bytes());
}

/// A Hessian 2 string: compact up to 1023 units, else `R` chunks of 32768 units and a final `S`.
pub(crate) fn string(s: &str, out: &mut Vec<u8>) {
    // The common string: one chunk (a chunk's units are never more than its bytes) and no
    // character beyond the BMP, so its UTF-8 is the data as it is, written straight to `out`.
    if s.len() <= CHUNK {
        if let Some(units) = bmp_units(s) {
            final_string_header(units, out);
            out.extend_from_slice(s.as_bytes());
            return;
        }
    }
    string_chunked(s, out);
}

/// [`string`] in chunks of at most [`CHUNK`] units, none split inside a surrogate pair.
fn string_chunked(s: &str, out: &mut Vec<u8>) {
    let mut rest = s;
    loop {
        let cut = split_at_units(rest, CHUNK);
        let (chunk, tail) = rest.split_at(cut);
        let mut data = Vec::with_capacity(chunk.len() + 8);
        let units = encode_units(chunk, &mut data);
        if !tail.is_empty() {
            out.push(b'R');
            out.extend_from_slice(&(units as u16).to_be_bytes());
        } else {
            final_string_header(units, out);
        }
        out.extend_from_slice(&data);
        if tail.is_empty() {
            return;
        }
        rest = tail;
    }
}

/// The header of a string's last (or only) chunk of `units` UTF-16 units (at most [`CHUNK`]).
fn final_string_header(units: usize, out: &mut Vec<u8>) {
    if units <= 31 {
        out.push(units as u8);
    } else if units <= 1023 {
        out.push(0x30 + (units >> 8) as u8);
        out.push(units as u8);
    } else {
        out.push(b'S');
        out.extend_from_slice(&(units as u16).to_be_bytes());
    }
}

fn binary(b: &[u8], out: &mut Vec<u8>) {
    let mut rest = b;
    while rest.len() > CHUNK {
        out.push(b'A');
        out.extend_from_slice(&(CHUNK as u16).to_be_bytes());
        out.extend_from_slice(&rest[..CHUNK]);
        rest = &rest[CHUNK..];
    }
    let n = rest.len();
    if n <= 15 {
        out.push(0x20 + n as u8);
    } else if n <= 1023 {
        out.push(0x34 + (n >> 8) as u8);
        out.push(n as u8);
    } else {
        out.push(b'B');
        out.extend_from_slice(&(n as u16).to_be_bytes());
    }
    out.extend_from_slice(rest);
}

/// A Hessian 1 string (`s` chunks of 32768 units, final `S`).
pub(crate) fn h1_string(s: &str, out: &mut Vec<u8>) {
    let mut rest = s;
    loop {
        let cut = split_at_units(rest, CHUNK);
        let (chunk, tail) = rest.split_at(cut);
        let mut data = Vec::with_capacity(chunk.len());
        let units = encode_units(chunk, &mut data);
        out.push(if tail.is_empty() { b'S' } else { b's' });
        out.extend_from_slice(&(units as u16).to_be_bytes());
        out.extend_from_slice(&data);
        if tail.is_empty() {
            return;
        }
        rest = tail;
    }
}

fn h1_type(t: &str, out: &mut Vec<u8>) {
    let mut data = Vec::new();
    let units = encode_units(t, &mut data);
    out.push(b't');
    out.extend_from_slice(&(units.min(u16::MAX as usize) as u16).to_be_bytes());
    out.extend_from_slice(&data);
}

impl Writer {
    pub(crate) fn h1(&mut self, v: &Value, out: &mut Vec<u8>) -> Result<(), RemoteError> {
        match v {
            Value::None => out.push(b'N'),
            Value::Bool(b) => out.push(if *b { b'T' } else { b'F' }),
            Value::Int32(i) => {
                out.push(b'I');
                out.extend_from_slice(&i.to_be_bytes());
            }
            Value::Int(i) => {
                out.push(b'L');
                out.extend_from_slice(&i.to_be_bytes());
            }
            Value::BigInt(b) => {
                let i = i64::try_from(b)
                    .map_err(|_| unsupported(&format!("the integer {b} (more than 64 bits)")))?;
                out.push(b'L');
                out.extend_from_slice(&i.to_be_bytes());
            }
            Value::Float(d) => {
                out.push(b'D');
                out.extend_from_slice(&d.to_bits().to_be_bytes());
            }
            Value::DateTime(ms) => {
                out.push(b'd');
                out.extend_from_slice(&ms.to_be_bytes());
            }
            Value::Str(s) => h1_string(s, out),
            Value::Bytes(b) => {
                let mut rest = &b[..];
                while rest.len() > CHUNK {
                    out.push(b'b');
                    out.extend_from_slice(&(CHUNK as u16).to_be_bytes());
                    out.extend_from_slice(&rest[..CHUNK]);
                    rest = &rest[CHUNK..];
                }
                out.push(b'B');
                out.extend_from_slice(&(rest.len() as u16).to_be_bytes());
                out.extend_from_slice(rest);
            }
            Value::BackRef(up) => {
                out.push(b'R');
                out.extend_from_slice(&self.back_ref(*up)?.to_be_bytes());
            }
            Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
                self.h1_list(None, items, out)?
            }
            Value::Map(entries) => {
                self.h1_map(None, entries.iter().map(|(k, v)| (k.clone(), v)), out)?
            }
            Value::Typed(t) => match &t.value {
                Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
                    self.h1_list(Some(&t.class), items, out)?
                }
                Value::Map(entries) => self.h1_map(
                    Some(&t.class),
                    entries.iter().map(|(k, v)| (k.clone(), v)),
                    out,
                )?,
                _ => {
                    return Err(unsupported(
                        "a typed value that is neither a list nor a map",
                    ))
                }
            },
            // An object in Hessian 1 is a typed map of its fields.
            Value::Object(o) => self.h1_map(
                Some(&o.class),
                o.fields.iter().map(|(k, v)| (Value::str(k.as_str()), v)),
                out,
            )?,
            _ => return Err(unsupported(v.type_name())),
        }
        Ok(())
    }

    fn h1_list(
        &mut self,
        class: Option<&str>,
        items: &[Value],
        out: &mut Vec<u8>,
    ) -> Result<(), RemoteError> {
        self.open();
        out.push(b'V');
        if let Some(c) = class {
            h1_type(c, out);
        }
        out.push(b'l');
        out.extend_from_slice(&len_i32(items.len())?.to_be_bytes());
        for i in items {
            self.h1(i, out)?;
        }
        out.push(b'z');
        self.close();
        Ok(())
    }

    fn h1_map<'v>(
        &mut self,
        class: Option<&str>,
        entries: impl Iterator<Item = (Value, &'v Value)>,
        out: &mut Vec<u8>,
    ) -> Result<(), RemoteError> {
        self.open();
        out.push(b'M');
        if let Some(c) = class {
            h1_type(c, out);
        }
        for (k, v) in entries {
            self.h1(&k, out)?;
            self.h1(v, out)?;
        }
        out.push(b'z');
        self.close();
        Ok(())
    }
}

#[cfg(test)]
mod string_tests {
    use super::*;

    /// A string written at once is written as the chunked path writes it, at every length
    /// where the header changes form and past the chunk size.
    #[test]
    fn one_chunk_strings_are_written_as_the_chunked_path_writes_them() {
        let mut texts = Vec::new();
        for n in [
            0,
            1,
            31,
            32,
            1023,
            1024,
            CHUNK - 1,
            CHUNK,
            CHUNK + 1,
            3 * CHUNK,
        ] {
            texts.push("a".repeat(n));
            texts.push("é".repeat(n / 2) + &"€".repeat(n / 4));
        }
        texts.push("x😀y".to_string());
        for t in &texts {
            let (mut once, mut chunked) = (Vec::new(), Vec::new());
            string(t, &mut once);
            string_chunked(t, &mut chunked);
            assert_eq!(once, chunked, "a string of {} bytes", t.len());
        }
    }
}
