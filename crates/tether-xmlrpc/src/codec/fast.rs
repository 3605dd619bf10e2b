//! The direct reader: XML-RPC as clients and servers write it, read without building a tree.
//!
//! Building roxmltree's tree of a small request costs more than everything else a call does on
//! the server (about 21,000 instructions of a 51,000-instruction call). Nearly every message is
//! in one narrow shape: an optional `<?xml version="1.0"?>` declaration, elements without
//! attributes or namespaces in XML-RPC's own order, whitespace between them, and text with the
//! five predefined entities and character references. This reader takes exactly that shape in
//! one pass and gives up (`None`) on anything else, however harmless: a comment, CDATA, an
//! attribute, a prefix, a carriage return, an element out of place, a value it cannot convert,
//! nesting past [`MAX_DEPTH`]. The caller then reads the document through the tree, which
//! accepts every well-formed variant and reports what is wrong with the rest. So this reader
//! only has to be right about what it accepts: its result must equal the tree's (tested on a
//! corpus and by the `xmlrpc` fuzz target, which compares the two on every input).

use super::{fault_of, scalar, Fault, MAX_DEPTH, MAX_NODES};
use std::borrow::Cow;
use tether_core::Value;

/// A `<methodCall>`: its method name and parameters; `None` to read it through the tree.
pub(super) fn call(text: &str) -> Option<(String, Vec<Value>)> {
    let mut r = Reader::new(text)?;
    r.open("methodCall")?;
    r.ws();
    r.open("methodName")?;
    let name = r.text()?.trim().to_string();
    r.close("methodName")?;
    if name.is_empty() {
        return None;
    }
    r.ws();
    let mut params = Vec::new();
    if r.at(b"<params/>") {
        r.i += b"<params/>".len();
        r.ws();
    } else if r.at(b"<params>") {
        r.i += b"<params>".len();
        r.ws();
        while r.at(b"<param>") {
            r.i += b"<param>".len();
            r.ws();
            params.push(r.value(0)?);
            r.ws();
            r.close("param")?;
            r.ws();
        }
        r.close("params")?;
        r.ws();
    }
    r.close("methodCall")?;
    r.end()?;
    Some((name, params))
}

/// A `<methodResponse>`: its value or its fault; `None` to read it through the tree.
pub(super) fn response(text: &str) -> Option<Result<Value, Fault>> {
    let mut r = Reader::new(text)?;
    r.open("methodResponse")?;
    r.ws();
    let out = if r.at(b"<fault>") {
        r.i += b"<fault>".len();
        r.ws();
        let v = r.value(0)?;
        r.ws();
        r.close("fault")?;
        Err(fault_of(&v))
    } else {
        r.open("params")?;
        r.ws();
        r.open("param")?;
        r.ws();
        let v = r.value(0)?;
        r.ws();
        r.close("param")?;
        r.ws();
        r.close("params")?;
        Ok(v)
    };
    r.ws();
    r.close("methodResponse")?;
    r.end()?;
    Some(out)
}

/// The text of the document and where the reader is in it.
struct Reader<'a> {
    s: &'a str,
    i: usize,
    /// Start tags read: a document with many is left to the tree, which counts its nodes
    /// (elements and text) against [`MAX_NODES`].
    tags: u32,
}

