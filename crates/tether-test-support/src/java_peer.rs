//! Caucho's Java Hessian as a peer: the peer's sources (`crates/tether-hessian/tests/java/peer`:
//! a `TestService` served by Caucho's `HessianSkeleton`, and a client running a scenario)
//! compiled once per test process, [`java_hessian_server`] and [`java_hessian_client`].

use crate::{hessian_jar, java, root, Proc};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The JVM options the peer needs on Java 17 (Hessian reflects into these packages).
pub const OPENS: [&str; 8] = [
    "--add-opens",
    "java.base/java.lang=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.util=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.math=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.io=ALL-UNNAMED",
];

/// The compiled peer classes: compiled on first use into a directory named after the sources
/// (and the jar's path), which every later test process reuses, so a run leaves one directory
/// per version of the peer rather than one per process.
pub fn java_peer_classes() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let jar = hessian_jar();
        let src = root().join("crates/tether-hessian/tests/java/peer");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&src)
            .expect("peer sources")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "java"))
            .collect();
        files.sort();
        // FNV-1a over the jar's path and every source's name and text.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut add = |bytes: &[u8]| {
            for b in bytes {
                hash = (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
            }
        };
        add(jar.to_string_lossy().as_bytes());
        for f in &files {
            add(f.to_string_lossy().as_bytes());
            add(&std::fs::read(f).expect("peer source"));
        }
        let out = std::env::temp_dir().join(format!("tether-jpeer-{hash:016x}"));
        if out.join("peer").is_dir() {
            return out;
        }
        // Compiled aside, then renamed into place whole: a process that finds the directory
        // finds it complete, and of two that compile at once the second keeps the first's.
        let aside =
            std::env::temp_dir().join(format!("tether-jpeer-{hash:016x}.{}", std::process::id()));
        std::fs::create_dir_all(&aside).expect("peer class directory");
        let st = Command::new("javac")
            .arg("-d")
            .arg(&aside)
            .arg("-cp")
            .arg(&jar)
            .args(&files)
            .status()
            .expect("javac (scripts/test.sh installs a JDK)");
        assert!(st.success(), "javac failed");
        if std::fs::rename(&aside, &out).is_err() {
            let _ = std::fs::remove_dir_all(&aside);
        }
        assert!(
            out.join("peer").is_dir(),
            "no peer classes in {}",
            out.display()
        );
        out
    })
    .clone()
}

fn classpath() -> String {
    format!(
        "{}:{}",
        hessian_jar().display(),
        java_peer_classes().display()
    )
}

/// Caucho's server with the peer's `TestService` at `/test`; returns it and its URL.
pub fn java_hessian_server() -> (Proc, String) {
    let mut child = Command::new(java())
        .args(OPENS)
        .arg("-Dsun.net.httpserver.nodelay=true")
        .args(["-cp", &classpath(), "peer.HessianHttpServer", "0", "/test"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("java");
    let stdout = child.stdout.take().expect("stdout");
    let proc = Proc(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(u) = line.strip_prefix("READY ") {
                let _ = tx.send(u.to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("java server did not start in 60 s");
    (proc, url)
}

/// Runs the peer's Java client (bounded to 120 s) and returns its stdout.
pub fn java_hessian_client(args: &[&str]) -> String {
    run(
        Command::new(java())
            .args(OPENS)
            .args(["-cp", &classpath(), "peer.HessianJavaClient"])
            .args(args),
        Duration::from_secs(120),
    )
}

/// Runs a command to completion within `limit`; its stdout (panics on failure).
pub fn run(cmd: &mut Command, limit: Duration) -> String {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let o = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        s
    });
    let e = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let mut p = Proc(child);
    let start = Instant::now();
    let status = loop {
        if let Some(st) = p.0.try_wait().expect("wait") {
            break st;
        }
        assert!(
            start.elapsed() < limit,
            "process did not finish in {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let (o, e) = (o.join().unwrap_or_default(), e.join().unwrap_or_default());
    assert!(status.success(), "process failed: {e}\n{o}");
    o
}
