//! XML-RPC messages ↔ [`Value`].
//!
//! | XML-RPC | `Value` (reading) | `Value` → XML-RPC (writing) |
//! |---|---|---|
//! | `<int>`, `<i4>` (and `<i1>`, `<i2>`) | `Int32` (a value past 32 bits, which Python reads too, becomes `Int`) | `Int32` → `<int>` |
//! | `<i8>` (also `ex:i8`, `<biginteger>`) | `Int` | `Int` → `<i8>` (Python reads it; so `Int32` and `Int` survive a round trip) |
//! | `<boolean>` `0`/`1` | `Bool` | `Bool` |
//! | `<string>`, an untyped `<value>` | `Str` | `Str` (`&`, `<`, `>` escaped, `\r` as `&#13;`; other control characters refused, as XML cannot carry them) |
//! | `<double>` (also `<float>`) | `Float` | `Float` (Python's `repr`: `1e+300`, `inf`, `nan`) |
//! | `<dateTime.iso8601>` `YYYYMMDDTHH:MM:SS` (UTC) | `DateTime` (ms) | `DateTime` (milliseconds dropped, as Python does) |
//! | `<base64>` | `Bytes` | `Bytes` |
//! | `<struct>` | `Map` (string keys) | `Map` (string keys only), `Object` (its fields) |
//! | `<array>` | `List` | `List`, `Tuple`, `Set`, `Typed` lists |
//! | `<nil/>` (also `ex:nil`) | `None` | `None` → `<nil/>` when `allow_none`, else an error (Python's) |
//!
//! Messages in the usual narrow shape (no comments, attributes, prefixes or CDATA, XML-RPC's
//! elements in their order) are read directly in one pass (fast.rs); every other document goes
//! through an XML tree (roxmltree), which refuses any DTD, so no entity is expanded and nothing
//! external is read; depth and node counts are bounded on both paths, and the direct reader
//! only accepts what the tree reads the same way (the `xmlrpc` fuzz target compares them).

use base64::Engine as _;
use tether_core::decimal::Decimal;
use tether_core::{RemoteError, Value};

mod fast;

/// Most nesting of arrays and structs in one message.
pub const MAX_DEPTH: usize = 64;
/// Most XML nodes in one message.
pub const MAX_NODES: u32 = 2_000_000;

/// A fault: `faultCode` and `faultString`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// `faultCode`.
    pub code: i32,
    /// `faultString`.
    pub string: String,
}

#[cold]
fn bad(what: impl std::fmt::Display) -> RemoteError {
    RemoteError::serialization(format!("XML-RPC: {what}"))
}

/// The text of a message in the encoding its XML declaration names: UTF-8 (the default),
/// ISO-8859-1 or US-ASCII (what Python's client writes with `encoding=`); another one is an
/// error.
fn text_of(xml: &[u8]) -> Result<std::borrow::Cow<'_, str>, RemoteError> {
    // The usual message: no declaration, or one without an encoding (Python's, tether's).
    if !declares_encoding(xml) {
        return std::str::from_utf8(xml)
            .map(std::borrow::Cow::Borrowed)
            .map_err(|e| bad(format!("not UTF-8: {e}")));
    }
    let declared = declared_encoding(xml).map(|e| e.to_ascii_lowercase().replace('_', "-"));
    match declared.as_deref() {
        None | Some("utf-8" | "utf8") => std::str::from_utf8(xml)
            .map(std::borrow::Cow::Borrowed)
            .map_err(|e| bad(format!("not UTF-8: {e}"))),
        Some("iso-8859-1" | "latin-1" | "latin1" | "l1" | "iso8859-1") => Ok(
            std::borrow::Cow::Owned(xml.iter().map(|b| char::from(*b)).collect()),
        ),
        Some("us-ascii" | "ascii") => match xml.iter().position(|b| !b.is_ascii()) {
            None => std::str::from_utf8(xml)
                .map(std::borrow::Cow::Borrowed)
                .map_err(|e| bad(format!("not ASCII: {e}"))),
            Some(i) => Err(bad(format!("byte {i} is not US-ASCII"))),
        },
        Some(other) => Err(bad(format!(
            "encoding {other:?} is not supported (utf-8, iso-8859-1, us-ascii)"
        ))),
    }
}

