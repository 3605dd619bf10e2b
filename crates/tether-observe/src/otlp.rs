//! OTLP over HTTP with protobuf bodies (`http/protobuf`): the `ExportTraceServiceRequest`
//! message written by hand, field by field, after opentelemetry-proto's `trace.proto`,
//! `resource.proto` and `common.proto` (a few dozen lines instead of a code generator), and
//! posted to `/v1/traces`.

use crate::span::{AttrValue, SpanKind, SpanParts, SpanRecord};
use std::time::Duration;
use tether_core::RemoteError;
use tether_remoting::observe::{CallSite, Side};

/// Protobuf wire types.
pub(crate) const LEN: u8 = 2;
pub(crate) const VARINT: u8 = 0;
/// 64-bit little-endian fields (`fixed64`, `double`).
pub(crate) const I64: u8 = 1;

pub(crate) fn key(out: &mut Vec<u8>, field: u32, wire: u8) {
    varint(out, u64::from(field) << 3 | u64::from(wire));
}

pub(crate) fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Writes `v` as a varint at the start of `buf` (room for its [`varint_len`]); returns its
/// length.
fn varint_into(buf: &mut [u8], mut v: u64) -> usize {
    let mut n = 0;
    while v >= 0x80 {
        buf[n] = (v as u8) | 0x80;
        v >>= 7;
        n += 1;
    }
    buf[n] = v as u8;
    n + 1
}

