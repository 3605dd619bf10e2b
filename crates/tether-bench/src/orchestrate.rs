//! The orchestrator: starts each server and client as its own process under `taskset`, collects
//! their RESULT lines, and prints one table per placement with every row's ratio to raw TCP.

use crate::cpu::{cpu_between, process_cpu_ns};
use crate::drive::{client_deadline, BoxErr};
use crate::opts::RunOpts;
use crate::workload::{Measurement, Workload};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Which Python Pyro a Python side runs.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Peer {
    Pyro5,
    Pyro4,
}

/// Which program plays one side of a system.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Side {
    /// This binary's `serve <kind>` / `client <kind>`.
    Rust(&'static str),
    /// The Python peer script.
    Python(Peer),
    /// Caucho's Java Hessian: the JDK HTTP server in front of its skeleton, or its client
    /// (tether-hessian's test peer).
    Java,
    /// python-hessian's client.
    PyHessian,
    /// Python's standard XML-RPC server or client, over the given link.
    PyXmlRpc(&'static str),
    /// The seed's stack: Pyro 3.16 on Python 2.7.
    Py2Pyro3,
}

struct System {
    key: &'static str,
    label: &'static str,
    server: Side,
    client: Side,
    /// Both sides speak TLS (the sample PKI the run generates).
    tls: bool,
    /// A serializer this system must use whatever --serializer says (Pyro4's daemons refuse
    /// msgpack by default, and its json cannot carry bytes: serpent).
    serializer: Option<&'static str>,
    /// A row of the seed's wires (Hessian, XML-RPC, Pyro 3): `getData("Hello")` calls,
    /// sequential, and with many connections when tether is on both sides (no 1 MiB echo).
    hessian: bool,
}

impl System {
    /// Whether this row measures `w`. The seed's wires have no 1 MiB echo, and their rows
    /// with a foreign peer measure sequential calls only (those peers' servers are the
    /// thread-per-connection kind whose many-connection figure says little about tether).
    fn runs(&self, w: Workload) -> bool {
        // The Pyro floor answers sequential calls (one connection at a time).
        if matches!(self.server, Side::Rust(k) if k.starts_with("pyro-floor")) {
            return w == Workload::Seq;
        }
        !self.hessian
            || w == Workload::Seq
            || (w == Workload::Conc
                && matches!(self.server, Side::Rust(_))
                && matches!(self.client, Side::Rust(_)))
    }
}

const PY5: Side = Side::Python(Peer::Pyro5);
const PY4: Side = Side::Python(Peer::Pyro4);

const SYSTEMS: &[System] = &[
    System {
        key: "raw-std",
        label: "raw TCP, blocking std sockets",
        server: Side::Rust("raw-std"),
        client: Side::Rust("raw-std"),
        tls: false,
        serializer: None,
        hessian: false,
    },
    System {
        key: "raw-tokio",
        label: "raw TCP, tokio",
        server: Side::Rust("raw-tokio"),
        client: Side::Rust("raw-tokio"),
        tls: false,
        serializer: None,
        hessian: false,
    },
    System {
        key: "raw-tls",
        label: "raw TCP over TLS (rustls), tokio: the TLS rows' floor",
        server: Side::Rust("raw-tls"),
        client: Side::Rust("raw-tls"),
        tls: true,
        serializer: None,
        hessian: false,
    },
    System {
        key: "tarpc",
        label: "tarpc 0.38, bincode over TCP",
        server: Side::Rust("tarpc"),
        client: Side::Rust("tarpc"),
        tls: false,
        serializer: None,
        hessian: false,
    },
    System {
        key: "py-py",
        label: "Pyro5 Python → Pyro5 Python",
        server: PY5,
        client: PY5,
        tls: false,
        serializer: None,
        hessian: false,
    },
    System {
        key: "py-tether",
        label: "Pyro5 Python → tether Daemon",
        server: Side::Rust("tether"),
        client: PY5,
        tls: false,
        serializer: None,
        hessian: false,
    },
    System {
        key: "py-pyro-floor",
        label: "Pyro5 Python → Pyro floor (canned replies)",
        server: Side::Rust("pyro-floor"),
        client: PY5,
        tls: false,
        serializer: None,
        hessian: false,
    },
    System {
        key: "tether-py",
        label: "tether Proxy → Pyro5 Python",
        server: PY5,
        client: Side::Rust("tether"),
        tls: false,
        serializer: None,
        hessian: false,
    },
    System {
        key: "tether-tether",
        label: "tether Proxy → tether Daemon",
        server: Side::Rust("tether"),
        client: Side::Rust("tether"),
        tls: false,
        serializer: None,
        hessian: false,
    },
    System {
        key: "py4-py4",
        label: "Pyro4 Python → Pyro4 Python (serpent)",
        server: PY4,
        client: PY4,
        tls: false,
        serializer: Some("serpent"),
        hessian: false,
    },
    System {
        key: "py4-tether",
        label: "Pyro4 Python → tether Daemon (serpent)",
        server: Side::Rust("tether"),
        client: PY4,
        tls: false,
        serializer: Some("serpent"),
        hessian: false,
    },
    System {
        key: "py4-pyro-floor",
        label: "Pyro4 Python → Pyro floor (canned replies, serpent)",
        server: Side::Rust("pyro-floor"),
        client: PY4,
        tls: false,
        serializer: Some("serpent"),
        hessian: false,
    },
    System {
        key: "tether4-tether",
        label: "tether Proxy (Pyro4 wire) → tether Daemon (serpent)",
        server: Side::Rust("tether"),
        client: Side::Rust("tether4"),
        tls: false,
        serializer: Some("serpent"),
        hessian: false,
    },
    System {
        key: "tls-py-py",
        label: "Pyro5 over TLS, Python → Python",
        server: PY5,
        client: PY5,
        tls: true,
        serializer: None,
        hessian: false,
    },
    System {
        key: "tls-tether-tether",
        label: "Pyro5 over TLS, tether Proxy → tether Daemon",
        server: Side::Rust("tether-tls"),
        client: Side::Rust("tether-tls"),
        tls: true,
        serializer: None,
        hessian: false,
    },
    System {
        key: "hessian-java-java",
        label: "Hessian: Caucho Java client → Caucho Java server",
        server: Side::Java,
        client: Side::Java,
        tls: false,
        serializer: None,
        hessian: true,
    },
    System {
        key: "hessian-java-tether",
        label: "Hessian: Caucho Java client → tether server",
        server: Side::Rust("hessian"),
        client: Side::Java,
        tls: false,
        serializer: None,
        hessian: true,
    },
    System {
        key: "hessian-tether-java",
        label: "Hessian: tether proxy → Caucho Java server",
        server: Side::Java,
        client: Side::Rust("hessian"),
        tls: false,
        serializer: None,
        hessian: true,
    },
    System {
        key: "hessian-tether-tether",
        label: "Hessian: tether proxy → tether server",
        server: Side::Rust("hessian"),
        client: Side::Rust("hessian"),
        tls: false,
        serializer: None,
        hessian: true,
    },
    System {
        key: "hessian-py-java",
        label: "Hessian: python-hessian → Caucho Java server",
        server: Side::Java,
        client: Side::PyHessian,
        tls: false,
        serializer: None,
        hessian: true,
    },
    System {
        key: "hessian-py-tether",
        label: "Hessian: python-hessian → tether server",
        server: Side::Rust("hessian"),
        client: Side::PyHessian,
        tls: false,
        serializer: None,
        hessian: true,
    },
    System {
        key: "hessian-java-floor",
        label: "Hessian: Caucho Java client → HTTP floor (a canned reply)",
        server: Side::Rust("http-floor:hessian"),
        client: Side::Java,
        tls: false,
        serializer: None,
        hessian: true,
    },
    System {
        key: "hessian-py-floor",
        label: "Hessian: python-hessian → HTTP floor (a canned reply)",
        server: Side::Rust("http-floor:hessian"),
        client: Side::PyHessian,
        tls: false,
        serializer: None,
        hessian: true,
    },
    System {
        key: "xmlrpc-py-floor",
        label: "XML-RPC over HTTP: Python client → HTTP floor (a canned reply)",
        server: Side::Rust("http-floor:xmlrpc"),
        client: Side::PyXmlRpc("xmlrpc"),
        tls: false,
        serializer: None,
        hessian: true,
    },
    System {
        key: "xmlrpc-mtls-py-floor",
        label: "XML-RPC over mutual TLS: Python client → HTTPS floor (a canned reply)",
        server: Side::Rust("http-floor:xmlrpc-mtls"),
        client: Side::PyXmlRpc("xmlrpc-mtls"),
        tls: true,
        serializer: None,
        hessian: true,
    },
    System {
        key: "xmlrpc-py-py",
        label: "XML-RPC over HTTP: Python client → Python server",
        server: Side::PyXmlRpc("xmlrpc"),
        client: Side::PyXmlRpc("xmlrpc"),
        tls: false,
        serializer: None,
        hessian: true,
    },
    System {
        key: "xmlrpc-py-tether",
        label: "XML-RPC over HTTP: Python client → tether server",
        server: Side::Rust("xmlrpc"),
        client: Side::PyXmlRpc("xmlrpc"),
        tls: false,
        serializer: None,
        hessian: true,
    },
    System {
        key: "xmlrpc-tether-tether",
        label: "XML-RPC over HTTP: tether client → tether server",
        server: Side::Rust("xmlrpc"),
        client: Side::Rust("xmlrpc"),
        tls: false,
        serializer: None,
        hessian: true,
    },
    System {
        key: "xmlrpc-tls-py-py",
        label: "XML-RPC over HTTPS: Python client → Python server",
        server: Side::PyXmlRpc("xmlrpc-tls"),
        client: Side::PyXmlRpc("xmlrpc-tls"),
        tls: true,
        serializer: None,
        hessian: true,
    },
    System {
        key: "xmlrpc-tls-py-tether",
        label: "XML-RPC over HTTPS: Python client → tether server",
        server: Side::Rust("xmlrpc-tls"),
        client: Side::PyXmlRpc("xmlrpc-tls"),
        tls: true,
        serializer: None,
        hessian: true,
    },
    System {
        key: "xmlrpc-tls-tether-tether",
        label: "XML-RPC over HTTPS: tether client → tether server",
        server: Side::Rust("xmlrpc-tls"),
        client: Side::Rust("xmlrpc-tls"),
        tls: true,
        serializer: None,
        hessian: true,
    },
    System {
        key: "xmlrpc-mtls-py-py",
        label: "XML-RPC over mutual TLS: Python client → Python server",
        server: Side::PyXmlRpc("xmlrpc-mtls"),
        client: Side::PyXmlRpc("xmlrpc-mtls"),
        tls: true,
        serializer: None,
        hessian: true,
    },
    System {
        key: "xmlrpc-mtls-py-tether",
        label: "XML-RPC over mutual TLS: Python client → tether server",
        server: Side::Rust("xmlrpc-mtls"),
        client: Side::PyXmlRpc("xmlrpc-mtls"),
        tls: true,
        serializer: None,
        hessian: true,
    },
    System {
        key: "xmlrpc-mtls-tether-tether",
        label: "XML-RPC over mutual TLS: tether client → tether server",
        server: Side::Rust("xmlrpc-mtls"),
        client: Side::Rust("xmlrpc-mtls"),
        tls: true,
        serializer: None,
        hessian: true,
    },
    System {
        key: "pyro3-py2-py2",
        label: "Pyro 3: the seed's Python 2 client → the seed's Python 2 server",
        server: Side::Py2Pyro3,
        client: Side::Py2Pyro3,
        tls: false,
        serializer: None,
        hessian: true,
    },
    System {
        key: "pyro3-py2-tether",
        label: "Pyro 3: the seed's Python 2 client → tether daemon",
        server: Side::Rust("pyro3"),
        client: Side::Py2Pyro3,
        tls: false,
        serializer: None,
        hessian: true,
    },
    System {
        key: "pyro3-py2-floor",
        label: "Pyro 3: the seed's Python 2 client → Pyro floor (canned replies)",
        server: Side::Rust("pyro-floor:pyro3"),
        client: Side::Py2Pyro3,
        tls: false,
        serializer: None,
        hessian: true,
    },
    System {
        key: "pyro3-tether-tether",
        label: "Pyro 3: tether proxy → tether daemon",
        server: Side::Rust("pyro3"),
        client: Side::Rust("pyro3"),
        tls: false,
        serializer: None,
        hessian: true,
    },
];

/// Java's flags for Caucho's Hessian on Java 17 (its serializers reflect into java.base).
const JAVA_OPENS: [&str; 8] = [
    "--add-opens",
    "java.base/java.lang=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.util=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.math=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.io=ALL-UNNAMED",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Mode {
    Pinned,
    Split,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Pinned => "pinned",
            Mode::Split => "split",
        }
    }
    /// CPUs for (server, client).
    fn cpus(self) -> (&'static str, &'static str) {
        match self {
            Mode::Pinned => ("0", "0"),
            Mode::Split => ("0", "1"),
        }
    }
}

