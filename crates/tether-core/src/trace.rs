//! [`TraceContext`]: W3C trace context (`traceparent`, `tracestate`) as it travels with a call,
//! and how each wire carries it and the caller's deadline.
//!
//! A client that records spans puts its span's context on [`CallContext::trace`](crate::CallContext::trace)
//! before the wire encodes the call; the wire writes it out (HTTP headers for Hessian and
//! XML-RPC, message annotations for Pyro4 and Pyro5, where the trace id is also the message's
//! correlation id that Python peers read as `current_context.correlation_id`), and the server's
//! wire reads it back into the context of the call it decodes. The deadline travels as the time
//! left, in milliseconds, so the two machines' clocks never need to agree.
//!
//! Which formats carry the trace and the caller's [baggage] is the process's
//! [`Propagators`] setting (OpenTelemetry's `OTEL_PROPAGATORS`: W3C trace context and baggage
//! by default, Zipkin's [B3](b3) on the HTTP wires on request, or none).

pub mod b3;
pub mod baggage;
mod propagators;

pub use propagators::{propagators, set_propagators, Propagator, Propagators};

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

/// What travels with a call besides its arguments: its trace, its baggage and the time left,
/// in the formats the process's [`Propagators`] name. A wire writes each in its own form:
/// [`Outgoing::headers`] on HTTP, [`Outgoing::annotations`] on Pyro.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// The span to continue, when it is known and a trace propagator is on.
    trace: Option<TraceContext>,
    /// The baggage, when there is some and the baggage propagator is on.
    baggage: Option<Arc<str>>,
    /// The time left, in milliseconds ([`timeout_text`]).
    pub timeout_ms: Option<String>,
    propagators: Propagators,
}

impl Outgoing {
    /// What `context` sends with the process's propagators ([`propagators`]).
    pub fn of(context: &crate::CallContext, timeout: Option<Duration>) -> Outgoing {
        Outgoing::with(context, timeout, propagators())
    }

