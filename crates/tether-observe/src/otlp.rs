//! OTLP over HTTP with protobuf bodies (`http/protobuf`): the `ExportTraceServiceRequest`
//! message written by hand, field by field, after opentelemetry-proto's `trace.proto`,
//! `resource.proto` and `common.proto` (a few dozen lines instead of a code generator), and
//! posted to `/v1/traces`.

use crate::span::{AttrValue, SpanKind, SpanParts, SpanRecord};
use std::time::Duration;
use tether_core::RemoteError;
use tether_remoting::observe::{CallSite, Side};

/// Protobuf wire types.
const LEN: u8 = 2;
const VARINT: u8 = 0;
const FIXED64: u8 = 1;

fn key(out: &mut Vec<u8>, field: u32, wire: u8) {
    varint(out, u64::from(field) << 3 | u64::from(wire));
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn bytes_field(out: &mut Vec<u8>, field: u32, b: &[u8]) {
    key(out, field, LEN);
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// A nested message, written in place: one byte is kept for its length before the body is
/// written into `out` itself; a body of 128 bytes or more (a span, a batch) moves once to make
/// room for the longer length. Attributes and values, most of what is written, never move.
fn message(out: &mut Vec<u8>, field: u32, body: impl FnOnce(&mut Vec<u8>)) {
    key(out, field, LEN);
    let at = out.len();
    out.push(0);
    body(out);
    let len = (out.len() - at - 1) as u64;
    if len < 0x80 {
        out[at] = len as u8;
        return;
    }
    let mut prefix = [0u8; 10];
    let mut n = 0;
    let mut v = len;
    while v >= 0x80 {
        prefix[n] = (v as u8) | 0x80;
        v >>= 7;
        n += 1;
    }
    prefix[n] = v as u8;
    n += 1;
    out[at] = prefix[0];
    out.splice(at + 1..at + 1, prefix[1..n].iter().copied());
}

fn any_value(out: &mut Vec<u8>, v: &AttrValue) {
    match v {
        AttrValue::Str(s) => bytes_field(out, 1, s.as_bytes()),
        AttrValue::Int(i) => {
            key(out, 3, VARINT);
            varint(out, *i as u64);
        }
    }
}

fn key_value(out: &mut Vec<u8>, field: u32, k: &str, v: &AttrValue) {
    message(out, field, |kv| {
        bytes_field(kv, 1, k.as_bytes());
        message(kv, 2, |av| any_value(av, v));
    });
}

/// A text attribute (`KeyValue { key, value: AnyValue { string_value } }`) as field `field`.
fn text_attribute(out: &mut Vec<u8>, field: u32, k: &str, v: &str) {
    message(out, field, |kv| {
        bytes_field(kv, 1, k.as_bytes());
        message(kv, 2, |av| bytes_field(av, 1, v.as_bytes()));
    })
}

/// The attributes that depend only on where a span was observed and its wire (`rpc.system`
/// and `rpc.service`, or `tether.pool` / `tether.object`; `server.address`, `server.port`).
fn site_attributes(out: &mut Vec<u8>, site: &CallSite, system: &str) {
    match site.side {
        Side::Pool => text_attribute(out, 9, "tether.pool", &site.service),
        Side::Local => text_attribute(out, 9, "tether.object", &site.service),
        Side::Client | Side::Server => {
            text_attribute(out, 9, "rpc.system", system);
            text_attribute(out, 9, "rpc.service", &site.service);
        }
    }
    if let Some(h) = &site.host {
        text_attribute(out, 9, "server.address", h);
    }
    if let Some(p) = site.port {
        key_value(out, 9, "server.port", &AttrValue::Int(i64::from(p)));
    }
}

/// The span fields that depend only on the site, the wire and the method: the name
/// (`service/method`), the kind, the site's attributes and `rpc.method`. Most of a span's
/// bytes; a tracing interceptor encodes them once per method and every span copies them.
fn write_fixed(out: &mut Vec<u8>, site: &CallSite, system: &str, method: &str, kind: SpanKind) {
    // service/method, written without a String of its own.
    key(out, 5, LEN);
    varint(out, (site.service.len() + 1 + method.len()) as u64);
    out.extend_from_slice(site.service.as_bytes());
    out.push(b'/');
    out.extend_from_slice(method.as_bytes());
    key(out, 6, VARINT);
    varint(out, kind as u64);
    site_attributes(out, site, system);
    text_attribute(out, 9, "rpc.method", method);
}

/// [`write_fixed`] into a buffer of its own (what [`SpanParts::fixed`] holds).
pub(crate) fn fixed_part(site: &CallSite, system: &str, method: &str, kind: SpanKind) -> Vec<u8> {
    let mut out = Vec::with_capacity(160);
    write_fixed(&mut out, site, system, method, kind);
    out
}

/// An IP address as text without the formatting machinery for the common IPv4 case (a
/// server span has one per call).
fn ip_text(ip: std::net::IpAddr, buf: &mut [u8; 15]) -> std::borrow::Cow<'_, str> {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let mut n = 0;
            for (i, o) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    buf[n] = b'.';
                    n += 1;
                }
                if o >= 100 {
                    buf[n] = b'0' + o / 100;
                    n += 1;
                }
                if o >= 10 {
                    buf[n] = b'0' + o / 10 % 10;
                    n += 1;
                }
                buf[n] = b'0' + o % 10;
                n += 1;
            }
            // Only ASCII digits and dots were written.
            std::borrow::Cow::Borrowed(std::str::from_utf8(&buf[..n]).unwrap_or(""))
        }
        std::net::IpAddr::V6(v6) => std::borrow::Cow::Owned(v6.to_string()),
    }
}

