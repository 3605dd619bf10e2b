//! OTLP metrics: a [`Snapshot`] of the process's metrics as an `ExportMetricsServiceRequest`
//! (protobuf, encoded by hand like the spans, or OTLP's JSON), and the exporter that sends one
//! every `OTEL_METRIC_EXPORT_INTERVAL` and once more when the program ends.
//!
//! What is sent, all cumulative since metrics were turned on:
//! - the call-duration histograms under OpenTelemetry's names (`rpc.server.call.duration`,
//!   `rpc.client.call.duration`, in seconds; tether's pool and local ones as
//!   `tether.pool.call.duration` and `tether.local.call.duration`), attributed `rpc.system`,
//!   `rpc.service`, `rpc.method` and, for failures, `error.type`, with the same bucket bounds
//!   `/metrics` has;
//! - the calls in flight (`tether.rpc.calls_in_flight`, an up-down sum by side, wire and
//!   object);
//! - every server's and pool's own figures under their Prometheus names (counters as
//!   monotonic sums, gauges as gauges).

use crate::metrics::{Snapshot, BUCKETS};
use crate::otlp::{
    bytes_field, export_envelope, key, message, text_attribute, varint, I64, LEN, VARINT,
};
use crate::otlp::{OtlpClient, OtlpTarget};
use crate::span::AttrValue;
use std::time::Duration;
use tether_core::stats::SampleKind;

/// OTLP's cumulative aggregation temporality.
const CUMULATIVE: u64 = 2;
/// OTLP's delta aggregation temporality.
const DELTA: u64 = 1;

/// How histograms and counters are reported (OpenTelemetry's
/// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Temporality {
    /// Every figure since metrics were turned on. The default.
    #[default]
    Cumulative,
    /// Histograms and counters since the previous export (calls in flight and gauges stay
    /// what they are).
    Delta,
    /// Histograms since the previous export, counters cumulative (the servers' and pools'
    /// figures are read from their own counters, as OpenTelemetry's asynchronous ones).
    LowMemory,
}

impl Temporality {
    /// Reads the variable's value (`cumulative`, `delta`, `lowmemory`, any case).
    pub fn parse(text: &str) -> Option<Temporality> {
        match text.to_ascii_lowercase().as_str() {
            "cumulative" => Some(Temporality::Cumulative),
            "delta" => Some(Temporality::Delta),
            "lowmemory" => Some(Temporality::LowMemory),
            _ => None,
        }
    }

    fn histograms_delta(self) -> bool {
        self != Temporality::Cumulative
    }

    fn counters_delta(self) -> bool {
        self == Temporality::Delta
    }
}

/// What one export covers: when counting began, when the previous export was, now (Unix
/// nanoseconds), and how figures are reported.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// When metrics were turned on (the start of cumulative figures).
    pub started: u64,
    /// The previous export (the start of delta figures).
    pub last: u64,
    /// Now.
    pub now: u64,
    /// Cumulative or delta.
    pub temporality: Temporality,
}

impl Window {
    fn temporality_and_start(&self, delta: bool) -> (u64, u64) {
        if delta {
            (DELTA, self.last)
        } else {
            (CUMULATIVE, self.started)
        }
    }
}

/// `cur` less `prev` where `temporality` asks for deltas: histogram series by their labels
/// (series with no new call left out), and, for [`Temporality::Delta`], counters by name and
/// labels (a counter that went down, its source replaced, counts from zero).
pub fn since(cur: &Snapshot, prev: &Snapshot, temporality: Temporality) -> Snapshot {
    let mut out = cur.clone();
    if temporality.histograms_delta() {
        for (family, before) in out.histograms.iter_mut().zip(&prev.histograms) {
            family.series.retain_mut(|s| {
                let old = before.series.iter().find(|o| {
                    o.system == s.system
                        && o.service == s.service
                        && o.method == s.method
                        && o.error_type == s.error_type
                });
                if let Some(o) = old {
                    for (b, ob) in s.buckets.iter_mut().zip(&o.buckets) {
                        *b = b.saturating_sub(*ob);
                    }
                    s.count = s.count.saturating_sub(o.count);
                    s.sum_nanos = s.sum_nanos.saturating_sub(o.sum_nanos);
                }
                s.count > 0
            });
        }
    }
    if temporality.counters_delta() {
        for f in out
            .figures
            .iter_mut()
            .filter(|f| f.kind == SampleKind::Counter)
        {
            let old = prev
                .figures
                .iter()
                .find(|o| o.name == f.name && o.labels == f.labels);
            if let Some(o) = old.filter(|o| o.value <= f.value) {
                f.value -= o.value;
            }
        }
    }
    out
}

