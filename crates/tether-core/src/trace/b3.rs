//! Zipkin's B3 trace headers, in their single-header form (`b3: {trace}-{span}-{sampled}`) and
//! their multi-header form (`X-B3-TraceId`, `X-B3-SpanId`, `X-B3-Sampled`), read and written
//! as OpenTelemetry's B3 propagator does: a 64-bit trace id is widened to 128 bits with zeros
//! in front, a missing sampling state reads as not sampled, debug (`d`, `X-B3-Flags: 1`) as
//! sampled, the parent span id is not sent (the receiver does not need it). Anything malformed
//! is ignored, never an error for the call.

use super::{hex_byte, push_hex, TraceContext};

/// The single B3 header.
pub const B3_HEADER: &str = "b3";
/// The multi-header form's trace id.
pub const B3_TRACE_ID_HEADER: &str = "X-B3-TraceId";
/// The multi-header form's span id.
pub const B3_SPAN_ID_HEADER: &str = "X-B3-SpanId";
/// The multi-header form's sampling decision (`1` or `0`).
pub const B3_SAMPLED_HEADER: &str = "X-B3-Sampled";
/// The multi-header form's debug flag (`1`: sampled).
pub const B3_FLAGS_HEADER: &str = "X-B3-Flags";

/// A 16- or 32-digit lowercase hex trace id (16 digits are the low half), not all zero.
fn trace_id(hex: &[u8]) -> Option<[u8; 16]> {
    let mut id = [0u8; 16];
    let skip = match hex.len() {
        32 => 0,
        16 => 8,
        _ => return None,
    };
    for (i, b) in id[skip..].iter_mut().enumerate() {
        *b = hex_byte(hex.get(2 * i..2 * i + 2)?)?;
    }
    (id != [0; 16]).then_some(id)
}

/// A 16-digit lowercase hex span id, not all zero.
fn span_id(hex: &[u8]) -> Option<[u8; 8]> {
    if hex.len() != 16 {
        return None;
    }
    let mut id = [0u8; 8];
    for (i, b) in id.iter_mut().enumerate() {
        *b = hex_byte(&hex[2 * i..2 * i + 2])?;
    }
    (id != [0; 8]).then_some(id)
}

fn context(trace_id: [u8; 16], span_id: [u8; 8], sampled: bool) -> TraceContext {
    TraceContext {
        trace_id,
        span_id,
        flags: u8::from(sampled),
        state: None,
    }
}