/// Whether the document may name an encoding: an `encoding` within the declaration at its
/// start (a cheap look, bytewise, before [`declared_encoding`] reads it).
fn declares_encoding(xml: &[u8]) -> bool {
    let head = &xml[..xml.len().min(200)];
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let head = &head[start..];
    if !head.starts_with(b"<?xml") {
        return false;
    }
    let end = head
        .windows(2)
        .position(|w| w == b"?>")
        .unwrap_or(head.len());
    head[..end].windows(8).any(|w| w == b"encoding")
}

/// The `encoding` of the XML declaration, if there is one (read from its first 200 bytes).
fn declared_encoding(xml: &[u8]) -> Option<&str> {
    let head = &xml[..xml.len().min(200)];
    let head = std::str::from_utf8(head)
        .ok()
        .or_else(|| std::str::from_utf8(&head[..head.iter().position(|b| !b.is_ascii())?]).ok())?;
    let decl = head.trim_start().strip_prefix("<?xml")?;
    let decl = &decl[..find(decl, "?>")?];
    let rest = &decl[find(decl, "encoding")? + "encoding".len()..];
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|q| *q == '\'' || *q == '"')?;
    let value = &rest[1..];
    Some(&value[..value.find(quote)?])
}

/// Where `needle` first is in `hay`: for the few bytes of an XML declaration, where `str::find`
/// spends more setting up its searcher than searching.
pub(crate) fn find(hay: &str, needle: &str) -> Option<usize> {
    hay.as_bytes()
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
}

fn parse(text: &str) -> Result<roxmltree::Document<'_>, RemoteError> {
    // The parser recurses per level: bound the nesting before it runs.
    if let Some((line, what)) = tether_core::markup::prescan(text, 4 * MAX_DEPTH, 64) {
        return Err(bad(format!("{what} (line {line})")));
    }
    roxmltree::Document::parse_with_options(
        text,
        roxmltree::ParsingOptions {
            allow_dtd: false,
            nodes_limit: MAX_NODES,
        },
    )
    .map_err(|e| bad(format!("malformed XML: {e}")))
}

fn elements<'a, 'i>(n: roxmltree::Node<'a, 'i>) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    n.children().filter(|c| c.is_element())
}

fn child<'a, 'i>(
    n: roxmltree::Node<'a, 'i>,
    name: &str,
) -> Result<roxmltree::Node<'a, 'i>, RemoteError> {
    elements(n)
        .find(|c| c.tag_name().name() == name)
        .ok_or_else(|| bad(format!("<{}> has no <{name}>", n.tag_name().name())))
}

/// The character set a request is written in (Python's client `encoding=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RequestEncoding {
    /// UTF-8, with no encoding in the declaration (Python's default). The default.
    #[default]
    Utf8,
    /// ISO-8859-1.
    Latin1,
    /// US-ASCII.
    Ascii,
}

impl RequestEncoding {
    /// Reads Python's names (`utf-8`, `iso-8859-1`, `latin-1`, `us-ascii`, `ascii`, ...).
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "" | "none" | "utf-8" | "utf8" => Some(RequestEncoding::Utf8),
            "iso-8859-1" | "latin-1" | "latin1" | "l1" | "iso8859-1" => {
                Some(RequestEncoding::Latin1)
            }
            "us-ascii" | "ascii" => Some(RequestEncoding::Ascii),
            _ => None,
        }
    }

    /// `body` (a message written by this module, in UTF-8) in this encoding, as Python writes
    /// it: the declaration names the encoding, and a character the encoding cannot hold
    /// becomes a character reference (`xmlcharrefreplace`).
    pub fn encode(self, body: String) -> Vec<u8> {
        let (name, limit) = match self {
            RequestEncoding::Utf8 => return body.into_bytes(),
            RequestEncoding::Latin1 => ("iso-8859-1", 0xFF),
            RequestEncoding::Ascii => ("us-ascii", 0x7F),
        };
        let body = body.replacen(
            "<?xml version='1.0'?>",
            &format!("<?xml version='1.0' encoding='{name}'?>"),
            1,
        );
        let mut out = Vec::with_capacity(body.len());
        for c in body.chars() {
            let n = u32::from(c);
            if n <= limit {
                out.push(n as u8);
            } else {
                out.extend_from_slice(format!("&#{n};").as_bytes());
            }
        }
        out
    }
}

