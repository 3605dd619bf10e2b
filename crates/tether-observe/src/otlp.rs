//! OTLP over HTTP with protobuf bodies (`http/protobuf`): the `ExportTraceServiceRequest`
//! message written by hand, field by field, after opentelemetry-proto's `trace.proto`,
//! `resource.proto` and `common.proto` (a few dozen lines instead of a code generator), and
//! posted to `/v1/traces`.

use crate::span::{AttrValue, SpanRecord};
use std::time::Duration;
use tether_core::RemoteError;
use tether_remoting::observe::Side;

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

fn span(out: &mut Vec<u8>, s: &SpanRecord) {
    bytes_field(out, 1, &s.trace_id);
    bytes_field(out, 2, &s.span_id);
    if let Some(ts) = &s.trace_state {
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
    // The attributes of `SpanRecord::attributes`, written straight from the record's parts.
    let site = &*s.site;
    let text = |out: &mut Vec<u8>, k: &str, v: &str| {
        message(out, 9, |kv| {
            bytes_field(kv, 1, k.as_bytes());
            message(kv, 2, |av| bytes_field(av, 1, v.as_bytes()));
        })
    };
    let int = |out: &mut Vec<u8>, k: &str, v: i64| key_value(out, 9, k, &AttrValue::Int(v));
    match site.side {
        Side::Pool => text(out, "tether.pool", &site.service),
        Side::Local => text(out, "tether.object", &site.service),
        Side::Client | Side::Server => {
            text(out, "rpc.system", s.system);
            text(out, "rpc.service", &site.service);
        }
    }
    text(out, "rpc.method", &s.method);
    if let Some(h) = &site.host {
        text(out, "server.address", h);
    }
    if let Some(p) = site.port {
        int(out, "server.port", i64::from(p));
    }
    if let Some(p) = s.peer {
        let mut ip = String::new();
        let _ = std::fmt::Write::write_fmt(&mut ip, format_args!("{}", p.ip()));
        text(out, "network.peer.address", &ip);
        int(out, "network.peer.port", i64::from(p.port()));
    }
    if let Some(t) = &s.error_type {
        text(out, "error.type", t);
    }
    if let Some(msg) = &s.error {
        // Status { message = 2; code = 3 (STATUS_CODE_ERROR = 2) }
        message(out, 15, |st| {
            bytes_field(st, 2, msg.as_bytes());
            key(st, 3, VARINT);
            varint(st, 2);
        });
    }
}

/// The body of one export: `ExportTraceServiceRequest { resource_spans }` with one resource
/// (`resource` attributes) and one scope (`tether`).
pub fn encode_request(resource: &[(String, AttrValue)], spans: &[SpanRecord]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 * spans.len() + 128);
    message(&mut out, 1, |rs| {
        message(rs, 1, |r| {
            for (k, v) in resource {
                key_value(r, 1, k, v);
            }
        });
        message(rs, 2, |ss| {
            message(ss, 1, |scope| {
                bytes_field(scope, 1, b"tether");
                bytes_field(scope, 2, env!("CARGO_PKG_VERSION").as_bytes());
            });
            for s in spans {
                message(ss, 2, |b| span(b, s));
            }
        });
    });
    out
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
}