type Key = (Mode, &'static str, Workload);

struct Env {
    exe: PathBuf,
    python: Option<PathBuf>,
    script: PathBuf,
    /// Python 2.7 and the folder with Pyro 3 (the Pyro 3 rows).
    python2: Option<(PathBuf, PathBuf)>,
    taskset: bool,
    secs: f64,
    warmup: f64,
    conns: usize,
    serializer: String,
    /// The sample PKI of the TLS rows (generated for the run).
    pki: Option<PathBuf>,
    /// The Java peer's classpath (compiled for the run), for the Hessian rows.
    java_cp: Option<String>,
}

/// Kills and reaps a child process when dropped, so no server outlives the run.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn command(env: &Env, cpu: &str, side: Side, tls: bool) -> Result<Command, String> {
    let (prog, args): (PathBuf, Vec<String>) = match side {
        Side::Rust(_) => (env.exe.clone(), vec![]),
        Side::Python(_) => match &env.python {
            Some(py) => (py.clone(), vec![env.script.display().to_string()]),
            None => return Err("no Python peer (run scripts/test.sh to install .venv)".into()),
        },
        Side::PyXmlRpc(_) => match &env.python {
            Some(py) => (
                py.clone(),
                vec![env
                    .script
                    .with_file_name("xmlrpc_peer.py")
                    .display()
                    .to_string()],
            ),
            None => return Err("no Python peer (run scripts/test.sh to install .venv)".into()),
        },
        Side::PyHessian => match &env.python {
            Some(py) => (
                py.clone(),
                vec![env
                    .script
                    .with_file_name("hessian_peer.py")
                    .display()
                    .to_string()],
            ),
            None => return Err("no Python peer (run scripts/test.sh to install .venv)".into()),
        },
        Side::Py2Pyro3 => match &env.python2 {
            Some((py, _)) => (
                py.clone(),
                vec![env
                    .script
                    .with_file_name("pyro3_peer.py")
                    .display()
                    .to_string()],
            ),
            None => {
                return Err(
                    "no Python 2.7 with Pyro 3 (run scripts/test.sh; or set TETHER_PYTHON2)".into(),
                )
            }
        },
        Side::Java => {
            let cp = env
                .java_cp
                .as_ref()
                .ok_or("no Java peer (javac failed or is missing)")?;
            let mut a: Vec<String> = JAVA_OPENS.iter().map(|s| s.to_string()).collect();
            a.extend([
                "-Dsun.net.httpserver.nodelay=true".into(),
                "-cp".into(),
                cp.clone(),
            ]);
            (PathBuf::from("java"), a)
        }
    };
    let mut c = if env.taskset {
        let mut c = Command::new("taskset");
        c.arg("-c").arg(cpu).arg(prog);
        c
    } else {
        Command::new(prog)
    };
    c.args(args);
    if let Side::Python(Peer::Pyro4) = side {
        c.env("PEER_PYRO", "4");
    }
    if let (Side::Py2Pyro3, Some((_, site))) = (side, &env.python2) {
        c.env("PYTHONPATH", site);
    }
    if side == Side::PyXmlRpc("xmlrpc-mtls") {
        c.env("PEER_MTLS", "1");
    }
    if tls {
        let dir = env.pki.as_ref().ok_or("no PKI for the TLS rows")?;
        c.env("PEER_TLS_DIR", dir).env("TETHER_BENCH_PKI", dir);
    }
    Ok(c)
}