/// Decodes a `<methodCall>`: the method name and the parameters.
pub fn parse_call(xml: &[u8]) -> Result<(String, Vec<Value>), RemoteError> {
    let text = text_of(xml)?;
    if let Some(call) = fast::call(&text) {
        return Ok(call);
    }
    parse_call_tree(&text)
}

/// [`parse_call`] through the XML tree: every document the direct reader (fast.rs) leaves.
fn parse_call_tree(text: &str) -> Result<(String, Vec<Value>), RemoteError> {
    let doc = parse(text)?;
    let root = doc.root_element();
    if root.tag_name().name() != "methodCall" {
        return Err(bad(format!(
            "expected <methodCall>, got <{}>",
            root.tag_name().name()
        )));
    }
    let name = child(root, "methodName")?
        .text()
        .unwrap_or("")
        .trim()
        .to_string();
    if name.is_empty() {
        return Err(bad("empty <methodName>"));
    }
    let mut params = Vec::new();
    if let Some(ps) = elements(root).find(|c| c.tag_name().name() == "params") {
        for p in elements(ps) {
            params.push(value(child(p, "value")?, 0)?);
        }
    }
    Ok((name, params))
}

/// Decodes a `<methodResponse>`: the value, or the fault.
pub fn parse_response(xml: &[u8]) -> Result<Result<Value, Fault>, RemoteError> {
    let text = text_of(xml)?;
    if let Some(response) = fast::response(&text) {
        return Ok(response);
    }
    parse_response_tree(&text)
}

/// [`parse_response`] through the XML tree.
fn parse_response_tree(text: &str) -> Result<Result<Value, Fault>, RemoteError> {
    let doc = parse(text)?;
    let root = doc.root_element();
    if root.tag_name().name() != "methodResponse" {
        return Err(bad(format!(
            "expected <methodResponse>, got <{}>",
            root.tag_name().name()
        )));
    }
    if let Some(f) = elements(root).find(|c| c.tag_name().name() == "fault") {
        return Ok(Err(fault_of(&value(child(f, "value")?, 0)?)));
    }
    let ps = child(root, "params")?;
    let p = elements(ps)
        .next()
        .ok_or_else(|| bad("a response with no value"))?;
    Ok(Ok(value(child(p, "value")?, 0)?))
}

/// A fault's code and string, from the struct a `<fault>` carries (missing ones are 0 and "").
fn fault_of(v: &Value) -> Fault {
    let code = match v.get("faultCode") {
        Some(Value::Int32(i)) => *i,
        Some(Value::Int(i)) => *i as i32,
        _ => 0,
    };
    let string = match v.get("faultString") {
        Some(Value::Str(s)) => s.clone(),
        _ => String::new(),
    };
    Fault { code, string }
}

/// A value of one of the types that hold text (every type but `<array>` and `<struct>`), from
/// the type's name and its element's text; `None` for another name.
fn scalar(name: &str, text: &str) -> Option<Result<Value, RemoteError>> {
    Some(Ok(match name {
        "int" | "i4" | "i1" | "i2" => {
            let s = text.trim();
            match s.parse::<i32>() {
                Ok(i) => Value::Int32(i),
                Err(_) => match s.parse::<i64>() {
                    Ok(i) => Value::Int(i),
                    Err(_) => return Some(Err(bad(format!("bad int {s:?}")))),
                },
            }
        }
        "i8" | "biginteger" => {
            let s = text.trim();
            match s.parse::<i64>() {
                Ok(i) => Value::Int(i),
                Err(_) => return Some(Err(bad(format!("bad i8 {s:?}")))),
            }
        }
        "boolean" => match text.trim() {
            "0" => Value::Bool(false),
            "1" => Value::Bool(true),
            other => return Some(Err(bad(format!("bad boolean value {other:?}")))),
        },
        "string" => Value::Str(text.to_string()),
        "double" | "float" => {
            let s = text.trim();
            Value::Float(match s {
                "inf" | "Infinity" => f64::INFINITY,
                "-inf" | "-Infinity" => f64::NEG_INFINITY,
                "nan" | "NaN" => f64::NAN,
                s => match s.parse::<f64>() {
                    Ok(x) => x,
                    Err(_) => return Some(Err(bad(format!("bad double {s:?}")))),
                },
            })
        }
        "dateTime.iso8601" => match parse_datetime(text.trim()) {
            Ok(ms) => Value::DateTime(ms),
            Err(e) => return Some(Err(e)),
        },
        "base64" => {
            let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            match base64::engine::general_purpose::STANDARD.decode(clean) {
                Ok(b) => Value::Bytes(b),
                Err(e) => return Some(Err(bad(format!("bad base64: {e}")))),
            }
        }
        "nil" => Value::None,
        _ => return None,
    }))
}

