//! [`SpanRecord`]: one finished span, as the exporters get it, and how a call is named and
//! attributed after OpenTelemetry's RPC semantic conventions.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tether_core::RemoteError;
use tether_remoting::observe::{CallSite, Side};

/// What a span stands for (OTLP's `SpanKind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanKind {
    /// Work inside the process (a pool choosing members, a local object).
    Internal = 1,
    /// A server handling a call.
    Server = 2,
    /// A client sending a call.
    Client = 3,
}

/// An attribute's value.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrValue {
    /// Text.
    Str(String),
    /// A whole number.
    Int(i64),
}

/// One finished span. What the call path fills in is only ids, times and shared or moved
/// parts; the name and the attributes are made from them by [`name`](Self::name) and
/// [`attributes`](Self::attributes), on the exporter's thread.
#[derive(Clone, Debug, PartialEq)]
pub struct SpanRecord {
    /// The trace.
    pub trace_id: [u8; 16],
    /// This span.
    pub span_id: [u8; 8],
    /// The parent span, if any.
    pub parent_span_id: Option<[u8; 8]>,
    /// The W3C trace state it carried.
    pub trace_state: Option<Arc<str>>,
    /// Client, server or internal.
    pub kind: SpanKind,
    /// Start, nanoseconds since the Unix epoch.
    pub start_unix_nanos: u64,
    /// End, nanoseconds since the Unix epoch.
    pub end_unix_nanos: u64,
    /// Where the call was observed (side, wire, object, server address).
    pub site: Arc<CallSite>,
    /// The wire the call came over (a shared server's site names one of two).
    pub system: &'static str,
    /// The method.
    pub method: String,
    /// The caller's address, on a server.
    pub peer: Option<SocketAddr>,
    /// `error.type` when the call failed.
    pub error_type: Option<String>,
    /// The error's message when the call failed (status ERROR).
    pub error: Option<String>,
}

impl SpanRecord {
    /// `service/method`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.site.service, self.method)
    }

    /// The attributes, after OpenTelemetry's RPC conventions: `rpc.system`, `rpc.service`
    /// (`tether.pool` / `tether.object` for pool and local spans), `rpc.method`,
    /// `server.address`, `server.port`, `network.peer.address`, `network.peer.port`,
    /// `error.type`.
    pub fn attributes(&self) -> Vec<(&'static str, AttrValue)> {
        let site = &*self.site;
        let mut a = Vec::with_capacity(9);
        match site.side {
            Side::Pool => a.push(("tether.pool", AttrValue::Str(site.service.clone()))),
            Side::Local => a.push(("tether.object", AttrValue::Str(site.service.clone()))),
            Side::Client | Side::Server => {
                a.push(("rpc.system", AttrValue::Str(self.system.to_string())));
                a.push(("rpc.service", AttrValue::Str(site.service.clone())));
            }
        }
        a.push(("rpc.method", AttrValue::Str(self.method.clone())));
        if let Some(h) = &site.host {
            a.push(("server.address", AttrValue::Str(h.clone())));
        }
        if let Some(p) = site.port {
            a.push(("server.port", AttrValue::Int(i64::from(p))));
        }
        if let Some(p) = self.peer {
            a.push(("network.peer.address", AttrValue::Str(p.ip().to_string())));
            a.push(("network.peer.port", AttrValue::Int(i64::from(p.port()))));
        }
        if let Some(t) = &self.error_type {
            a.push(("error.type", AttrValue::Str(t.clone())));
        }
        a
    }

    /// The value of attribute `key`, as text.
    pub fn attr(&self, key: &str) -> Option<String> {
        self.attributes()
            .into_iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| match v {
                AttrValue::Str(s) => s,
                AttrValue::Int(i) => i.to_string(),
            })
    }
}