fn start_server(env: &Env, mode: Mode, sys: &System) -> Result<(ChildGuard, u16), String> {
    let side = sys.server;
    let mut c = command(env, mode.cpus().0, side, sys.tls)?;
    match side {
        Side::Rust(kind) => {
            c.args(["serve", kind]);
        }
        Side::Java => {
            c.args(["peer.HessianHttpServer", "0", "/test"]);
        }
        _ => {
            c.arg("serve");
        }
    }
    let child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start server: {e}"))?;
    let mut guard = ChildGuard(child);
    let stdout = guard.0.stdout.take().ok_or("server has no stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .map_err(|_| "server did not print its port within 60 s".to_string())?;
    // "PORT <n>", or the Java peer's "READY http://127.0.0.1:<n>/test"
    let line = line.trim();
    let port = line
        .strip_prefix("PORT ")
        .or_else(|| {
            line.strip_prefix("READY http://127.0.0.1:")
                .and_then(|r| r.split('/').next())
        })
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("server printed {line:?}, not \"PORT <n>\""))?;
    Ok((guard, port))
}

fn run_client(
    env: &Env,
    mode: Mode,
    sys: &System,
    port: u16,
    w: Workload,
    server_pid: u32,
) -> Result<Measurement, String> {
    let side = sys.client;
    let serializer = sys.serializer.unwrap_or(&env.serializer).to_string();
    let mut c = command(env, mode.cpus().1, side, sys.tls)?;
    // The JVM compiles its hot paths only after thousands of calls: the Java rows warm up
    // for 3 s (1 s with --quick) so they measure Caucho's library, not its interpreter.
    let java = sys.server == Side::Java || sys.client == Side::Java;
    let warmup = if java {
        env.warmup.max(if env.warmup < 0.3 { 1.0 } else { 3.0 })
    } else {
        env.warmup
    };
    let (secs, warmup) = (env.secs.to_string(), warmup.to_string());
    match side {
        Side::Rust(kind) => {
            let addr = format!("127.0.0.1:{port}");
            c.args(["client", kind, &addr, w.name(), &secs, &warmup]);
            c.arg(env.conns.to_string());
            // the tether client reads the serializer from the environment (see tether_rows.rs)
            c.env("TETHER_BENCH_SERIALIZER", &serializer);
        }
        Side::Python(_) => {
            let uri = format!("PYRO:echo@127.0.0.1:{port}");
            c.args(["client", &uri, w.name(), &secs, &warmup]);
            c.args([env.conns.to_string(), serializer]);
        }
        Side::PyXmlRpc(_) => {
            let url = format!("http://127.0.0.1:{port}/RPC2");
            c.args(["client", &url, w.name(), &secs, &warmup]);
            c.args([env.conns.to_string(), serializer]);
        }
        Side::Py2Pyro3 => {
            let url = format!("PYROLOC://127.0.0.1:{port}/ServiceName");
            c.args(["client", &url, w.name(), &secs, &warmup]);
        }
        Side::PyHessian => {
            let url = format!("http://127.0.0.1:{port}/test");
            c.args(["client", &url, w.name(), &secs, &warmup]);
            c.args([env.conns.to_string(), serializer]);
        }
        Side::Java => {
            let url = format!("http://127.0.0.1:{port}/test");
            c.args(["peer.HessianJavaClient", "bench", &url, &secs, &warmup]);
        }
    }
    let cpu_before = process_cpu_ns(server_pid);
    let mut child = ChildGuard(
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start client: {e}"))?,
    );
    let mut out = child.0.stdout.take().ok_or("client has no stdout")?;
    let mut err = child.0.stderr.take().ok_or("client has no stderr")?;
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now()
        + client_deadline(
            Duration::from_secs_f64(env.secs),
            Duration::from_secs_f64(env.warmup.max(3.0)),
        );
    let status = loop {
        if let Some(st) = child.0.try_wait().map_err(|e| e.to_string())? {
            break st;
        }
        if Instant::now() > deadline {
            return Err("client timed out (killed)".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    if !status.success() {
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(format!("client failed ({status}): {last}"));
    }
    let cpu_after = process_cpu_ns(server_pid);
    let mut m = stdout
        .lines()
        .find_map(Measurement::parse)
        .ok_or_else(|| format!("client printed no RESULT line: {stdout:?}"))?;
    // The server's CPU over the client's whole run (warm-up included), per call: the calls of
    // the warm-up are counted at the measured rate.
    if let (Some(a), Some(b), true) = (cpu_before, cpu_after, m.rate() > 0.0) {
        let calls = m.rate() * (env.secs + warmup.parse::<f64>().unwrap_or(0.0));
        m.server_cpu_us = cpu_between(a, b) as f64 / 1000.0 / calls;
    }
    Ok(m)
}

fn find_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TETHER_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    p.exists().then_some(p)
}

/// `$TETHER_PYTHON2` (else pyenv's 2.7.18) and `$TETHER_PY2_SITE` (else `<root>/.py2`), if
/// both exist.
fn find_python2() -> Option<(PathBuf, PathBuf)> {
    let exe = std::env::var_os("TETHER_PYTHON2")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".pyenv/versions/2.7.18/bin/python2.7")
        });
    let site = std::env::var_os("TETHER_PY2_SITE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.py2"));
    (exe.exists() && site.join("Pyro").exists()).then_some((exe, site))
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Runs the whole benchmark and prints the tables.
pub fn run(opts: &RunOpts) -> Result<(), BoxErr> {
    let secs = opts.secs.unwrap_or(if opts.quick { 0.3 } else { 0.6 });
    let rounds_n = opts.rounds.unwrap_or(if opts.quick { 1 } else { 5 }).max(1);
    let env = Env {
        exe: std::env::current_exe()?,
        python: find_python(),
        script: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/pyro_peer.py"),
        python2: find_python2(),
        taskset: Command::new("taskset")
            .arg("-c")
            .arg("0")
            .arg("true")
            .status()
            .map(|s| s.success())
            .unwrap_or(false),
        secs,
        warmup: if opts.quick { 0.1 } else { 0.3 },
        conns: opts.conns,
        serializer: opts.serializer.clone(),
        pki: None,
        java_cp: None,
    };
    let mut env = env;
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut modes = Vec::new();
    for m in &opts.modes {
        match m.as_str() {
            "pinned" => modes.push(Mode::Pinned),
            "split" if cpus >= 2 => modes.push(Mode::Split),
            "split" => eprintln!("only {cpus} CPU: skipping the split placement"),
            other => return Err(format!("unknown mode {other:?} (pinned, split)").into()),
        }
    }
    if !env.taskset {
        eprintln!("taskset not found: processes are NOT pinned (install util-linux)");
    }
    let systems: Vec<&System> = SYSTEMS
        .iter()
        .filter(|s| opts.only.is_empty() || opts.only.iter().any(|o| o == s.key))
        .collect();
    if systems
        .iter()
        .any(|s| s.server == Side::Java || s.client == Side::Java)
    {
        match compile_java_peer() {
            Ok(cp) => env.java_cp = Some(cp),
            Err(e) => eprintln!("Java peer unavailable, its rows fail: {e}"),
        }
    }
    if systems.iter().any(|s| s.tls) {
        let dir = std::env::temp_dir().join(format!("tether-bench-pki-{}", std::process::id()));
        tether_tls::generate_sample_pki(&dir, None)?;
        env.pki = Some(dir);
    }

    println!("# tether-bench");
    println!(
        "{} CPUs ({}), load average {}, median of {} rounds of {} s per measurement, {} connections in the concurrent row, Pyro serializer {}",
        cpus,
        cpu_model(),
        loadavg(),
        rounds_n,
        secs,
        env.conns,
        env.serializer
    );
    println!(
        "Small row: echo of a {}-byte string (raw TCP: {}-byte frames); big row: echo of {} bytes.",
        crate::workload::SMALL_ARG.len(),
        crate::workload::RAW_SMALL_SIZE,
        crate::workload::BIG_SIZE
    );

    // Rounds are the outer loop, so a burst of load from elsewhere on the machine hits one round
    // of every row rather than every round of one row; each cell is the median over rounds.
    let mut rounds: HashMap<Key, Result<Vec<Measurement>, String>> = HashMap::new();
    for round in 1..=rounds_n {
        for &mode in &modes {
            for sys in &systems {
                eprint!(
                    "[round {round}/{rounds_n}] [{}] {} ...",
                    mode.name(),
                    sys.key
                );
                let server = start_server(&env, mode, sys);
                for w in Workload::ALL {
                    if !sys.runs(w) {
                        continue;
                    }
                    let r = match &server {
                        Ok((guard, port)) => run_client(&env, mode, sys, *port, w, guard.0.id()),
                        Err(e) => Err(e.clone()),
                    };
                    eprint!(" {}:{}", w.name(), if r.is_ok() { "ok" } else { "FAILED" });
                    let slot = rounds
                        .entry((mode, sys.key, w))
                        .or_insert_with(|| Ok(Vec::new()));
                    match (slot.as_mut(), r) {
                        (Ok(v), Ok(m)) => v.push(m),
                        (Ok(_), Err(e)) => *slot = Err(e),
                        (Err(_), _) => {}
                    }
                }
                eprintln!();
                drop(server);
            }
        }
    }
    let results: HashMap<Key, Result<Measurement, String>> = rounds
        .into_iter()
        .map(|(k, v)| (k, v.map(|ms| Measurement::median_of(&ms))))
        .collect();

    let mut any_failed = false;
    for &mode in &modes {
        any_failed |= print_table(mode, env.conns, &systems, &results);
    }
    if let Some(path) = &opts.svg {
        let panels: Vec<crate::chart::Panel> = modes
            .iter()
            .map(|&mode| {
                let (bs, bc) = (
                    baseline(mode, Workload::Seq, &results),
                    baseline(mode, Workload::Conc, &results),
                );
                let of = |v: Option<f64>, b: Option<f64>| v.zip(b).map(|(v, b)| v / b);
                crate::chart::Panel {
                    title: format!(
                        "{} (server on CPU {}, client on CPU {})",
                        if mode == Mode::Pinned {
                            "Pinned"
                        } else {
                            "Split"
                        },
                        mode.cpus().0,
                        mode.cpus().1
                    ),
                    rows: systems
                        .iter()
                        .map(|sys| crate::chart::Row {
                            label: sys.label.to_string(),
                            seq: of(rate(results.get(&(mode, sys.key, Workload::Seq))), bs),
                            conc: of(rate(results.get(&(mode, sys.key, Workload::Conc))), bc),
                        })
                        .collect(),
                }
            })
            .collect();
        match std::fs::write(path, crate::chart::svg(&panels, env.conns)) {
            Ok(()) => eprintln!("chart: {}", path.display()),
            Err(e) => eprintln!("chart: cannot write {}: {e}", path.display()),
        }
    }
    print_targets(&modes, &results);
    print_wire_targets(&modes, &results);
    print_python_targets(&modes, &results);
    print_hessian_targets(&modes, &results);
    print_xmlrpc_targets(&modes, &results);
    print_pyro3_ratios(&modes, &results);
    print_server_cpu(&modes, &results);
    if opts.only.is_empty() || opts.only.iter().any(|o| o == "pool") {
        if let Err(e) = crate::pool_rows::run(opts) {
            println!("\n## Pools\n\nnot measured: {e}");
        }
    }
    if opts.only.is_empty() || opts.only.iter().any(|o| o == "gateway") {
        if let Err(e) = crate::gateway_rows::run(opts) {
            println!("\n## Gateway\n\nnot measured: {e}");
        }
    }
    if opts.only.is_empty()
        || opts
            .only
            .iter()
            .any(|o| o == "observe" || o == "observe-pair")
    {
        if let Err(e) = crate::observe_rows::run(opts) {
            println!("\n## Observability\n\nnot measured: {e}");
        }
    }
    if let Some(dir) = &env.pki {
        let _ = std::fs::remove_dir_all(dir);
    }
    let _ = std::fs::remove_dir_all(java_peer_dir());
    if any_failed {
        return Err("some rows failed (see the tables)".into());
    }
    Ok(())
}