fn fixed64(out: &mut Vec<u8>, field: u32, v: u64) {
    key(out, field, I64);
    out.extend_from_slice(&v.to_le_bytes());
}

fn double(out: &mut Vec<u8>, field: u32, v: f64) {
    key(out, field, I64);
    out.extend_from_slice(&v.to_le_bytes());
}

/// A packed repeated field of 8-byte values.
fn packed(out: &mut Vec<u8>, field: u32, values: impl ExactSizeIterator<Item = [u8; 8]>) {
    key(out, field, LEN);
    varint(out, 8 * values.len() as u64);
    for v in values {
        out.extend_from_slice(&v);
    }
}

/// A `Metric` with its name, description and unit, the data written by `data`.
fn metric(out: &mut Vec<u8>, name: &str, help: &str, unit: &str, data: impl FnOnce(&mut Vec<u8>)) {
    message(out, 2, |m| {
        bytes_field(m, 1, name.as_bytes());
        bytes_field(m, 2, help.as_bytes());
        if !unit.is_empty() {
            bytes_field(m, 3, unit.as_bytes());
        }
        data(m);
    });
}

/// A `NumberDataPoint` with `attrs`, `start` and `now` (Unix nanoseconds) and `value`.
fn number_point(out: &mut Vec<u8>, attrs: &[(&str, &str)], start: u64, now: u64, value: Value) {
    message(out, 1, |p| {
        fixed64(p, 2, start);
        fixed64(p, 3, now);
        match value {
            Value::Double(v) => double(p, 4, v),
            Value::Int(v) => {
                key(p, 6, I64);
                p.extend_from_slice(&v.to_le_bytes());
            }
        }
        for (k, v) in attrs.iter().filter(|(_, v)| !v.is_empty()) {
            text_attribute(p, 7, k, v);
        }
    });
}

enum Value {
    Double(f64),
    Int(i64),
}

/// A sum's `temporality` and `monotonic` fields.
fn sum_tail(out: &mut Vec<u8>, temporality: u64, monotonic: bool) {
    key(out, 2, VARINT);
    varint(out, temporality);
    key(out, 3, VARINT);
    varint(out, u64::from(monotonic));
}

