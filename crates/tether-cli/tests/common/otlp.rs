//! An OTLP/HTTP (or gRPC) receiver that decodes spans with the official `opentelemetry-proto`
//! messages (`python/otlp_receiver.py`), for the tests of spans leaving a process, and the
//! variables that point a `tether` command at it.

use super::{python, root, Proc};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// A running receiver: where it listens, and its span lines as they come.
pub struct OtlpReceiver {
    _proc: Proc,
    /// The receiver's base URL (an OTLP endpoint).
    pub url: String,
    /// One JSON line per span.
    pub lines: Receiver<String>,
}

/// An OTLP/HTTP receiver.
pub fn receiver() -> OtlpReceiver {
    receiver_with(&[])
}

/// The receiver script with `args` (`--grpc`: an OTLP/gRPC receiver).
pub fn receiver_with(args: &[&str]) -> OtlpReceiver {
    let mut child = Command::new(python())
        .arg("-u")
        .arg(root().join("crates/tether-cli/tests/python/otlp_receiver.py"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the OTLP receiver");
    let out = child.stdout.take().expect("stdout");
    let proc = Proc(child);
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("receiver listening");
    let url = first
        .strip_prefix("otlp receiver: ")
        .expect("receiver line")
        .to_string();
    OtlpReceiver {
        _proc: proc,
        url,
        lines: rx,
    }
}

/// One span as the receiver prints it.
pub type Span = serde_json::Value;

/// Spans received until `done` says so (at most 30 s).
pub fn collect(r: &OtlpReceiver, spans: &mut Vec<Span>, done: impl Fn(&[Span]) -> bool) {
    let end = Instant::now() + Duration::from_secs(30);
    while !done(spans) {
        let left = end.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "spans so far: {spans:#?}");
        if let Ok(l) = r.lines.recv_timeout(left) {
            spans.push(serde_json::from_str(&l).expect("a JSON span line"));
        }
    }
}

/// Points `cmd` at `endpoint` in OTLP/HTTP with protobuf, as service `service`.
pub fn otel(cmd: &mut Command, endpoint: &str, service: &str) {
    otel_in(cmd, endpoint, service, "http/protobuf");
}

/// Points `cmd` at `endpoint` in `protocol`, as service `service`.
pub fn otel_in(cmd: &mut Command, endpoint: &str, service: &str, protocol: &str) {
    cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
        .env("OTEL_SERVICE_NAME", service)
        .env("OTEL_TRACES_EXPORTER", "otlp")
        // A long delay: the one-shot `tether call` delivers only by flushing at exit.
        .env("OTEL_BSP_SCHEDULE_DELAY", "60000");
}

/// Span attribute `k`.
pub fn attr<'a>(s: &'a Span, k: &str) -> &'a serde_json::Value {
    &s["attrs"][k]
}