impl<'a> Reader<'a> {
    /// A reader past the XML declaration, if the document starts with one this reader takes:
    /// `<?xml version="1.0"` and optionally an `encoding` (either quote), then `?>`.
    fn new(s: &'a str) -> Option<Reader<'a>> {
        let mut r = Reader { s, i: 0, tags: 0 };
        if r.at(b"<?") {
            r.declaration()?;
        }
        r.ws();
        Some(r)
    }

    fn declaration(&mut self) -> Option<()> {
        let rest = self.s.get(self.i..)?.strip_prefix("<?xml")?;
        let end = super::find(rest, "?>")?;
        // Only the whitespace this reader skips elsewhere separates the parts (XML's own is
        // space, tab, newline and carriage return; a form feed is not whitespace to XML).
        let inside = &rest[..end];
        // The declaration tether's and Python's clients and servers write: nothing to pick
        // apart.
        if matches!(inside, " version='1.0'" | " version=\"1.0\"") {
            self.i += "<?xml".len() + end + "?>".len();
            return Some(());
        }
        if !inside
            .bytes()
            .all(|b| b.is_ascii_graphic() || matches!(b, b' ' | b'\t' | b'\n'))
        {
            return None;
        }
        let mut parts = inside.split([' ', '\t', '\n']).filter(|p| !p.is_empty());
        let attr = |part: Option<&'a str>, name: &str| -> Option<&'a str> {
            let (k, v) = part?.split_once('=')?;
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))?;
            (k == name && !v.is_empty()).then_some(v)
        };
        if attr(parts.next(), "version")? != "1.0" {
            return None;
        }
        if let Some(part) = parts.next() {
            let enc = attr(Some(part), "encoding")?;
            if !enc
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
                || !enc.as_bytes()[0].is_ascii_alphabetic()
            {
                return None;
            }
        }
        if parts.next().is_some() || !inside.starts_with([' ', '\t', '\n']) {
            return None;
        }
        self.i += "<?xml".len() + end + "?>".len();
        Some(())
    }

    fn bytes(&self) -> &'a [u8] {
        self.s.as_bytes()
    }

    fn at(&self, lit: &[u8]) -> bool {
        self.bytes()
            .get(self.i..)
            .is_some_and(|rest| rest.starts_with(lit))
    }

    /// Skips spaces, tabs and newlines (a carriage return is left: XML turns it into a newline
    /// and the tree does that).
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n') = self.bytes().get(self.i) {
            self.i += 1;
        }
    }

    /// `<name>`.
    fn open(&mut self, name: &str) -> Option<()> {
        let b = self.bytes().get(self.i..)?;
        let rest = b.strip_prefix(b"<")?.strip_prefix(name.as_bytes())?;
        (rest.first() == Some(&b'>')).then(|| self.i += name.len() + 2)
    }

    /// `</name>`.
    fn close(&mut self, name: &str) -> Option<()> {
        let b = self.bytes().get(self.i..)?;
        let rest = b.strip_prefix(b"</")?.strip_prefix(name.as_bytes())?;
        (rest.first() == Some(&b'>')).then(|| self.i += name.len() + 3)
    }

    /// Only whitespace (of the kinds `ws` skips) is left.
    fn end(&mut self) -> Option<()> {
        self.ws();
        (self.i == self.s.len()).then_some(())
    }

    /// The name of the start tag here and whether it is empty (`<name/>`), reader past it.
    /// Names are ASCII letters, digits and `.`, starting with a letter (every XML-RPC name).
    fn start_tag(&mut self) -> Option<(&'a str, bool)> {
        self.tags += 1;
        if self.tags > MAX_NODES / 4 {
            return None;
        }
        let b = self.bytes();
        if b.get(self.i) != Some(&b'<') {
            return None;
        }
        let start = self.i + 1;
        let mut j = start;
        while b
            .get(j)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.')
        {
            j += 1;
        }
        if j == start || !b[start].is_ascii_alphabetic() {
            return None;
        }
        let name = &self.s[start..j];
        match (b.get(j), b.get(j + 1)) {
            (Some(b'>'), _) => {
                self.i = j + 1;
                Some((name, false))
            }
            (Some(b'/'), Some(b'>')) => {
                self.i = j + 2;
                Some((name, true))
            }
            _ => None,
        }
    }

    /// Character data up to the next `<`, its references resolved; `None` for anything the
    /// tree would read differently or refuse (a carriage return, `]]>`, a character XML does
    /// not allow, an unknown or bad reference).
    fn text(&mut self) -> Option<Cow<'a, str>> {
        let rest = self.s.get(self.i..)?;
        // One pass over the bytes up to the next tag: what ends the text, what the fast
        // reader leaves to the tree (a carriage return, `]]>`, a character XML does not
        // allow), and whether there is a reference to resolve or any non-ASCII to check.
        let bytes = rest.as_bytes();
        let (mut len, mut amp, mut ascii) = (0, false, true);
        while let Some(&b) = bytes.get(len) {
            match b {
                b'<' => break,
                b'&' => amp = true,
                b'\r' => return None,
                b']' if bytes[len..].starts_with(b"]]>") => return None,
                b'\t' | b'\n' | 0x20..=0x7f => {}
                0x80.. => ascii = false,
                _ => return None,
            }
            len += 1;
        }
        let raw = &rest[..len];
        self.i += len;
        if !ascii && !raw.chars().all(xml_char) {
            return None;
        }
        if !amp {
            return Some(Cow::Borrowed(raw));
        }
        let mut out = String::with_capacity(raw.len());
        let mut tail = raw;
        while let Some(amp) = tail.find('&') {
            out.push_str(&tail[..amp]);
            let after = &tail[amp + 1..];
            let semi = after.find(';')?;
            let c = match &after[..semi] {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "apos" => '\'',
                "quot" => '"',
                r => {
                    let n = match r.strip_prefix("#x") {
                        Some(hex) if !hex.is_empty() && hex.len() <= 6 => {
                            u32::from_str_radix(hex, 16).ok()?
                        }
                        Some(_) => return None,
                        None => {
                            let dec = r.strip_prefix('#')?;
                            if dec.is_empty() || dec.len() > 7 {
                                return None;
                            }
                            dec.parse::<u32>().ok()?
                        }
                    };
                    // A reference to a carriage return is kept by the tree as it is: so it is
                    // here; any character XML does not allow is refused.
                    char::from_u32(n).filter(|c| xml_char(*c) || *c == '\r')?
                }
            };
            out.push(c);
            tail = &after[semi + 1..];
        }
        out.push_str(tail);
        Some(Cow::Owned(out))
    }

    /// `<value>...</value>` (or `<value/>`), reader past it.
    fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let (name, empty) = self.start_tag()?;
        if name != "value" {
            return None;
        }
        if empty {
            return Some(Value::Str(String::new()));
        }
        let text = self.text()?;
        if self.at(b"</") {
            // An untyped value is a string.
            self.close("value")?;
            return Some(Value::Str(text.into_owned()));
        }
        if !text.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n')) {
            return None;
        }
        let (ty, empty) = self.start_tag()?;
        let v = match ty {
            "array" if !empty => {
                self.ws();
                let (data, empty) = self.start_tag()?;
                if data != "data" {
                    return None;
                }
                let mut items = Vec::new();
                if !empty {
                    self.ws();
                    while !self.at(b"</") {
                        items.push(self.value(depth + 1)?);
                        self.ws();
                    }
                    self.close("data")?;
                }
                self.ws();
                self.close("array")?;
                Value::List(items)
            }
            "struct" => {
                let mut entries = Vec::new();
                if !empty {
                    self.ws();
                    while !self.at(b"</") {
                        self.open("member")?;
                        self.ws();
                        let key = match self.start_tag()? {
                            ("name", true) => String::new(),
                            ("name", false) => {
                                let key = self.text()?.into_owned();
                                self.close("name")?;
                                key
                            }
                            _ => return None,
                        };
                        self.ws();
                        let v = self.value(depth + 1)?;
                        self.ws();
                        self.close("member")?;
                        self.ws();
                        entries.push((Value::Str(key), v));
                    }
                    self.close("struct")?;
                }
                Value::Map(entries)
            }
            "array" => return None,
            ty => {
                let text = if empty {
                    Cow::Borrowed("")
                } else {
                    let text = self.text()?;
                    self.close(ty)?;
                    text
                };
                if ty == "nil" && !text.is_empty() {
                    return None;
                }
                scalar(ty, &text)?.ok()?
            }
        };
        self.ws();
        self.close("value")?;
        Some(v)
    }
}