/// The body of one export: one resource (`resource`), one scope (`tether`), every metric of
/// `snap` (families with no series left out; already [`since`] the last export where `window`
/// asks for deltas), over `window`.
pub fn encode_metrics(
    resource: &[(String, AttrValue)],
    snap: &Snapshot,
    window: &Window,
) -> Vec<u8> {
    let now = window.now;
    let (hist_temporality, hist_start) =
        window.temporality_and_start(window.temporality.histograms_delta());
    let (count_temporality, count_start) =
        window.temporality_and_start(window.temporality.counters_delta());
    let start = window.started;
    let mut out = Vec::with_capacity(1024);
    export_envelope(&mut out, resource, |sm| {
        for family in snap.histograms.iter().filter(|f| !f.series.is_empty()) {
            metric(sm, family.otel_name, family.help, "s", |m| {
                message(m, 9, |h| {
                    for s in &family.series {
                        message(h, 1, |p| {
                            fixed64(p, 2, hist_start);
                            fixed64(p, 3, now);
                            fixed64(p, 4, s.count);
                            double(p, 5, s.sum_nanos as f64 / 1e9);
                            let over = s.count.saturating_sub(s.buckets.iter().sum());
                            let mut counts = [0u64; BUCKETS.len() + 1];
                            counts[..BUCKETS.len()].copy_from_slice(&s.buckets);
                            counts[BUCKETS.len()] = over;
                            packed(p, 6, counts.iter().map(|c| c.to_le_bytes()));
                            packed(p, 7, BUCKETS.iter().map(|b| b.to_le_bytes()));
                            for (k, v) in [
                                ("rpc.system", s.system),
                                ("rpc.service", s.service.as_str()),
                                ("rpc.method", s.method.as_str()),
                                ("error.type", s.error_type.as_str()),
                            ] {
                                if !v.is_empty() {
                                    text_attribute(p, 9, k, v);
                                }
                            }
                        });
                    }
                    key(h, 2, VARINT);
                    varint(h, hist_temporality);
                });
            });
        }
        if !snap.in_flight.is_empty() {
            let help = "Calls started and not yet finished, per side and object.";
            metric(sm, "tether.rpc.calls_in_flight", help, "{call}", |m| {
                message(m, 7, |sum| {
                    for g in &snap.in_flight {
                        let attrs = [
                            ("side", g.side),
                            ("rpc.system", g.system),
                            ("rpc.service", g.service.as_str()),
                        ];
                        number_point(sum, &attrs, start, now, Value::Int(g.value));
                    }
                    sum_tail(sum, CUMULATIVE, false);
                });
            });
        }
        // The figures come grouped by name: one metric a name.
        for same in snap.figures.chunk_by(|a, b| a.name == b.name) {
            let first = &same[0];
            metric(sm, first.name, first.help, "", |m| {
                let field = match first.kind {
                    SampleKind::Counter => 7,
                    SampleKind::Gauge => 5,
                };
                message(m, field, |data| {
                    for f in same {
                        let attrs: Vec<(&str, &str)> =
                            f.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
                        let from = match first.kind {
                            SampleKind::Counter => count_start,
                            SampleKind::Gauge => start,
                        };
                        number_point(data, &attrs, from, now, Value::Double(f.value));
                    }
                    if first.kind == SampleKind::Counter {
                        sum_tail(data, count_temporality, true);
                    }
                });
            });
        }
    });
    out
}

/// The same export as [`encode_metrics`] in OTLP's JSON mapping (`http/json`): lowerCamelCase
/// names, 64-bit integers as decimal strings, enums as numbers.
pub fn encode_metrics_json(
    resource: &[(String, AttrValue)],
    snap: &Snapshot,
    window: &Window,
) -> Vec<u8> {
    use serde_json::{json, Value as Json};
    let (hist_temporality, hist_start) =
        window.temporality_and_start(window.temporality.histograms_delta());
    let (count_temporality, count_start) =
        window.temporality_and_start(window.temporality.counters_delta());
    let (hist_start, count_start) = (hist_start.to_string(), count_start.to_string());
    let (start, now) = (window.started.to_string(), window.now.to_string());
    let mut metrics: Vec<Json> = Vec::new();
    for family in snap.histograms.iter().filter(|f| !f.series.is_empty()) {
        let points: Vec<Json> = family
            .series
            .iter()
            .map(|s| {
                let over = s.count.saturating_sub(s.buckets.iter().sum());
                let counts: Vec<String> = s
                    .buckets
                    .iter()
                    .chain(std::iter::once(&over))
                    .map(u64::to_string)
                    .collect();
                json!({
                    "attributes": crate::otlp_json::text_attributes(&[
                        ("rpc.system", s.system),
                        ("rpc.service", &s.service),
                        ("rpc.method", &s.method),
                        ("error.type", &s.error_type),
                    ]),
                    "startTimeUnixNano": hist_start,
                    "timeUnixNano": now,
                    "count": s.count.to_string(),
                    "sum": s.sum_nanos as f64 / 1e9,
                    "bucketCounts": counts,
                    "explicitBounds": BUCKETS,
                })
            })
            .collect();
        metrics.push(json!({
            "name": family.otel_name,
            "description": family.help,
            "unit": "s",
            "histogram": { "aggregationTemporality": hist_temporality, "dataPoints": points },
        }));
    }
    if !snap.in_flight.is_empty() {
        let points: Vec<Json> = snap
            .in_flight
            .iter()
            .map(|g| {
                json!({
                    "attributes": crate::otlp_json::text_attributes(&[
                        ("side", g.side),
                        ("rpc.system", g.system),
                        ("rpc.service", &g.service),
                    ]),
                    "startTimeUnixNano": start,
                    "timeUnixNano": now,
                    "asInt": g.value.to_string(),
                })
            })
            .collect();
        metrics.push(json!({
            "name": "tether.rpc.calls_in_flight",
            "description": "Calls started and not yet finished, per side and object.",
            "unit": "{call}",
            "sum": {
                "aggregationTemporality": CUMULATIVE,
                "isMonotonic": false,
                "dataPoints": points,
            },
        }));
    }
    for same in snap.figures.chunk_by(|a, b| a.name == b.name) {
        let first = &same[0];
        let points: Vec<Json> = same
            .iter()
            .map(|f| {
                let attrs: Vec<(&str, &str)> =
                    f.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let from = match f.kind {
                    SampleKind::Counter => &count_start,
                    SampleKind::Gauge => &start,
                };
                json!({
                    "attributes": crate::otlp_json::text_attributes(&attrs),
                    "startTimeUnixNano": from,
                    "timeUnixNano": now,
                    "asDouble": f.value,
                })
            })
            .collect();
        let data = match first.kind {
            SampleKind::Counter => json!({ "sum": {
                "aggregationTemporality": count_temporality,
                "isMonotonic": true,
                "dataPoints": points,
            }}),
            SampleKind::Gauge => json!({ "gauge": { "dataPoints": points } }),
        };
        let mut m = json!({ "name": first.name, "description": first.help });
        if let (Some(m), Json::Object(d)) = (m.as_object_mut(), data) {
            m.extend(d);
        }
        metrics.push(m);
    }
    crate::otlp_json::envelope(resource, "Metrics", "metrics", metrics)
}