fn rate(r: Option<&Result<Measurement, String>>) -> Option<f64> {
    r.and_then(|r| r.as_ref().ok()).map(Measurement::rate)
}

fn big_ms(r: Option<&Result<Measurement, String>>) -> Option<f64> {
    r.and_then(|r| r.as_ref().ok()).map(|m| m.p50_us / 1000.0)
}

/// The raw-TCP baseline of a row: the better of the two raw flavours.
fn baseline(
    mode: Mode,
    w: Workload,
    res: &HashMap<Key, Result<Measurement, String>>,
) -> Option<f64> {
    let vals = ["raw-std", "raw-tokio"].into_iter().filter_map(|k| {
        let r = res.get(&(mode, k, w));
        match w {
            Workload::Big => big_ms(r),
            _ => rate(r),
        }
    });
    match w {
        Workload::Big => vals.reduce(f64::min),
        _ => vals.reduce(f64::max),
    }
}

fn ratio(v: Option<f64>, base: Option<f64>) -> String {
    match (v, base) {
        (Some(v), Some(b)) if b > 0.0 => format!("{:.2}×", v / b),
        _ => "–".into(),
    }
}

/// Prints one placement's table; returns whether any row failed.
fn print_table(
    mode: Mode,
    conns: usize,
    systems: &[&System],
    res: &HashMap<Key, Result<Measurement, String>>,
) -> bool {
    let (s, c) = mode.cpus();
    println!();
    println!(
        "## {}: server on CPU {s}, client on CPU {c}",
        if mode == Mode::Pinned {
            "Pinned"
        } else {
            "Split"
        }
    );
    println!();
    println!("| system | seq calls/s | ×raw | p50 µs | p99 µs | {conns} conns calls/s | ×raw | 1 MiB echo ms | ×raw (time) |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let bs = baseline(mode, Workload::Seq, res);
    let bc = baseline(mode, Workload::Conc, res);
    let bb = baseline(mode, Workload::Big, res);
    let mut failed = Vec::new();
    for sys in systems {
        let seq = res.get(&(mode, sys.key, Workload::Seq));
        let conc = res.get(&(mode, sys.key, Workload::Conc));
        let big = res.get(&(mode, sys.key, Workload::Big));
        for (w, r) in [("seq", seq), ("conc", conc), ("big", big)] {
            if let Some(Err(e)) = r {
                failed.push(format!("{} {}: {e}", sys.key, w));
            }
        }
        let m = seq.and_then(|r| r.as_ref().ok());
        // "–" for a row this system does not measure, "failed" for one that failed
        let fmt_rate = |v: Option<f64>, w: Workload| {
            v.map(|v| format!("{v:.0}")).unwrap_or_else(|| {
                if sys.runs(w) {
                    "failed".into()
                } else {
                    "–".into()
                }
            })
        };
        println!(
            "| {} (`{}`) | {} | {} | {} | {} | {} | {} | {} | {} |",
            sys.label,
            sys.key,
            fmt_rate(rate(seq), Workload::Seq),
            ratio(rate(seq), bs),
            m.map(|m| format!("{:.1}", m.p50_us))
                .unwrap_or_else(|| "–".into()),
            m.map(|m| format!("{:.1}", m.p99_us))
                .unwrap_or_else(|| "–".into()),
            fmt_rate(rate(conc), Workload::Conc),
            ratio(rate(conc), bc),
            big_ms(big)
                .map(|v| format!("{v:.3}"))
                .unwrap_or_else(|| if sys.runs(Workload::Big) {
                    "failed".into()
                } else {
                    "–".into()
                }),
            ratio(big_ms(big), bb),
        );
    }
    println!();
    println!("×raw: calls/s relative to the faster raw-TCP flavour (higher is better); for the 1 MiB echo, time relative to raw (lower is better).");
    for f in &failed {
        println!("FAILED {f}");
    }
    !failed.is_empty()
}

/// Checks the benchmark issue's targets for the tether → tether rows.
fn print_targets(modes: &[Mode], res: &HashMap<Key, Result<Measurement, String>>) {
    let t = "tether-tether";
    if !res.keys().any(|k| k.1 == t) {
        return;
    }
    println!();
    println!("## Targets (tether Proxy → tether Daemon)");
    println!();
    let check = |what: String, got: Option<f64>, ok: &dyn Fn(f64) -> bool| match got {
        Some(v) => println!("- {} {what}: {v:.2}", if ok(v) { "MET " } else { "MISS" }),
        None => println!("- n/a  {what}: not measured"),
    };
    let get = |mode: Mode, key: &str, w: Workload| -> Option<f64> {
        let r = res.get(&(mode, key_static(key), w));
        match w {
            Workload::Big => big_ms(r),
            _ => rate(r),
        }
    };
    let div = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    };
    if modes.contains(&Mode::Pinned) {
        let p = Mode::Pinned;
        check(
            "pinned sequential calls/s ≥ 0.5× raw".into(),
            div(get(p, t, Workload::Seq), baseline(p, Workload::Seq, res)),
            &|v| v >= 0.5,
        );
        check(
            "pinned concurrent calls/s ≥ 0.75× raw".into(),
            div(get(p, t, Workload::Conc), baseline(p, Workload::Conc, res)),
            &|v| v >= 0.75,
        );
    }
    for &mode in modes {
        let m = mode.name();
        check(
            format!("{m} 1 MiB echo time ≤ 1.5× raw"),
            div(
                get(mode, t, Workload::Big),
                baseline(mode, Workload::Big, res),
            ),
            &|v| v <= 1.5,
        );
        for w in [Workload::Seq, Workload::Conc] {
            check(
                format!("{m} {} calls/s ahead of tarpc (ratio > 1)", w.name()),
                div(get(mode, t, w), get(mode, "tarpc", w)),
                &|v| v > 1.0,
            );
        }
        check(
            format!("{m} 1 MiB echo ahead of tarpc (time ratio < 1)"),
            div(
                get(mode, t, Workload::Big),
                get(mode, "tarpc", Workload::Big),
            ),
            &|v| v < 1.0,
        );
    }
}

