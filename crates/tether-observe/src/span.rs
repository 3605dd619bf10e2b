//! [`SpanRecord`]: one finished span, as the exporters get it, and how a call is named and
//! attributed after OpenTelemetry's RPC semantic conventions.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tether_core::RemoteError;

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

/// One finished span.
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
    /// `service/method`.
    pub name: String,
    /// Client, server or internal.
    pub kind: SpanKind,
    /// Start, nanoseconds since the Unix epoch.
    pub start_unix_nanos: u64,
    /// End, nanoseconds since the Unix epoch.
    pub end_unix_nanos: u64,
    /// Attributes (`rpc.system`, `rpc.service`, `rpc.method`, `server.address`, ...).
    pub attributes: Vec<(&'static str, AttrValue)>,
    /// The error's message when the call failed (status ERROR).
    pub error: Option<String>,
}

impl SpanRecord {
    /// The value of attribute `key`, as text.
    pub fn attr(&self, key: &str) -> Option<String> {
        self.attributes
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| match v {
                AttrValue::Str(s) => s.clone(),
                AttrValue::Int(i) => i.to_string(),
            })
    }
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