/// Sends the process's metrics to an OTLP collector every interval, on a thread of its own,
/// and once more when stopped (a one-shot `tether call` included).
pub struct MetricsExport {
    thread: tether_core::ticker::PeriodThread,
}

impl MetricsExport {
    /// Starts exporting every `interval` to `target`, the resource `resource`, counting from
    /// now, `temporality` as asked.
    pub fn start(
        target: OtlpTarget,
        resource: Vec<(String, AttrValue)>,
        interval: Duration,
        temporality: Temporality,
    ) -> Result<MetricsExport, tether_core::RemoteError> {
        let client = OtlpClient::new_for_metrics(target)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| tether_core::RemoteError::config(format!("metrics exporter: {e}")))?;
        let encode = match client.protocol() {
            crate::otlp::OtlpProtocol::HttpJson => encode_metrics_json,
            _ => encode_metrics,
        };
        let start = crate::span::unix_nanos();
        let mut last = (Snapshot::default(), start);
        let export = move || {
            let now = crate::span::unix_nanos();
            let snap = crate::metrics::snapshot();
            let window = Window {
                started: start,
                last: last.1,
                now,
                temporality,
            };
            let body = encode(&resource, &since(&snap, &last.0, temporality), &window);
            last = (snap, now);
            if let Err(e) = rt.block_on(client.export(body)) {
                tracing::warn!(target: "tether::observe", "metrics export failed: {e}");
            }
        };
        let thread =
            tether_core::ticker::PeriodThread::spawn_finishing("tether-metrics", interval, export)
                .map_err(|e| tether_core::RemoteError::config(format!("metrics exporter: {e}")))?;
        Ok(MetricsExport { thread })
    }

    /// Sends the metrics once more and stops, waiting at most `timeout` for that export.
    /// Returns whether it finished in time.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        self.thread.shutdown(timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Figure, HistogramFamily, HistogramSeries, InFlightSeries};

    fn one_series(count: u64, counter: f64) -> Snapshot {
        let mut buckets = [0u64; BUCKETS.len()];
        buckets[1] = count;
        Snapshot {
            histograms: vec![HistogramFamily {
                prometheus_name: "p",
                otel_name: "o",
                help: "h",
                series: vec![HistogramSeries {
                    system: "pyro5",
                    service: "s".into(),
                    method: "m".into(),
                    error_type: String::new(),
                    buckets,
                    count,
                    sum_nanos: count * 10,
                }],
            }],
            in_flight: Vec::new(),
            figures: vec![Figure {
                name: "c_total",
                help: "c",
                kind: SampleKind::Counter,
                labels: Vec::new(),
                value: counter,
            }],
        }
    }

    /// Deltas subtract series by their labels and leave out series with no new call; only
    /// `delta` subtracts counters; `cumulative` changes nothing.
    #[test]
    fn deltas_are_since_the_last_export() {
        let (prev, cur) = (one_series(3, 10.0), one_series(5, 12.0));
        let d = since(&cur, &prev, Temporality::Delta);
        let s = &d.histograms[0].series[0];
        assert_eq!((s.count, s.buckets[1], s.sum_nanos), (2, 2, 20));
        assert_eq!(d.figures[0].value, 2.0);
        let low = since(&cur, &prev, Temporality::LowMemory);
        assert_eq!(low.histograms[0].series[0].count, 2);
        assert_eq!(low.figures[0].value, 12.0);
        let same = since(&cur, &cur, Temporality::Delta);
        assert!(same.histograms[0].series.is_empty());
        let cumulative = since(&cur, &prev, Temporality::Cumulative);
        assert_eq!(cumulative.histograms[0].series[0].count, 5);
        // A counter that went down (its server replaced) counts from zero.
        assert_eq!(
            since(&prev, &cur, Temporality::Delta).figures[0].value,
            10.0
        );
        assert_eq!(
            Temporality::parse("LowMemory"),
            Some(Temporality::LowMemory)
        );
        assert_eq!(Temporality::parse("sometimes"), None);
    }

    /// The body nests as protobuf demands: every length prefix covers exactly its message
    /// (walked field by field down to the data points), and the figures are where the
    /// schema puts them.
    #[test]
    fn a_snapshot_encodes_to_nested_protobuf() {
        let mut buckets = [0u64; BUCKETS.len()];
        buckets[0] = 2;
        let snap = Snapshot {
            histograms: vec![HistogramFamily {
                prometheus_name: "rpc_server_call_duration_seconds",
                otel_name: "rpc.server.call.duration",
                help: "h",
                series: vec![HistogramSeries {
                    system: "pyro5",
                    service: "echo".into(),
                    method: "echo".into(),
                    error_type: String::new(),
                    buckets,
                    count: 3,
                    sum_nanos: 20_000_000_000,
                }],
            }],
            in_flight: vec![InFlightSeries {
                side: "server",
                system: "pyro5",
                service: "echo".into(),
                value: 1,
            }],
            figures: vec![Figure {
                name: "tether_server_connections",
                help: "c",
                kind: SampleKind::Gauge,
                labels: vec![("rpc_system", "pyro5".into())],
                value: 4.0,
            }],
        };
        let window = Window {
            started: 1,
            last: 1,
            now: 2,
            temporality: Temporality::Cumulative,
        };
        let body = encode_metrics(&[], &snap, &window);
        let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
        assert!(has(b"rpc.server.call.duration") && has(b"tether.rpc.calls_in_flight"));
        assert!(has(b"tether_server_connections") && !has(b"error.type"));
        // 16 bounds and 17 counts (the last past the last bound: 1 of the 3 calls).
        let mut counts = Vec::new();
        for c in buckets.iter().chain(&[1]) {
            counts.extend_from_slice(&c.to_le_bytes());
        }
        assert!(has(&counts));
        // Walk the outer messages: each length is exact.
        fn walk(b: &[u8], depth: usize) {
            let mut i = 0;
            while i < b.len() {
                let (k, n) = read_varint(&b[i..]);
                i += n;
                match k & 7 {
                    0 => i += read_varint(&b[i..]).1,
                    1 => i += 8,
                    2 => {
                        let (len, n) = read_varint(&b[i..]);
                        i += n;
                        assert!(i + len as usize <= b.len(), "a length past its message");
                        i += len as usize;
                    }
                    w => panic!("wire type {w} at depth {depth}"),
                }
            }
            assert_eq!(i, b.len());
        }
        fn read_varint(b: &[u8]) -> (u64, usize) {
            let (mut v, mut s) = (0u64, 0);
            for (i, x) in b.iter().enumerate() {
                v |= u64::from(x & 0x7f) << s;
                if x & 0x80 == 0 {
                    return (v, i + 1);
                }
                s += 7;
            }
            panic!("truncated varint");
        }
        walk(&body, 0);
    }
}