/// tether ↔ tether on every wire against raw TCP: ≥ 0.8× for sequential calls, ≥ 0.9× with
/// many connections, in each placement; Pyro5 over TLS's 1 MiB echo ≤ 2× raw time, with the
/// floor the encryption alone sets, measured in this run.
fn print_wire_targets(modes: &[Mode], res: &HashMap<Key, Result<Measurement, String>>) {
    // Each wire with its floor: the same echo with no protocol on the same stack (tokio for the
    // plain wires, tokio and rustls for the TLS ones), measured in this run.
    const ROWS: [(&str, &str, &str); 8] = [
        ("tether-tether", "Pyro5", "raw-tokio"),
        ("tether4-tether", "Pyro4", "raw-tokio"),
        ("tls-tether-tether", "Pyro5 over TLS", "raw-tls"),
        ("pyro3-tether-tether", "Pyro 3", "raw-tokio"),
        ("hessian-tether-tether", "Hessian", "raw-tokio"),
        ("xmlrpc-tether-tether", "XML-RPC", "raw-tokio"),
        ("xmlrpc-tls-tether-tether", "XML-RPC over TLS", "raw-tls"),
        (
            "xmlrpc-mtls-tether-tether",
            "XML-RPC, mutual TLS",
            "raw-tls",
        ),
    ];
    if !ROWS.iter().any(|(k, _, _)| res.keys().any(|r| r.1 == *k)) {
        return;
    }
    println!();
    println!(
        "## Wire targets: tether ↔ tether against raw TCP (≥ 0.8× sequential, ≥ 0.9× in the concurrent row)"
    );
    println!();
    println!("The floor is the same echo with no protocol on the stack the wire runs on (raw TCP under tokio; under tokio and rustls for the TLS wires), against the same raw-TCP baseline: what any protocol on that stack could reach.");
    println!();
    println!(
        "| wire | placement | sequential | floor | ÷ floor | many connections | floor | ÷ floor |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    let ratio = |mode: Mode, key: &str, w: Workload| -> Option<f64> {
        let got = rate(res.get(&(mode, key_static(key), w)))?;
        Some(got / baseline(mode, w, res)?)
    };
    let cell = |v: Option<f64>, min: f64| match v {
        Some(v) => format!("{v:.2} {}", if v >= min { "met" } else { "MISS" }),
        None => "–".to_string(),
    };
    let plain = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.2}"));
    for (key, label, floor) in &ROWS {
        for &mode in modes {
            if !res.keys().any(|r| r.0 == mode && r.1 == *key) {
                continue;
            }
            let (seq, conc) = (
                ratio(mode, key, Workload::Seq),
                ratio(mode, key, Workload::Conc),
            );
            let (fseq, fconc) = (
                ratio(mode, floor, Workload::Seq),
                ratio(mode, floor, Workload::Conc),
            );
            let of = |v: Option<f64>, f: Option<f64>| plain(v.zip(f).map(|(v, f)| v / f));
            println!(
                "| {label} | {} | {} | {} | {} | {} | {} | {} |",
                mode.name(),
                cell(seq, 0.8),
                plain(fseq),
                of(seq, fseq),
                cell(conc, 0.9),
                plain(fconc.filter(|_| conc.is_some())),
                of(conc, fconc),
            );
        }
    }
    let Some(aead) = crate::crypto_floor::seal_and_open_ms(1 << 20) else {
        return;
    };
    println!();
    println!(
        "Pyro5 over TLS, 1 MiB echo (target ≤ 2× raw time). Sealing and opening 1 MiB once with AES-256-GCM takes {aead:.3} ms on this machine; an echo does it twice, so the cipher's floor is raw + 2 × that on one CPU (pinned) and raw + 1 × that split (each side's two passes on its own CPU). The stack's floor is the same echo with no protocol over tokio and rustls (`raw-tls`), which adds rustls's copies of every record to the cipher:"
    );
    println!();
    println!("| placement | raw ms | TLS ms | ×raw | cipher floor ms | ×raw | raw TLS ms | ×raw | TLS ÷ raw TLS |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &mode in modes {
        let (Some(raw), Some(tls)) = (
            baseline(mode, Workload::Big, res),
            big_ms(res.get(&(mode, "tls-tether-tether", Workload::Big))),
        ) else {
            continue;
        };
        let passes = if mode == Mode::Pinned { 2.0 } else { 1.0 };
        let floor = raw + passes * aead;
        let raw_tls = big_ms(res.get(&(mode, "raw-tls", Workload::Big)));
        let ms = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.3}"));
        let times =
            |v: Option<f64>, by: f64| v.map_or("–".to_string(), |v| format!("{:.2}", v / by));
        println!(
            "| {} | {raw:.3} | {tls:.3} | {:.2} {} | {floor:.3} | {:.2} | {} | {} | {} |",
            mode.name(),
            tls / raw,
            if tls / raw <= 2.0 { "met" } else { "MISS" },
            floor / raw,
            ms(raw_tls),
            times(raw_tls, raw),
            raw_tls.map_or("–".to_string(), |f| format!("{:.2}", tls / f)),
        );
    }
}

