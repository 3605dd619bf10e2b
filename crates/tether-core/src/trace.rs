//! [`TraceContext`]: W3C trace context (`traceparent`, `tracestate`) as it travels with a call,
//! and how each wire carries it and the caller's deadline.
//!
//! A client that records spans puts its span's context on [`CallContext::trace`](crate::CallContext::trace)
//! before the wire encodes the call; the wire writes it out (HTTP headers for Hessian and
//! XML-RPC, message annotations for Pyro4 and Pyro5, where the trace id is also the message's
//! correlation id that Python peers read as `current_context.correlation_id`), and the server's
//! wire reads it back into the context of the call it decodes. The deadline travels as the time
//! left, in milliseconds, so the two machines' clocks never need to agree.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The HTTP header of the trace parent (W3C).
pub const TRACEPARENT_HEADER: &str = "traceparent";
/// The HTTP header of the vendor trace state (W3C).
pub const TRACESTATE_HEADER: &str = "tracestate";
/// The HTTP header of the time the caller still waits, in whole milliseconds.
pub const TIMEOUT_HEADER: &str = "tether-timeout-ms";
/// The Pyro annotation of the trace parent (the 55 ASCII bytes of the header's value).
pub const TRACEPARENT_ANNOTATION: &str = "TRPA";
/// The Pyro annotation of the trace state (the header's value).
pub const TRACESTATE_ANNOTATION: &str = "TRST";
/// The Pyro annotation of the time the caller still waits (decimal milliseconds, ASCII).
pub const TIMEOUT_ANNOTATION: &str = "TMOT";

/// Most bytes of a `tracestate` value read from the wire (W3C allows 32 members of 256 bytes;
/// longer values are dropped, not truncated).
pub const MAX_TRACESTATE: usize = 512;

/// One position in a trace: the trace, the span that is the parent of what comes next, and
/// the sampling flag.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TraceContext {
    /// The trace's 16-byte id (never all zero).
    pub trace_id: [u8; 16],
    /// The parent span's 8-byte id; all zero when only the trace is known (a Pyro peer sent a
    /// correlation id and no `traceparent`).
    pub span_id: [u8; 8],
    /// W3C trace flags (bit 0: sampled).
    pub flags: u8,
    /// The vendor trace state, passed on unchanged. Default `None`.
    pub state: Option<Arc<str>>,
}

impl TraceContext {
    /// A context from its parts (sampled).
    pub fn new(trace_id: [u8; 16], span_id: [u8; 8]) -> Self {
        TraceContext {
            trace_id,
            span_id,
            flags: 1,
            state: None,
        }
    }

    /// Whether the sampled flag is set.
    pub fn is_sampled(&self) -> bool {
        self.flags & 1 == 1
    }

    /// Whether a parent span is known (the span id is not all zero).
    pub fn has_parent(&self) -> bool {
        self.span_id != [0; 8]
    }

    /// Reads a `traceparent` value (version 00, or a later version read as 00 demands). Any
    /// other text, an all-zero trace or span id, or version `ff`, is `None`: a bad header is
    /// ignored, as W3C asks, never an error for the call.
    pub fn parse_traceparent(text: &str) -> Option<Self> {
        let t = text.trim().as_bytes();
        if t.len() < 55 {
            return None;
        }
        let version = hex_byte(&t[0..2])?;
        if version == 0xff || (version == 0 && t.len() != 55) || (t.len() > 55 && t[55] != b'-') {
            return None;
        }
        if t[2] != b'-' || t[35] != b'-' || t[52] != b'-' {
            return None;
        }
        let mut trace_id = [0u8; 16];
        for (i, b) in trace_id.iter_mut().enumerate() {
            *b = hex_byte(&t[3 + 2 * i..5 + 2 * i])?;
        }
        let mut span_id = [0u8; 8];
        for (i, b) in span_id.iter_mut().enumerate() {
            *b = hex_byte(&t[36 + 2 * i..38 + 2 * i])?;
        }
        let flags = hex_byte(&t[53..55])?;
        if trace_id == [0; 16] || span_id == [0; 8] {
            return None;
        }
        Some(TraceContext {
            trace_id,
            span_id,
            flags,
            state: None,
        })
    }

    /// The same context with `state` as its trace state (dropped when longer than
    /// [`MAX_TRACESTATE`] or not printable ASCII).
    pub fn with_state(mut self, state: Option<&str>) -> Self {
        self.state = state
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= MAX_TRACESTATE)
            .filter(|s| s.bytes().all(|b| (0x20..0x7f).contains(&b)))
            .map(Arc::from);
        self
    }

    /// The `traceparent` value: `00-<trace>-<span>-<flags>`.
    pub fn traceparent(&self) -> String {
        let mut s = String::with_capacity(55);
        s.push_str("00-");
        push_hex(&mut s, &self.trace_id);
        s.push('-');
        push_hex(&mut s, &self.span_id);
        let _ = write!(s, "-{:02x}", self.flags);
        s
    }

    /// The trace id as 32 lowercase hex digits.
    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }
}

