//! A second SIGTERM or SIGINT while a server shuts down gracefully ends it at once: the
//! operator who presses Ctrl-C twice does not wait for in-flight calls (exit status 128 + the
//! signal's number, and a line saying so). A single signal still waits for them.
#![cfg(target_os = "linux")]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const CONTEXT: &str = "<objects>\n\
<object id=\"echo\" class=\"tether.echo.EchoService\"><property name=\"verbose\" value=\"true\"/></object>\n\
<object id=\"exporter\" class=\"tether.pyro.ServiceExporter\">\
<property name=\"service\" ref=\"echo\"/><property name=\"service_name\" value=\"e\"/>\
<property name=\"service_host\" value=\"127.0.0.1\"/><property name=\"service_port\" value=\"0\"/>\
</object>\n</objects>";

/// Lines of a child's pipe, as they come (a thread reads them).
fn lines(pipe: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits (at most 30 s) for a line containing `what`; returns it.
fn wait_for(rx: &mpsc::Receiver<String>, what: &str) -> String {
    let until = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = until.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) if l.contains(what) => return l,
            Ok(_) => {}
            Err(e) => panic!("no line with {what:?}: {e}"),
        }
    }
}

/// Waits for `p` to end; its status and what it printed on stdout.
fn finish(p: &mut common::Proc) -> (std::process::ExitStatus, String) {
    use std::io::Read;
    let mut out = String::new();
    if let Some(mut o) = p.0.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    (p.0.wait().unwrap(), out)
}

/// `tether run` serving the verbose echo; a `tether call ... slow` (five seconds) in flight.
/// (`tag` names the test: each has a directory of its own, removed once the context is read.)
fn server_with_a_call_in_flight(tag: &str) -> (common::Proc, mpsc::Receiver<String>, common::Proc) {
    let dir =
        std::env::temp_dir().join(format!("tether-second-signal-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("echo.xml");
    std::fs::write(&file, CONTEXT).unwrap();
    let mut server = common::Proc(
        Command::new(env!("CARGO_BIN_EXE_tether"))
            .arg("run")
            .arg(&file)
            .env("TETHER_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let out = lines(server.0.stdout.take().unwrap());
    let err = lines(server.0.stderr.take().unwrap());
    let started = wait_for(&err, "context started");
    // The context is loaded: its file is no longer needed.
    let _ = std::fs::remove_dir_all(&dir);
    let addr = started
        .split("serving on [")
        .nth(1)
        .and_then(|s| s.split(']').next())
        .expect("the address in the start line")
        .to_string();
    let call = common::Proc(
        Command::new(env!("CARGO_BIN_EXE_tether"))
            .args(["call", &format!("PYRO:e@{addr}"), "slow"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // The echo says so when the call has reached it.
    wait_for(&out, "slow: waiting a bit");
    (server, err, call)
}

#[test]
fn a_second_signal_during_the_shutdown_exits_at_once() {
    let (mut server, err, mut call) = server_with_a_call_in_flight("twice");
    server.signal("TERM");
    // Draining: the call has five seconds to go, and the server waits for it.
    wait_for(&err, "shutting down");
    server.signal("INT");
    wait_for(&err, "a second signal during the shutdown: exiting now");
    let status = server.0.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status}");
    // The call did not get its answer: the server left before it came.
    let (status, out) = finish(&mut call);
    assert!(!status.success(), "{status} {out}");
    assert!(!out.contains("Finally, an answer!"), "{out}");
}

#[test]
fn one_signal_waits_for_the_call_in_flight() {
    let (mut server, err, mut call) = server_with_a_call_in_flight("once");
    // The daemon waits five seconds (its shutdown grace) for calls in flight, as long as the
    // call itself: a second's head start keeps the call's end well inside the grace.
    std::thread::sleep(Duration::from_secs(1));
    server.signal("TERM");
    wait_for(&err, "shutting down");
    let (status, out) = finish(&mut call);
    assert!(status.success(), "{status} {out}");
    assert_eq!(out.trim(), "'Finally, an answer!'");
    assert!(server.0.wait().unwrap().success());
}
