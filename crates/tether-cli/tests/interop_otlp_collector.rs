//! Spans reach an OTLP collector: OpenTelemetry's standard variables turn export on in every
//! command of the `tether` binary; a receiver decoding OTLP with the official
//! `opentelemetry-proto` messages (Python) sees a `tether call` client span and the `tether
//! echo-server` server span in one trace, flushed at exit, over HTTP (protobuf and OTLP's JSON)
//! and over gRPC (to a grpcio server); a Python Pyro5 server sees the trace id as its
//! correlation id.

mod common;

use common::otlp::{attr, collect, otel, otel_in, receiver, receiver_with, OtlpReceiver, Span};
use common::{python, root, start, start_until};
use std::process::Command;

/// `tether call` to a `tether echo-server`, both exporting in `protocol`: the collector gets
/// the client and the server span of one trace, then both spans of a failing call.
fn a_call_and_its_server_span(
    r: &OtlpReceiver,
    protocol: &str,
    content_type: &str,
    env: &[(&str, &str)],
) -> Vec<Span> {
    let otel = |cmd: &mut Command, endpoint: &str, service: &str| {
        otel_in(cmd, endpoint, service, protocol);
        cmd.envs(env.iter().copied());
    };
    let mut server_cmd = Command::new(env!("CARGO_BIN_EXE_tether"));
    server_cmd.args([
        "echo-server",
        "--protocol",
        "pyro5",
        "-H",
        "127.0.0.1",
        "-p",
        "0",
    ]);
    otel(&mut server_cmd, &r.url, "echo-svc");
    server_cmd.env("OTEL_BSP_SCHEDULE_DELAY", "100");
    let (server, lines) = start(&mut server_cmd);
    let url = common::uri_of(&lines);

    let mut call = Command::new(env!("CARGO_BIN_EXE_tether"));
    call.args(["call", &url, "echo", "'traced'"]);
    otel(&mut call, &r.url, "caller");
    let out = call.output().expect("tether call");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "'traced'");

    let mut spans = Vec::new();
    collect(r, &mut spans, |s| {
        s.iter().any(|x| x["service"] == "caller") && s.iter().any(|x| x["service"] == "echo-svc")
    });
    let client = spans
        .iter()
        .find(|s| s["service"] == "caller")
        .expect("client span");
    let server_span = spans
        .iter()
        .find(|s| s["service"] == "echo-svc")
        .expect("server span");
    assert_eq!(client["content_type"], content_type);
    assert_eq!(server_span["content_type"], content_type);
    assert_eq!(client["scope"], "tether");
    assert_eq!(client["kind"], "SPAN_KIND_CLIENT");
    assert_eq!(server_span["kind"], "SPAN_KIND_SERVER");
    assert_eq!(client["name"], "test.echoserver/echo");
    assert_eq!(server_span["name"], "test.echoserver/echo");
    assert_eq!(client["trace_id"], server_span["trace_id"], "one trace");
    assert_eq!(server_span["parent"], client["span_id"]);
    for s in [client, server_span] {
        assert_eq!(attr(s, "rpc.system"), "pyro5");
        assert_eq!(attr(s, "rpc.service"), "test.echoserver");
        assert_eq!(attr(s, "rpc.method"), "echo");
        assert_eq!(attr(s, "server.address"), "127.0.0.1");
        assert!(attr(s, "server.port").is_i64() || attr(s, "server.port").is_u64());
        assert_eq!(s["status"], "STATUS_CODE_UNSET");
    }
    assert_eq!(attr(server_span, "network.peer.address"), "127.0.0.1");

    // A failing call: the error is on both spans.
    let mut call = Command::new(env!("CARGO_BIN_EXE_tether"));
    call.args(["call", &url, "error"]);
    otel(&mut call, &r.url, "caller");
    let out = call.output().expect("tether call");
    assert_eq!(out.status.code(), Some(1));
    spans.clear();
    collect(r, &mut spans, |s| s.len() >= 2);
    for s in &spans {
        assert_eq!(s["status"], "STATUS_CODE_ERROR", "{s}");
        assert_eq!(attr(s, "error.type"), "builtins.ValueError", "{s}");
    }
    drop(server);
    spans
}

#[test]
fn a_call_and_its_server_form_one_trace_at_the_collector() {
    let r = receiver();
    let spans = a_call_and_its_server_span(&r, "http/protobuf", "application/x-protobuf", &[]);
    assert!(
        spans.iter().all(|s| s["content_encoding"].is_null()),
        "{spans:?}"
    );
    let mut spans = Vec::new();

    // A Python Pyro5 server reads the trace id as the message's correlation id.
    let (py, lines) = start_until(
        Command::new(python())
            .arg("-u")
            .arg(root().join("crates/tether-pyro/tests/python/test_server.py")),
        "server uri:",
    );
    let py_url = lines
        .last()
        .and_then(|l| l.strip_prefix("server uri: "))
        .expect("server uri")
        .to_string();
    let mut call = Command::new(env!("CARGO_BIN_EXE_tether"));
    call.args(["call", &py_url, "correlation"]);
    otel(&mut call, &r.url, "caller");
    let out = call.output().expect("tether call");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let corr = String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_matches('\'')
        .replace('-', "");
    collect(&r, &mut spans, |s| !s.is_empty());
    assert_eq!(spans[0]["trace_id"], corr.as_str(), "{spans:#?}");
    drop(py);
}

/// `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`: the same spans, in OTLP's JSON, which the receiver
/// reads with protobuf's JSON parser over the official messages.
#[test]
fn spans_reach_the_collector_in_otlp_json_too() {
    let r = receiver();
    a_call_and_its_server_span(&r, "http/json", "application/json", &[]);
}

/// `OTEL_EXPORTER_OTLP_COMPRESSION=gzip`: gzipped HTTP bodies (`Content-Encoding: gzip`) and
/// gzip-encoded gRPC messages, both read by the receivers as they come.
#[test]
fn gzipped_exports_reach_the_collector() {
    let gzip = [("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")];
    let r = receiver();
    let spans = a_call_and_its_server_span(&r, "http/protobuf", "application/x-protobuf", &gzip);
    assert!(
        spans.iter().all(|s| s["content_encoding"] == "gzip"),
        "{spans:?}"
    );
    let r = receiver_with(&["--grpc"]);
    a_call_and_its_server_span(&r, "grpc", "application/grpc", &gzip);
}

/// `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`: the same spans as a gRPC call to a Python grpcio
/// server running OTLP's `TraceService`.
#[test]
fn spans_reach_a_grpc_collector() {
    let r = receiver_with(&["--grpc"]);
    a_call_and_its_server_span(&r, "grpc", "application/grpc", &[]);
}

/// gRPC over TLS (ALPN `h2`): the collector's certificate is checked against
/// `OTEL_EXPORTER_OTLP_CERTIFICATE`.
#[test]
fn spans_reach_a_grpc_collector_over_tls() {
    let dir = std::env::temp_dir().join(format!("tether-otlp-grpc-tls-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["pki", dir.to_str().expect("path")])
        .output()
        .expect("tether pki");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = receiver_with(&["--grpc", "--tls", dir.to_str().expect("path")]);
    assert!(r.url.starts_with("https://"), "{}", r.url);
    let ca = dir.join("ca-root-cert.pem");
    a_call_and_its_server_span(
        &r,
        "grpc",
        "application/grpc",
        &[("OTEL_EXPORTER_OTLP_CERTIFICATE", ca.to_str().expect("path"))],
    );
    let _ = std::fs::remove_dir_all(&dir);
}
