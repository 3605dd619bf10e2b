//! W3C baggage: `key=value` pairs a caller attaches to a request, which travel on with every
//! call made while serving it (the `baggage` header on HTTP wires, the `BAGG` annotation on
//! Pyro4 and Pyro5). tether carries the header's text as it came, checked but not rewritten,
//! and reads or adds single entries on request.

use std::sync::Arc;

/// The HTTP header.
pub const BAGGAGE_HEADER: &str = "baggage";
/// The Pyro annotation (the header's value).
pub const BAGGAGE_ANNOTATION: &str = "BAGG";
/// Most bytes of baggage read from the wire or built (W3C's limit); longer baggage is dropped
/// whole, not cut.
pub const MAX_BAGGAGE: usize = 8192;
/// Most entries (W3C's limit).
pub const MAX_BAGGAGE_ENTRIES: usize = 64;

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// What a value may hold unencoded (W3C's `baggage-octet`).
fn is_value_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e)
}

/// Baggage text as read from the wire (several headers already joined with commas): kept when
/// it is at most [`MAX_BAGGAGE`] bytes with at most [`MAX_BAGGAGE_ENTRIES`] entries, each a
/// token key `=` a value of baggage octets (properties after `;` are kept as they are, in
/// visible ASCII); otherwise `None`, and the call goes on without it.
pub fn checked(text: &[u8]) -> Option<Arc<str>> {
    let t = text.trim_ascii();
    if t.is_empty() || t.len() > MAX_BAGGAGE {
        return None;
    }
    let mut entries = 0;
    for member in t.split(|&b| b == b',') {
        let member = member.trim_ascii();
        if member.is_empty() {
            continue;
        }
        entries += 1;
        let mut parts = member.split(|&b| b == b';');
        let kv = parts.next().unwrap_or_default();
        let eq = kv.iter().position(|&b| b == b'=')?;
        let (k, v) = (kv[..eq].trim_ascii(), kv[eq + 1..].trim_ascii());
        if k.is_empty() || !k.iter().all(|&b| is_token(b)) || !v.iter().all(|&b| is_value_octet(b))
        {
            return None;
        }
        if !parts.all(|p| {
            p.iter()
                .all(|&b| b == b' ' || b == b'\t' || b.is_ascii_graphic())
        }) {
            return None;
        }
    }
    if entries == 0 || entries > MAX_BAGGAGE_ENTRIES {
        return None;
    }
    std::str::from_utf8(t).ok().map(Arc::from)
}

/// `v` with each `%XX` replaced by its byte (invalid UTF-8 replaced, a `%` not followed by two
/// hex digits kept as it is): how baggage values and OpenTelemetry's `k=v` variables are
/// encoded.
pub fn percent_decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(x)) => {
                out.push(x);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The entries of baggage `text`, in order: (key, value with its percent-encoding undone);
/// properties are left out.
pub fn entries(text: &str) -> Vec<(String, String)> {
    text.split(',')
        .filter_map(|m| m.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), percent_decode(v.trim())))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// `text` (if any) with `key` set to `value` (percent-encoded as needed; an entry of the same
/// key is replaced). `None` when `key` is not a token or the result would pass the limits.
pub fn with_entry(text: Option<&str>, key: &str, value: &str) -> Option<Arc<str>> {
    if key.is_empty() || !key.bytes().all(is_token) {
        return None;
    }
    let mut out = String::new();
    for member in text.unwrap_or("").split(',').map(str::trim) {
        let k = member.split(['=', ';']).next().unwrap_or("").trim();
        if !member.is_empty() && k != key {
            out.push_str(member);
            out.push(',');
        }
    }
    out.push_str(key);
    out.push('=');
    for b in value.bytes() {
        if is_value_octet(b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    checked(out.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_valid_baggage_and_drops_the_rest_whole() {
        let b = checked(b" userId=alice, serverNode=DF%2028;prop=1 ,isProduction=false ");
        assert_eq!(
            b.as_deref(),
            Some("userId=alice, serverNode=DF%2028;prop=1 ,isProduction=false")
        );
        let e = entries(b.as_deref().unwrap_or(""));
        assert_eq!(
            e,
            vec![
                ("userId".to_string(), "alice".to_string()),
                ("serverNode".into(), "DF 28".into()),
                ("isProduction".into(), "false".into()),
            ]
        );
        for bad in [
            &b""[..],
            b"novalue",
            b"=v",
            b"k=a b",
            b"k=\"q\"",
            b"k\x01=v",
            b"k=v;\x7f",
        ] {
            assert_eq!(checked(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(
            checked(format!("k={}", "v".repeat(MAX_BAGGAGE)).as_bytes()),
            None
        );
        let many: Vec<String> = (0..=MAX_BAGGAGE_ENTRIES)
            .map(|i| format!("k{i}=v"))
            .collect();
        assert_eq!(checked(many.join(",").as_bytes()), None);
    }

    #[test]
    fn entries_are_added_encoded_and_replaced() {
        let b = with_entry(None, "user", "a b,c;d%").expect("valid");
        assert_eq!(&*b, "user=a%20b%2Cc%3Bd%25");
        assert_eq!(entries(&b), vec![("user".into(), "a b,c;d%".into())]);
        let b = with_entry(Some("x=1,user=old;p"), "user", "new").expect("valid");
        assert_eq!(&*b, "x=1,user=new");
        assert_eq!(with_entry(None, "bad key", "v"), None);
    }
}
