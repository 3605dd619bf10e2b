//! Log lines reach an OTLP collector: with `OTEL_LOGS_EXPORTER=otlp`, what a `tether
//! echo-server` logs (here the warning it writes when it refuses a Pyro4 client in a serializer
//! it does not accept) is sent as an OTLP log record with OpenTelemetry's severity and the
//! logger's name, read by a receiver with the official `opentelemetry-proto` messages, over HTTP
//! (protobuf and OTLP's JSON) and gRPC.

mod common;

use common::otlp::{collect, receiver, receiver_with, OtlpReceiver};
use common::{echo_server_command, start, uri_of};
use std::process::Command;

fn refused_client_is_logged(r: &OtlpReceiver, protocol: &str, content_type: &str) {
    let mut server = echo_server_command("pyro5");
    server
        .env("OTEL_LOGS_EXPORTER", "otlp")
        .env("OTEL_TRACES_EXPORTER", "none")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &r.url)
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
        .env("OTEL_BLRP_SCHEDULE_DELAY", "100")
        .env("OTEL_SERVICE_NAME", "echo-svc");
    let (_server, lines) = start(&mut server);
    let url = uri_of(&lines);
    // A Pyro4 client in msgpack, which the daemon refuses by default (and logs at WARN).
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args([
            "call",
            &url,
            "echo",
            "'x'",
            "--protocol",
            "pyro4",
            "--serializer",
            "msgpack",
        ])
        .output()
        .expect("tether call");
    assert!(!out.status.success(), "the call should be refused");
    let mut got = Vec::new();
    let refused = |l: &[serde_json::Value]| {
        l.iter()
            .find(|x| {
                x["service"] == "echo-svc"
                    && x["log"]
                        .as_str()
                        .is_some_and(|m| m.contains("CONNECT refused"))
            })
            .cloned()
    };
    collect(r, &mut got, |l| refused(l).is_some());
    let line = refused(&got).expect("the warning");
    assert_eq!(line["severity"], "WARN", "{line}");
    assert_eq!(line["severity_number"], "SEVERITY_NUMBER_WARN", "{line}");
    assert!(
        line["attrs"]["code.namespace"]
            .as_str()
            .is_some_and(|t| t.starts_with("tether")),
        "{line}"
    );
    assert!(
        line["log"]
            .as_str()
            .is_some_and(|m| m.contains("not accepted")),
        "{line}"
    );
    assert_eq!(line["content_type"], content_type);
}

#[test]
fn log_lines_reach_the_collector_over_http() {
    refused_client_is_logged(&receiver(), "http/protobuf", "application/x-protobuf");
}

#[test]
fn log_lines_reach_the_collector_in_otlp_json() {
    refused_client_is_logged(&receiver(), "http/json", "application/json");
}

#[test]
fn log_lines_reach_a_grpc_collector() {
    refused_client_is_logged(&receiver_with(&["--grpc"]), "grpc", "application/grpc");
}
