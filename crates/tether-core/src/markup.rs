//! Markup checks that must run before an XML parser sees a document: the parsers tether uses
//! recurse once per nesting level (a hostile document must not exhaust the stack) and check
//! duplicate attributes in quadratic time, so depth and attribute counts are bounded first by a
//! linear scan. Used by the context loader and the XML-RPC codec.

/// The first place where elements nest deeper than `max_depth` or an element has more than
/// `max_attributes` attributes (line, what), by one linear pass over the markup:
/// comments, CDATA, processing instructions and declarations are skipped, quoted attribute
/// values may hold `>`. Malformed markup is left to the parser to report.
pub fn prescan(text: &str, max_depth: usize, max_attributes: usize) -> Option<(u32, String)> {
    let b = text.as_bytes();
    let find = |from: usize, pat: &[u8]| {
        b.get(from..)
            .and_then(|rest| rest.windows(pat.len()).position(|w| w == pat))
            .map(|p| from + p + pat.len())
    };
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(p) = b.get(i..).and_then(|r| r.iter().position(|&c| c == b'<')) {
        let at = i + p;
        let rest = &b[at + 1..];
        i = if rest.starts_with(b"!--") {
            find(at, b"-->")?
        } else if rest.starts_with(b"![CDATA[") {
            find(at, b"]]>")?
        } else if rest.starts_with(b"?") {
            find(at, b"?>")?
        } else if rest.starts_with(b"!") {
            find(at, b">")?
        } else if rest.starts_with(b"/") {
            depth = depth.saturating_sub(1);
            find(at, b">")?
        } else {
            // A start tag: up to its `>`, skipping quoted attribute values.
            let line = || b[..at].iter().filter(|&&c| c == b'\n').count() as u32 + 1;
            let mut j = at + 1;
            let mut quote = None;
            let mut attributes = 0usize;
            while j < b.len() {
                match (quote, b[j]) {
                    (Some(q), c) if c == q => quote = None,
                    (None, c @ (b'"' | b'\'')) => quote = Some(c),
                    (None, b'=') => attributes += 1,
                    (None, b'>') => break,
                    _ => {}
                }
                j += 1;
            }
            if j >= b.len() {
                return None;
            }
            if attributes > max_attributes {
                return Some((
                    line(),
                    format!("an element has more than the {max_attributes} attributes allowed"),
                ));
            }
            if b[j - 1] != b'/' {
                depth += 1;
                if depth > max_depth {
                    return Some((
                        line(),
                        format!("elements nested more than the {max_depth} levels allowed"),
                    ));
                }
            }
            j + 1
        };
    }
    None
}
