//! Reading serpent: the Python literal grammar (`ast.literal_eval`), bounded by [`Limits`].

use super::*;

/// Decodes one serpent value spanning all of `bytes` (the header comment is optional).
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Value, RemoteError> {
    decode_with(bytes, limits, true)
}

/// Decodes `bytes` both with and without the plain-literal path ([`Parser::plain_string`])
/// and panics if the two disagree (a value, or an error at all). For the fuzz target; not an
/// API.
#[doc(hidden)]
pub fn check_plain_strings(bytes: &[u8]) {
    let limits = Limits::default();
    let fast = decode_with(bytes, &limits, true);
    let general = decode_with(bytes, &limits, false);
    assert_eq!(
        format!("{:?}", fast.map_err(|_| ())),
        format!("{:?}", general.map_err(|_| ())),
        "the plain-literal path and the general one disagree: {:?}",
        String::from_utf8_lossy(bytes)
    );
}

/// An INVOKE payload in its usual shape, `(object, method, vargs, kwargs)` with the object id a
/// plain literal, read without building the tuple around its parts and with the object id
/// borrowed from `bytes` (every call a server receives). `None` for any other shape and for any
/// error: the general path then reads the payload (and words its complaint) as it always did.
/// The limits count the tuple and its items as the general path counts them, so this path
/// accepts nothing the general one refuses.
pub(crate) fn decode_invoke<'a>(bytes: &'a [u8], limits: &Limits) -> Option<(&'a str, [Value; 3])> {
    if memchr::memchr(0, bytes).is_some() {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let mut p = Parser {
        s: bytes,
        text,
        plain: true,
        pos: 0,
        budget: Budget::new(FORMAT, limits),
    };
    p.skip_ws().ok()?;
    if p.peek() != Some(b'(') {
        return None;
    }
    p.budget.enter(p.pos).ok()?;
    p.pos += 1;
    p.skip_ws().ok()?;
    p.budget.items(1, p.pos).ok()?;
    let object = p.plain_str()?;
    let mut parts = [Value::None, Value::None, Value::None];
    for part in &mut parts {
        p.skip_ws().ok()?;
        if p.peek() != Some(b',') {
            return None;
        }
        p.pos += 1;
        p.skip_ws().ok()?;
        p.budget.items(1, p.pos).ok()?;
        *part = p.value().ok()?;
    }
    p.skip_ws().ok()?;
    if p.peek() == Some(b',') {
        p.pos += 1;
        p.skip_ws().ok()?;
    }
    if p.peek() != Some(b')') {
        return None;
    }
    p.pos += 1;
    p.budget.leave();
    p.skip_ws().ok()?;
    (p.pos == bytes.len()).then_some((object, parts))
}

/// Checks [`decode_invoke`] against the general path on `bytes`: whenever it reads a payload,
/// the general path must read the same four parts. Panics if they differ. For the fuzz target
/// and the tests; not an API.
#[doc(hidden)]
pub fn check_invoke(bytes: &[u8]) {
    let limits = Limits::default();
    let Some((object, [m, a, k])) = decode_invoke(bytes, &limits) else {
        return;
    };
    let general = decode_with(bytes, &limits, true);
    let want = Value::Tuple(vec![Value::str(object), m, a, k]);
    assert_eq!(
        general.ok().as_ref(),
        Some(&want),
        "the INVOKE path and the general one disagree: {:?}",
        String::from_utf8_lossy(bytes)
    );
}

fn decode_with(bytes: &[u8], limits: &Limits, plain: bool) -> Result<Value, RemoteError> {
    if let Some(pos) = memchr::memchr(0, bytes) {
        return Err(error_at(FORMAT, pos, "NUL byte in serpent data"));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => return Err(error_at(FORMAT, e.valid_up_to(), "invalid UTF-8")),
    };
    let mut p = Parser {
        s: bytes,
        text,
        plain,
        pos: 0,
        budget: Budget::new(FORMAT, limits),
    };
    p.skip_ws()?;
    let v = p.value()?;
    p.skip_ws()?;
    if p.pos != bytes.len() {
        return Err(p.err("extra data after the value"));
    }
    Ok(v)
}

/// A Python string literal's kind, from its prefix.
#[derive(Clone, Copy, PartialEq)]
pub(super) struct Prefix {
    bytes: bool,
    raw: bool,
}

pub(super) struct Parser<'a> {
    s: &'a [u8],
    /// `s`, known to be UTF-8.
    text: &'a str,
    /// Whether a lone plain literal is read as one slice (always, but for the check).
    plain: bool,
    pos: usize,
    budget: Budget,
}