/// `bytes` as lowercase hex digits, the form trace and span ids take in text (`traceparent`,
/// OTLP's JSON).
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push_hex(&mut s, bytes);
    s
}

fn push_hex(s: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
}

fn hex_byte(two: &[u8]) -> Option<u8> {
    let d = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    Some(d(two[0])? << 4 | d(two[1])?)
}

/// The time left until `deadline`, as the wires write it (whole milliseconds, at least 1 so a
/// deadline that is about to pass still reads as one).
pub fn timeout_text(deadline: Instant) -> String {
    let left = deadline.saturating_duration_since(Instant::now());
    left.as_millis().clamp(1, u64::MAX as u128).to_string()
}

/// Reads a time left written by [`timeout_text`] back into a deadline from now. Anything but
/// 1 to 10 decimal digits is `None` (ignored). Values are capped at 30 days.
pub fn parse_timeout(text: &[u8]) -> Option<Instant> {
    let t = text.trim_ascii();
    if t.is_empty() || t.len() > 10 || !t.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let ms: u64 = std::str::from_utf8(t).ok()?.parse().ok()?;
    let ms = ms.min(30 * 24 * 3600 * 1000);
    Instant::now().checked_add(Duration::from_millis(ms))
}

/// What travels with a call besides its arguments, as text: the trace parent and state and
/// the time left. A wire writes each field that is set in its own form (headers, annotations).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outgoing {
    /// The `traceparent` value.
    pub traceparent: Option<String>,
    /// The `tracestate` value.
    pub tracestate: Option<Arc<str>>,
    /// The time left, in milliseconds ([`timeout_text`]).
    pub timeout_ms: Option<String>,
}

impl Outgoing {
    /// What `context` sends: its trace, and the earlier of its deadline and `timeout` from now
    /// (a proxy's own timeout is the caller's deadline too).
    pub fn of(context: &crate::CallContext, timeout: Option<Duration>) -> Outgoing {
        let by_timeout = timeout.and_then(|t| Instant::now().checked_add(t));
        let deadline = match (context.deadline, by_timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let trace = context.trace.as_ref().filter(|t| t.has_parent());
        Outgoing {
            traceparent: trace.map(TraceContext::traceparent),
            tracestate: trace.and_then(|t| t.state.clone()),
            timeout_ms: deadline.map(timeout_text),
        }
    }

    /// Whether nothing is to be sent.
    pub fn is_empty(&self) -> bool {
        self.traceparent.is_none() && self.timeout_ms.is_none()
    }
}

/// Reads what a server got (`traceparent`, `tracestate`, time left; each `None` when absent)
/// into `context`: the trace, and the deadline (the earlier of the caller's and one already
/// set). A bad value is ignored.
pub fn apply_incoming(
    context: &mut crate::CallContext,
    traceparent: Option<&[u8]>,
    tracestate: Option<&[u8]>,
    timeout: Option<&[u8]>,
) {
    let (trace, deadline) = read_incoming(traceparent, tracestate, timeout);
    if trace.is_some() {
        context.trace = trace;
    }
    if let Some(d) = deadline {
        context.deadline = Some(context.deadline.map_or(d, |e| e.min(d)));
    }
}

/// What [`apply_incoming`] reads, without a context: the trace and the deadline.
pub fn read_incoming(
    traceparent: Option<&[u8]>,
    tracestate: Option<&[u8]>,
    timeout: Option<&[u8]>,
) -> (Option<TraceContext>, Option<Instant>) {
    let trace = traceparent
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(TraceContext::parse_traceparent)
        .map(|t| t.with_state(tracestate.and_then(|b| std::str::from_utf8(b).ok())));
    (trace, timeout.and_then(parse_timeout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_round_trips_and_rejects_bad_text() {
        let text = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let t = TraceContext::parse_traceparent(text).expect("valid");
        assert_eq!(t.traceparent(), text);
        assert!(t.is_sampled());
        assert_eq!(t.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceContext::parse_traceparent(bad), None, "{bad}");
        }
        // A later version may add fields after a dash.
        let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what";
        assert!(TraceContext::parse_traceparent(later).is_some());
    }

    #[test]
    fn trace_state_is_bounded() {
        let t = TraceContext::new([1; 16], [2; 8]);
        assert_eq!(
            t.clone().with_state(Some("a=b")).state.as_deref(),
            Some("a=b")
        );
        assert_eq!(t.clone().with_state(Some(&"x".repeat(600))).state, None);
        assert_eq!(t.with_state(Some("a=\u{1}")).state, None);
    }

    #[test]
    fn timeouts_read_only_digits() {
        assert!(parse_timeout(b"1500").is_some());
        for bad in [&b""[..], b"-1", b"1.5", b"99999999999", b"12a"] {
            assert!(parse_timeout(bad).is_none());
        }
        let later = Instant::now() + Duration::from_secs(2);
        let ms: u64 = timeout_text(later).parse().unwrap_or(0);
        assert!((1900..=2000).contains(&ms), "{ms}");
    }
}