/// The body of a `Span` message. Fields are written in the order that lets the part fixed
/// per method be one copy; protobuf readers take fields in any order.
fn span(out: &mut Vec<u8>, s: &SpanParts<'_>) {
    bytes_field(out, 1, &s.trace_id);
    bytes_field(out, 2, &s.span_id);
    if let Some(ts) = s.trace_state {
        bytes_field(out, 3, ts.as_bytes());
    }
    if let Some(p) = &s.parent_span_id {
        bytes_field(out, 4, p);
    }
    key(out, 7, FIXED64);
    out.extend_from_slice(&s.start_unix_nanos.to_le_bytes());
    key(out, 8, FIXED64);
    out.extend_from_slice(&s.end_unix_nanos.to_le_bytes());
    match s.fixed {
        Some(f) => out.extend_from_slice(f),
        None => write_fixed(out, s.site, s.system, s.method, s.kind),
    }
    if let Some(p) = s.peer {
        let mut buf = [0u8; 15];
        text_attribute(out, 9, "network.peer.address", &ip_text(p.ip(), &mut buf));
        key_value(
            out,
            9,
            "network.peer.port",
            &AttrValue::Int(i64::from(p.port())),
        );
    }
    if let Some(t) = s.error_type {
        text_attribute(out, 9, "error.type", t);
    }
    if let Some(msg) = s.error {
        // Status { message = 2; code = 3 (STATUS_CODE_ERROR = 2) }
        message(out, 15, |st| {
            bytes_field(st, 2, msg.as_bytes());
            key(st, 3, VARINT);
            varint(st, 2);
        });
    }
}