fn value(v: roxmltree::Node<'_, '_>, depth: usize) -> Result<Value, RemoteError> {
    if depth > MAX_DEPTH {
        return Err(bad(format!("nested deeper than {MAX_DEPTH}")));
    }
    let Some(t) = elements(v).next() else {
        // An untyped value is a string.
        return Ok(Value::Str(v.text().unwrap_or("").to_string()));
    };
    // A namespace prefix (ex:i8, ex:nil) is not part of the name roxmltree reports.
    let name = t.tag_name().name();
    if let Some(v) = scalar(name, t.text().unwrap_or("")) {
        return v;
    }
    Ok(match name {
        "array" => {
            let data = child(t, "data")?;
            let mut items = Vec::new();
            for c in elements(data) {
                items.push(value(c, depth + 1)?);
            }
            Value::List(items)
        }
        "struct" => {
            let mut entries = Vec::new();
            for m in elements(t) {
                let name = child(m, "name")?.text().unwrap_or("").to_string();
                entries.push((Value::Str(name), value(child(m, "value")?, depth + 1)?));
            }
            Value::Map(entries)
        }
        other => return Err(bad(format!("unknown type <{other}>"))),
    })
}

/// `YYYYMMDDTHH:MM:SS` (also with dashes in the date, and an optional `Z`) → ms since the
/// epoch, read as UTC.
fn parse_datetime(s: &str) -> Result<i64, RemoteError> {
    let err = || bad(format!("bad dateTime.iso8601 {s:?}"));
    let digits: String = s
        .trim_end_matches('Z')
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect();
    if digits.len() != 14 || !s.contains('T') {
        return Err(err());
    }
    let n = |a: usize, b: usize| digits[a..b].parse::<i64>().map_err(|_| err());
    let (y, mo, d, h, mi, se) = (
        n(0, 4)?,
        n(4, 6)?,
        n(6, 8)?,
        n(8, 10)?,
        n(10, 12)?,
        n(12, 14)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return Err(err());
    }
    let days = tether_core::python::days_from_civil(y, mo as u32, d as u32);
    Ok(((days * 86_400) + h * 3600 + mi * 60 + se) * 1000)
}

fn format_datetime(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = tether_core::python::civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// How values are written.
#[derive(Clone, Copy, Debug)]
pub struct WriteOptions {
    /// Write `None` as `<nil/>` (else it is an error, as Python's default). Default `true`.
    pub allow_none: bool,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions { allow_none: true }
    }
}

fn escape(s: &str, out: &mut String) -> Result<(), RemoteError> {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                return Err(bad(format!(
                    "the character U+{:04X} cannot travel in XML",
                    c as u32
                )))
            }
            c => out.push(c),
        }
    }
    Ok(())
}

