//! Metrics reach an OTLP collector: with `OTEL_METRICS_EXPORTER=otlp`, `tether echo-server`
//! pushes its call-duration histograms (OpenTelemetry's `rpc.server.call.duration`) every
//! `OTEL_METRIC_EXPORT_INTERVAL`, and a one-shot `tether call` pushes its client histogram as it
//! exits; a receiver decoding them with the official `opentelemetry-proto` messages sees the
//! counts, the bucket bounds `/metrics` has, cumulative temporality and the servers' own
//! figures, over HTTP (protobuf and OTLP's JSON) and over gRPC.

mod common;

use common::otlp::{collect, receiver, receiver_with, OtlpReceiver, Span};
use common::{echo_server_command, start, uri_of};
use std::process::Command;

fn metrics_env(cmd: &mut Command, endpoint: &str, service: &str, protocol: &str) {
    cmd.env("OTEL_METRICS_EXPORTER", "otlp")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
        .env("OTEL_METRIC_EXPORT_INTERVAL", "200")
        .env("OTEL_TRACES_EXPORTER", "none")
        .env("OTEL_SERVICE_NAME", service);
}

/// A data point of `metric` from `service` whose attributes include `method` (if given).
fn point<'a>(
    lines: &'a [Span],
    metric: &str,
    service: &str,
    method: Option<&str>,
) -> Option<&'a Span> {
    lines.iter().rev().find(|l| {
        l["metric"] == metric
            && l["service"] == service
            && method.is_none_or(|m| l["attrs"]["rpc.method"] == m)
    })
}

/// An echo server and two one-shot calls, exporting in `protocol`.
fn server_and_calls(r: &OtlpReceiver, protocol: &str) -> Vec<Span> {
    let mut server = echo_server_command("pyro5");
    metrics_env(&mut server, &r.url, "echo-svc", protocol);
    let (_server, lines) = start(&mut server);
    let url = uri_of(&lines);
    for _ in 0..2 {
        let mut call = Command::new(env!("CARGO_BIN_EXE_tether"));
        call.args(["call", &url, "echo", "'counted'"]);
        metrics_env(&mut call, &r.url, "caller", protocol);
        let out = call.output().expect("tether call");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut got = Vec::new();
    collect(r, &mut got, |l| {
        point(l, "rpc.server.call.duration", "echo-svc", Some("echo"))
            .is_some_and(|p| p["count"] == 2)
            && point(l, "rpc.client.call.duration", "caller", Some("echo")).is_some()
            && point(
                l,
                "tether_server_connections_accepted_total",
                "echo-svc",
                None,
            )
            .is_some_and(|p| p["value"].as_f64().is_some_and(|v| v >= 2.0))
    });
    got
}

fn check(got: &[Span], content_type: &str) {
    let server =
        point(got, "rpc.server.call.duration", "echo-svc", Some("echo")).expect("server histogram");
    assert_eq!(server["type"], "histogram");
    assert_eq!(server["unit"], "s");
    assert_eq!(server["temporality"], "AGGREGATION_TEMPORALITY_CUMULATIVE");
    assert_eq!(server["attrs"]["rpc.system"], "pyro5");
    assert!(server["attrs"].get("error.type").is_none(), "{server}");
    let bounds = server["bounds"].as_array().expect("bounds");
    assert_eq!(bounds.len(), 16);
    assert_eq!(bounds[0], 0.0001);
    assert_eq!(server["buckets"].as_array().map(Vec::len), Some(17));
    let total: u64 = server["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .filter_map(serde_json::Value::as_u64)
        .sum();
    assert_eq!(total, 2, "{server}");
    assert!(server["sum"].as_f64().is_some_and(|s| s > 0.0), "{server}");
    assert_eq!(server["content_type"], content_type);
    // Each one-shot call pushed its own client histogram as it exited.
    let client =
        point(got, "rpc.client.call.duration", "caller", Some("echo")).expect("client histogram");
    assert_eq!(client["count"], 1, "{client}");
    // The server's own figures: a counter as a monotonic sum.
    let accepted = point(
        got,
        "tether_server_connections_accepted_total",
        "echo-svc",
        None,
    )
    .expect("connections accepted");
    assert_eq!(accepted["type"], "sum");
    assert_eq!(accepted["monotonic"], true);
    assert!(
        accepted["value"].as_f64().is_some_and(|v| v >= 2.0),
        "{accepted}"
    );
}

#[test]
fn metrics_reach_the_collector_over_http() {
    let r = receiver();
    let got = server_and_calls(&r, "http/protobuf");
    check(&got, "application/x-protobuf");
}

#[test]
fn metrics_reach_a_grpc_collector() {
    let r = receiver_with(&["--grpc"]);
    let got = server_and_calls(&r, "grpc");
    check(&got, "application/grpc");
}

/// With `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta`, each export counts the
/// calls since the one before: one call, then another, read as two points of 1 (not 1 then 2).
#[test]
fn delta_temporality_counts_since_the_last_export() {
    let r = receiver();
    let mut server = echo_server_command("pyro5");
    metrics_env(&mut server, &r.url, "echo-svc", "http/protobuf");
    server.env("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta");
    let (_server, lines) = start(&mut server);
    let url = uri_of(&lines);
    let call = || {
        let out = Command::new(env!("CARGO_BIN_EXE_tether"))
            .args(["call", &url, "echo", "'once'"])
            .output()
            .expect("tether call");
        assert!(out.status.success());
    };
    let echo_points = |l: &[Span]| -> Vec<Span> {
        l.iter()
            .filter(|p| {
                p["metric"] == "rpc.server.call.duration" && p["attrs"]["rpc.method"] == "echo"
            })
            .cloned()
            .collect()
    };
    let mut got = Vec::new();
    call();
    collect(&r, &mut got, |l| !echo_points(l).is_empty());
    call();
    collect(&r, &mut got, |l| echo_points(l).len() >= 2);
    let points = echo_points(&got);
    for p in &points[..2] {
        assert_eq!(p["count"], 1, "{p}");
        assert_eq!(p["temporality"], "AGGREGATION_TEMPORALITY_DELTA");
    }
    assert!(points[1]["start"].as_u64() > points[0]["start"].as_u64());
}

/// OTLP's JSON mapping (`http/json`), parsed by protobuf's own JSON parser over the official
/// messages (which refuses any field they do not have).
#[test]
fn metrics_reach_the_collector_in_otlp_json() {
    let r = receiver();
    let got = server_and_calls(&r, "http/json");
    check(&got, "application/json");
}
