//! The text arguments of protocol 0: a Python 2 `str` literal (`STRING`) and a
//! raw-unicode-escape line (`UNICODE`).

/// Reads `'...'` or `"..."` with Python 2's escapes into bytes; `None` if it is not one.
pub(super) fn unquote_string(t: &[u8]) -> Option<Vec<u8>> {
    let (&q, rest) = t.split_first()?;
    if (q != b'\'' && q != b'"') || rest.last() != Some(&q) {
        return None;
    }
    let body = &rest[..rest.len() - 1];
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        i += 1;
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let e = *body.get(i)?;
        i += 1;
        match e {
            b'\\' => out.push(b'\\'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'\n' => {}
            b'x' => {
                let h = body.get(i..i + 2)?;
                out.push(u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?);
                i += 2;
            }
            b'0'..=b'7' => {
                let mut v = (e - b'0') as u32;
                for _ in 0..2 {
                    match body.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + (d - b'0') as u32;
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Some(out)
}

/// Decodes raw-unicode-escape: bytes are Latin-1 characters, except `\uXXXX` and
/// `\UXXXXXXXX`.
pub(super) fn raw_unicode_escape(t: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        let b = t[i];
        if b == b'\\' && matches!(t.get(i + 1), Some(b'u') | Some(b'U')) {
            let n = if t[i + 1] == b'u' { 4 } else { 8 };
            let h = t.get(i + 2..i + 2 + n)?;
            let v = u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
            out.push(char::from_u32(v)?);
            i += 2 + n;
        } else {
            out.push(b as char);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python2_string_literals() {
        assert_eq!(unquote_string(b"'abc'").unwrap(), b"abc");
        assert_eq!(
            unquote_string(br#"'a\'b\\c\n\x00\xff'"#).unwrap(),
            b"a'b\\c\n\x00\xff"
        );
        assert_eq!(unquote_string(br#""it's""#).unwrap(), b"it's");
        assert_eq!(unquote_string(br"'\101\7'").unwrap(), b"A\x07");
        assert!(unquote_string(b"abc").is_none());
        assert!(unquote_string(b"'abc").is_none());
        assert!(unquote_string(br"'\x4'").is_none());
    }

    #[test]
    fn raw_unicode_escape_lines() {
        assert_eq!(raw_unicode_escape(b"caf\xe9").unwrap(), "café");
        assert_eq!(raw_unicode_escape(br"\u20ac \U0001f600").unwrap(), "€ 😀");
        assert!(raw_unicode_escape(br"\ud800").is_none());
    }
}