fn write_value(v: &Value, o: &WriteOptions, out: &mut String) -> Result<(), RemoteError> {
    out.push_str("<value>");
    match v {
        Value::None if o.allow_none => out.push_str("<nil/>"),
        Value::None => {
            return Err(RemoteError::type_error(
                "cannot marshal None unless allow_none is enabled",
            ))
        }
        Value::Bool(b) => out.push_str(if *b {
            "<boolean>1</boolean>"
        } else {
            "<boolean>0</boolean>"
        }),
        // Written into `out` itself (writing to a String cannot fail).
        Value::Int32(i) => {
            out.push_str("<int>");
            Decimal::signed(i64::from(*i)).push_to(out);
            out.push_str("</int>");
        }
        Value::Int(i) => {
            out.push_str("<i8>");
            Decimal::signed(*i).push_to(out);
            out.push_str("</i8>");
        }
        Value::BigInt(b) => match i64::try_from(b) {
            Ok(i) => {
                out.push_str("<i8>");
                Decimal::signed(i).push_to(out);
                out.push_str("</i8>");
            }
            Err(_) => {
                return Err(RemoteError::exception(
                    "builtins.OverflowError",
                    "int exceeds XML-RPC limits",
                ))
            }
        },
        Value::Float(f) => {
            out.push_str("<double>");
            if f.is_finite() {
                let mut b = Vec::new();
                tether_core::python::push_float_repr(*f, &mut b);
                out.push_str(&String::from_utf8_lossy(&b));
            } else if f.is_nan() {
                out.push_str("nan");
            } else if *f > 0.0 {
                out.push_str("inf");
            } else {
                out.push_str("-inf");
            }
            out.push_str("</double>");
        }
        Value::Str(s) => {
            out.push_str("<string>");
            escape(s, out)?;
            out.push_str("</string>");
        }
        Value::Bytes(b) => {
            out.push_str("<base64>");
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(b));
            out.push_str("</base64>");
        }
        Value::DateTime(ms) => {
            out.push_str("<dateTime.iso8601>");
            out.push_str(&format_datetime(*ms));
            out.push_str("</dateTime.iso8601>");
        }
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
            out.push_str("<array><data>");
            for i in items {
                write_value(i, o, out)?;
            }
            out.push_str("</data></array>");
        }
        Value::Map(entries) => {
            out.push_str("<struct>");
            for (k, v) in entries {
                let Value::Str(k) = k else {
                    return Err(RemoteError::type_error("dictionary key must be string"));
                };
                out.push_str("<member><name>");
                escape(k, out)?;
                out.push_str("</name>");
                write_value(v, o, out)?;
                out.push_str("</member>");
            }
            out.push_str("</struct>");
        }
        Value::Object(obj) => {
            let m = Value::Map(
                obj.fields
                    .iter()
                    .map(|(k, v)| (Value::str(k.as_str()), v.clone()))
                    .collect(),
            );
            out.truncate(out.len() - "<value>".len());
            return write_value(&m, o, out);
        }
        Value::Typed(t) => {
            out.truncate(out.len() - "<value>".len());
            return write_value(&t.value, o, out);
        }
        Value::BackRef(_) => {
            return Err(bad(
                "cannot carry a reference loop (a value that contains itself): XML-RPC has no \
                 references (Hessian carries loops)",
            ))
        }
        other => return Err(bad(format!("cannot carry a {}", other.type_name()))),
    }
    out.push_str("</value>");
    Ok(())
}

/// Writes a `<methodCall>`.
pub fn write_call(method: &str, params: &[Value], o: &WriteOptions) -> Result<String, RemoteError> {
    let data: usize = params.iter().map(Value::encoded_len_hint).sum();
    let mut out = String::with_capacity(256 + method.len() + data + data / 8);
    out.push_str("<?xml version='1.0'?>\n<methodCall>\n<methodName>");
    escape(method, &mut out)?;
    out.push_str("</methodName>\n<params>\n");
    for p in params {
        out.push_str("<param>\n");
        write_value(p, o, &mut out)?;
        out.push_str("\n</param>\n");
    }
    out.push_str("</params>\n</methodCall>\n");
    Ok(out)
}

/// Writes a `<methodResponse>` with one value.
pub fn write_response(v: &Value, o: &WriteOptions) -> Result<String, RemoteError> {
    // Room for the whole response (tags and escapes take more than the data: an eighth more
    // and 256 bytes cover a typical one), so that it is not grown (and copied) piece by piece.
    let data = v.encoded_len_hint();
    let mut out = String::with_capacity(256 + data + data / 8);
    out.push_str("<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n");
    write_value(v, o, &mut out)?;
    out.push_str("\n</param>\n</params>\n</methodResponse>\n");
    Ok(out)
}

