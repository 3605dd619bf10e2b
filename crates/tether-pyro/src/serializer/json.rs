//! Pyro5's json dialect (serializer id 3 in Pyro5, 2 in Pyro4).
//!
//! Pyro's `JsonSerializer` is Python's `json.dumps(data, ensure_ascii=False, default=...)`
//! encoded as UTF-8, read back with `json.loads`. So the writer emits exactly what Python's
//! encoder would: `", "` and `": "` separators, non-ASCII text raw, only `"` `\` and control
//! characters escaped (`\n \r \t \b \f`, the rest as lowercase `\u00XX`), floats as Python's
//! `repr`, and the non-standard `NaN`, `Infinity`, `-Infinity` that Python reads and writes.
//!
//! | [`Value`] | written as | read back as |
//! |---|---|---|
//! | `None` / `Bool` | `null` / `true`, `false` | same |
//! | `Int32`, `Int`, `BigInt` | decimal integer | `Int` if it fits in i64, else `BigInt` (at most 4300 digits, Python's limit) |
//! | `Float` | Python repr (`1.0`, `1e-05`, `-0.0`), `NaN`, `Infinity`, `-Infinity` | `Float` (`1e400` overflows to infinity, as in Python) |
//! | `Str` | `"..."` (raw UTF-8, escapes as above) | `Str`; `\uXXXX` escapes incl. surrogate pairs (`\ud83d\ude00`); a lone surrogate is an error (Rust strings cannot hold one) |
//! | `Bytes` | **error**: Pyro5's `JsonSerializer` cannot serialize bytes either (its `default` hook falls through to `class_to_dict`, which raises SerializeError) | – |
//! | `List`, `Tuple`, `Set` | array `[1, 2]` (Pyro turns sets into tuples, json tuples into arrays) | `List` |
//! | `Map` | object `{"k": v}`; keys as Python's json writes them: str as is, ints in decimal, floats by repr (`"1.5"`, `"Infinity"`, `"NaN"`), bools `"true"`/`"false"`, None `"null"`; any other key type is an error (Python raises TypeError) | `Map` with `Str` keys; a repeated key keeps its first position and its last value, like a Python dict |
//! | `DateTime` | ISO string `"2024-01-02T03:04:05.600000"` (naive, UTC), as Pyro's `default` writes `isoformat()` | `Str` |
//! | `Object` | object with `"__class__"` first, then the fields | `Map` (no class name ever picks a Rust type) |
//! | `Typed` | its inner list or map | `List` / `Map` |
//!
//! The reader follows Python's `json.loads`: whitespace is space, tab, CR and LF; numbers are
//! `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`; raw control characters inside strings, a BOM,
//! invalid UTF-8, trailing commas and trailing data are errors. Depth and item count follow
//! [`Limits`].

use crate::serializer::common::{
    check_encode_depth, error_at, iso_datetime, push_python_float, Budget, MAX_INT_DIGITS,
};
use crate::serializer::Limits;
use num_bigint::BigInt;
use std::collections::HashMap;
use tether_core::{RemoteError, Value};

const FORMAT: &str = "json";

/// Appends the json encoding of `value` to `out`.
pub fn encode(value: &Value, out: &mut Vec<u8>) -> Result<(), RemoteError> {
    write_value(value, out, 0)
}