    /// What `context` sends with `propagators`: its trace, its baggage (or, when it has none,
    /// the baggage of the call being served on this task, so baggage flows through a service
    /// without its code passing it on), and the earlier of its deadline and `timeout` from now
    /// (a proxy's own timeout is the caller's deadline too; the deadline travels whatever
    /// the propagators).
    pub fn with(
        context: &crate::CallContext,
        timeout: Option<Duration>,
        propagators: Propagators,
    ) -> Outgoing {
        let by_timeout = timeout.and_then(|t| Instant::now().checked_add(t));
        let deadline = match (context.deadline, by_timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let trace = context
            .trace
            .as_ref()
            .filter(|t| t.has_parent() && propagators.carries_trace())
            .cloned();
        let baggage = if propagators.carries_baggage() {
            context
                .baggage
                .clone()
                .or_else(crate::CallContext::current_baggage)
        } else {
            None
        };
        Outgoing {
            trace,
            baggage,
            timeout_ms: deadline.map(timeout_text),
            propagators,
        }
    }

    /// Whether nothing is to be sent.
    pub fn is_empty(&self) -> bool {
        self.trace.is_none() && self.baggage.is_none() && self.timeout_ms.is_none()
    }

    /// The trace id sent, if any (Pyro also puts it in the message's correlation id).
    pub fn trace_id(&self) -> Option<[u8; 16]> {
        self.trace.as_ref().map(|t| t.trace_id)
    }

    /// The HTTP headers, in the propagators' order, then the time left.
    pub fn headers(&self, mut add: impl FnMut(&'static str, String)) {
        for p in self.propagators.iter() {
            match (p, &self.trace) {
                (Propagator::TraceContext, Some(t)) => {
                    add(TRACEPARENT_HEADER, t.traceparent());
                    if let Some(s) = &t.state {
                        add(TRACESTATE_HEADER, s.to_string());
                    }
                }
                (Propagator::B3, Some(t)) => add(b3::B3_HEADER, b3::single(t)),
                (Propagator::B3Multi, Some(t)) => {
                    for (k, v) in b3::multi(t) {
                        add(k, v);
                    }
                }
                (Propagator::Baggage, _) => {
                    if let Some(b) = &self.baggage {
                        add(baggage::BAGGAGE_HEADER, b.to_string());
                    }
                }
                _ => {}
            }
        }
        if let Some(t) = &self.timeout_ms {
            add(TIMEOUT_HEADER, t.clone());
        }
    }

    /// The Pyro annotations: the trace in tether's own annotations whenever a trace
    /// propagator is on (B3 has no place on Pyro), the baggage, the time left.
    pub fn annotations(&self, mut add: impl FnMut(&'static str, String)) {
        if let Some(t) = &self.trace {
            add(TRACEPARENT_ANNOTATION, t.traceparent());
            if let Some(s) = &t.state {
                add(TRACESTATE_ANNOTATION, s.to_string());
            }
        }
        if let Some(b) = &self.baggage {
            add(baggage::BAGGAGE_ANNOTATION, b.to_string());
        }
        if let Some(t) = &self.timeout_ms {
            add(TIMEOUT_ANNOTATION, t.clone());
        }
    }
}

/// What a server read with a call (headers on HTTP, annotations on Pyro), as bytes; each
/// field `None` when absent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Incoming<'a> {
    /// `traceparent`.
    pub traceparent: Option<&'a [u8]>,
    /// `tracestate`.
    pub tracestate: Option<&'a [u8]>,
    /// The single `b3` header.
    pub b3: Option<&'a [u8]>,
    /// `X-B3-TraceId`.
    pub b3_trace_id: Option<&'a [u8]>,
    /// `X-B3-SpanId`.
    pub b3_span_id: Option<&'a [u8]>,
    /// `X-B3-Sampled`.
    pub b3_sampled: Option<&'a [u8]>,
    /// `X-B3-Flags`.
    pub b3_flags: Option<&'a [u8]>,
    /// `baggage` (several headers joined with commas).
    pub baggage: Option<&'a [u8]>,
    /// The time left (`tether-timeout-ms`).
    pub timeout: Option<&'a [u8]>,
}

impl Incoming<'_> {
    /// Whether nothing was carried.
    pub fn is_empty(&self) -> bool {
        *self == Incoming::default()
    }

    /// The trace, as `propagators` read it: each trace propagator in turn, a later one that
    /// finds a valid trace replacing an earlier one's (OpenTelemetry's composite order). A bad
    /// value is ignored.
    pub fn trace(&self, propagators: Propagators) -> Option<TraceContext> {
        let mut found = None;
        for p in propagators.iter() {
            let t = match p {
                Propagator::TraceContext => self
                    .traceparent
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .and_then(TraceContext::parse_traceparent)
                    .map(|t| {
                        t.with_state(self.tracestate.and_then(|b| std::str::from_utf8(b).ok()))
                    }),
                Propagator::B3 | Propagator::B3Multi => self.b3_trace(),
                Propagator::Baggage => None,
            };
            found = t.or(found);
        }
        found
    }

    /// B3 in either form, the single header first (OpenTelemetry's B3 propagators read both).
    fn b3_trace(&self) -> Option<TraceContext> {
        self.b3.and_then(b3::parse_single).or_else(|| {
            b3::parse_multi(
                self.b3_trace_id?,
                self.b3_span_id?,
                self.b3_sampled,
                self.b3_flags,
            )
        })
    }

    /// What was carried, as `propagators` read it: the trace, the baggage (when valid and
    /// the baggage propagator is on) and the deadline.
    pub fn read(&self, propagators: Propagators) -> Carried {
        Carried {
            trace: self.trace(propagators),
            baggage: self
                .baggage
                .filter(|_| propagators.carries_baggage())
                .and_then(baggage::checked),
            deadline: self.timeout.and_then(parse_timeout),
        }
    }

    /// Reads what was carried into `context`, as `propagators` ask ([`Carried::apply_to`]).
    pub fn apply(&self, context: &mut crate::CallContext, propagators: Propagators) {
        self.read(propagators).apply_to(context);
    }
}

/// What a call carried, read ([`Incoming::read`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Carried {
    /// The caller's span.
    pub trace: Option<TraceContext>,
    /// The caller's baggage.
    pub baggage: Option<Arc<str>>,
    /// When the caller stops waiting.
    pub deadline: Option<Instant>,
}

impl Carried {
    /// Puts it in `context`: the trace and the baggage replace the context's when present,
    /// the deadline is the earlier of the caller's and one already set.
    pub fn apply_to(self, context: &mut crate::CallContext) {
        if let Some(t) = self.trace {
            context.trace = Some(t);
        }
        if let Some(b) = self.baggage {
            crate::context::baggage_seen();
            context.baggage = Some(b);
        }
        if let Some(d) = self.deadline {
            context.deadline = Some(context.deadline.map_or(d, |e| e.min(d)));
        }
    }
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

    fn every() -> Propagators {
        Propagators::of(&[
            Propagator::TraceContext,
            Propagator::Baggage,
            Propagator::B3,
            Propagator::B3Multi,
        ])
    }

    fn headers(out: &Outgoing) -> Vec<(&'static str, String)> {
        let mut h = Vec::new();
        out.headers(|k, v| h.push((k, v)));
        h
    }