/// Appends one span as it stands in `ScopeSpans` (field 2): what the pipeline keeps per span
/// when it exports only OTLP.
pub(crate) fn encode_span(out: &mut Vec<u8>, s: &SpanParts<'_>) {
    // A span is 128 bytes to 16 KiB long but for a long error message: two bytes are kept for
    // its length, so it is written in place and moved only outside that range.
    key(out, 2, LEN);
    let at = out.len();
    out.extend_from_slice(&[0, 0]);
    span(out, s);
    let len = out.len() - at - 2;
    if (0x80..0x4000).contains(&len) {
        out[at] = (len as u8) | 0x80;
        out[at + 1] = (len >> 7) as u8;
    } else if len < 0x80 {
        out[at] = len as u8;
        out.copy_within(at + 2.., at + 1);
        out.truncate(out.len() - 1);
    } else {
        let mut prefix = Vec::with_capacity(10);
        varint(&mut prefix, len as u64);
        out.splice(at..at + 2, prefix);
    }
}

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// The start of a request whose spans, already encoded by [`encode_span`] and `spans_len`
/// bytes in all, follow it: every length is known in advance, so the spans are sent from
/// where they are.
pub(crate) fn request_prefix(resource: &[(String, AttrValue)], spans_len: usize) -> Vec<u8> {
    let mut res = Vec::new();
    for (k, v) in resource {
        key_value(&mut res, 1, k, v);
    }
    let mut scope = Vec::new();
    bytes_field(&mut scope, 1, b"tether");
    bytes_field(&mut scope, 2, env!("CARGO_PKG_VERSION").as_bytes());
    let field = |len: usize| 1 + varint_len(len as u64) + len;
    let ss = field(scope.len()) + spans_len;
    let rs = field(res.len()) + field(ss);
    let mut out = Vec::with_capacity(field(rs) - spans_len);
    key(&mut out, 1, LEN);
    varint(&mut out, rs as u64);
    key(&mut out, 1, LEN);
    varint(&mut out, res.len() as u64);
    out.extend_from_slice(&res);
    key(&mut out, 2, LEN);
    varint(&mut out, ss as u64);
    key(&mut out, 1, LEN);
    varint(&mut out, scope.len() as u64);
    out.extend_from_slice(&scope);
    out
}

/// The body of one export from spans already encoded by [`encode_span`] (concatenated).
pub(crate) fn request_of_encoded(resource: &[(String, AttrValue)], spans: &[u8]) -> Vec<u8> {
    let mut out = request_prefix(resource, spans.len());
    out.extend_from_slice(spans);
    out
}

/// The body of one export: `ExportTraceServiceRequest { resource_spans }` with one resource
/// (`resource` attributes) and one scope (`tether`).
pub fn encode_request(resource: &[(String, AttrValue)], spans: &[SpanRecord]) -> Vec<u8> {
    let mut encoded = Vec::with_capacity(256 * spans.len());
    for s in spans {
        encode_span(&mut encoded, &s.parts());
    }
    request_of_encoded(resource, &encoded)
}

/// Where and how spans are posted.
#[derive(Clone, Debug)]
pub struct OtlpTarget {
    /// The full URL of the traces endpoint (`http://host:4318/v1/traces`).
    pub url: String,
    /// Extra headers (`OTEL_EXPORTER_OTLP_HEADERS`).
    pub headers: Vec<(String, String)>,
    /// How long one export may take.
    pub timeout: Duration,
    /// TLS settings for an `https` URL.
    pub tls: Option<tether_tls::ClientTlsSettings>,
}

/// Posts encoded batches to one endpoint over one kept-alive connection.
pub struct OtlpClient {
    http: tether_http::HttpClient,
    target: OtlpTarget,
}

impl OtlpClient {
    /// A client for `target` (no I/O yet).
    pub fn new(target: OtlpTarget) -> Result<OtlpClient, RemoteError> {
        let mut http = tether_http::HttpClient::new(&target.url)?
            .with_connect_timeout(target.timeout)
            .with_user_agent(concat!("tether-otlp/", env!("CARGO_PKG_VERSION")));
        if let Some(tls) = &target.tls {
            let tls = tether_tls::ClientTls::new(tls)
                .map_err(|e| RemoteError::config(format!("OTLP TLS settings: {e}")))?;
            http = http.with_tls(tls);
        }
        Ok(OtlpClient { http, target })
    }

    /// Posts one batch; a non-2xx status is an error naming it.
    pub async fn export(&self, body: Vec<u8>) -> Result<(), RemoteError> {
        let sent = self.send(&[&body]).await?;
        self.finish(sent, &[&body]).await
    }

    fn timed_out(&self) -> RemoteError {
        RemoteError::timeout(format!(
            "OTLP export to {} took over {:?}",
            self.target.url, self.target.timeout
        ))
    }