/// Reads a single `b3` header: `{trace}-{span}`, then optionally `-{1|0|d}` and
/// `-{parent span}`. A value of only a sampling state (`0`, `1`, `d`) carries no trace: `None`.
pub fn parse_single(value: &[u8]) -> Option<TraceContext> {
    let mut parts = value.trim_ascii().split(|&b| b == b'-');
    let trace = trace_id(parts.next()?)?;
    let span = span_id(parts.next()?)?;
    let sampled = match parts.next() {
        None => false,
        Some(b"1" | b"d") => true,
        Some(b"0") => false,
        Some(_) => return None,
    };
    if let Some(parent) = parts.next() {
        span_id(parent)?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(context(trace, span, sampled))
}

/// Reads the multi-header form: the trace and span ids (both needed), `X-B3-Sampled` (`1` or
/// `true`: sampled) and `X-B3-Flags` (`1`: debug, sampled).
pub fn parse_multi(
    trace: &[u8],
    span: &[u8],
    sampled: Option<&[u8]>,
    flags: Option<&[u8]>,
) -> Option<TraceContext> {
    let trace = trace_id(trace.trim_ascii())?;
    let span = span_id(span.trim_ascii())?;
    let sampled = matches!(
        sampled.map(<[u8]>::trim_ascii),
        Some(b"1") | Some(b"true") | Some(b"True")
    ) || flags.map(<[u8]>::trim_ascii) == Some(b"1");
    Some(context(trace, span, sampled))
}

fn sampled_digit(t: &TraceContext) -> char {
    if t.is_sampled() {
        '1'
    } else {
        '0'
    }
}

/// The single header's value for `t`: `{trace}-{span}-{1|0}`.
pub fn single(t: &TraceContext) -> String {
    let mut s = String::with_capacity(51);
    push_hex(&mut s, &t.trace_id);
    s.push('-');
    push_hex(&mut s, &t.span_id);
    s.push('-');
    s.push(sampled_digit(t));
    s
}

/// The multi-header form's three headers for `t`.
pub fn multi(t: &TraceContext) -> [(&'static str, String); 3] {
    let mut trace = String::with_capacity(32);
    push_hex(&mut trace, &t.trace_id);
    let mut span = String::with_capacity(16);
    push_hex(&mut span, &t.span_id);
    [
        (B3_TRACE_ID_HEADER, trace),
        (B3_SPAN_ID_HEADER, span),
        (B3_SAMPLED_HEADER, sampled_digit(t).to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "80f198ee56343ba864fe8b2a57d3eff7";
    const SPAN: &str = "e457b5a2e4d86bd1";

    #[test]
    fn single_header_reads_what_zipkin_writes() {
        let full = format!("{TRACE}-{SPAN}-1-05e3ac9a4f6e3b90");
        let t = parse_single(full.as_bytes()).expect("valid");
        assert_eq!(t.trace_id_hex(), TRACE);
        assert_eq!(super::super::hex(&t.span_id), SPAN);
        assert!(t.is_sampled());
        assert_eq!(single(&t), format!("{TRACE}-{SPAN}-1"));
        // 64-bit trace ids are the low half; debug is sampled; no state is not sampled.
        let short = parse_single(format!("64fe8b2a57d3eff7-{SPAN}-d").as_bytes()).expect("64");
        assert_eq!(
            short.trace_id_hex(),
            format!("{}64fe8b2a57d3eff7", "0".repeat(16))
        );
        assert!(short.is_sampled());
        let deferred = parse_single(format!("{TRACE}-{SPAN}").as_bytes()).expect("deferred");
        assert!(!deferred.is_sampled());
        assert_eq!(single(&deferred), format!("{TRACE}-{SPAN}-0"));
        for bad in [
            "0".to_string(),
            "d".into(),
            format!("{TRACE}-{SPAN}-x"),
            format!("{TRACE}-0000000000000000-1"),
            format!("{}-{SPAN}-1", "0".repeat(32)),
            format!("{TRACE}-{SPAN}-1-{SPAN}-extra"),
            format!("{}-{SPAN}-1", TRACE.to_uppercase()),
            format!("{TRACE}1-{SPAN}-1"),
            format!("{TRACE}-{SPAN}-1-zz"),
            String::new(),
        ] {
            assert_eq!(parse_single(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn multi_headers_round_trip() {
        let t = parse_multi(TRACE.as_bytes(), SPAN.as_bytes(), Some(b"1"), None).expect("valid");
        let h = multi(&t);
        assert_eq!(h[0], (B3_TRACE_ID_HEADER, TRACE.to_string()));
        assert_eq!(h[1], (B3_SPAN_ID_HEADER, SPAN.to_string()));
        assert_eq!(h[2], (B3_SAMPLED_HEADER, "1".to_string()));
        let debug = parse_multi(TRACE.as_bytes(), SPAN.as_bytes(), None, Some(b"1"));
        assert!(debug.is_some_and(|t| t.is_sampled()));
        let off = parse_multi(TRACE.as_bytes(), SPAN.as_bytes(), Some(b"0"), None);
        assert!(off.is_some_and(|t| !t.is_sampled()));
        assert_eq!(parse_multi(TRACE.as_bytes(), b"", Some(b"1"), None), None);
        assert_eq!(parse_multi(b"xyz", SPAN.as_bytes(), None, None), None);
    }
}