/// Where this run's Java peer is compiled (removed when the run ends).
fn java_peer_dir() -> PathBuf {
    std::env::temp_dir().join(format!("tether-bench-java-{}", std::process::id()))
}

/// Compiles tether-hessian's Java test peer for the run; returns the classpath.
fn compile_java_peer() -> Result<String, String> {
    let jar = "/usr/share/java/hessian.jar";
    if !std::path::Path::new(jar).exists() {
        return Err(format!("{jar} missing (apt-get install libhessian-java)"));
    }
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tether-hessian/tests/java/peer");
    let out = java_peer_dir();
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let files: Vec<PathBuf> = std::fs::read_dir(&src)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "java"))
        .collect();
    let st = Command::new("javac")
        .arg("-d")
        .arg(&out)
        .args(["-cp", jar])
        .args(&files)
        .status()
        .map_err(|e| format!("javac: {e}"))?;
    if !st.success() {
        return Err("javac failed".into());
    }
    Ok(format!("{jar}:{}", out.display()))
}

/// Checks the Hessian rows: tether ↔ tether ≥ 3× Java ↔ Java, and a Java client ≥ 1.5×
/// faster against tether than against Java.
fn print_hessian_targets(modes: &[Mode], res: &HashMap<Key, Result<Measurement, String>>) {
    if !res.keys().any(|k| k.1.starts_with("hessian-")) {
        return;
    }
    println!();
    println!("## Targets (Hessian, sequential calls/s)");
    println!();
    for &mode in modes {
        let get = |k: &str| rate(res.get(&(mode, key_static(k), Workload::Seq)));
        for (a, b, min, what) in [
            (
                "hessian-tether-tether",
                "hessian-java-java",
                3.0,
                "tether ↔ tether vs Java ↔ Java",
            ),
            (
                "hessian-java-tether",
                "hessian-java-java",
                1.5,
                "Java client: tether server vs Java server",
            ),
            (
                "hessian-tether-java",
                "hessian-java-java",
                1.0,
                "Java server: tether client vs Java client",
            ),
            (
                "hessian-py-tether",
                "hessian-py-java",
                1.0,
                "python-hessian client: tether server vs Java server",
            ),
        ] {
            match (get(a), get(b)) {
                (Some(x), Some(y)) if y > 0.0 => println!(
                    "- {} {} {what}: {:.2}× (target {min}×)",
                    if x / y >= min { "MET " } else { "MISS" },
                    mode.name(),
                    x / y
                ),
                _ => println!("- n/a  {} {what}: not measured", mode.name()),
            }
        }
    }
}

