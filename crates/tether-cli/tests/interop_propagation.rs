//! A call's trace and baggage cross a tether process in the formats `OTEL_PROPAGATORS` names,
//! between Python's own HTTP stacks with OpenTelemetry's official propagators
//! (`opentelemetry-api`, `opentelemetry-propagator-b3`): a Python XML-RPC client injects W3C
//! trace context or Zipkin B3 and W3C baggage into its call to a `tether gateway`, whose call to
//! a Python XML-RPC server carries the same trace (the gateway's spans between, at an OTLP
//! receiver) and the same baggage, written in the gateway's formats and read back by the
//! official extractors. A format the gateway is not told to read is not read; with `none`,
//! nothing is read or written.

mod common;

use common::otlp::{collect, otel, receiver, OtlpReceiver, Span};
use common::{python, root, start_with, Proc};
use std::process::Command;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN: &str = "00f067aa0ba902b7";

fn peer() -> std::path::PathBuf {
    root().join("crates/tether-cli/tests/python/propagation_peer.py")
}

/// Python's XML-RPC server that answers the headers it was called with.
fn target() -> (Proc, String) {
    start_with(
        Command::new(python()).arg("-u").arg(peer()).arg("serve"),
        "URL ",
    )
}

/// `tether gateway` to `target` on XML-RPC, with `OTEL_PROPAGATORS=propagators` (unset when
/// empty), exporting its spans to `r` as service `gateway`.
fn gateway(target: &str, propagators: &str, r: &OtlpReceiver) -> (Proc, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tether"));
    cmd.args([
        "gateway",
        target,
        "--target-protocol",
        "xmlrpc",
        "--protocol",
        "xmlrpc",
        "--listen",
        "http://127.0.0.1:0/RPC2",
    ]);
    otel(&mut cmd, &r.url, "gateway");
    cmd.env("OTEL_BSP_SCHEDULE_DELAY", "100");
    if propagators.is_empty() {
        cmd.env_remove("OTEL_PROPAGATORS");
    } else {
        cmd.env("OTEL_PROPAGATORS", propagators);
    }
    start_with(&mut cmd, "gateway uri: ")
}

/// Python's XML-RPC client calls `headers()` at `url` sending `headers` (`name=value`, or
/// `inject=FORMAT`: what OpenTelemetry's propagator injects for trace `TRACE`, span `SPAN`,
/// sampled, and baggage `user=alice`, `tier=gold plus`): the target server's
/// `{"headers": ..., "extracted": ...}` (what it was sent, and what the official extractors
/// read from it).
fn call(url: &str, headers: &[&str]) -> serde_json::Value {
    let out = Command::new(python())
        .arg(peer())
        .args(["call", url])
        .args(headers)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON line")
}

/// The gateway's server span and client span of one call.
fn gateway_spans(r: &OtlpReceiver) -> (Span, Span) {
    let of = |spans: &[Span], kind: &str| {
        spans
            .iter()
            .find(|s| s["service"] == "gateway" && s["kind"] == kind)
            .cloned()
    };
    let mut spans = Vec::new();
    collect(r, &mut spans, |s| {
        of(s, "SPAN_KIND_SERVER").is_some() && of(s, "SPAN_KIND_CLIENT").is_some()
    });
    let server = of(&spans, "SPAN_KIND_SERVER").expect("server span");
    let client = of(&spans, "SPAN_KIND_CLIENT").expect("client span");
    assert_eq!(client["trace_id"], server["trace_id"], "{spans:#?}");
    assert_eq!(client["parent"], server["span_id"], "{spans:#?}");
    (server, client)
}

fn text(v: &serde_json::Value) -> &str {
    v.as_str().unwrap_or("")
}

