//! OTLP logs (`OTEL_LOGS_EXPORTER=otlp`): the program's `tracing` events as OTLP log records,
//! queued by [`OtlpLogLayer`] (a `tracing-subscriber` layer the program adds beside its own
//! output, so the same filter decides what is printed and what is sent) and sent by one
//! exporter thread every `OTEL_BLRP_SCHEDULE_DELAY` and once more when the program ends.
//!
//! A record carries the event's time, its level as OpenTelemetry's severity, its message as
//! the body, its other fields and its target (`code.namespace`) as attributes, and, when it was
//! written while a call was being served, that call's trace and span ids, so a collector shows
//! a call's logs with its span. The queue is bounded (`OTEL_BLRP_MAX_QUEUE_SIZE`): a burst past
//! it drops records and counts them, it never blocks the code that logs.

use crate::otlp::{
    bytes_field, export_envelope, key, message, text_attribute, varint, I64, VARINT,
};
use crate::otlp::{OtlpClient, OtlpProtocol, OtlpTarget};
use crate::span::AttrValue;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;

/// One log record, as queued.
#[derive(Clone, Debug, PartialEq)]
pub struct LogRecord {
    /// When it was written, Unix nanoseconds.
    pub time_unix_nanos: u64,
    /// OpenTelemetry's severity number (TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17).
    pub severity_number: u8,
    /// The level's name.
    pub severity_text: &'static str,
    /// The message.
    pub body: String,
    /// The event's other fields, and `code.namespace` (its target).
    pub attributes: Vec<(String, String)>,
    /// The trace and span of the call being served when it was written, and its flags.
    pub trace: Option<([u8; 16], [u8; 8], u8)>,
}

/// The records waiting for the exporter.
struct Queue {
    records: Mutex<Vec<LogRecord>>,
    max: usize,
    dropped: AtomicU64,
}

/// The running exporter's queue, once [`LogsExport::start`] ran.
static QUEUE: OnceLock<Arc<Queue>> = OnceLock::new();

/// Queues `tracing` events for the OTLP logs exporter. Add it to the program's subscriber
/// ([`layer`] gives it once the exporter runs); without a running exporter it drops nothing
/// and queues nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct OtlpLogLayer;

/// The layer to add to the program's `tracing` subscriber when OTLP logs are being exported
/// (`OTEL_LOGS_EXPORTER=otlp`), else `None`.
pub fn layer() -> Option<OtlpLogLayer> {
    QUEUE.get().map(|_| OtlpLogLayer)
}

/// The message and the other fields of an event, as text.
#[derive(Default)]
struct Fields {
    message: String,
    others: Vec<(String, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.others
                .push((field.name().to_string(), value.to_string()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.others
                .push((field.name().to_string(), format!("{value:?}")));
        }
    }
}

fn severity(level: &Level) -> (u8, &'static str) {
    match *level {
        Level::TRACE => (1, "TRACE"),
        Level::DEBUG => (5, "DEBUG"),
        Level::INFO => (9, "INFO"),
        Level::WARN => (13, "WARN"),
        Level::ERROR => (17, "ERROR"),
    }
}

impl<S: Subscriber> tracing_subscriber::Layer<S> for OtlpLogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let Some(q) = QUEUE.get() else {
            return;
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        let meta = event.metadata();
        let (severity_number, severity_text) = severity(meta.level());
        let mut attributes = fields.others;
        attributes.push(("code.namespace".into(), meta.target().to_string()));
        let record = LogRecord {
            time_unix_nanos: crate::span::unix_nanos(),
            severity_number,
            severity_text,
            body: fields.message,
            attributes,
            trace: tether_core::CallContext::current_trace()
                .filter(|t| t.has_parent())
                .map(|t| (t.trace_id, t.span_id, t.flags)),
        };
        let mut records = q.records.lock().unwrap_or_else(|p| p.into_inner());
        if records.len() < q.max {
            records.push(record);
        } else {
            q.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The body of one logs export: one resource (`resource`), one scope (`tether`), `records`.
pub fn encode_logs(resource: &[(String, AttrValue)], records: &[LogRecord]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 * records.len() + 128);
    export_envelope(&mut out, resource, |sl| {
        for rec in records {
            message(sl, 2, |l| {
                key(l, 1, I64);
                l.extend_from_slice(&rec.time_unix_nanos.to_le_bytes());
                key(l, 2, VARINT);
                varint(l, u64::from(rec.severity_number));
                bytes_field(l, 3, rec.severity_text.as_bytes());
                message(l, 5, |body| bytes_field(body, 1, rec.body.as_bytes()));
                for (k, v) in &rec.attributes {
                    text_attribute(l, 6, k, v);
                }
                if let Some((trace, span, flags)) = &rec.trace {
                    // flags: fixed32.
                    key(l, 8, 5);
                    l.extend_from_slice(&u32::from(*flags).to_le_bytes());
                    bytes_field(l, 9, trace);
                    bytes_field(l, 10, span);
                }
                key(l, 11, I64);
                l.extend_from_slice(&rec.time_unix_nanos.to_le_bytes());
            });
        }
    });
    out
}

/// The same export in OTLP's JSON mapping (`http/json`): ids in hex, 64-bit numbers as strings.
pub fn encode_logs_json(resource: &[(String, AttrValue)], records: &[LogRecord]) -> Vec<u8> {
    use serde_json::json;
    let logs: Vec<serde_json::Value> = records
        .iter()
        .map(|r| {
            let mut v = json!({
                "timeUnixNano": r.time_unix_nanos.to_string(),
                "observedTimeUnixNano": r.time_unix_nanos.to_string(),
                "severityNumber": r.severity_number,
                "severityText": r.severity_text,
                "body": { "stringValue": r.body },
                "attributes": crate::otlp_json::text_attributes(
                    &r.attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>()
                ),
            });
            if let (Some((t, s, f)), Some(m)) = (&r.trace, v.as_object_mut()) {
                m.insert("traceId".into(), tether_core::trace::hex(t).into());
                m.insert("spanId".into(), tether_core::trace::hex(s).into());
                m.insert("flags".into(), (*f).into());
            }
            v
        })
        .collect();
    crate::otlp_json::envelope(resource, "Logs", "logRecords", logs)
}

/// Sends the queued log records to an OTLP collector every `delay`, in requests of at most
/// `batch` records, on a thread of its own, and once more when stopped.
pub struct LogsExport {
    queue: Arc<Queue>,
    thread: tether_core::ticker::PeriodThread,
}

impl LogsExport {
    /// Starts the exporter (once per process: a second start is an error) with a queue of at
    /// most `max_queue` records.
    pub fn start(
        target: OtlpTarget,
        resource: Vec<(String, AttrValue)>,
        delay: Duration,
        max_queue: usize,
        batch: usize,
    ) -> Result<LogsExport, tether_core::RemoteError> {
        let client = OtlpClient::new_for_logs(target)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| tether_core::RemoteError::config(format!("logs exporter: {e}")))?;
        let queue = Arc::new(Queue {
            records: Mutex::new(Vec::new()),
            max: max_queue.max(1),
            dropped: AtomicU64::new(0),
        });
        if QUEUE.set(queue.clone()).is_err() {
            return Err(tether_core::RemoteError::config(
                "the OTLP logs exporter runs already",
            ));
        }
        let encode = match client.protocol() {
            OtlpProtocol::HttpJson => encode_logs_json,
            _ => encode_logs,
        };
        let (q, batch) = (queue.clone(), batch.max(1));
        let send = move || {
            let records = std::mem::take(&mut *q.records.lock().unwrap_or_else(|p| p.into_inner()));
            for chunk in records.chunks(batch) {
                // Failures are not logged through `tracing` (they would queue themselves):
                // counted as dropped.
                if rt
                    .block_on(client.export(encode(&resource, chunk)))
                    .is_err()
                {
                    q.dropped.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                }
            }
        };
        let thread = tether_core::ticker::PeriodThread::spawn_finishing("tether-logs", delay, send)
            .map_err(|e| tether_core::RemoteError::config(format!("logs exporter: {e}")))?;
        Ok(LogsExport { queue, thread })
    }