/// The Pyro 3 rows: the seed's Python 2 client against tether vs against its own server.
fn print_pyro3_ratios(modes: &[Mode], res: &HashMap<Key, Result<Measurement, String>>) {
    if !res.keys().any(|k| k.1.starts_with("pyro3")) {
        return;
    }
    println!();
    println!("## Pyro 3 (the seed's stack, sequential get_data calls/s)");
    println!();
    for &mode in modes {
        let get = |k: &str| rate(res.get(&(mode, key_static(k), Workload::Seq)));
        let base = get("pyro3-py2-py2");
        for (k, what) in [
            (
                "pyro3-py2-tether",
                "the seed's Python 2 client → tether vs → the seed's server",
            ),
            (
                "pyro3-tether-tether",
                "tether ↔ tether vs the seed's client ↔ server",
            ),
        ] {
            match (get(k), base) {
                (Some(x), Some(y)) if y > 0.0 => {
                    println!("- {} {what}: {:.2}×", mode.name(), x / y)
                }
                _ => println!("- n/a  {} {what}: not measured", mode.name()),
            }
        }
    }
}

/// The server's own cost per call with each foreign client: its CPU time per sequential call
/// against the peer's own server's, with the same client (target: tether at most a quarter).
/// This separates the server from the foreign client, whose own cost bounds the calls/s.
fn print_server_cpu(modes: &[Mode], res: &HashMap<Key, Result<Measurement, String>>) {
    // (client, its own server's row, tether's row, the row of that client against its floor:
    // `serve pyro-floor` for the Pyro clients and `serve http-floor` for the HTTP ones, canned
    // replies, over mutual TLS for the mutual-TLS client).
    const PAIRS: [(&str, &str, &str, &str); 7] = [
        ("Python Pyro5 client", "py-py", "py-tether", "py-pyro-floor"),
        (
            "Python Pyro4 client",
            "py4-py4",
            "py4-tether",
            "py4-pyro-floor",
        ),
        (
            "the seed's Python 2 client (Pyro 3)",
            "pyro3-py2-py2",
            "pyro3-py2-tether",
            "pyro3-py2-floor",
        ),
        (
            "Python XML-RPC client",
            "xmlrpc-py-py",
            "xmlrpc-py-tether",
            "xmlrpc-py-floor",
        ),
        (
            "Python XML-RPC client, mutual TLS",
            "xmlrpc-mtls-py-py",
            "xmlrpc-mtls-py-tether",
            "xmlrpc-mtls-py-floor",
        ),
        (
            "Caucho's Java Hessian client",
            "hessian-java-java",
            "hessian-java-tether",
            "hessian-java-floor",
        ),
        (
            "python-hessian client",
            "hessian-py-java",
            "hessian-py-tether",
            "hessian-py-floor",
        ),
    ];
    let cpu = |mode: Mode, k: &str| {
        res.get(&(mode, key_static(k), Workload::Seq))
            .and_then(|r| r.as_ref().ok())
            .map(|m| m.server_cpu_us)
            .filter(|c| *c > 0.0)
    };
    if !PAIRS.iter().any(|(_, a, b, _)| {
        modes
            .iter()
            .any(|&m| cpu(m, a).is_some() && cpu(m, b).is_some())
    }) {
        return;
    }
    println!();
    println!("## Server CPU per call with foreign clients (sequential; µs of the server process's CPU per call)");
    println!();
    println!(
        "The floor is the least a server can cost per sequential call of that client in the same placement: for the Pyro clients `serve pyro-floor` (`pyro-floor:pyro3` for the seed's Python 2 client), a responder that answers the handshake and every call with canned frames (no decoding, no dispatch: that client's wake-ups, context switches and TCP path, which cost more than a raw echo's with a Rust client: a Python process makes every switch to the server dearer); for the HTTP clients `serve http-floor`, a responder that reads each request and writes a canned reply (the TCP path of that client's traffic: its connection per call, its separate writes), over mutual TLS on tokio and rustls for the mutual-TLS client (the records' encryption added). Where the floor is above a quarter of the peer's own server, the target is below what any server costs."
    );
    println!();
    println!("| client | placement | its own server | tether's server | ratio (target ≤ 0.25) | floor | floor ÷ own |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (what, peer, ours, floor_row) in PAIRS {
        for &mode in modes {
            if let (Some(p), Some(t)) = (cpu(mode, peer), cpu(mode, ours)) {
                let (f, fr) = match cpu(mode, floor_row) {
                    Some(f) => (format!("{f:.1}"), format!("{:.2}", f / p)),
                    None => ("–".into(), "–".into()),
                };
                println!(
                    "| {what} | {} | {p:.1} | {t:.1} | {:.2} {} | {f} | {fr} |",
                    mode.name(),
                    t / p,
                    if t / p <= 0.25 { "met" } else { "MISS" }
                );
            }
        }
    }
}

