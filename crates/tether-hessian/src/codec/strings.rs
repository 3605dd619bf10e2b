//! Hessian strings: lengths count UTF-16 code units, and a character outside the Basic
//! Multilingual Plane travels as its two surrogates, each written as a 3-byte UTF-8-style
//! sequence (CESU-8), because that is what Java's `String` holds and what Caucho's reader
//! accepts (it refuses 4-byte UTF-8). The reader also accepts 4-byte UTF-8 (two units), as
//! some writers send it.

use super::DecodeError;

/// Writes `s` as Hessian string data: `(utf16_units, bytes)` appended to `out`.
pub fn encode_units(s: &str, out: &mut Vec<u8>) -> usize {
    if let Some(units) = bmp_units(s) {
        out.extend_from_slice(s.as_bytes());
        return units;
    }
    let mut units = 0;
    for c in s.chars() {
        let cp = c as u32;
        if cp < 0x10000 {
            let mut b = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            units += 1;
        } else {
            let v = cp - 0x10000;
            for sur in [0xD800 + (v >> 10), 0xDC00 + (v & 0x3ff)] {
                out.push(0xE0 | (sur >> 12) as u8);
                out.push(0x80 | ((sur >> 6) & 0x3f) as u8);
                out.push(0x80 | (sur & 0x3f) as u8);
            }
            units += 2;
        }
    }
    units
}

/// How many UTF-16 units `s` has if it has no character beyond the BMP, the only kind Hessian
/// writes differently from UTF-8 (as two 3-byte surrogates): its UTF-8 is then its Hessian
/// string data as it is, one unit per character. `None` for a string with such a character.
pub fn bmp_units(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    if bytes.iter().any(|&b| b >= 0xF0) {
        return None;
    }
    Some(bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count())
}

/// How many UTF-16 units `s` has.
pub fn utf16_len(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) < 0x10000 { 1 } else { 2 })
        .sum()
}

/// The byte length of the longest prefix of `s` with at most `max_units` UTF-16 units that
/// does not split a surrogate pair (a chunk boundary).
pub fn split_at_units(s: &str, max_units: usize) -> usize {
    let mut units = 0;
    for (i, c) in s.char_indices() {
        let n = if (c as u32) < 0x10000 { 1 } else { 2 };
        if units + n > max_units {
            return i;
        }
        units += n;
    }
    s.len()
}