/// B3 in (single header), B3 multi-header out, baggage through: the gateway's server span
/// continues the caller's trace and its client span is the target's parent.
#[test]
fn b3_in_b3_multi_out_and_baggage_through() {
    let r = receiver();
    let (_target, target_url) = target();
    let (_gw, url) = gateway(&target_url, "b3multi,baggage", &r);
    let reply = call(&url, &["inject=b3", "inject=baggage"]);
    let (got, read) = (&reply["headers"], &reply["extracted"]);
    let (server, client) = gateway_spans(&r);
    assert_eq!(text(&server["trace_id"]), TRACE);
    assert_eq!(text(&server["parent"]), SPAN);
    assert_eq!(text(&got["x-b3-traceid"]), TRACE, "{got}");
    assert_eq!(got["x-b3-spanid"], client["span_id"], "{got}");
    assert_eq!(text(&got["x-b3-sampled"]), "1", "{got}");
    assert_eq!(
        text(&read["b3multi"]),
        format!("{TRACE}-{}-1", text(&client["span_id"])),
        "{read}"
    );
    assert_eq!(
        read["baggage"],
        serde_json::json!({"user": "alice", "tier": "gold plus"})
    );
    for absent in ["traceparent", "b3"] {
        assert!(got.get(absent).is_none(), "{absent}: {got}");
    }
}

/// The default (`tracecontext,baggage`): W3C in, W3C out, the trace state passed on; B3
/// headers are neither read nor written.
#[test]
fn w3c_trace_context_and_baggage_by_default() {
    let r = receiver();
    let (_target, target_url) = target();
    let (_gw, url) = gateway(&target_url, "", &r);
    let reply = call(
        &url,
        &[
            "inject=tracecontext",
            "inject=baggage",
            "tracestate=congo=t61rcWkgMzE",
        ],
    );
    let (got, read) = (&reply["headers"], &reply["extracted"]);
    let (server, client) = gateway_spans(&r);
    assert_eq!(text(&server["trace_id"]), TRACE);
    assert_eq!(text(&server["parent"]), SPAN);
    let want = format!("00-{TRACE}-{}-01", text(&client["span_id"]));
    assert_eq!(text(&got["traceparent"]), want, "{got}");
    assert_eq!(text(&got["tracestate"]), "congo=t61rcWkgMzE", "{got}");
    assert_eq!(
        text(&read["tracecontext"]),
        format!("{TRACE}-{}-1", text(&client["span_id"])),
        "{read}"
    );
    assert_eq!(
        read["baggage"],
        serde_json::json!({"user": "alice", "tier": "gold plus"})
    );
    assert!(
        got.get("x-b3-traceid").is_none() && got.get("b3").is_none(),
        "{got}"
    );

    // A B3-only caller is not read by a W3C gateway: its span starts a new trace.
    let reply = call(&url, &["inject=b3multi"]);
    let got = &reply["headers"];
    let (server, _) = gateway_spans(&r);
    assert_ne!(text(&server["trace_id"]), TRACE);
    assert_eq!(text(&server["parent"]), "");
    assert!(
        text(&got["traceparent"]).contains(text(&server["trace_id"])),
        "{got}"
    );
}

/// `none`: the caller's headers are not read (the gateway's span starts its own trace) and
/// nothing is written to the target.
#[test]
fn none_reads_and_writes_nothing() {
    let r = receiver();
    let (_target, target_url) = target();
    let (_gw, url) = gateway(&target_url, "none", &r);
    let reply = call(
        &url,
        &[
            "inject=tracecontext",
            "inject=b3",
            "inject=b3multi",
            "inject=baggage",
        ],
    );
    assert_eq!(reply["headers"], serde_json::json!({}), "{reply}");
    let (server, _) = gateway_spans(&r);
    assert_ne!(text(&server["trace_id"]), TRACE);
}

/// A format tether cannot write is refused by name, not ignored.
#[test]
fn an_unknown_propagator_is_named() {
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["call", "PYRO:x@127.0.0.1:1", "echo", "1"])
        .env("OTEL_PROPAGATORS", "tracecontext,xray")
        .output()
        .expect("tether");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("OTEL_PROPAGATORS") && err.contains("xray"),
        "{err}"
    );
}