/// The bytes that end the body of the usual literal quoted by `quote` (see
/// [`Parser::plain_str`]): the quote, a backslash (an escape) and a line break.
const fn literal_stops(quote: u8) -> [bool; 256] {
    let mut t = [false; 256];
    t[quote as usize] = true;
    t[b'\\' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'\r' as usize] = true;
    t
}

/// Whether `b` begins something [`Parser::skip_ws`] skips: whitespace, a comment or a line
/// continuation.
const fn opens_skip(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0c | b'#' | b'\\')
}

static STOPS_SINGLE: [bool; 256] = literal_stops(b'\'');
static STOPS_DOUBLE: [bool; 256] = literal_stops(b'"');

/// A container's items begun with `first`, with room for a few more: a call's tuple grows to
/// four without moving (`vec![first]` would be reallocated at the second item).
fn started(first: Value) -> Vec<Value> {
    let mut items = Vec::with_capacity(4);
    items.push(first);
    items
}

pub(super) fn hashable(v: &Value) -> bool {
    match v {
        Value::List(_) | Value::Map(_) | Value::Set(_) => false,
        Value::Tuple(items) => items.iter().all(hashable),
        _ => true,
    }
}

impl<'a> Parser<'a> {
    #[cold]
    fn err(&self, what: impl std::fmt::Display) -> RemoteError {
        error_at(FORMAT, self.pos, what)
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn peek_at(&self, off: usize) -> Option<u8> {
        self.s.get(self.pos + off).copied()
    }

    /// Skips whitespace, comments and backslash line continuations. Inline for the usual case,
    /// a value or a delimiter right there (a call's payload asks a dozen times, nearly always
    /// with nothing to skip); the loop is apart.
    #[inline]
    fn skip_ws(&mut self) -> Result<(), RemoteError> {
        match self.peek() {
            Some(b) if opens_skip(b) => self.skip_ws_loop(),
            _ => Ok(()),
        }
    }

    /// [`Self::skip_ws`]'s loop. Each of its arms but the last starts on a byte
    /// [`opens_skip`] accepts (the test `the_inline_skip_check_agrees_with_the_loop` holds them
    /// to it).
    fn skip_ws_loop(&mut self) -> Result<(), RemoteError> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0c) => self.pos += 1,
                Some(b'#') => {
                    // The header line every serpent writer puts first, taken whole.
                    if self.s[self.pos..].starts_with(HEADER) {
                        self.pos += HEADER.len();
                        continue;
                    }
                    while !matches!(self.peek(), None | Some(b'\n' | b'\r')) {
                        self.pos += 1;
                    }
                }
                Some(b'\\') => match (self.peek_at(1), self.peek_at(2)) {
                    (Some(b'\n'), _) => self.pos += 2,
                    (Some(b'\r'), Some(b'\n')) => self.pos += 3,
                    (Some(b'\r'), _) => self.pos += 2,
                    _ => return Err(self.err("unexpected character after line continuation")),
                },
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self) -> Result<Value, RemoteError> {
        let Some(c) = self.peek() else {
            return Err(self.err("expecting a value, found the end"));
        };
        match c {
            b'(' => self.paren(),
            b'[' => self.list(),
            b'{' => self.brace(),
            b'\'' | b'"' => self.strings(),
            b'0'..=b'9' => self.number(),
            b'.' if matches!(self.peek_at(1), Some(b'0'..=b'9')) => self.number(),
            b'-' | b'+' => self.signed(),
            c if c == b'_' || c.is_ascii_alphabetic() => {
                if self.string_prefix().is_some() {
                    return self.strings();
                }
                self.name()
            }
            _ => Err(self.err(format_args!("unexpected character {:?}", c as char))),
        }
    }

    /// `True`, `False`, `None`, or `set()`.
    fn name(&mut self) -> Result<Value, RemoteError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == b'_' || c.is_ascii_alphanumeric() || c >= 0x80 {
                self.pos += 1;
            } else {
                break;
            }
        }
        match &self.s[start..self.pos] {
            b"True" => Ok(Value::Bool(true)),
            b"False" => Ok(Value::Bool(false)),
            b"None" => Ok(Value::None),
            b"set" => {
                self.skip_ws()?;
                if self.peek() == Some(b'(') {
                    self.pos += 1;
                    self.skip_ws()?;
                    if self.peek() == Some(b')') {
                        self.pos += 1;
                        return Ok(Value::Set(Vec::new()));
                    }
                }
                Err(error_at(FORMAT, start, "only set() may be called"))
            }
            name => Err(error_at(
                FORMAT,
                start,
                format_args!("name {:?} is not a literal", String::from_utf8_lossy(name)),
            )),
        }
    }

    /// A `-` or `+` applied to a number (possibly parenthesized), as `literal_eval` allows.
    fn signed(&mut self) -> Result<Value, RemoteError> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        self.pos += 1;
        self.skip_ws()?;
        let mut parens = 0;
        while self.peek() == Some(b'(') {
            self.budget.enter(self.pos)?;
            parens += 1;
            self.pos += 1;
            self.skip_ws()?;
        }
        if !matches!(self.peek(), Some(b'0'..=b'9' | b'.')) {
            return Err(error_at(FORMAT, start, "a sign must precede a number"));
        }
        let v = self.number()?;
        for _ in 0..parens {
            self.skip_ws()?;
            if self.peek() != Some(b')') {
                return Err(self.err("expecting ')'"));
            }
            self.pos += 1;
            self.budget.leave();
        }
        Ok(if negative { negate(v) } else { v })
    }

    /// Scans `[0-9](_?[0-9])*` (with `digit` deciding what a digit is); returns whether any.
    fn digit_part(&mut self, digit: fn(u8) -> bool) -> Result<bool, RemoteError> {
        if !self.peek().is_some_and(digit) {
            return Ok(false);
        }
        while self.peek().is_some_and(digit) {
            self.pos += 1;
            if self.peek() == Some(b'_') {
                self.pos += 1;
                if !self.peek().is_some_and(digit) {
                    return Err(self.err("invalid number literal"));
                }
            }
        }
        Ok(true)
    }

    fn number(&mut self) -> Result<Value, RemoteError> {
        let start = self.pos;
        let radix = match (self.peek(), self.peek_at(1).map(|c| c.to_ascii_lowercase())) {
            (Some(b'0'), Some(b'x')) => Some(16),
            (Some(b'0'), Some(b'o')) => Some(8),
            (Some(b'0'), Some(b'b')) => Some(2),
            _ => None,
        };
        if let Some(radix) = radix {
            self.pos += 2;
            if self.peek() == Some(b'_') {
                self.pos += 1;
            }
            let ok = match radix {
                16 => self.digit_part(|c| c.is_ascii_hexdigit())?,
                8 => self.digit_part(|c| (b'0'..=b'7').contains(&c))?,
                _ => self.digit_part(|c| c == b'0' || c == b'1')?,
            };
            if !ok {
                return Err(error_at(FORMAT, start, "invalid number literal"));
            }
            self.end_of_number(start)?;
            let digits: Vec<u8> = self.s[start + 2..self.pos]
                .iter()
                .copied()
                .filter(|&c| c != b'_')
                .collect();
            return self.big(&digits, radix, start);
        }
        let int_part = self.digit_part(|c| c.is_ascii_digit())?;
        let mut is_float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            let frac = self.digit_part(|c| c.is_ascii_digit())?;
            if !int_part && !frac {
                return Err(error_at(FORMAT, start, "invalid number literal"));
            }
            is_float = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !self.digit_part(|c| c.is_ascii_digit())? {
                return Err(error_at(FORMAT, start, "invalid number literal"));
            }
            is_float = true;
        }
        if let Some(b'j' | b'J') = self.peek() {
            return Err(error_at(FORMAT, start, "complex numbers are not supported"));
        }
        self.end_of_number(start)?;
        let text: Vec<u8> = self.s[start..self.pos]
            .iter()
            .copied()
            .filter(|&c| c != b'_')
            .collect();
        if is_float {
            let text = std::str::from_utf8(&text).unwrap_or("");
            return text
                .parse::<f64>()
                .map(Value::Float)
                .map_err(|_| error_at(FORMAT, start, "invalid float literal"));
        }
        if text.len() > 1 && text[0] == b'0' {
            if text.iter().all(|&c| c == b'0') {
                return Ok(Value::Int(0));
            }
            return Err(error_at(
                FORMAT,
                start,
                "leading zeros in decimal integer literals are not permitted",
            ));
        }
        if text.len() <= 18 {
            let i = text
                .iter()
                .fold(0i64, |acc, &c| acc * 10 + i64::from(c - b'0'));
            return Ok(Value::Int(i));
        }
        self.big(&text, 10, start)
    }

    /// A number must not run into a name or another number (`1a`, `1.5.`, `0x1g`).
    fn end_of_number(&self, start: usize) -> Result<(), RemoteError> {
        match self.peek() {
            Some(c) if c == b'_' || c == b'.' || c.is_ascii_alphanumeric() || c >= 0x80 => {
                Err(error_at(FORMAT, start, "invalid number literal"))
            }
            _ => Ok(()),
        }
    }

    fn big(&self, digits: &[u8], radix: u32, start: usize) -> Result<Value, RemoteError> {
        if digits.len() > MAX_INT_DIGITS {
            return Err(error_at(
                FORMAT,
                start,
                format_args!("integer literal of more than {MAX_INT_DIGITS} digits"),
            ));
        }
        BigInt::parse_bytes(digits, radix)
            .map(Value::from_bigint)
            .ok_or_else(|| error_at(FORMAT, start, "invalid integer literal"))
    }

    /// The prefix of a string literal at the cursor (`b`, `r`, `rb`, `u`, ... then a quote).
    fn string_prefix(&self) -> Option<(Prefix, usize)> {
        let mut p = Prefix {
            bytes: false,
            raw: false,
        };
        let mut n = 0;
        let mut u = false;
        while let Some(c) = self.peek_at(n) {
            match c.to_ascii_lowercase() {
                b'b' if !p.bytes && !u => p.bytes = true,
                b'r' if !p.raw && !u => p.raw = true,
                b'u' if n == 0 => u = true,
                b'\'' | b'"' => return Some((p, n)),
                _ => return None,
            }
            n += 1;
        }
        None
    }

    /// The usual string literal, read as one slice: `'...'` or `"..."` with no prefix, no
    /// escape and no line break, not followed by another literal. `None` (and nothing read)
    /// for anything else, which the general path reads.
    fn plain_string(&mut self) -> Option<Value> {
        self.plain_str().map(|t| Value::Str(t.to_owned()))
    }

    /// [`plain_string`](Self::plain_string)'s text, borrowed (`None`, and nothing read, for
    /// anything but the usual literal).
    fn plain_str(&mut self) -> Option<&'a str> {
        let q = self.peek()?;
        if q != b'\'' && q != b'"' {
            return None;
        }
        let body = self.pos + 1;
        let rest = self.s.get(body..)?;
        // One table lookup a byte (four comparisons a byte before).
        let stops = if q == b'\'' {
            &STOPS_SINGLE
        } else {
            &STOPS_DOUBLE
        };
        let len = rest.iter().position(|&b| stops[usize::from(b)])?;
        // An empty literal may open a triple-quoted one: the general path decides.
        if len == 0 || rest[len] != q {
            return None;
        }
        let end = body + len;
        let after = self.pos;
        self.pos = end + 1;
        let alone = self.skip_ws().is_ok() && self.string_prefix().is_none();
        // The quotes are ASCII, so both ends are character boundaries of the UTF-8 text.
        let text: &'a str = self.text;
        match (alone, text.get(body..end)) {
            (true, Some(t)) => Some(t),
            _ => {
                self.pos = after;
                None
            }
        }
    }

    /// One or more adjacent string literals, concatenated (`'a' 'b'`).
    fn strings(&mut self) -> Result<Value, RemoteError> {
        if self.plain {
            if let Some(v) = self.plain_string() {
                return Ok(v);
            }
        }
        let start = self.pos;
        let mut kind: Option<bool> = None;
        let mut buf: Vec<u8> = Vec::new();
        while let Some((prefix, n)) = self.string_prefix() {
            if kind.is_some_and(|b| b != prefix.bytes) {
                return Err(self.err("cannot mix bytes and nonbytes literals"));
            }
            kind = Some(prefix.bytes);
            self.pos += n;
            self.string(prefix, &mut buf)?;
            self.skip_ws()?;
        }
        if kind == Some(true) {
            Ok(Value::Bytes(buf))
        } else {
            String::from_utf8(buf)
                .map(Value::Str)
                .map_err(|_| error_at(FORMAT, start, "invalid UTF-8 in string"))
        }
    }

    /// One string literal body starting at its opening quote; appends its value to `out`
    /// (UTF-8 for str, raw bytes for bytes).
    fn string(&mut self, prefix: Prefix, out: &mut Vec<u8>) -> Result<(), RemoteError> {
        let open = self.pos;
        let q = self.s[self.pos];
        let triple = self.peek_at(1) == Some(q) && self.peek_at(2) == Some(q);
        self.pos += if triple { 3 } else { 1 };
        loop {
            let Some(c) = self.peek() else {
                return Err(error_at(FORMAT, open, "unterminated string literal"));
            };
            if c == q {
                if !triple {
                    self.pos += 1;
                    return Ok(());
                }
                if self.peek_at(1) == Some(q) && self.peek_at(2) == Some(q) {
                    self.pos += 3;
                    return Ok(());
                }
                out.push(c);
                self.pos += 1;
                continue;
            }
            if !triple && (c == b'\n' || c == b'\r') {
                return Err(error_at(FORMAT, open, "unterminated string literal"));
            }
            if prefix.bytes && c >= 0x80 {
                return Err(self.err("bytes can only contain ASCII literal characters"));
            }
            if c != b'\\' {
                // Copy the run up to the next byte that needs a look. Every stop byte is ASCII,
                // so the run ends on a character boundary of the (valid UTF-8) input.
                let run = self.pos;
                while let Some(b) = self.peek() {
                    if b == q
                        || b == b'\\'
                        || (!triple && (b == b'\n' || b == b'\r'))
                        || (prefix.bytes && b >= 0x80)
                    {
                        break;
                    }
                    self.pos += 1;
                }
                out.extend_from_slice(&self.s[run..self.pos]);
                continue;
            }
            let Some(e) = self.peek_at(1) else {
                return Err(error_at(FORMAT, open, "unterminated string literal"));
            };
            if prefix.raw {
                // A raw string keeps the backslash; it only stops the next quote from closing.
                out.push(b'\\');
                self.pos += 1;
                if e == q || e == b'\\' || e == b'\n' {
                    out.push(e);
                    self.pos += 1;
                }
                continue;
            }
            self.escape(e, prefix.bytes, out)?;
        }
    }

    /// Decodes one backslash escape whose second character is `e`.
    fn escape(&mut self, e: u8, bytes: bool, out: &mut Vec<u8>) -> Result<(), RemoteError> {
        let at = self.pos;
        self.pos += 2;
        let simple = match e {
            b'\n' => Some(None),
            b'\r' => {
                if self.peek() == Some(b'\n') {
                    self.pos += 1;
                }
                Some(None)
            }
            b'\\' => Some(Some(b'\\')),
            b'\'' => Some(Some(b'\'')),
            b'"' => Some(Some(b'"')),
            b'a' => Some(Some(7)),
            b'b' => Some(Some(8)),
            b'f' => Some(Some(12)),
            b'n' => Some(Some(b'\n')),
            b'r' => Some(Some(b'\r')),
            b't' => Some(Some(b'\t')),
            b'v' => Some(Some(11)),
            _ => None,
        };
        if let Some(byte) = simple {
            out.extend(byte);
            return Ok(());
        }
        let code: u32 = match e {
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match self.peek() {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            self.pos += 1;
                        }
                        _ => break,
                    }
                }
                if bytes {
                    v & 0xff
                } else {
                    v
                }
            }
            b'x' => self.hex_digits(2, at)?,
            b'u' if !bytes => self.hex_digits(4, at)?,
            b'U' if !bytes => self.hex_digits(8, at)?,
            b'N' if !bytes => {
                return Err(error_at(FORMAT, at, "\\N{name} escapes are not supported"))
            }
            _ => {
                // Python keeps unknown escapes as they are (backslash included).
                out.push(b'\\');
                self.pos -= 1;
                return Ok(());
            }
        };
        if bytes {
            out.push(code as u8);
        } else {
            let c = char::from_u32(code).ok_or_else(|| {
                error_at(
                    FORMAT,
                    at,
                    "escape is not a Unicode scalar value (lone surrogate or beyond U+10FFFF)",
                )
            })?;
            let mut b = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
        }
        Ok(())
    }

    fn hex_digits(&mut self, n: usize, at: usize) -> Result<u32, RemoteError> {
        let mut v = 0u32;
        for _ in 0..n {
            let d = self
                .peek()
                .and_then(|c| (c as char).to_digit(16))
                .ok_or_else(|| error_at(FORMAT, at, "truncated \\x, \\u or \\U escape"))?;
            v = v.wrapping_mul(16).wrapping_add(d);
            self.pos += 1;
        }
        Ok(v)
    }

    /// Parses comma-separated values up to `close`, allowing a trailing comma. Returns the items
    /// and whether any comma was seen.
    fn items(
        &mut self,
        close: u8,
        mut items: Vec<Value>,
    ) -> Result<(Vec<Value>, bool), RemoteError> {
        let mut comma = false;
        loop {
            self.skip_ws()?;
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok((items, comma));
            }
            if !items.is_empty() {
                if self.peek() != Some(b',') {
                    return Err(self.err(format_args!("expecting ',' or {:?}", close as char)));
                }
                self.pos += 1;
                comma = true;
                self.skip_ws()?;
                if self.peek() == Some(close) {
                    self.pos += 1;
                    return Ok((items, comma));
                }
            }
            self.budget.items(1, self.pos)?;
            items.push(self.value()?);
        }
    }

    /// `()`, `(x)`, `(x,)` or `(x, y, ...)`.
    fn paren(&mut self) -> Result<Value, RemoteError> {
        self.budget.enter(self.pos)?;
        self.pos += 1;
        self.skip_ws()?;
        let v = if self.peek() == Some(b')') {
            self.pos += 1;
            Value::Tuple(Vec::new())
        } else {
            self.budget.items(1, self.pos)?;
            let first = self.value()?;
            let (items, comma) = self.items(b')', started(first))?;
            if comma {
                Value::Tuple(items)
            } else {
                // `(x)` is x itself; undo the item it was counted as.
                items.into_iter().next().unwrap_or(Value::None)
            }
        };
        self.budget.leave();
        Ok(v)
    }

    fn list(&mut self) -> Result<Value, RemoteError> {
        self.budget.enter(self.pos)?;
        self.pos += 1;
        let (items, _) = self.items(b']', Vec::new())?;
        self.budget.leave();
        Ok(Value::List(items))
    }

    /// `{}`, a dict or a set.
    fn brace(&mut self) -> Result<Value, RemoteError> {
        let open = self.pos;
        self.budget.enter(self.pos)?;
        self.pos += 1;
        self.skip_ws()?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.budget.leave();
            return Ok(Value::Map(Vec::new()));
        }
        self.budget.items(1, self.pos)?;
        let key_at = self.pos;
        let first = self.value()?;
        self.skip_ws()?;
        if self.peek() != Some(b':') {
            let (items, _) = self.items(b'}', started(first))?;
            if !items.iter().all(hashable) {
                return Err(error_at(FORMAT, open, "unhashable set element"));
            }
            self.budget.leave();
            return Ok(Value::Set(items));
        }
        let mut entries = Vec::new();
        let mut key = first;
        let mut key_at = key_at;
        loop {
            if !hashable(&key) {
                return Err(error_at(FORMAT, key_at, "unhashable dict key"));
            }
            self.skip_ws()?;
            if self.peek() != Some(b':') {
                return Err(self.err("expecting ':'"));
            }
            self.pos += 1;
            self.skip_ws()?;
            let value = self.value()?;
            entries.push((key, value));
            self.skip_ws()?;
            match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws()?;
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        break;
                    }
                    self.budget.items(1, self.pos)?;
                    key_at = self.pos;
                    key = self.value()?;
                }
                _ => return Err(self.err("expecting ',' or '}'")),
            }
        }
        self.budget.leave();
        Ok(special_dict(entries))
    }
}