    /// Records dropped so far (a full queue, or an export that failed).
    pub fn dropped(&self) -> u64 {
        self.queue.dropped.load(Ordering::Relaxed)
    }

    /// Sends what is queued and stops, waiting at most `timeout`. Returns whether it finished.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        self.thread.shutdown(timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> LogRecord {
        LogRecord {
            time_unix_nanos: 7,
            severity_number: 13,
            severity_text: "WARN",
            body: "CONNECT refused".into(),
            attributes: vec![("code.namespace".into(), "tether::pyro".into())],
            trace: Some(([1; 16], [2; 8], 1)),
        }
    }

    /// An event written while a call is served carries that call's trace and span ids; its
    /// fields and target become attributes.
    #[test]
    fn a_log_line_in_a_served_call_is_correlated() {
        use tracing_subscriber::layer::SubscriberExt;
        let q = QUEUE.get_or_init(|| {
            Arc::new(Queue {
                records: Mutex::new(Vec::new()),
                max: 100,
                dropped: AtomicU64::new(0),
            })
        });
        let subscriber = tracing_subscriber::registry().with(OtlpLogLayer);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let served = tether_core::CallContext::new()
            .with_trace(tether_core::TraceContext::new([3; 16], [4; 8]));
        tracing::subscriber::with_default(subscriber, || {
            rt.block_on(served.scope(async {
                tracing::warn!(target: "tether::test", peer = "10.0.0.1", "slow call");
            }));
            tracing::info!("outside any call");
        });
        let records = q.records.lock().expect("queue").clone();
        let inside = records
            .iter()
            .find(|r| r.body == "slow call")
            .expect("queued");
        assert_eq!(inside.trace, Some(([3; 16], [4; 8], 1)));
        assert_eq!((inside.severity_number, inside.severity_text), (13, "WARN"));
        assert!(
            inside
                .attributes
                .contains(&("peer".into(), "10.0.0.1".into())),
            "{:?}",
            inside.attributes
        );
        assert!(inside
            .attributes
            .contains(&("code.namespace".into(), "tether::test".into())));
        let outside = records
            .iter()
            .find(|r| r.body == "outside any call")
            .expect("queued");
        assert_eq!(outside.trace, None);
    }

    #[test]
    fn a_record_encodes_its_fields() {
        let body = encode_logs(&[], &[record()]);
        let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
        assert!(has(b"CONNECT refused") && has(b"WARN") && has(b"code.namespace"));
        assert!(has(&[0x4a, 16, 1, 1, 1]), "trace id, field 9");
        assert!(has(&[0x52, 8, 2, 2, 2]), "span id, field 10");
        let json: serde_json::Value =
            serde_json::from_slice(&encode_logs_json(&[], &[record()])).expect("json");
        let r = &json["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
        assert_eq!(r["severityNumber"], 13);
        assert_eq!(r["traceId"], "01".repeat(16));
        assert_eq!(r["timeUnixNano"], "7");
    }
}