/// A finished span as borrowed parts: what the tracing interceptor has at a call's end, which
/// the pipeline encodes where it stands (on the worker that ran the call) when it exports
/// only OTLP, or turns into a [`SpanRecord`] otherwise.
pub(crate) struct SpanParts<'a> {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub parent_span_id: Option<[u8; 8]>,
    pub trace_state: Option<&'a Arc<str>>,
    pub kind: SpanKind,
    pub start_unix_nanos: u64,
    pub end_unix_nanos: u64,
    pub site: &'a Arc<CallSite>,
    pub system: &'static str,
    pub method: &'a str,
    pub peer: Option<SocketAddr>,
    pub error_type: Option<&'a str>,
    pub error: Option<&'a str>,
    /// The fields fixed for this site, wire, method and kind, already encoded (see
    /// `otlp::fixed_part`), when the interceptor has them.
    pub fixed: Option<&'a [u8]>,
}

impl SpanParts<'_> {
    /// An owned record of these parts.
    pub(crate) fn to_record(&self) -> SpanRecord {
        SpanRecord {
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            trace_state: self.trace_state.cloned(),
            kind: self.kind,
            start_unix_nanos: self.start_unix_nanos,
            end_unix_nanos: self.end_unix_nanos,
            site: self.site.clone(),
            system: self.system,
            method: self.method.to_string(),
            peer: self.peer,
            error_type: self.error_type.map(str::to_string),
            error: self.error.map(str::to_string),
        }
    }
}

impl SpanRecord {
    /// The record as parts, for the encoder.
    pub(crate) fn parts(&self) -> SpanParts<'_> {
        SpanParts {
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            trace_state: self.trace_state.as_ref(),
            kind: self.kind,
            start_unix_nanos: self.start_unix_nanos,
            end_unix_nanos: self.end_unix_nanos,
            site: &self.site,
            system: self.system,
            method: &self.method,
            peer: self.peer,
            error_type: self.error_type.as_deref(),
            error: self.error.as_deref(),
            fixed: None,
        }
    }
}

/// The clock observed calls are timed with: the CPU's time-stamp counter, scaled to
/// nanoseconds (quanta; calibrated once against the system's monotonic clock, and that clock
/// itself where the counter is not invariant). An observed call reads it twice, and a reading
/// costs ~9 ns here against ~22 ns for the system clock's (a vDSO call under a hypervisor).
pub(crate) type CallInstant = quanta::Instant;

/// The monotonic instant the wall clock is reckoned from, and the Unix time (ns) at it.
static CLOCK_BASE: std::sync::OnceLock<CallInstant> = std::sync::OnceLock::new();
static UNIX_AT_BASE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The counter's calibration (a busy loop of a millisecond or so, once per process) is done
/// here, when observation starts, not in the first call observed.
pub(crate) fn clock_base() -> CallInstant {
    *CLOCK_BASE.get_or_init(|| {
        let base = CallInstant::now();
        UNIX_AT_BASE.store(unix_nanos(), std::sync::atomic::Ordering::Relaxed);
        base
    })
}

/// Now, on the clock calls are timed with.
pub(crate) fn call_now() -> CallInstant {
    CallInstant::now()
}

/// The Unix time (ns) of an instant of [`call_now`]: a span's times come from the one clock
/// reading that also times the call, instead of a second reading of the wall clock. The wall
/// clock is read again by [`resync_clock`] (the exporter does it every batch), so a step of
/// the system clock shows in spans within one schedule delay.
pub(crate) fn unix_at(i: CallInstant) -> u64 {
    let base = clock_base();
    UNIX_AT_BASE.load(std::sync::atomic::Ordering::Relaxed)
        + i.saturating_duration_since(base).as_nanos() as u64
}

/// Reads the wall clock again for [`unix_at`].
pub(crate) fn resync_clock() {
    let base = clock_base();
    let since = call_now().saturating_duration_since(base).as_nanos() as u64;
    UNIX_AT_BASE.store(
        unix_nanos().saturating_sub(since),
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// Now, in nanoseconds since the Unix epoch.
pub fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// The `error.type` of a failure: the exception's class for a remote exception (what the
/// service raised), else the framework's kind in lower case (`timeout`, `connection`, ...).
pub fn error_type(e: &RemoteError) -> String {
    match e.class() {
        Some(c) => c.to_string(),
        None => format!("{:?}", e.kind()).to_ascii_lowercase(),
    }
}