/// Writes a fault response.
pub fn write_fault(f: &Fault) -> String {
    let mut out = String::from("<?xml version='1.0'?>\n<methodResponse>\n<fault>\n");
    let m = Value::Map(vec![
        (Value::str("faultCode"), Value::Int32(f.code)),
        (
            Value::str("faultString"),
            Value::Str(f.string.replace(
                |c: char| (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r',
                "?",
            )),
        ),
    ]);
    // A fault's fields are a string and an int: writing cannot fail.
    let _ = write_value(&m, &WriteOptions::default(), &mut out);
    out.push_str("\n</fault>\n</methodResponse>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_loop_is_refused_clearly() {
        let looped = Value::List(vec![Value::str("x"), Value::BackRef(0)]);
        let e = write_response(&looped, &WriteOptions::default()).unwrap_err();
        assert!(e.to_string().contains("reference loop"), "{e}");
    }

    #[test]
    fn datetimes_round_trip() {
        for ms in [0, 1_700_000_040_000, -86_400_000, 253_402_300_799_000] {
            assert_eq!(parse_datetime(&format_datetime(ms)).unwrap(), ms);
        }
        assert_eq!(format_datetime(1_700_000_040_000), "20231114T22:14:00");
        assert_eq!(
            parse_datetime("2023-11-14T22:14:00").unwrap(),
            1_700_000_040_000
        );
        assert!(parse_datetime("20231314T22:14:00").is_err());
    }
}

#[cfg(test)]
mod deep_tests {
    #[test]
    fn deep_documents_are_refused_without_overflow() {
        let mut deep = String::from("<methodCall><methodName>echo</methodName><params><param>");
        for _ in 0..5000 {
            deep.push_str("<value><array><data>");
        }
        let r = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                super::parse_call(deep.as_bytes())
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
            .unwrap()
            .join();
        assert!(matches!(r, Ok(Err(_))), "{r:?}");
    }
}

#[cfg(test)]
mod encoding_tests {
    use super::*;

    #[test]
    fn requests_in_latin1_and_ascii_read_back() {
        let call = write_call(
            "echo",
            &[Value::str("h\u{e9}llo \u{2713}")],
            &WriteOptions::default(),
        )
        .unwrap();
        for enc in [
            RequestEncoding::Utf8,
            RequestEncoding::Latin1,
            RequestEncoding::Ascii,
        ] {
            let bytes = enc.encode(call.clone());
            let (m, params) = parse_call(&bytes).unwrap();
            assert_eq!(m, "echo");
            assert_eq!(params, [Value::str("h\u{e9}llo \u{2713}")], "{enc:?}");
        }
        let latin = RequestEncoding::Latin1.encode(call);
        assert!(latin.starts_with(b"<?xml version='1.0' encoding='iso-8859-1'?>"));
        assert!(latin.windows(6).any(|w| w == b"&#10003"[..6].as_ref()));
        assert!(latin.contains(&0xE9));
        // lies: ASCII declared, a byte that is not; an encoding nobody supports
        assert!(parse_call(b"<?xml version='1.0' encoding='us-ascii'?><methodCall>\xe9").is_err());
        assert!(
            parse_call(b"<?xml version='1.0' encoding='koi8-r'?><methodCall/>")
                .unwrap_err()
                .message()
                .contains("not supported")
        );
    }
}

/// Reads `xml` both ways, directly (fast.rs) and through the tree, and panics if the direct
/// reader accepts it with another result than the tree's. For the fuzz target; not an API.
#[doc(hidden)]
pub fn check_direct_reader(xml: &[u8]) {
    let Ok(text) = text_of(xml) else {
        return;
    };
    if let Some(direct) = fast::call(&text) {
        let tree = parse_call_tree(&text);
        assert_eq!(
            format!("{:?}", Ok::<_, ()>(direct)),
            format!("{:?}", tree.map_err(|_| ())),
            "the direct reader and the tree disagree on a call: {text:?}"
        );
    }
    if let Some(direct) = fast::response(&text) {
        let tree = parse_response_tree(&text);
        assert_eq!(
            format!("{:?}", Ok::<_, ()>(direct)),
            format!("{:?}", tree.map_err(|_| ())),
            "the direct reader and the tree disagree on a response: {text:?}"
        );
    }
}
