//! Shared test helpers: finding the Python peers, starting and stopping processes (killed on
//! drop), and starting an in-process tether daemon with the echo service.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tether_core::echo::{EchoService, ECHO_OBJECT_ID};
use tether_pyro::serializer::Serializer;
use tether_pyro::{Daemon, DaemonConfig};

/// Every serializer tether speaks.
pub const SERIALIZERS: [Serializer; 3] =
    [Serializer::Serpent, Serializer::Json, Serializer::Msgpack];

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `$TETHER_PYTHON`, else `<root>/.venv/bin/python`; panics with a clear message if missing.
pub fn python() -> PathBuf {
    let p = std::env::var_os("TETHER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/python"));
    assert!(
        p.exists(),
        "Python peer not found at {}: run scripts/test.sh to install the peers",
        p.display()
    );
    p
}

/// A script under tests/python.
pub fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name)
}

/// A child process killed (and reaped) on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a Python server whose stdout prints a line containing `marker` followed by a URI;
/// returns the process and the URI (the last word of that line).
pub fn start_python_server(args: &[&str], marker: &str) -> (Proc, String) {
    let mut child = Command::new(python())
        .args(args)
        .env("PYTHONUNBUFFERED", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start python server");
    let stdout = child.stdout.take().expect("stdout");
    let proc = Proc(child);
    let (tx, rx) = std::sync::mpsc::channel();
    let marker = marker.to_string();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains(&marker) {
                let _ = tx.send(line.split_whitespace().last().unwrap_or("").to_string());
            }
        }
    });
    let uri = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("python server did not print its uri in 30 s");
    (proc, uri)
}

/// Python's own echo server on 127.0.0.1.
pub fn python_echoserver() -> (Proc, String) {
    start_python_server(
        &["-m", "Pyro5.utils.echoserver", "-H", "127.0.0.1", "-p", "0"],
        "echo uri:",
    )
}

/// Runs a Python script to completion (bounded) and returns its stdout; panics on failure.
pub fn run_python(args: &[&str], timeout: Duration) -> String {
    let mut child = Command::new(python())
        .args(args)
        .env("PYTHONUNBUFFERED", "1")
        // Fixed str hashing: set iteration order is then the same in every run.
        .env("PYTHONHASHSEED", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let mut proc = Proc(child);
    let start = Instant::now();
    let status = loop {
        if let Some(st) = proc.0.try_wait().expect("wait") {
            break st;
        }
        assert!(
            start.elapsed() < timeout,
            "python {args:?} did not finish in {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = out_t.join().unwrap_or_default();
    let err = err_t.join().unwrap_or_default();
    assert!(
        status.success(),
        "python {args:?} failed: {status}\nstdout:\n{out}\nstderr:\n{err}"
    );
    out
}

/// An in-process tether daemon on 127.0.0.1 serving the echo service as `test.echoserver`.
pub async fn tether_echo(config: DaemonConfig) -> (Daemon, String, EchoService) {
    let daemon = Daemon::bind(DaemonConfig {
        host: "127.0.0.1".into(),
        ..config
    })
    .await
    .expect("bind");
    let echo = EchoService::default();
    let uri = daemon
        .register(ECHO_OBJECT_ID, Arc::new(echo.clone()))
        .expect("register");
    (daemon, uri, echo)
}

/// Bounds an async test step.
pub async fn within<T>(secs: u64, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), fut)
        .await
        .expect("test step timed out")
}