/// Reads string data of `units` UTF-16 units from `buf` at `*pos`, appending to `out`.
/// `pending` carries a high surrogate that ended the previous chunk.
pub fn decode_units(
    buf: &[u8],
    pos: &mut usize,
    units: usize,
    out: &mut String,
    pending: &mut Option<u32>,
) -> Result<(), DecodeError> {
    let mut left = units;
    // All ASCII (most strings): the units are the bytes, checked a word at a time. The first
    // chunk of a string (most strings are one) becomes it in one allocation of its size.
    if pending.is_none() {
        if let Some(text) = pos
            .checked_add(units)
            .and_then(|end| buf.get(*pos..end))
            .filter(|b| b.is_ascii())
            .and_then(|b| std::str::from_utf8(b).ok())
        {
            if out.is_empty() {
                *out = text.to_owned();
            } else {
                out.push_str(text);
            }
            *pos += units;
            return Ok(());
        }
    }
    // Room for the text at once: each unit takes a byte at least, so what is left of the
    // buffer bounds it whatever the length field says.
    out.reserve(units.min(buf.len().saturating_sub(*pos)));
    while left > 0 {
        let at = *pos;
        // A run of ASCII (most of most strings) is taken at once.
        if pending.is_none() {
            let run = buf
                .get(at..)
                .unwrap_or_default()
                .iter()
                .take(left)
                .take_while(|b| b.is_ascii())
                .count();
            if let Some(text) = buf
                .get(at..at + run)
                .and_then(|b| std::str::from_utf8(b).ok())
            {
                if run > 0 {
                    out.push_str(text);
                    *pos = at + run;
                    left -= run;
                    continue;
                }
            }
        }
        let b0 = *buf.get(at).ok_or_else(|| DecodeError::truncated(at))?;
        let (cp, len) = if b0 < 0x80 {
            (u32::from(b0), 1)
        } else if b0 & 0xE0 == 0xC0 {
            (u32::from(b0 & 0x1f), 2)
        } else if b0 & 0xF0 == 0xE0 {
            (u32::from(b0 & 0x0f), 3)
        } else if b0 & 0xF8 == 0xF0 {
            (u32::from(b0 & 0x07), 4)
        } else {
            return Err(DecodeError::at(at, "bad utf-8 encoding"));
        };
        if buf.len() < at + len {
            return Err(DecodeError::truncated(at));
        }
        let mut cp = cp;
        for k in 1..len {
            let b = buf[at + k];
            if b & 0xC0 != 0x80 {
                return Err(DecodeError::at(at + k, "bad utf-8 encoding"));
            }
            cp = (cp << 6) | u32::from(b & 0x3f);
        }
        // Overlong forms are refused (they would hide characters from checks).
        let min = [0, 0, 0x80, 0x800, 0x10000][len];
        if cp < min {
            return Err(DecodeError::at(at, "overlong utf-8 encoding"));
        }
        *pos = at + len;
        if len == 4 {
            if left < 2 {
                return Err(DecodeError::at(
                    at,
                    "a 4-byte character does not fit the string length",
                ));
            }
            left -= 2;
        } else {
            left -= 1;
        }
        match (pending.take(), cp) {
            (None, 0xD800..=0xDBFF) => *pending = Some(cp),
            (Some(hi), 0xDC00..=0xDFFF) => {
                let c = 0x10000 + ((hi - 0xD800) << 10) + (cp - 0xDC00);
                out.push(
                    char::from_u32(c).ok_or_else(|| DecodeError::at(at, "bad surrogate pair"))?,
                );
            }
            (Some(_), _) | (None, 0xDC00..=0xDFFF) => {
                return Err(DecodeError::at(at, "lone surrogate in string"));
            }
            (None, c) => {
                out.push(char::from_u32(c).ok_or_else(|| DecodeError::at(at, "bad code point"))?)
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_bmp_is_two_three_byte_surrogates() {
        // Caucho writes "a😀" as 03 61 ed a0 bd ed b8 80 (3 units).
        let mut out = Vec::new();
        assert_eq!(encode_units("a😀", &mut out), 3);
        assert_eq!(out, [0x61, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]);
        let (mut pos, mut s, mut p) = (0, String::new(), None);
        decode_units(&out, &mut pos, 3, &mut s, &mut p).unwrap();
        assert_eq!((s.as_str(), p), ("a😀", None));
        // 4-byte UTF-8 is accepted as two units
        let four = "😀".as_bytes();
        let (mut pos, mut s, mut p) = (0, String::new(), None);
        decode_units(four, &mut pos, 2, &mut s, &mut p).unwrap();
        assert_eq!(s, "😀");
        // a lone low surrogate is refused, a truncated sequence too
        let (mut pos, mut s, mut p) = (0, String::new(), None);
        assert!(decode_units(&[0xed, 0xb8, 0x80], &mut pos, 1, &mut s, &mut p).is_err());
        let (mut pos, mut s, mut p) = (0, String::new(), None);
        assert!(decode_units(&[0xe2, 0x82], &mut pos, 1, &mut s, &mut p).is_err());
        assert_eq!(split_at_units("ab😀c", 3), 2);
        // ASCII runs and 2- and 3-byte characters around them, both ways; a high surrogate
        // that ends one chunk pairs with the low one that starts the next
        let text = "plain ascii, é and € and 😀 then ascii again";
        let mut out = Vec::new();
        let units = encode_units(text, &mut out);
        assert_eq!(units, utf16_len(text));
        let (mut pos, mut s, mut p) = (0, String::new(), None);
        decode_units(&out, &mut pos, units, &mut s, &mut p).unwrap();
        assert_eq!((s.as_str(), pos, p), (text, out.len(), None));
        let mut out = Vec::new();
        assert_eq!(encode_units("é€x", &mut out), 3);
        assert_eq!(out, "é€x".as_bytes());
        let (mut pos, mut s, mut p) = (0, String::new(), None);
        decode_units(&[0x61, 0xed, 0xa0, 0xbd], &mut pos, 2, &mut s, &mut p).unwrap();
        assert_eq!((s.as_str(), p), ("a", Some(0xD83D)));
        decode_units(&[0xed, 0xb8, 0x80, 0x62], &mut { 0 }, 2, &mut s, &mut p).unwrap();
        assert_eq!((s.as_str(), p), ("a😀b", None));
        // a high surrogate followed by ASCII is still a lone surrogate
        let (mut s, mut p) = (String::new(), Some(0xD83D));
        assert!(decode_units(b"x", &mut 0, 1, &mut s, &mut p).is_err());
        assert_eq!(utf16_len("ab😀c"), 5);
    }
}