fn write_value(value: &Value, out: &mut Vec<u8>, depth: usize) -> Result<(), RemoteError> {
    check_encode_depth(FORMAT, depth)?;
    match value {
        Value::None => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Int32(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::BigInt(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Float(x) => write_float(*x, out),
        Value::Str(s) => write_str(s, out),
        Value::Bytes(_) => {
            return Err(RemoteError::serialization(
                "json: bytes cannot be serialized (Pyro5's json serializer does not support them; use serpent or msgpack)",
            ))
        }
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                write_value(item, out, depth + 1)?;
            }
            out.push(b']');
        }
        Value::Map(entries) => {
            out.push(b'{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                write_key(k, out)?;
                out.extend_from_slice(b": ");
                write_value(v, out, depth + 1)?;
            }
            out.push(b'}');
        }
        Value::DateTime(ms) => write_str(&iso_datetime(*ms), out),
        Value::Object(obj) => {
            out.extend_from_slice(b"{\"__class__\": ");
            write_str(&obj.class, out);
            for (k, v) in &obj.fields {
                out.extend_from_slice(b", ");
                write_str(k, out);
                out.extend_from_slice(b": ");
                write_value(v, out, depth + 1)?;
            }
            out.push(b'}');
        }
        Value::Typed(t) => write_value(&t.value, out, depth)?,
        other => return Err(crate::serializer::common::unsupported(FORMAT, other)),
    }
    Ok(())
}

fn write_float(x: f64, out: &mut Vec<u8>) {
    if x.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if x.is_infinite() {
        out.extend_from_slice(if x > 0.0 { b"Infinity" } else { b"-Infinity" });
    } else {
        push_python_float(x, out);
    }
}

/// Writes a map key the way Python's json encoder coerces keys to strings.
fn write_key(key: &Value, out: &mut Vec<u8>) -> Result<(), RemoteError> {
    match key {
        Value::Str(s) => write_str(s, out),
        Value::Int32(_) | Value::Int(_) | Value::BigInt(_) | Value::Float(_) | Value::Bool(_) => {
            out.push(b'"');
            match key {
                Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
                _ => write_value(key, out, 0)?,
            }
            out.push(b'"');
        }
        Value::None => out.extend_from_slice(b"\"null\""),
        other => {
            return Err(RemoteError::serialization(format!(
                "json: keys must be str, int, float, bool or None, not {}",
                other.type_name()
            )))
        }
    }
    Ok(())
}

