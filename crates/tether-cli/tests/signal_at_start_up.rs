//! A serving command (`run`, `echo-server`, `ns`, `gateway`) that gets SIGTERM or SIGINT
//! before it has installed its handlers still shuts down gracefully (exit 0, its shutdown
//! logged), instead of being killed by the signal's default action.
//!
//! The signal is made pending before the command's first instruction, so the test does not
//! depend on timing: the child blocks SIGTERM and SIGINT and raises one between `fork` and
//! `exec` (a blocked signal stays pending across `exec`, and the mask is inherited). A command
//! that only installed handlers would never see it; tether holds both signals from `main` on
//! and releases them once its handlers are in place, so the pending one is delivered there.
#![cfg(target_os = "linux")]

mod common;

use nix::sys::signal::{pthread_sigmask, raise, SigSet, SigmaskHow, Signal};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `tether ARGS` with `signal` pending from its start; returns its stderr once it has
/// exited with success (panics if it is killed, fails, or is still running after 30 s).
fn exits_gracefully(args: &[&str], signal: Signal) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tether"));
    cmd.args(args)
        .env("TETHER_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: runs in the child between fork and exec; it only calls `pthread_sigmask` and
    // `raise`, both async-signal-safe, and allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            let mut set = SigSet::empty();
            set.add(Signal::SIGTERM);
            set.add(Signal::SIGINT);
            pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None)?;
            raise(signal)?;
            Ok(())
        });
    }
    let mut child = common::Proc(cmd.spawn().expect("spawn tether"));
    let mut stderr = child.0.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("wait") {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "tether {args:?} still running 30 s after a {signal} pending from its start"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = reader.join().expect("stderr reader");
    assert!(
        status.success(),
        "tether {args:?} with a {signal} pending from its start: {status}\n{out}"
    );
    out
}

#[test]
fn run_shuts_down_gracefully() {
    let dir = std::env::temp_dir().join(format!("tether-signal-start-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("echo.xml");
    std::fs::write(
        &file,
        "<objects>\n<object id=\"echo\" class=\"tether.echo.EchoService\"/>\n\
         <object id=\"exporter\" class=\"tether.pyro.ServiceExporter\">\
         <property name=\"service\" ref=\"echo\"/><property name=\"service_name\" value=\"e\"/>\
         <property name=\"service_host\" value=\"127.0.0.1\"/><property name=\"service_port\" value=\"0\"/>\
         </object>\n</objects>",
    )
    .unwrap();
    for signal in [Signal::SIGTERM, Signal::SIGINT] {
        let out = exits_gracefully(&["run", file.to_str().unwrap()], signal);
        assert!(out.contains("context started"), "{out}");
        assert!(out.contains("shutting down"), "{out}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn echo_server_shuts_down_gracefully() {
    exits_gracefully(
        &["echo-server", "-H", "127.0.0.1", "-p", "0"],
        Signal::SIGTERM,
    );
    exits_gracefully(
        &[
            "echo-server",
            "--protocol",
            "xmlrpc",
            "-H",
            "127.0.0.1",
            "-p",
            "0",
        ],
        Signal::SIGINT,
    );
}

#[test]
fn name_server_shuts_down_gracefully() {
    exits_gracefully(&["ns", "-n", "127.0.0.1", "-p", "0", "-x"], Signal::SIGTERM);
}

#[test]
fn gateway_shuts_down_gracefully() {
    // The target is not called: the gateway stops before any call arrives.
    exits_gracefully(
        &[
            "gateway",
            "PYRO:echo@127.0.0.1:9",
            "--listen",
            "http://127.0.0.1:0/gateway",
            "--protocol",
            "xmlrpc",
        ],
        Signal::SIGTERM,
    );
}
