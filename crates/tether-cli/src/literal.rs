//! Arguments as typed for `tether call` and `tether bench`: Python literals (what
//! `ast.literal_eval` reads), plus the typed values each wire has and a Python literal cannot
//! say. Strings, bytes and numbers are read by the registered wire's literal reader (serpent's
//! parser, with its limits); this module reads the structure around them and the constructors:
//!
//! | written | value | for |
//! |---|---|---|
//! | `int32(5)` | a 32-bit int | Hessian `int`, XML-RPC `<i4>` |
//! | `int64(5)` | a 64-bit int | Hessian `long`, XML-RPC `<i8>` |
//! | `datetime(2024, 1, 2, 3, 4, 5[, µs])`, also `datetime.datetime(...)` | a date-time (UTC) | Hessian date, XML-RPC `dateTime.iso8601`, pickle and msgpack datetimes |
//! | `Binary(b'..')`, also `xmlrpc.client.Binary(...)` | bytes | XML-RPC `<base64>` (a plain `b'..'` is the same) |
//! | `typed('[int', [1, 2])` | a typed list or map | Hessian typed lists and maps |
//! | `object('com.example.Person', name='Ann')`, also `com.example.Person(name='Ann')` | a typed object | Hessian objects |
//! | `set([1, 2])`, `{1, 2}`, `frozenset(...)` | a set | Pyro |
//! | `(1, 2)`, `tuple([1, 2])` | a tuple | Pyro |
//!
//! JSON reads too (`true`, `false`, `null`; its strings and numbers are Python's).
//!
//! What `tether call` prints for a Hessian or pickle date-time (`datetime.datetime(...)`) or a
//! Hessian object (`com.example.Person(name='Ann')`) reads back as the same value.
//!
//! A plain integer is sent as the target wire's Python client sends it (python-hessian: an
//! `int` when it fits 32 bits, else a `long`): [`Ints`].

use tether::context::remoting::ProtocolSet;
use tether_core::Value;

/// How plain integer literals are typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ints {
    /// 64-bit (`Value::Int`): Pyro, XML-RPC (which writes `<int>` while it fits).
    Wide,
    /// 32-bit when it fits (`Value::Int32`), else 64-bit: what python-hessian sends.
    Narrow,
}

/// Deeper than this is refused (a command line is not a place for deeper values).
const MAX_DEPTH: usize = 100;