fn write_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Decodes one json value spanning all of `bytes`.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Value, RemoteError> {
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(error_at(FORMAT, e.valid_up_to(), "invalid UTF-8"));
    }
    if bytes.starts_with("\u{feff}".as_bytes()) {
        return Err(error_at(FORMAT, 0, "unexpected UTF-8 BOM"));
    }
    let mut p = Parser {
        s: bytes,
        pos: 0,
        budget: Budget::new(FORMAT, limits),
    };
    p.skip_ws();
    let v = p.value()?;
    p.skip_ws();
    if p.pos != bytes.len() {
        return Err(p.err("extra data after the value"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    budget: Budget,
}

impl Parser<'_> {
    #[cold]
    fn err(&self, what: impl std::fmt::Display) -> RemoteError {
        error_at(FORMAT, self.pos, what)
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn eat_word(&mut self, word: &[u8]) -> bool {
        if self.s[self.pos..].starts_with(word) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<Value, RemoteError> {
        match self.peek() {
            None => Err(self.err("expecting a value, found the end")),
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b'-' | b'0'..=b'9') => {
                if self.s[self.pos..].starts_with(b"-Infinity") {
                    self.pos += 9;
                    return Ok(Value::Float(f64::NEG_INFINITY));
                }
                self.number()
            }
            Some(_) => {
                for (word, v) in [
                    (&b"null"[..], Value::None),
                    (b"true", Value::Bool(true)),
                    (b"false", Value::Bool(false)),
                    (b"NaN", Value::Float(f64::NAN)),
                    (b"Infinity", Value::Float(f64::INFINITY)),
                ] {
                    if self.eat_word(word) {
                        return Ok(v);
                    }
                }
                Err(self.err("expecting a value"))
            }
        }
    }

    fn number(&mut self) -> Result<Value, RemoteError> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let s = p.pos;
            while let Some(b'0'..=b'9') = p.peek() {
                p.pos += 1;
            }
            p.pos - s
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.err("expecting a value")),
        }
        let int_end = self.pos;
        let mut is_float = false;
        // Python's regex only takes the fraction or exponent when digits follow; otherwise the
        // number ends there and the leftover character is reported as extra data.
        if self.peek() == Some(b'.') && matches!(self.s.get(self.pos + 1), Some(b'0'..=b'9')) {
            self.pos += 1;
            digits(self);
            is_float = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            let save = self.pos;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if digits(self) == 0 {
                self.pos = save;
            } else {
                is_float = true;
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.pos])
            .map_err(|_| error_at(FORMAT, start, "bad number"))?;
        if is_float {
            let x: f64 = text
                .parse()
                .map_err(|_| error_at(FORMAT, start, "bad number"))?;
            return Ok(Value::Float(x));
        }
        let n_digits = int_end - start - usize::from(text.starts_with('-'));
        if n_digits <= 18 {
            let i: i64 = text
                .parse()
                .map_err(|_| error_at(FORMAT, start, "bad number"))?;
            return Ok(Value::Int(i));
        }
        if n_digits > MAX_INT_DIGITS {
            return Err(error_at(
                FORMAT,
                start,
                format_args!("integer of more than {MAX_INT_DIGITS} digits"),
            ));
        }
        let b: BigInt = text
            .parse()
            .map_err(|_| error_at(FORMAT, start, "bad number"))?;
        Ok(Value::from_bigint(b))
    }

    fn hex4(&mut self) -> Result<u32, RemoteError> {
        let Some(h) = self.s.get(self.pos..self.pos + 4) else {
            return Err(self.err("truncated \\u escape"));
        };
        let mut v = 0u32;
        for &c in h {
            let d = (c as char)
                .to_digit(16)
                .ok_or_else(|| self.err("invalid \\u escape"))?;
            v = v * 16 + d;
        }
        self.pos += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, RemoteError> {
        let open = self.pos;
        self.pos += 1; // the opening quote
        let mut out = Vec::new();
        loop {
            let run = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.extend_from_slice(&self.s[run..self.pos]);
            match self.peek() {
                None => return Err(error_at(FORMAT, open, "unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let Some(e) = self.peek() else {
                        return Err(error_at(FORMAT, open, "unterminated string"));
                    };
                    self.pos += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => {
                            self.pos -= 2;
                            return Err(self.err("invalid escape"));
                        }
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                Some(_) => return Err(self.err("invalid control character in string")),
            }
        }
        // The input was checked to be UTF-8 and escapes add whole characters.
        String::from_utf8(out).map_err(|_| error_at(FORMAT, open, "invalid UTF-8 in string"))
    }

    /// After `\u`: one code point, joining a surrogate pair when a low surrogate escape follows.
    fn unicode_escape(&mut self) -> Result<char, RemoteError> {
        let at = self.pos - 2;
        let hi = self.hex4()?;
        let cp = if (0xd800..0xdc00).contains(&hi) {
            if self.s[self.pos..].starts_with(b"\\u") {
                let save = self.pos;
                self.pos += 2;
                let lo = self.hex4()?;
                if (0xdc00..0xe000).contains(&lo) {
                    0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                } else {
                    self.pos = save;
                    hi
                }
            } else {
                hi
            }
        } else {
            hi
        };
        char::from_u32(cp).ok_or_else(|| {
            error_at(
                FORMAT,
                at,
                "lone surrogate escape (not representable in a Rust string)",
            )
        })
    }

    fn array(&mut self) -> Result<Value, RemoteError> {
        self.budget.enter(self.pos)?;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.budget.leave();
            return Ok(Value::List(items));
        }
        loop {
            self.skip_ws();
            self.budget.items(1, self.pos)?;
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                None => return Err(self.err("unterminated array")),
                Some(_) => return Err(self.err("expecting ',' delimiter")),
            }
        }
        self.budget.leave();
        Ok(Value::List(items))
    }

    fn object(&mut self) -> Result<Value, RemoteError> {
        self.budget.enter(self.pos)?;
        self.pos += 1;
        let mut entries: Vec<(Value, Value)> = Vec::new();
        // A repeated key replaces the earlier value, as in a Python dict: small objects scan,
        // large ones index their keys so a hostile payload cannot make this quadratic.
        let mut index: HashMap<String, usize> = HashMap::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.budget.leave();
            return Ok(Value::Map(entries));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expecting a property name enclosed in double quotes"));
            }
            self.budget.items(1, self.pos)?;
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expecting ':' delimiter"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value()?;
            let found = if index.is_empty() && entries.len() < 16 {
                entries
                    .iter()
                    .position(|(k, _)| k.as_str() == Some(key.as_str()))
            } else {
                if index.is_empty() {
                    for (i, (k, _)) in entries.iter().enumerate() {
                        index.insert(k.as_str().unwrap_or_default().to_owned(), i);
                    }
                }
                index.get(&key).copied()
            };
            match found {
                Some(i) => entries[i].1 = value,
                None => {
                    if !index.is_empty() {
                        index.insert(key.clone(), entries.len());
                    }
                    entries.push((Value::Str(key), value));
                }
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                None => return Err(self.err("unterminated object")),
                Some(_) => return Err(self.err("expecting ',' delimiter")),
            }
        }
        self.budget.leave();
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: &Value) -> String {
        let mut out = Vec::new();
        encode(v, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn dec(s: &str) -> Result<Value, RemoteError> {
        decode(s.as_bytes(), &Limits::default())
    }

    #[test]
    fn writes_like_python_json_dumps() {
        let v = Value::Map(vec![
            (Value::Int(1), Value::Int(4)),
            (Value::Float(1.5), Value::Int(3)),
            (Value::None, Value::Int(5)),
            (Value::Float(f64::INFINITY), Value::Int(6)),
            (
                Value::str("a"),
                Value::List(vec![
                    Value::Int(1),
                    Value::Tuple(vec![Value::Int(2), Value::Int(3)]),
                    Value::Set(vec![Value::Int(4)]),
                ]),
            ),
            (
                Value::str("u"),
                Value::str("é\u{2028}\u{7f}\u{1}\"\\\n\u{8}\u{c}😀"),
            ),
        ]);
        assert_eq!(
            enc(&v),
            "{\"1\": 4, \"1.5\": 3, \"null\": 5, \"Infinity\": 6, \"a\": [1, [2, 3], [4]], \"u\": \"é\u{2028}\u{7f}\\u0001\\\"\\\\\\n\\b\\f😀\"}"
        );
    }

    #[test]
    fn reads_python_quirks() {
        assert_eq!(dec("-Infinity").unwrap(), Value::Float(f64::NEG_INFINITY));
        assert_eq!(dec("1e400").unwrap(), Value::Float(f64::INFINITY));
        assert_eq!(dec("-0").unwrap(), Value::Int(0));
        assert_eq!(dec("-0.0").unwrap(), Value::Float(-0.0));
        assert_eq!(dec(" 1 ").unwrap(), Value::Int(1));
        assert_eq!(dec("\"\\ud83d\\ude00\"").unwrap(), Value::str("😀"));
        assert_eq!(
            dec("{\"a\":1,\"b\":2,\"a\":3}").unwrap(),
            Value::Map(vec![
                (Value::str("a"), Value::Int(3)),
                (Value::str("b"), Value::Int(2))
            ])
        );
        let many: Vec<String> = (0..40).map(|i| format!("\"k{}\": {i}", i % 20)).collect();
        let v = dec(&format!("{{{}}}", many.join(", "))).unwrap();
        let m = v.as_map().unwrap();
        assert_eq!(m.len(), 20);
        assert_eq!(m[3], (Value::str("k3"), Value::Int(23)));
        for bad in [
            "01",
            "[1,]",
            "\u{feff}1",
            "\"\u{1}\"",
            "- 1",
            "1.",
            ".5",
            "true false",
            "\"\\ud800\"",
            "{1:2}",
            "",
            "[",
            "\"abc",
            "nul",
            "\"\\x41\"",
            "1\0",
        ] {
            assert!(dec(bad).is_err(), "{bad:?} should fail");
        }
    }
}
