//! Helpers shared by the black-box tests of the `tether` binary.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;
#[allow(unused_imports)]
pub use tether_test_support::{python, python2, root, Proc};

/// Starts `tether echo-server --protocol P -H 127.0.0.1 -p 0` for each protocol; returns the
/// processes and their URLs.
pub fn echo_servers(protocols: &[&str]) -> (Vec<Proc>, Vec<String>) {
    let mut procs = Vec::new();
    let mut urls = Vec::new();
    for p in protocols {
        let (proc, lines) = start(Command::new(env!("CARGO_BIN_EXE_tether")).args([
            "echo-server",
            "--protocol",
            p,
            "-H",
            "127.0.0.1",
            "-p",
            "0",
        ]));
        urls.push(
            lines
                .iter()
                .find_map(|l| l.strip_prefix("echo uri: "))
                .expect("echo uri line")
                .to_string(),
        );
        procs.push(proc);
    }
    (procs, urls)
}

/// Starts a server and returns it with the lines it printed up to and including `echo uri:`.
pub fn start(cmd: &mut Command) -> (Proc, Vec<String>) {
    start_until(cmd, "echo uri:")
}

/// Starts a server and returns it with the lines it printed up to the first one starting with
/// `marker`.
pub fn start_until(cmd: &mut Command, marker: &'static str) -> (Proc, Vec<String>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().unwrap();
    let proc = Proc(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let done = line.starts_with(marker);
            lines.push(line);
            if done {
                let _ = tx.send(lines.clone());
            }
        }
    });
    let lines = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("no marker line within 30 s");
    (proc, lines)
}

pub fn uri_of(lines: &[String]) -> String {
    lines
        .last()
        .unwrap()
        .trim_start_matches("echo uri: ")
        .to_string()
}

/// Starts Python's own Pyro5 echoserver on 127.0.0.1 and returns it with its URI.
pub fn python_echoserver() -> (Proc, String) {
    let (p, lines) = start(Command::new(python()).args([
        "-u",
        "-m",
        "Pyro5.utils.echoserver",
        "-H",
        "127.0.0.1",
        "-p",
        "0",
    ]));
    (p, uri_of(&lines))
}