/// Reads one argument.
pub(crate) fn parse(protocols: &ProtocolSet, text: &str, ints: Ints) -> Result<Value, String> {
    let mut p = Parser {
        s: text,
        pos: 0,
        protocols,
        ints,
    };
    let v = p.value(0)?;
    p.space();
    if p.pos != text.len() {
        return Err(format!(
            "unexpected text at {}: {:?}",
            p.pos,
            &text[p.pos..]
        ));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    protocols: &'a ProtocolSet,
    ints: Ints,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn space(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.s.len() - trimmed.len();
    }

    fn eat(&mut self, c: char) -> bool {
        self.space();
        if self.rest().starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected {c:?} at {}", self.pos))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH}"));
        }
        self.space();
        let c = self.rest().chars().next().ok_or("a value is missing")?;
        match c {
            '[' => {
                self.pos += 1;
                Ok(Value::List(self.items(']', depth)?))
            }
            '(' => {
                self.pos += 1;
                let (items, trailing_comma) = self.items_with_comma(')', depth)?;
                Ok(if items.len() == 1 && !trailing_comma {
                    items.into_iter().next().unwrap_or(Value::None)
                } else {
                    Value::Tuple(items)
                })
            }
            '{' => {
                self.pos += 1;
                self.dict_or_set(depth)
            }
            c if c == '_' || c.is_alphabetic() => {
                let name = self.name();
                if self.starts_string(&name) {
                    // a prefixed string: b'..', r"..", rb'..'
                    self.pos -= name.len();
                    return self.atom();
                }
                match name.as_str() {
                    "True" | "true" => return Ok(Value::Bool(true)),
                    "False" | "false" => return Ok(Value::Bool(false)),
                    "None" | "null" => return Ok(Value::None),
                    _ => {}
                }
                if !self.eat('(') {
                    return Err(format!(
                        "{name:?} is not a value (quote strings: \"'{name}'\")"
                    ));
                }
                self.call(&name, depth)
            }
            _ => self.atom(),
        }
    }

    /// Whether `name`, just read, is a string prefix followed by a quote.
    fn starts_string(&self, name: &str) -> bool {
        name.len() <= 2
            && name.chars().all(|c| "bBrRuUfF".contains(c))
            && (self.rest().starts_with('\'') || self.rest().starts_with('"'))
    }

    fn name(&mut self) -> String {
        let start = self.pos;
        let len = self
            .rest()
            .find(|c: char| !(c == '_' || c == '.' || c.is_alphanumeric()))
            .unwrap_or(self.rest().len());
        self.pos += len;
        self.s[start..self.pos].to_string()
    }

    /// A string, bytes or number: its extent found here, its reading left to the wire's reader.
    fn atom(&mut self) -> Result<Value, String> {
        let start = self.pos;
        let rest = self.rest();
        let prefix = rest
            .find(['\'', '"'])
            .filter(|i| *i <= 2 && rest[..*i].chars().all(|c| "bBrRuUfF".contains(c)));
        let len = match prefix {
            Some(p) => p + string_len(&rest[p..]).ok_or("a string is not closed")?,
            None => rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || "+-._".contains(c)))
                .unwrap_or(rest.len()),
        };
        if len == 0 {
            let shown: String = rest.chars().take(8).collect();
            return Err(format!("unexpected {shown:?} at {start}"));
        }
        self.pos += len;
        let text = &self.s[start..self.pos];
        let v = match self.protocols.literal(text) {
            Some(Ok(v)) => v,
            Some(Err(e)) => return Err(format!("{text:?}: {}", e.message())),
            None => return Err("no registered wire reads Python literals".into()),
        };
        Ok(match v {
            Value::Int(i) if self.ints == Ints::Narrow => {
                i32::try_from(i).map_or(Value::Int(i), Value::Int32)
            }
            other => other,
        })
    }

    fn items(&mut self, close: char, depth: usize) -> Result<Vec<Value>, String> {
        Ok(self.items_with_comma(close, depth)?.0)
    }

    fn items_with_comma(
        &mut self,
        close: char,
        depth: usize,
    ) -> Result<(Vec<Value>, bool), String> {
        let mut items = Vec::new();
        let mut comma = false;
        loop {
            if self.eat(close) {
                return Ok((items, comma));
            }
            items.push(self.value(depth + 1)?);
            comma = self.eat(',');
            if !comma {
                self.expect(close)?;
                return Ok((items, false));
            }
        }
    }

    fn dict_or_set(&mut self, depth: usize) -> Result<Value, String> {
        if self.eat('}') {
            return Ok(Value::Map(Vec::new()));
        }
        let first = self.value(depth + 1)?;
        if self.eat(':') {
            let mut entries = vec![(first, self.value(depth + 1)?)];
            while self.eat(',') {
                if self.eat('}') {
                    return Ok(Value::Map(entries));
                }
                let k = self.value(depth + 1)?;
                self.expect(':')?;
                entries.push((k, self.value(depth + 1)?));
            }
            self.expect('}')?;
            return Ok(Value::Map(entries));
        }
        let mut items = vec![first];
        while self.eat(',') {
            if self.eat('}') {
                return Ok(Value::Set(items));
            }
            items.push(self.value(depth + 1)?);
        }
        self.expect('}')?;
        Ok(Value::Set(items))
    }

    /// `name(` was read: positional then keyword arguments, then `)`.
    fn call(&mut self, name: &str, depth: usize) -> Result<Value, String> {
        let mut args = Vec::new();
        let mut kwargs: Vec<(String, Value)> = Vec::new();
        loop {
            if self.eat(')') {
                break;
            }
            self.space();
            let save = self.pos;
            let key = self.name();
            if !key.is_empty() && !key.contains('.') && self.eat('=') {
                kwargs.push((key, self.value(depth + 1)?));
            } else {
                self.pos = save;
                if !kwargs.is_empty() {
                    return Err(format!(
                        "{name}(): a positional argument after a keyword one"
                    ));
                }
                args.push(self.value(depth + 1)?);
            }
            if !self.eat(',') {
                self.expect(')')?;
                break;
            }
        }
        construct(name, args, kwargs)
    }
}