    /// Sends one batch whose body is `parts` one after the other, without waiting for the
    /// reply ([`OtlpClient::finish`] reads it).
    pub async fn send(&self, parts: &[&[u8]]) -> Result<tether_http::Sent, RemoteError> {
        let headers: Vec<(&str, &str)> = self
            .target
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let send = self
            .http
            .send_parts("application/x-protobuf", &headers, parts);
        tokio::time::timeout(self.target.timeout, send)
            .await
            .map_err(|_| self.timed_out())?
    }

    /// Reads the reply to a batch [`OtlpClient::send`] sent (`parts`: its body again); a
    /// non-2xx status is an error naming it.
    pub async fn finish(
        &self,
        sent: tether_http::Sent,
        parts: &[&[u8]],
    ) -> Result<(), RemoteError> {
        let reply = tokio::time::timeout(self.target.timeout, self.http.reply(sent, parts))
            .await
            .map_err(|_| self.timed_out())??;
        if !(200..300).contains(&reply.status) {
            return Err(RemoteError::protocol(format!(
                "OTLP export to {} answered HTTP {}",
                self.target.url, reply.status
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::SpanKind;

    #[test]
    fn nested_messages_get_their_length_in_front() {
        let mut v = Vec::new();
        message(&mut v, 1, |b| b.extend_from_slice(&[7u8; 200]));
        assert_eq!(&v[..3], &[0x0a, 0xc8, 0x01]);
        assert_eq!(v.len(), 3 + 200);
    }

    #[test]
    fn varints_and_fields_are_protobuf() {
        let mut v = Vec::new();
        varint(&mut v, 300);
        assert_eq!(v, [0xac, 0x02]);
        let mut v = Vec::new();
        bytes_field(&mut v, 5, b"ab");
        assert_eq!(v, [0x2a, 2, b'a', b'b']);
    }

    #[test]
    fn a_request_holds_its_spans() {
        let site = tether_remoting::observe::CallSite::server(
            "pyro5",
            "echo",
            "127.0.0.1:9".parse().expect("addr"),
        );
        let s = SpanRecord {
            trace_id: [1; 16],
            span_id: [2; 8],
            parent_span_id: None,
            trace_state: None,
            kind: SpanKind::Server,
            start_unix_nanos: 1,
            end_unix_nanos: 2,
            site: std::sync::Arc::new(site),
            system: "pyro5",
            method: "echo".into(),
            peer: None,
            error_type: Some("builtins.ValueError".into()),
            error: Some("boom".into()),
        };
        let body = encode_request(&[("service.name".into(), AttrValue::Str("t".into()))], &[s]);
        let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
        assert!(has(b"echo/echo") && has(b"rpc.system") && has(b"pyro5") && has(b"boom"));
        assert!(has(b"builtins.ValueError") && has(b"server.port"));
        assert!(has(&[0x0a, 16, 1, 1, 1]));
    }

    #[test]
    fn ipv4_text_is_what_display_writes() {
        for ip in [
            [0, 0, 0, 0],
            [127, 0, 0, 1],
            [10, 9, 99, 100],
            [255, 255, 255, 255],
            [1, 20, 200, 7],
        ] {
            let ip = std::net::IpAddr::from(ip);
            let mut buf = [0u8; 15];
            assert_eq!(ip_text(ip, &mut buf), ip.to_string());
        }
        let v6: std::net::IpAddr = "::1".parse().expect("v6");
        assert_eq!(ip_text(v6, &mut [0u8; 15]), "::1");
    }

    /// Reads a length-delimited field's header: (field, body range).
    fn field_at(b: &[u8], at: usize) -> (u64, std::ops::Range<usize>) {
        let read = |mut i: usize| {
            let (mut v, mut shift) = (0u64, 0);
            loop {
                let x = b[i];
                v |= u64::from(x & 0x7f) << shift;
                i += 1;
                if x < 0x80 {
                    return (v, i);
                }
                shift += 7;
            }
        };
        let (k, i) = read(at);
        assert_eq!(k & 7, 2, "length-delimited");
        let (len, i) = read(i);
        (k >> 3, i..i + len as usize)
    }

    #[test]
    fn a_request_of_encoded_spans_nests_exactly() {
        let site = std::sync::Arc::new(tether_remoting::observe::CallSite::server(
            "pyro5",
            "echo",
            "127.0.0.1:9".parse().expect("addr"),
        ));
        let fixed = fixed_part(&site, "pyro5", "echo", SpanKind::Server);
        let mut spans = Vec::new();
        for i in 0..300u64 {
            encode_span(
                &mut spans,
                &SpanParts {
                    trace_id: [1; 16],
                    span_id: [2; 8],
                    parent_span_id: None,
                    trace_state: None,
                    kind: SpanKind::Server,
                    start_unix_nanos: i,
                    end_unix_nanos: i + 1,
                    site: &site,
                    system: "pyro5",
                    method: "echo",
                    peer: Some("10.0.0.1:5000".parse().expect("peer")),
                    error_type: None,
                    error: None,
                    fixed: Some(&fixed),
                },
            );
        }
        let body = request_of_encoded(
            &[("service.name".into(), AttrValue::Str("t".into()))],
            &spans,
        );
        // ExportTraceServiceRequest { 1: ResourceSpans { 1: Resource, 2: ScopeSpans { 1: scope, 2: span... } } }
        let (f, rs) = field_at(&body, 0);
        assert_eq!((f, rs.end), (1, body.len()));
        let (f, res) = field_at(&body, rs.start);
        assert_eq!(f, 1);
        let (f, ss) = field_at(&body, res.end);
        assert_eq!((f, ss.end), (2, rs.end));
        let (f, scope) = field_at(&body, ss.start);
        assert_eq!(f, 1);
        let mut at = scope.end;
        let mut n = 0;
        while at < ss.end {
            let (f, span) = field_at(&body, at);
            assert_eq!(f, 2);
            at = span.end;
            n += 1;
        }
        assert_eq!((n, at), (300, body.len()));
        // Spans encoded from parts and from records are the same bytes.
        let record = SpanRecord {
            trace_id: [1; 16],
            span_id: [2; 8],
            parent_span_id: None,
            trace_state: None,
            kind: SpanKind::Server,
            start_unix_nanos: 0,
            end_unix_nanos: 1,
            site: site.clone(),
            system: "pyro5",
            method: "echo".into(),
            peer: Some("10.0.0.1:5000".parse().expect("peer")),
            error_type: None,
            error: None,
        };
        let mut one = Vec::new();
        encode_span(&mut one, &record.parts());
        assert_eq!(&spans[..one.len()], &one[..]);
    }

    #[test]
    fn a_span_of_any_length_gets_its_exact_length_in_front() {
        let site = std::sync::Arc::new(tether_remoting::observe::CallSite::pool("p"));
        // Under 128 bytes (no peer, short names), 128 bytes to 16 KiB, and over 16 KiB (a
        // long error message).
        let long = "x".repeat(20_000);
        for (error, want) in [
            (None, 0usize..0x80),
            (Some("e"), 0x80..0x4000),
            (Some(&long[..]), 0x4000..0x10000),
        ] {
            let parts = SpanParts {
                trace_id: [1; 16],
                span_id: [2; 8],
                parent_span_id: None,
                trace_state: None,
                kind: SpanKind::Internal,
                start_unix_nanos: 1,
                end_unix_nanos: 2,
                site: &site,
                system: "pool",
                method: "m",
                peer: None,
                error_type: error.map(|_| "E"),
                error: error.map(|e| if e == "e" { "an error message long enough to pass 128 bytes in all, with the rest of the span around it" } else { e }),
                fixed: None,
            };
            let mut out = vec![9u8];
            encode_span(&mut out, &parts);
            let (f, body) = field_at(&out, 1);
            assert_eq!((f, body.end), (2, out.len()));
            assert!(want.contains(&body.len()), "{} not in {want:?}", body.len());
            // The body is the span's fields, whatever its length's size.
            let mut alone = Vec::new();
            span(&mut alone, &parts);
            assert_eq!(&out[body], &alone[..]);
        }
    }
}
