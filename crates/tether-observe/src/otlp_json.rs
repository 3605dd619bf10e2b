//! OTLP's JSON encoding (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`): the same
//! `ExportTraceServiceRequest` as the protobuf one, written after OTLP's JSON mapping: field
//! names in lowerCamelCase, trace and span ids as lowercase hex (not base64, as protobuf's own
//! JSON mapping would have them), 64-bit integers as decimal strings, enums as their numbers,
//! and fields left at their default omitted. Collectors read it at the same `/v1/traces`
//! path, as `application/json`.
//!
//! Protobuf stays the default and the fast path (spans are encoded by the thread that ran the
//! call); JSON is written from the records on the exporter's thread, for receivers that only
//! take JSON.

use crate::span::{AttrValue, SpanRecord};
use serde_json::{json, Map, Value as Json};
use tether_core::trace::hex;

fn any_value(v: &AttrValue) -> Json {
    match v {
        AttrValue::Str(s) => json!({ "stringValue": s }),
        AttrValue::Int(i) => json!({ "intValue": i.to_string() }),
    }
}

fn attributes<'a>(kv: impl Iterator<Item = (&'a str, &'a AttrValue)>) -> Json {
    Json::Array(
        kv.map(|(k, v)| json!({ "key": k, "value": any_value(v) }))
            .collect(),
    )
}

/// Text attributes, the empty ones left out.
pub(crate) fn text_attributes(attrs: &[(&str, &str)]) -> Json {
    Json::Array(
        attrs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| json!({ "key": k, "value": { "stringValue": v } }))
            .collect(),
    )
}

/// One export of a signal in JSON: `{"resource<Kind>s": [{"resource": ..., "scope<Kind>s":
/// [{"scope": tether, "<items>": items}]}]}` (`kind`: `Spans`, `Metrics`, `Logs`).
pub(crate) fn envelope(
    resource: &[(String, AttrValue)],
    kind: &str,
    items_key: &str,
    items: Vec<Json>,
) -> Vec<u8> {
    let mut scope = Map::new();
    scope.insert(
        "scope".into(),
        json!({ "name": "tether", "version": env!("CARGO_PKG_VERSION") }),
    );
    scope.insert(items_key.into(), Json::Array(items));
    let mut outer = Map::new();
    outer.insert(
        "resource".into(),
        json!({ "attributes": attributes(resource.iter().map(|(k, v)| (k.as_str(), v))) }),
    );
    outer.insert(
        format!("scope{kind}"),
        Json::Array(vec![Json::Object(scope)]),
    );
    let mut body = Map::new();
    body.insert(
        format!("resource{kind}"),
        Json::Array(vec![Json::Object(outer)]),
    );
    Json::Object(body).to_string().into_bytes()
}

fn span(s: &SpanRecord) -> Json {
    let mut m = Map::new();
    m.insert("traceId".into(), hex(&s.trace_id).into());
    m.insert("spanId".into(), hex(&s.span_id).into());
    if let Some(ts) = &s.trace_state {
        m.insert("traceState".into(), ts.to_string().into());
    }
    if let Some(p) = &s.parent_span_id {
        m.insert("parentSpanId".into(), hex(p).into());
    }
    m.insert("name".into(), s.name().into());
    m.insert("kind".into(), (s.kind as i64).into());
    m.insert(
        "startTimeUnixNano".into(),
        s.start_unix_nanos.to_string().into(),
    );
    m.insert(
        "endTimeUnixNano".into(),
        s.end_unix_nanos.to_string().into(),
    );
    let attrs = s.attributes();
    m.insert(
        "attributes".into(),
        attributes(attrs.iter().map(|(k, v)| (*k, v))),
    );
    if let Some(msg) = &s.error {
        // STATUS_CODE_ERROR = 2.
        m.insert("status".into(), json!({ "code": 2, "message": msg }));
    }
    Json::Object(m)
}

/// The body of one export in JSON: one resource (`resource` attributes), one scope (`tether`),
/// `spans`.
pub fn encode_request_json(resource: &[(String, AttrValue)], spans: &[SpanRecord]) -> Vec<u8> {
    envelope(resource, "Spans", "spans", spans.iter().map(span).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::SpanKind;
    use std::sync::Arc;
    use tether_remoting::observe::CallSite;

    #[test]
    fn a_request_is_otlp_json() {
        let site = Arc::new(CallSite::server(
            "pyro5",
            "svc",
            "127.0.0.1:9090".parse().expect("addr"),
        ));
        let span = SpanRecord {
            trace_id: [0xab; 16],
            span_id: [1, 2, 3, 4, 5, 6, 7, 8],
            parent_span_id: Some([9; 8]),
            trace_state: None,
            kind: SpanKind::Server,
            start_unix_nanos: 1_700_000_000_000_000_001,
            end_unix_nanos: 1_700_000_000_000_000_999,
            site,
            system: "pyro5",
            method: "echo \"quoted\"".into(),
            peer: Some("127.0.0.1:40000".parse().expect("addr")),
            error_type: Some("builtins.ValueError".into()),
            error: Some("bad".into()),
        };
        let body = encode_request_json(
            &[("service.name".into(), AttrValue::Str("s".into()))],
            &[span],
        );
        let v: Json = serde_json::from_slice(&body).expect("JSON");
        let s = &v["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(s["traceId"], "abababababababababababababababab");
        assert_eq!(s["spanId"], "0102030405060708");
        assert_eq!(s["parentSpanId"], "0909090909090909");
        assert_eq!(s["kind"], 2);
        assert_eq!(s["startTimeUnixNano"], "1700000000000000001");
        assert_eq!(s["name"], "svc/echo \"quoted\"");
        assert_eq!(s["status"]["code"], 2);
        let attr = |k: &str| {
            s["attributes"]
                .as_array()
                .and_then(|a| a.iter().find(|x| x["key"] == k))
                .map(|x| x["value"].clone())
        };
        assert_eq!(attr("rpc.system"), Some(json!({"stringValue": "pyro5"})));
        assert_eq!(attr("server.port"), Some(json!({"intValue": "9090"})));
        assert_eq!(
            attr("error.type"),
            Some(json!({"stringValue": "builtins.ValueError"}))
        );
        assert_eq!(
            v["resourceSpans"][0]["resource"]["attributes"][0]["key"],
            "service.name"
        );
    }
}