/// The length of the quoted string at the start of `s` (single, double or triple quotes, with
/// backslash escapes), or `None` if it does not close.
fn string_len(s: &str) -> Option<usize> {
    let q = s.chars().next()?;
    let triple: String = std::iter::repeat_n(q, 3).collect();
    let (open, close) = if s.starts_with(&triple) {
        (3, triple.as_str())
    } else {
        (1, &s[..1])
    };
    // Bytes, not characters: quotes and backslashes are ASCII, and no byte of a multi-byte
    // character is ASCII, so the scan never stops inside one.
    let b = s.as_bytes();
    let mut i = open;
    while i < b.len() {
        if b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i..].starts_with(close.as_bytes()) {
            return Some(i + close.len());
        }
        i += 1;
    }
    None
}

fn int_arg(v: &Value, what: &str) -> Result<i64, String> {
    v.as_i64()
        .ok_or_else(|| format!("{what}: expected an integer, got {v}"))
}

fn construct(name: &str, args: Vec<Value>, kwargs: Vec<(String, Value)>) -> Result<Value, String> {
    let one = |args: Vec<Value>| -> Result<Value, String> {
        match <[Value; 1]>::try_from(args) {
            Ok([v]) => Ok(v),
            Err(a) => Err(format!("{name}() takes one argument ({} given)", a.len())),
        }
    };
    let plain = kwargs.is_empty();
    match name {
        "int32" | "i32" if plain => {
            let v = one(args)?;
            let i = int_arg(&v, name)?;
            i32::try_from(i)
                .map(Value::Int32)
                .map_err(|_| format!("int32({i}): out of range"))
        }
        "int64" | "i64" if plain => {
            let v = one(args)?;
            Ok(Value::Int(int_arg(&v, name)?))
        }
        "datetime" | "datetime.datetime" if plain => {
            if !(3..=7).contains(&args.len()) {
                return Err(format!(
                    "{name}(year, month, day[, hour, minute, second, microsecond]): {} given",
                    args.len()
                ));
            }
            let mut n = [0i64; 7];
            for (i, a) in args.iter().enumerate() {
                n[i] = int_arg(a, name)?;
            }
            let [y, mo, d, h, mi, s, us] = n;
            if !(1..=12).contains(&mo)
                || !(1..=31).contains(&d)
                || !(0..24).contains(&h)
                || !(0..60).contains(&mi)
                || !(0..60).contains(&s)
                || !(0..1_000_000).contains(&us)
                || !(1..=9999).contains(&y)
            {
                return Err(format!("{name}: a field is out of range"));
            }
            let days = tether_core::python::days_from_civil(y, mo as u32, d as u32);
            Ok(Value::DateTime(
                ((days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + us / 1000,
            ))
        }
        "Binary" | "xmlrpc.client.Binary" | "bytes" if plain => match one(args)? {
            Value::Bytes(b) => Ok(Value::Bytes(b)),
            Value::Str(s) if name == "bytes" => Ok(Value::Bytes(s.into_bytes())),
            other => Err(format!("{name}(): expected bytes, got {other}")),
        },
        "set" | "frozenset" | "tuple" | "list" if plain => {
            let items = if args.is_empty() {
                Vec::new()
            } else {
                one(args)?
                    .as_seq()
                    .map(<[Value]>::to_vec)
                    .ok_or_else(|| format!("{name}(): expected a sequence"))?
            };
            Ok(match name {
                "tuple" => Value::Tuple(items),
                "list" => Value::List(items),
                _ => Value::Set(items),
            })
        }
        "typed" if plain => {
            let [class, inner] = <[Value; 2]>::try_from(args)
                .map_err(|_| "typed(class, list_or_map) takes two arguments".to_string())?;
            let class = class
                .as_str()
                .ok_or("typed(): the class is a string")?
                .to_string();
            match inner {
                Value::List(_) | Value::Map(_) => Ok(Value::typed(class, inner)),
                Value::Tuple(v) | Value::Set(v) => Ok(Value::typed(class, Value::List(v))),
                other => Err(format!("typed(): expected a list or dict, got {other}")),
            }
        }
        "object" => {
            let mut args = args.into_iter();
            let class = args
                .next()
                .and_then(|c| c.as_str().map(str::to_string))
                .ok_or("object(class, field=value, ...): the class is a string")?;
            if args.next().is_some() {
                return Err("object(): fields are given as name=value".into());
            }
            Ok(Value::object(class, kwargs))
        }
        // Any other dotted name with keyword arguments: an instance of that class, as
        // `tether call` prints Hessian objects.
        class if class.contains('.') && args.is_empty() => Ok(Value::object(class, kwargs)),
        other => Err(format!(
            "{other}(...) is not a known constructor (int32, int64, datetime, Binary, typed, \
             object, set, frozenset, tuple, list, or a dotted class name with name=value fields)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protocols() -> ProtocolSet {
        tether::ClassRegistry::from_inventory().protocols().clone()
    }

    #[test]
    fn strings_with_any_characters_and_typed_values() {
        let p = protocols();
        let v = parse(&p, r#"['héllo \' 🎉', b'\xff', "é"]"#, Ints::Wide).unwrap();
        assert_eq!(
            v,
            Value::List(vec![
                Value::str("héllo ' 🎉"),
                Value::Bytes(vec![0xff]),
                Value::str("é")
            ])
        );
        assert_eq!(parse(&p, "5", Ints::Narrow).unwrap(), Value::Int32(5));
        assert_eq!(parse(&p, "int64(5)", Ints::Narrow).unwrap(), Value::Int(5));
        assert_eq!(
            parse(&p, "4294967296", Ints::Narrow).unwrap(),
            Value::Int(1 << 32)
        );
        assert_eq!(
            parse(&p, "datetime.datetime(1970, 1, 1, 0, 1)", Ints::Wide).unwrap(),
            Value::DateTime(60_000)
        );
        assert_eq!(
            parse(&p, "a.B(x=1, y=(2,))", Ints::Wide).unwrap(),
            Value::object(
                "a.B",
                vec![
                    ("x".into(), Value::Int(1)),
                    ("y".into(), Value::Tuple(vec![Value::Int(2)]))
                ]
            )
        );
    }

    #[test]
    fn garbage_is_an_error_never_a_panic() {
        let p = protocols();
        let pieces = [
            "[",
            "]",
            "(",
            ")",
            "{",
            "}",
            ":",
            ",",
            "'",
            "\"",
            "\\",
            "é",
            "🎉",
            "b'",
            "x",
            "1",
            "-",
            "=",
            "int32(",
            "datetime(",
            "a.B(",
            "'''",
            " ",
            "e5",
            ".",
        ];
        // Every text of up to three pieces, and deep nesting.
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let _ = parse(&p, &format!("{a}{b}{c}"), Ints::Narrow);
                }
            }
        }
        assert!(parse(&p, &"[".repeat(10_000), Ints::Wide).is_err());
        assert!(parse(&p, "int32(4294967296)", Ints::Wide).is_err());
        assert!(parse(&p, "datetime(2024, 13, 1)", Ints::Wide).is_err());
    }
}