pub(super) fn negate(v: Value) -> Value {
    match v {
        Value::Int(i) => match i.checked_neg() {
            Some(n) => Value::Int(n),
            None => Value::from_bigint(-BigInt::from(i)),
        },
        Value::BigInt(b) => Value::from_bigint(-b),
        Value::Float(x) => Value::Float(-x),
        other => other,
    }
}

/// Turns serpent's stand-ins back into values: the base64 bytes dict into `Bytes` and the
/// `float` class dict (serpent's NaN) into `Float`. Any other dict stays a map.
pub(super) fn special_dict(entries: Vec<(Value, Value)>) -> Value {
    if entries.len() == 2 {
        let get = |name: &str| {
            entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(name))
                .and_then(|(_, v)| v.as_str())
        };
        if let (Some(data), Some("base64")) = (get("data"), get("encoding")) {
            if let Ok(b) = base64::engine::general_purpose::STANDARD.decode(data) {
                return Value::Bytes(b);
            }
        }
        if let (Some("float"), Some(value)) = (get("__class__"), get("value")) {
            if let Ok(x) = value.trim().parse::<f64>() {
                return Value::Float(x);
            }
        }
    }
    Value::Map(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inline check and the loop behind it agree on every byte: the loop moves on (or
    /// refuses a bad continuation) exactly where the check calls it, so nothing the loop would
    /// skip is left unskipped.
    #[test]
    fn the_inline_skip_check_agrees_with_the_loop() {
        let limits = Limits::default();
        for b in 0..=255u8 {
            let s = [b, b'1'];
            let mut p = Parser {
                s: &s,
                text: "",
                plain: true,
                pos: 0,
                budget: Budget::new(FORMAT, &limits),
            };
            let acted = !matches!(p.skip_ws_loop(), Ok(())) || p.pos > 0;
            assert_eq!(acted, opens_skip(b), "byte {b:#04x}");
        }
    }
}