pub(crate) fn bytes_field(out: &mut Vec<u8>, field: u32, b: &[u8]) {
    key(out, field, LEN);
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// One export's envelope, shared by the logs and metrics requests: `Resource{Logs,Metrics} {
/// resource = 1, Scope{Logs,Metrics} = 2 { scope = 1 (tether and its version), items } }`
/// written as field 1 of `out`; `items` writes the scope's records (field 2 of the scope
/// message). (Spans have their own, [`request_prefix`]: their body is encoded ahead.)
pub(crate) fn export_envelope(
    out: &mut Vec<u8>,
    resource: &[(String, AttrValue)],
    items: impl FnOnce(&mut Vec<u8>),
) {
    message(out, 1, |rm| {
        message(rm, 1, |r| {
            for (k, v) in resource {
                key_value(r, 1, k, v);
            }
        });
        message(rm, 2, |sm| {
            message(sm, 1, |scope| {
                bytes_field(scope, 1, b"tether");
                bytes_field(scope, 2, env!("CARGO_PKG_VERSION").as_bytes());
            });
            items(sm);
        });
    });
}

/// A nested message, written in place: one byte is kept for its length before the body is
/// written into `out` itself; a body of 128 bytes or more (a span, a batch) moves once to make
/// room for the longer length. Attributes and values, most of what is written, never move.
pub(crate) fn message(out: &mut Vec<u8>, field: u32, body: impl FnOnce(&mut Vec<u8>)) {
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
    let n = varint_into(&mut prefix, len);
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

pub(crate) fn key_value(out: &mut Vec<u8>, field: u32, k: &str, v: &AttrValue) {
    message(out, field, |kv| {
        bytes_field(kv, 1, k.as_bytes());
        message(kv, 2, |av| any_value(av, v));
    });
}

/// A text attribute (`KeyValue { key, value: AnyValue { string_value } }`) as field `field`.
pub(crate) fn text_attribute(out: &mut Vec<u8>, field: u32, k: &str, v: &str) {
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

/// Writes an IPv4 address as text into `buf` (without the formatting machinery: a server
/// span has one per call); returns its length (at most 15).
fn write_ipv4(buf: &mut [u8], octets: [u8; 4]) -> usize {
    let mut n = 0;
    for (i, o) in octets.into_iter().enumerate() {
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
    n
}

/// Writes `KeyValue { key = 1: key, value = 2: AnyValue { .. } }` as attribute (field 9) up
/// to the value's own field: the header every span's peer attributes start with, made at
/// compile time; the two lengths (bytes 1 and `N - 1`) are filled in per span. Every length
/// here is under 128, one byte (an address is at most 45 characters).
const fn attribute_head<const N: usize>(key: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a[0] = 0x4a;
    a[2] = 0x0a;
    a[3] = key.len() as u8;
    let mut i = 0;
    while i < key.len() {
        a[4 + i] = key[i];
        i += 1;
    }
    a[N - 2] = 0x12;
    a
}

/// `network.peer.address`'s header (its value, `string_value = 1`, follows).
const PEER_ADDRESS: [u8; 26] = attribute_head(b"network.peer.address");
/// `network.peer.port`'s header (its value, `int_value = 3`, follows).
const PEER_PORT: [u8; 23] = attribute_head(b"network.peer.port");

/// A span's fields but for its ids and times, the fixed part and the peer: trace state and
/// an error, which most spans lack (no allocation then).
fn rare_fields(s: &SpanParts<'_>) -> Vec<u8> {
    let mut rare = Vec::new();
    if let Some(ts) = s.trace_state {
        bytes_field(&mut rare, 3, ts.as_bytes());
    }
    if let Some(t) = s.error_type {
        text_attribute(&mut rare, 9, "error.type", t);
    }
    if let Some(msg) = s.error {
        // Status { message = 2; code = 3 (STATUS_CODE_ERROR = 2) }
        message(&mut rare, 15, |st| {
            bytes_field(st, 2, msg.as_bytes());
            key(st, 3, VARINT);
            varint(st, 2);
        });
    }
    rare
}

/// The most bytes [`write_span`] writes per call besides the fixed part and the rare fields:
/// ids and times (56), the peer's address (26 + 2 + 45) and port (23 + 1 + 3).
const CALL_PART_MAX: usize = 56 + 73 + 27;

/// Writes one span's `Span` message into `out`, preceded by its key and length in
/// `ScopeSpans` (field 2) when `framed`. The fields that change on every call (ids, times,
/// the peer) are assembled on the stack in copies of fixed size and appended at once, after
/// the part fixed per method (one copy); protobuf readers take fields in any order. Every
/// length is known before a byte is written, so nothing moves afterwards.
fn write_span(out: &mut Vec<u8>, s: &SpanParts<'_>, framed: bool) {
    let fixed = match s.fixed {
        Some(f) => std::borrow::Cow::Borrowed(f),
        None => std::borrow::Cow::Owned(fixed_part(s.site, s.system, s.method, s.kind)),
    };
    // trace_id = 1, span_id = 2, parent_span_id = 4 (bytes); start = 7, end = 8 (fixed64).
    let mut call = [0u8; CALL_PART_MAX];
    call[0] = 0x0a;
    call[1] = 16;
    call[2..18].copy_from_slice(&s.trace_id);
    call[18] = 0x12;
    call[19] = 8;
    call[20..28].copy_from_slice(&s.span_id);
    let mut n = match &s.parent_span_id {
        Some(p) => {
            call[28] = 0x22;
            call[29] = 8;
            call[30..38].copy_from_slice(p);
            38
        }
        None => 28,
    };
    let mut t = [0u8; 18];
    t[0] = 0x39;
    t[1..9].copy_from_slice(&s.start_unix_nanos.to_le_bytes());
    t[9] = 0x41;
    t[10..18].copy_from_slice(&s.end_unix_nanos.to_le_bytes());
    call[n..n + 18].copy_from_slice(&t);
    n += 18;
    if let Some(p) = s.peer {
        n = write_peer(&mut call, n, p);
    }
    let rare = rare_fields(s);
    let len = fixed.len() + n + rare.len();
    out.reserve(len + 6);
    if framed {
        key(out, 2, LEN);
        varint(out, len as u64);
    }
    out.extend_from_slice(&fixed);
    out.extend_from_slice(&call[..n]);
    if !rare.is_empty() {
        out.extend_from_slice(&rare);
    }
}

/// Writes the peer's address and port attributes into `call` at `n`; returns where they
/// end. Each attribute: its header, then the value's key, length and bytes (every length
/// under 128: one byte).
fn write_peer(call: &mut [u8; CALL_PART_MAX], mut n: usize, peer: std::net::SocketAddr) -> usize {
    // The address's text goes straight after its headers; its length, known only once it is
    // written, is filled in behind.
    let at = n + PEER_ADDRESS.len() + 2;
    let ip_len = match peer.ip() {
        std::net::IpAddr::V4(v4) => write_ipv4(&mut call[at..at + 15], v4.octets()),
        std::net::IpAddr::V6(v6) => {
            let text = v6.to_string();
            let text = &text.as_bytes()[..text.len().min(45)];
            call[at..at + text.len()].copy_from_slice(text);
            text.len()
        }
    };
    let mut a = PEER_ADDRESS;
    let value = 2 + ip_len;
    a[1] = (PEER_ADDRESS.len() - 2 + value) as u8;
    a[PEER_ADDRESS.len() - 1] = value as u8;
    call[n..n + PEER_ADDRESS.len()].copy_from_slice(&a);
    n += PEER_ADDRESS.len();
    call[n] = 0x0a;
    call[n + 1] = ip_len as u8;
    n += 2 + ip_len;
    let port = u64::from(peer.port());
    let mut b = PEER_PORT;
    let value = 1 + varint_len(port);
    b[1] = (PEER_PORT.len() - 2 + value) as u8;
    b[PEER_PORT.len() - 1] = value as u8;
    call[n..n + PEER_PORT.len()].copy_from_slice(&b);
    n += PEER_PORT.len();
    call[n] = 0x18;
    n += 1;
    n + varint_into(&mut call[n..], port)
}

/// The body of a `Span` message.
#[cfg(test)]
fn span(out: &mut Vec<u8>, s: &SpanParts<'_>) {
    write_span(out, s, false);
}

/// Appends one span as it stands in `ScopeSpans` (field 2): what the pipeline keeps per span
/// when it exports only OTLP.
pub(crate) fn encode_span(out: &mut Vec<u8>, s: &SpanParts<'_>) {
    write_span(out, s, true);
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

/// How batches travel (`OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// `http/protobuf`: protobuf over HTTP/1.1, `application/x-protobuf`. The default.
    #[default]
    HttpProtobuf,
    /// `http/json`: OTLP's JSON mapping of the same messages, `application/json` (see
    /// [`crate::otlp_json`]).
    HttpJson,
    /// `grpc`: the protobuf request as a gRPC call (`TraceService/Export`) over HTTP/2:
    /// cleartext with prior knowledge for `http://`, TLS with ALPN `h2` for `https://`.
    Grpc,
}

/// Where and how spans are posted.
#[derive(Clone, Debug)]
pub struct OtlpTarget {
    /// The traces endpoint: the full URL for HTTP (`http://host:4318/v1/traces`), the
    /// collector's `http(s)://host:port` for gRPC.
    pub url: String,
    /// Extra headers (`OTEL_EXPORTER_OTLP_HEADERS`); gRPC metadata for gRPC.
    pub headers: Vec<(String, String)>,
    /// How long one export may take.
    pub timeout: Duration,
    /// TLS settings for an `https` URL.
    pub tls: Option<tether_tls::ClientTlsSettings>,
    /// HTTP with protobuf or JSON, or gRPC. Default HTTP with protobuf.
    pub protocol: OtlpProtocol,
    /// Whether each export is gzipped (`OTEL_EXPORTER_OTLP_COMPRESSION=gzip`). Default no.
    pub gzip: bool,
}

/// `parts` one after the other, gzipped (fast level: an export is compressed on the exporter's
/// thread, which a busy server shares its CPUs with).
fn gzipped(parts: &[&[u8]]) -> Vec<u8> {
    use std::io::Write;
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut z = flate2::write::GzEncoder::new(
        Vec::with_capacity(len / 4 + 64),
        flate2::Compression::fast(),
    );
    for p in parts {
        // Writing into a Vec cannot fail.
        let _ = z.write_all(p);
    }
    z.finish().unwrap_or_default()
}

enum Transport {
    Http(tether_http::HttpClient),
    Grpc(crate::otlp_grpc::GrpcChannel),
}

/// Posts encoded batches to one endpoint over one kept-alive connection.
pub struct OtlpClient {
    transport: Transport,
    target: OtlpTarget,
}

/// A batch sent whose outcome is read by [`OtlpClient::finish`].
pub struct Sent(SentOn);

enum SentOn {
    /// Sent over HTTP/1.1, its reply not read yet; the gzipped body, if it was gzipped (what
    /// goes again if the kept connection turns out closed).
    Http(tether_http::Sent, Option<Vec<u8>>),
    /// A gRPC call, already answered (an HTTP/2 connection is driven only while its runtime
    /// runs, so the call is made whole).
    Done(Result<(), RemoteError>),
}

impl OtlpClient {
    /// A client for `target` (no I/O yet).
    pub fn new(target: OtlpTarget) -> Result<OtlpClient, RemoteError> {
        OtlpClient::calling(target, crate::otlp_grpc::TRACES_PATH)
    }

    /// A client of `target` for metrics (over gRPC, `MetricsService/Export`).
    pub fn new_for_metrics(target: OtlpTarget) -> Result<OtlpClient, RemoteError> {
        OtlpClient::calling(target, crate::otlp_grpc::METRICS_PATH)
    }

    /// A client of `target` for logs (over gRPC, `LogsService/Export`).
    pub fn new_for_logs(target: OtlpTarget) -> Result<OtlpClient, RemoteError> {
        OtlpClient::calling(target, crate::otlp_grpc::LOGS_PATH)
    }

    fn calling(target: OtlpTarget, grpc_path: &'static str) -> Result<OtlpClient, RemoteError> {
        let tls = match &target.tls {
            Some(tls) => Some(
                tether_tls::ClientTls::new(tls)
                    .map_err(|e| RemoteError::config(format!("OTLP TLS settings: {e}")))?,
            ),
            None => None,
        };
        let transport = match target.protocol {
            OtlpProtocol::Grpc => Transport::Grpc(
                crate::otlp_grpc::GrpcChannel::new(&target.url, tls, target.timeout)?
                    .calling(grpc_path),
            ),
            OtlpProtocol::HttpProtobuf | OtlpProtocol::HttpJson => {
                let mut http = tether_http::HttpClient::new(&target.url)?
                    .with_connect_timeout(target.timeout)
                    .with_user_agent(concat!("tether-otlp/", env!("CARGO_PKG_VERSION")));
                if let Some(tls) = tls {
                    http = http.with_tls(tls);
                }
                Transport::Http(http)
            }
        };
        Ok(OtlpClient { transport, target })
    }

    /// How this client's batches travel.
    pub fn protocol(&self) -> OtlpProtocol {
        self.target.protocol
    }

    /// Posts one batch; a non-2xx status (a gRPC status other than OK) is an error naming it.
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
    /// reply over HTTP/1.1 ([`OtlpClient::finish`] reads it).
    pub async fn send(&self, parts: &[&[u8]]) -> Result<Sent, RemoteError> {
        let zipped = self.target.gzip.then(|| gzipped(parts));
        let body: Vec<&[u8]> = match &zipped {
            Some(z) => vec![&z[..]],
            None => parts.to_vec(),
        };
        let http = match &self.transport {
            Transport::Http(http) => http,
            Transport::Grpc(grpc) => {
                let call = grpc.export(&body, &self.target.headers, zipped.is_some());
                let outcome = tokio::time::timeout(self.target.timeout, call)
                    .await
                    .unwrap_or_else(|_| Err(self.timed_out()));
                return Ok(Sent(SentOn::Done(outcome)));
            }
        };
        let mut headers: Vec<(&str, &str)> = self
            .target
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let content_type = match self.target.protocol {
            OtlpProtocol::HttpJson => "application/json",
            _ => "application/x-protobuf",
        };
        if zipped.is_some() {
            headers.push(("Content-Encoding", "gzip"));
        }
        let send = http.send_parts(content_type, &headers, &body);
        let sent = tokio::time::timeout(self.target.timeout, send)
            .await
            .map_err(|_| self.timed_out())??;
        Ok(Sent(SentOn::Http(sent, zipped)))
    }

    /// Reads the reply to a batch [`OtlpClient::send`] sent (`parts`: its body again); a
    /// non-2xx status is an error naming it.
    pub async fn finish(&self, sent: Sent, parts: &[&[u8]]) -> Result<(), RemoteError> {
        let (http, sent, zipped) = match (&self.transport, sent.0) {
            (_, SentOn::Done(outcome)) => return outcome,
            (Transport::Http(http), SentOn::Http(sent, zipped)) => (http, sent, zipped),
            (Transport::Grpc(_), SentOn::Http(..)) => {
                return Err(RemoteError::protocol("an HTTP/1.1 send on a gRPC client"))
            }
        };
        let zipped_parts;
        let parts = match &zipped {
            Some(z) => {
                zipped_parts = [&z[..]];
                &zipped_parts[..]
            }
            None => parts,
        };
        let reply = tokio::time::timeout(self.target.timeout, http.reply(sent, parts))
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
            let mut buf = [0u8; 15];
            let n = write_ipv4(&mut buf, ip);
            let text = std::net::Ipv4Addr::from(ip).to_string();
            assert_eq!(&buf[..n], text.as_bytes());
        }
    }

    /// The peer's attributes as a protobuf reader sees them, for an IPv4 and the longest
    /// IPv6 text, and a port of one, two and three varint bytes.
    #[test]
    fn peer_attributes_decode_for_every_address_form() {
        for (ip, port) in [
            ("127.0.0.1", 9u16),
            ("255.255.255.255", 200),
            ("::1", 65535),
            ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 40000),
            ("::ffff:255.255.255.255", 1),
        ] {
            let peer = std::net::SocketAddr::new(ip.parse().expect("ip"), port);
            let mut call = [0u8; CALL_PART_MAX];
            let n = write_peer(&mut call, 0, peer);
            let want_ip = peer.ip().to_string();
            // attribute 9 (network.peer.address) then attribute 9 (network.peer.port)
            let (f, body) = field_at(&call, 0);
            assert_eq!(f, 9);
            assert!(call[body.clone()].ends_with(want_ip.as_bytes()), "{ip}");
            let (f, port_body) = field_at(&call, body.end);
            assert_eq!(f, 9);
            assert_eq!(port_body.end, n, "{ip}");
            // The value: `int_value = 3` (key 0x18), then the port's varint, last.
            let len = varint_len(u64::from(port));
            let value = &call[port_body.end - len..port_body.end];
            assert_eq!(call[port_body.end - len - 1], 0x18, "{ip}");
            let v = value
                .iter()
                .enumerate()
                .fold(0u64, |v, (i, b)| v | u64::from(b & 0x7f) << (7 * i));
            assert_eq!(v, u64::from(port), "{ip}");
        }
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

    /// One field of a message: (field, wire type, value or body).
    type Field = (u64, u64, Vec<u8>);

    /// Every field of a message.
    fn fields(b: &[u8]) -> Vec<Field> {
        let read = |i: &mut usize| {
            let (mut v, mut shift) = (0u64, 0);
            loop {
                let x = b[*i];
                *i += 1;
                v |= u64::from(x & 0x7f) << shift;
                if x < 0x80 {
                    return v;
                }
                shift += 7;
            }
        };
        let (mut out, mut i) = (Vec::new(), 0);
        while i < b.len() {
            let k = read(&mut i);
            let v = match k & 7 {
                0 => read(&mut i).to_le_bytes().to_vec(),
                1 => {
                    i += 8;
                    b[i - 8..i].to_vec()
                }
                2 => {
                    let n = read(&mut i) as usize;
                    i += n;
                    b[i - n..i].to_vec()
                }
                w => panic!("wire type {w}"),
            };
            out.push((k >> 3, k & 7, v));
        }
        assert_eq!(i, b.len(), "the last field ends where the message does");
        out
    }

    /// The peer's attributes, written from precomputed pieces, decode as protobuf says:
    /// IPv4 and IPv6, ports of one to three varint bytes; ids and times where they belong.
    #[test]
    fn a_spans_fields_decode_to_what_was_recorded() {
        let site = std::sync::Arc::new(tether_remoting::observe::CallSite::server(
            "pyro5",
            "echo",
            "127.0.0.1:9090".parse().expect("addr"),
        ));
        for peer in [
            "10.0.0.1:1",
            "255.255.255.255:65535",
            "[::1]:300",
            "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:80",
        ] {
            let peer: std::net::SocketAddr = peer.parse().expect("peer");
            let fixed = fixed_part(&site, "pyro5", "echo", SpanKind::Server);
            let state: std::sync::Arc<str> = "k=v".into();
            let parts = SpanParts {
                trace_id: [7; 16],
                span_id: [8; 8],
                parent_span_id: Some([9; 8]),
                trace_state: Some(&state),
                kind: SpanKind::Server,
                start_unix_nanos: 11,
                end_unix_nanos: 12,
                site: &site,
                system: "pyro5",
                method: "echo",
                peer: Some(peer),
                error_type: None,
                error: None,
                fixed: Some(&fixed),
            };
            let mut out = Vec::new();
            encode_span(&mut out, &parts);
            let outer = fields(&out);
            assert_eq!((outer.len(), outer[0].0), (1, 2));
            let span = fields(&outer[0].2);
            let one = |f: u64| {
                span.iter()
                    .find(|x| x.0 == f)
                    .map(|x| x.2.clone())
                    .expect("field")
            };
            assert_eq!(one(1), [7; 16]);
            assert_eq!(one(2), [8; 8]);
            assert_eq!(one(3), b"k=v");
            assert_eq!(one(4), [9; 8]);
            assert_eq!(one(7), 11u64.to_le_bytes());
            assert_eq!(one(8), 12u64.to_le_bytes());
            assert_eq!(one(5), b"echo/echo");
            let attrs: Vec<(Vec<u8>, Vec<Field>)> = span
                .iter()
                .filter(|x| x.0 == 9)
                .map(|x| {
                    let kv = fields(&x.2);
                    (kv[0].2.clone(), fields(&kv[1].2))
                })
                .collect();
            let attr = |k: &str| {
                attrs
                    .iter()
                    .find(|a| a.0 == k.as_bytes())
                    .map(|a| a.1[0].clone())
                    .expect(k)
            };
            assert_eq!(
                attr("network.peer.address"),
                (1, 2, peer.ip().to_string().into_bytes())
            );
            let port = attr("network.peer.port");
            assert_eq!((port.0, port.1), (3, 0));
            assert_eq!(port.2, u64::from(peer.port()).to_le_bytes());
            assert_eq!(attr("rpc.method").2, b"echo");
            assert_eq!(attr("server.address").2, b"127.0.0.1");
        }
    }
}
