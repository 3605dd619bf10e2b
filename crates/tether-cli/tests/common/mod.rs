//! Helpers shared by the black-box tests of the `tether` binary.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python with the Pyro5 peer installed (`TETHER_PYTHON`, else `<root>/.venv/bin/python`).
pub fn python() -> PathBuf {
    let p = std::env::var_os("TETHER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/bin/python"));
    assert!(
        p.exists(),
        "Python peer not found at {}: run scripts/test.sh to install the peers",
        p.display()
    );
    p
}

/// The seed's Python 2.7 (`TETHER_PYTHON2`, else pyenv's 2.7.18) and the folder with Pyro 3
/// and Spring Python 1.3 to put on its `PYTHONPATH` (`TETHER_PY2_SITE`, else `<root>/.py2`),
/// as a command; panics with a clear message if missing.
pub fn python2() -> Command {
    let exe = std::env::var_os("TETHER_PYTHON2")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".pyenv/versions/2.7.18/bin/python2.7")
        });
    let site = std::env::var_os("TETHER_PY2_SITE")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".py2"));
    assert!(
        exe.exists() && site.join("Pyro").exists(),
        "Python 2.7 with Pyro 3 not found ({}, {}): run scripts/test.sh",
        exe.display(),
        site.display()
    );
    let mut c = Command::new(exe);
    c.env("PYTHONPATH", site);
    c
}

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

/// A child process killed and reaped on drop, so a failing test leaves nothing running.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
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
