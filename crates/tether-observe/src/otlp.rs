//! OTLP over HTTP with protobuf bodies (`http/protobuf`): the `ExportTraceServiceRequest`
//! message written by hand, field by field, after opentelemetry-proto's `trace.proto`,
//! `resource.proto` and `common.proto` (a few dozen lines instead of a code generator), and
//! posted to `/v1/traces`.

use crate::span::{AttrValue, SpanParts, SpanRecord};
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
/// and `rpc.service`, or `tether.pool` / `tether.object`; `server.address`, `server.port`),
/// encoded as span fields: a tracing interceptor makes them once and every span copies them.
pub(crate) fn site_attributes(site: &CallSite, system: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(96);
    match site.side {
        Side::Pool => text_attribute(&mut out, 9, "tether.pool", &site.service),
        Side::Local => text_attribute(&mut out, 9, "tether.object", &site.service),
        Side::Client | Side::Server => {
            text_attribute(&mut out, 9, "rpc.system", system);
            text_attribute(&mut out, 9, "rpc.service", &site.service);
        }
    }
    if let Some(h) = &site.host {
        text_attribute(&mut out, 9, "server.address", h);
    }
    if let Some(p) = site.port {
        key_value(&mut out, 9, "server.port", &AttrValue::Int(i64::from(p)));
    }
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

/// The body of a `Span` message.
fn span(out: &mut Vec<u8>, s: &SpanParts<'_>) {
    bytes_field(out, 1, &s.trace_id);
    bytes_field(out, 2, &s.span_id);
    if let Some(ts) = s.trace_state {
        bytes_field(out, 3, ts.as_bytes());
    }
    if let Some(p) = &s.parent_span_id {
        bytes_field(out, 4, p);
    }
    // service/method, written without a String of its own.
    key(out, 5, LEN);
    varint(out, (s.site.service.len() + 1 + s.method.len()) as u64);
    out.extend_from_slice(s.site.service.as_bytes());
    out.push(b'/');
    out.extend_from_slice(s.method.as_bytes());
    key(out, 6, VARINT);
    varint(out, s.kind as u64);
    key(out, 7, FIXED64);
    out.extend_from_slice(&s.start_unix_nanos.to_le_bytes());
    key(out, 8, FIXED64);
    out.extend_from_slice(&s.end_unix_nanos.to_le_bytes());
    // The attributes of `SpanRecord::attributes`, written straight from the parts.
    match s.site_attributes {
        Some(a) => out.extend_from_slice(a),
        None => out.extend_from_slice(&site_attributes(s.site, s.system)),
    }
    text_attribute(out, 9, "rpc.method", s.method);
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
    message(out, 2, |b| span(b, s));
}

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// The body of one export from spans already encoded by [`encode_span`] (concatenated):
/// every length is known in advance, so the spans are copied once and nothing moves.
pub(crate) fn request_of_encoded(resource: &[(String, AttrValue)], spans: &[u8]) -> Vec<u8> {
    let mut res = Vec::new();
    for (k, v) in resource {
        key_value(&mut res, 1, k, v);
    }
    let mut scope = Vec::new();
    bytes_field(&mut scope, 1, b"tether");
    bytes_field(&mut scope, 2, env!("CARGO_PKG_VERSION").as_bytes());
    let field = |len: usize| 1 + varint_len(len as u64) + len;
    let ss = field(scope.len()) + spans.len();
    let rs = field(res.len()) + field(ss);
    let mut out = Vec::with_capacity(field(rs));
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
        let headers: Vec<(&str, &str)> = self
            .target
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let post = self.http.post("application/x-protobuf", &headers, body);
        let reply = tokio::time::timeout(self.target.timeout, post)
            .await
            .map_err(|_| {
                RemoteError::timeout(format!(
                    "OTLP export to {} took over {:?}",
                    self.target.url, self.target.timeout
                ))
            })??;
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
        let attrs = site_attributes(&site, "pyro5");
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
                    site_attributes: Some(&attrs),
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
}