/// Checks the XML-RPC rows: tether ↔ tether over mutual TLS ≥ 10× Python ↔ Python.
fn print_xmlrpc_targets(modes: &[Mode], res: &HashMap<Key, Result<Measurement, String>>) {
    if !res.keys().any(|k| k.1.starts_with("xmlrpc")) {
        return;
    }
    println!();
    println!("## Targets (XML-RPC, sequential calls/s, keep-alive)");
    println!();
    for &mode in modes {
        let get = |k: &str| rate(res.get(&(mode, key_static(k), Workload::Seq)));
        for (link, min) in [("", 0.0), ("-tls", 0.0), ("-mtls", 10.0)] {
            for (who, a) in [
                ("tether ↔ tether", "tether-tether"),
                ("Python client → tether", "py-tether"),
            ] {
                let (x, y) = (
                    get(&format!("xmlrpc{link}-{a}")),
                    get(&format!("xmlrpc{link}-py-py")),
                );
                let over = match link {
                    "" => "HTTP",
                    "-tls" => "HTTPS",
                    _ => "mutual TLS",
                };
                match (x, y) {
                    (Some(x), Some(y)) if y > 0.0 => {
                        let mark = if min == 0.0 || who != "tether ↔ tether" {
                            "    "
                        } else if x / y >= min {
                            "MET "
                        } else {
                            "MISS"
                        };
                        println!(
                            "- {mark} {} {over}, {who} vs Python ↔ Python: {:.2}×{}",
                            mode.name(),
                            x / y,
                            if mark.trim().is_empty() {
                                String::new()
                            } else {
                                format!(" (target {min}×)")
                            }
                        );
                    }
                    _ => println!("- n/a  {} {over}, {who}: not measured", mode.name()),
                }
            }
        }
    }
}

/// Checks the Pyro4 and TLS rows: every tether row at least 2× its Python counterpart.
fn print_python_targets(modes: &[Mode], res: &HashMap<Key, Result<Measurement, String>>) {
    let pairs = [
        (
            "py4-tether",
            "py4-py4",
            "Pyro4: Python client, tether server vs Python server",
        ),
        (
            "tether4-tether",
            "py4-py4",
            "Pyro4: tether ↔ tether vs Python ↔ Python",
        ),
        (
            "tls-tether-tether",
            "tls-py-py",
            "Pyro5 over TLS: tether ↔ tether vs Python ↔ Python",
        ),
    ];
    if !pairs.iter().any(|(t, _, _)| res.keys().any(|k| k.1 == *t)) {
        return;
    }
    println!();
    println!("## Targets (each tether row ≥ 2× its Python counterpart)");
    println!();
    for &mode in modes {
        for (t, p, what) in pairs {
            for w in Workload::ALL {
                let (a, b) = (
                    res.get(&(mode, key_static(t), w)),
                    res.get(&(mode, key_static(p), w)),
                );
                // calls/s: higher is better; the big echo: time, lower is better
                let r = match w {
                    Workload::Big => match (big_ms(b), big_ms(a)) {
                        (Some(pb), Some(ta)) if ta > 0.0 => Some(pb / ta),
                        _ => None,
                    },
                    _ => match (rate(a), rate(b)) {
                        (Some(ta), Some(pb)) if pb > 0.0 => Some(ta / pb),
                        _ => None,
                    },
                };
                match r {
                    Some(v) => println!(
                        "- {} {} {what}, {}: {v:.2}×",
                        if v >= 2.0 { "MET " } else { "MISS" },
                        mode.name(),
                        w.name()
                    ),
                    None => println!("- n/a  {} {what}, {}: not measured", mode.name(), w.name()),
                }
            }
        }
    }
}

fn key_static(key: &str) -> &'static str {
    SYSTEMS
        .iter()
        .map(|s| s.key)
        .find(|k| *k == key)
        .unwrap_or("")
}