/// A character XML 1.0 allows in a document (its `Char` production; a carriage return is
/// checked apart).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::super::{check_direct_reader, write_call, write_fault, write_response};
    use super::super::{Fault, WriteOptions};
    use super::*;

    fn sample_values() -> Vec<Value> {
        let s = Value::str;
        vec![
            Value::None,
            Value::Bool(true),
            Value::Int32(-7),
            Value::Int(1 << 40),
            Value::Float(1.5),
            Value::Float(f64::INFINITY),
            s(""),
            s("hello <&> \"'\r\n\tünïcödé 😀 ]] >"),
            Value::Bytes(vec![0, 1, 2, 250]),
            Value::DateTime(1_700_000_000_000),
            Value::List(vec![]),
            Value::List(vec![
                s("a"),
                Value::Int32(1),
                Value::List(vec![Value::None]),
            ]),
            Value::Map(vec![]),
            Value::Map(vec![
                (s("k"), s("v")),
                (s(""), Value::Map(vec![(s("n"), Value::Bool(false))])),
            ]),
        ]
    }

    /// Everything tether writes is read directly, and as the tree reads it.
    #[test]
    fn what_tether_writes_is_read_directly() {
        let o = WriteOptions::default();
        for v in sample_values() {
            let call = write_call("echo", std::slice::from_ref(&v), &o).unwrap();
            assert!(super::call(&call).is_some(), "{call}");
            check_direct_reader(call.as_bytes());
            let reply = write_response(&v, &o).unwrap();
            assert!(response(&reply).is_some(), "{reply}");
            check_direct_reader(reply.as_bytes());
        }
        let fault = write_fault(&Fault {
            code: 4,
            string: "no <such> method".into(),
        });
        assert_eq!(
            response(&fault),
            Some(Err(Fault {
                code: 4,
                string: "no <such> method".into()
            }))
        );
        check_direct_reader(fault.as_bytes());
    }

    /// Python's client's layout (declaration in single quotes, a newline after each tag),
    /// untyped values, references, and every shape the direct reader leaves to the tree.
    #[test]
    fn the_direct_reader_agrees_with_the_tree_or_leaves_it_the_document() {
        let python = "<?xml version='1.0'?>\n<methodCall>\n<methodName>get_data</methodName>\n<params>\n<param>\n<value><string>hi</string></value>\n</param>\n<param>\n<value><int>3</int></value>\n</param>\n</params>\n</methodCall>\n";
        assert_eq!(
            call(python),
            Some((
                "get_data".to_string(),
                vec![Value::str("hi"), Value::Int32(3)]
            ))
        );
        let accepted = [
            python.to_string(),
            "<methodCall><methodName> m </methodName></methodCall>".into(),
            "<methodCall><methodName>m</methodName><params/></methodCall>".into(),
            "<methodCall><methodName>m</methodName><params><param><value>plain &amp; &#65;&#x42;&#13;</value></param></params></methodCall>".into(),
            "<methodCall><methodName>m</methodName><params><param><value/></param><param><value><string/></value></param></params></methodCall>".into(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><methodCall><methodName>m</methodName><params><param><value><array><data/></array></value></param></params></methodCall>".into(),
            "<methodCall><methodName>m</methodName><params><param><value>\n  <struct>\n <member><name/><value><nil/></value></member></struct>\n</value></param></params></methodCall>".into(),
            "<methodResponse><params><param><value><boolean>1</boolean></value></param></params></methodResponse>".into(),
            "<?xml version=\"1.0\"?><methodCall><methodName>m</methodName><params><param><value>ünï 😀 \u{7f} ] ]]</value></param></params></methodCall>".into(),
        ];
        for doc in &accepted {
            assert!(
                call(doc).is_some() || response(doc).is_some(),
                "not read directly: {doc}"
            );
            check_direct_reader(doc.as_bytes());
        }
        let deep = |n: usize| {
            format!(
                "<methodCall><methodName>m</methodName><params><param>{}<value>x</value>{}</param></params></methodCall>",
                "<value><array><data>".repeat(n),
                "</data></array></value>".repeat(n)
            )
        };
        let left = [
            "\u{FEFF}<methodCall><methodName>m</methodName></methodCall>".to_string(),
            " <?xml version='1.0'?><methodCall><methodName>m</methodName></methodCall>".into(),
            "<?xml version='1.1'?><methodCall><methodName>m</methodName></methodCall>".into(),
            "<?xml version='1.0' standalone='yes'?><methodCall><methodName>m</methodName></methodCall>".into(),
            "<?xml version = '1.0'?><methodCall><methodName>m</methodName></methodCall>".into(),
            // (found by the fuzz target: a form feed is not XML whitespace)
            "<?xml version='1.0'\u{c}?><methodCall><methodName>m</methodName></methodCall>".into(),
            "<?xml version='1.0'\r?><methodCall><methodName>m</methodName></methodCall>".into(),
            "<!-- c --><methodCall><methodName>m</methodName></methodCall>".into(),
            "<methodCall a='1'><methodName>m</methodName></methodCall>".into(),
            "<methodCall><methodName>m</methodName>\r\n</methodCall>".into(),
            "<methodCall><methodName></methodName></methodCall>".into(),
            "<methodCall><methodName>m</methodName><params><param><value><ex:nil/></value></param></params></methodCall>".into(),
            "<methodCall><methodName>m</methodName><params><param><value><![CDATA[x]]></value></param></params></methodCall>".into(),
            "<methodCall><methodName>m</methodName><params><param><value>a]]>b</value></param></params></methodCall>".into(),
            "<methodCall><methodName>m</methodName><params><param><value>&#0;</value></param></params></methodCall>".into(),
            "<methodCall><methodName>m</methodName><params><param><value>&bogus;</value></param></params></methodCall>".into(),
            "<methodCall><methodName>m</methodName><params><param><value>\u{1}</value></param></params></methodCall>".into(),
            "<methodCall><methodName>m</methodName><params><param><value>é\u{FFFE}</value></param></params></methodCall>".into(),
            "<methodCall><methodName>m</methodName><params><param><value><int>x</int></value></param></params></methodCall>".into(),
            "<methodCall><methodName>m</methodName><params><param><value><int>1</int></value></param><junk/></params></methodCall>".into(),
            "<methodCall><methodName>m</methodName><params><param><value><struct><member><value><i4>1</i4></value><name>k</name></member></struct></value></param></params></methodCall>".into(),
            "<methodCall><methodName>m</methodName></methodCall><extra/>".into(),
            "<methodCall><methodName>m</methodName></methodCall".into(),
            deep(MAX_DEPTH + 1),
        ];
        for doc in &left {
            assert!(call(doc).is_none(), "read directly: {doc:?}");
            check_direct_reader(doc.as_bytes());
        }
        // nesting up to the limit is read directly, as the tree reads it
        assert!(call(&deep(MAX_DEPTH)).is_some());
        check_direct_reader(deep(MAX_DEPTH).as_bytes());
    }
}