    /// Each propagator writes its own headers, in the order given; `none` writes only the
    /// deadline; Pyro gets tether's annotations whichever trace format is on.
    #[test]
    fn outgoing_writes_what_the_propagators_name() {
        let t = TraceContext::new([0x11; 16], [0x22; 8]).with_state(Some("v=1"));
        let context = crate::CallContext::new()
            .with_trace(t.clone())
            .with_baggage("user", "alice");
        let b3 = format!("{}-{}-1", "11".repeat(16), "22".repeat(8));
        let out = Outgoing::with(&context, Some(Duration::from_secs(5)), every());
        let h = headers(&out);
        let names: Vec<&str> = h.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            [
                "traceparent",
                "tracestate",
                "baggage",
                "b3",
                "X-B3-TraceId",
                "X-B3-SpanId",
                "X-B3-Sampled",
                "tether-timeout-ms"
            ]
        );
        assert_eq!(h[0].1, t.traceparent());
        assert_eq!(h[2].1, "user=alice");
        assert_eq!(h[3].1, b3);
        let only_b3 = Outgoing::with(&context, None, Propagators::of(&[Propagator::B3]));
        assert_eq!(headers(&only_b3), vec![("b3", b3)]);
        let mut pyro = Vec::new();
        only_b3.annotations(|k, v| pyro.push((k, v)));
        assert_eq!(
            pyro,
            vec![("TRPA", t.traceparent()), ("TRST", "v=1".to_string())]
        );
        assert_eq!(only_b3.trace_id(), Some([0x11; 16]));
        let none = Outgoing::with(&context, Some(Duration::from_secs(5)), Propagators::NONE);
        assert_eq!(none.trace_id(), None);
        let h = headers(&none);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].0, TIMEOUT_HEADER);
    }

    /// A server reads the formats it is told to; when two carry a trace, the one listed last
    /// wins; baggage is read only with its propagator, and bad baggage is dropped.
    #[test]
    fn incoming_reads_what_the_propagators_name() {
        let w3c = TraceContext::new([1; 16], [2; 8]).traceparent();
        let b3 = format!("{}-{}-0", "03".repeat(16), "04".repeat(8));
        let incoming = Incoming {
            traceparent: Some(w3c.as_bytes()),
            b3: Some(b3.as_bytes()),
            baggage: Some(b"k=v"),
            timeout: Some(b"1000"),
            ..Incoming::default()
        };
        let w3c_last = Propagators::of(&[Propagator::B3, Propagator::TraceContext]);
        assert_eq!(incoming.trace(w3c_last).map(|t| t.trace_id), Some([1; 16]));
        let b3_last = Propagators::parse("tracecontext,b3").expect("valid");
        let t = incoming.trace(b3_last).expect("b3");
        assert_eq!(
            (t.trace_id, t.span_id, t.is_sampled()),
            ([3; 16], [4; 8], false)
        );
        let read = incoming.read(Propagators::default());
        assert_eq!(read.trace.map(|t| t.trace_id), Some([1; 16]));
        assert_eq!(read.baggage.as_deref(), Some("k=v"));
        assert!(read.deadline.is_some());
        let none = incoming.read(Propagators::NONE);
        assert_eq!((none.trace, none.baggage), (None, None));
        assert!(
            none.deadline.is_some(),
            "the deadline travels whatever the propagators"
        );
        let multi = Incoming {
            b3_trace_id: Some(b"0000000000000005"),
            b3_span_id: Some(b"0000000000000006"),
            b3_sampled: Some(b"1"),
            baggage: Some(b"bad value"),
            ..Incoming::default()
        };
        let read = multi.read(Propagators::parse("b3,baggage").expect("valid"));
        let t = read.trace.expect("multi");
        assert_eq!(t.trace_id[15], 5);
        assert!(t.is_sampled());
        assert_eq!(read.baggage, None);
    }

    /// A client call made while serving one carries the served call's baggage on.
    #[test]
    fn baggage_flows_through_a_served_call() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let served = crate::CallContext::new().with_baggage("tenant", "t 1");
        assert_eq!(served.baggage("tenant").as_deref(), Some("t 1"));
        let out = rt.block_on(served.scope(async {
            Outgoing::with(&crate::CallContext::new(), None, Propagators::default())
        }));
        assert_eq!(headers(&out), vec![("baggage", "tenant=t%201".to_string())]);
        let own = crate::CallContext::new().with_baggage("tenant", "mine");
        let out = rt.block_on(
            crate::CallContext::new()
                .with_baggage("tenant", "t")
                .scope(async move { Outgoing::with(&own, None, Propagators::default()) }),
        );
        assert_eq!(headers(&out), vec![("baggage", "tenant=mine".to_string())]);
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
