//! `tether run FILE.xml...` as a black box: a Spring Python context with an exporter serves a
//! Python Pyro5 client, SIGTERM shuts it down cleanly (exit 0), and a bad context fails at once
//! with the file, line and object in the message and no server left behind.

mod common;
use common::{python, Proc};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const CONTEXT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
    <object id="echo" class="tether.echo.EchoService"/>
    <object id="exporter" class="springpython.remoting.pyro.PyroServiceExporter">
        <property name="service" ref="echo"/>
        <property name="service_name" value="test.echoserver"/>
        <property name="service_host" value="127.0.0.1"/>
        <property name="service_port" value="0"/>
    </object>
</objects>
"#;

/// A context file in a directory of its own, removed with it when the test ends.
struct ContextFile {
    dir: std::path::PathBuf,
    file: std::path::PathBuf,
}

impl std::ops::Deref for ContextFile {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.file
    }
}

impl AsRef<std::ffi::OsStr> for ContextFile {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.file.as_os_str()
    }
}

impl Drop for ContextFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn write_context(name: &str, text: &str) -> ContextFile {
    let dir = std::env::temp_dir().join(format!("tether-run-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    ContextFile { dir, file }
}

#[test]
fn serves_a_python_client_and_stops_on_sigterm() {
    let file = write_context("echo.xml", CONTEXT);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tether"))
        .arg("run")
        .arg(&file)
        .args(["--log", "debug"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut proc = Proc(child);

    // The container logs the address it serves on once the exporters are up.
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("serving on [").nth(1) {
                let addr = rest.split(']').next().unwrap_or("").to_string();
                let _ = tx.send(addr);
            }
            all.push(line);
        }
        all
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("no 'serving on' line within 30 s");
    let uri = format!("PYRO:test.echoserver@{addr}");

    let out = Command::new(python())
        .args([
            "-c",
            "import sys, Pyro5.api as p; x = p.Proxy(sys.argv[1]); \
             print(repr(x.echo(('tuple', 2**70, {1: 'one'}))), x.verbose)",
            &uri,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "('tuple', 1180591620717411303424, {1: 'one'}) False"
    );

    // SIGTERM: graceful shutdown, exit 0, destroy hooks logged.
    let pid = proc.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let mut status = None;
    for _ in 0..100 {
        if let Some(s) = proc.0.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = status.expect("tether run did not exit within 10 s of SIGTERM");
    assert!(status.success(), "exit status {status}");
    let log = reader.join().unwrap().join("\n");
    assert!(
        log.contains("Exporting test.echoserver as a Pyro service at 127.0.0.1:0"),
        "{log}"
    );
    assert!(log.contains("Shutting down pyro daemon"), "{log}");
}

#[test]
fn a_bad_context_fails_with_file_line_and_object() {
    let file = write_context(
        "bad.xml",
        "<objects>\n  <object id=\"svc\" class=\"server.Nope\"/>\n</objects>\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .arg("run")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.xml:2"), "{err}");
    assert!(err.contains("svc"), "{err}");
    assert!(err.contains("server.Nope"), "{err}");
    // The message lists the classes that are known, so a typo is easy to spot.
    assert!(err.contains("tether.echo.EchoService"), "{err}");
}

#[test]
fn run_without_files_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .arg("run")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn sigterm_during_start_up_ends_in_a_graceful_shutdown() {
    // A context that takes a moment to load: 60,000 lazy objects, then an exporter.
    let mut xml = String::from("<objects>\n");
    for i in 0..60_000 {
        xml.push_str(&format!(
            "<object id=\"o{i}\" class=\"tether.echo.EchoService\" lazy-init=\"true\"/>\n"
        ));
    }
    xml.push_str(
        "<object id=\"echo\" class=\"tether.echo.EchoService\"/>\n\
         <object id=\"exporter\" class=\"tether.pyro.ServiceExporter\">\
         <property name=\"service\" ref=\"echo\"/><property name=\"service_name\" value=\"e\"/>\
         <property name=\"service_host\" value=\"127.0.0.1\"/><property name=\"service_port\" value=\"0\"/>\
         </object>\n</objects>",
    );
    let file = write_context("slow-start.xml", &xml);
    for delay_ms in [20u64, 150] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tether"))
            .arg("run")
            .arg(&file)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let pid = child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let out = {
            let mut s = String::new();
            use std::io::Read;
            child.stderr.take().unwrap().read_to_string(&mut s).unwrap();
            s
        };
        let status = child.wait().unwrap();
        assert!(
            status.success(),
            "killed at {delay_ms} ms instead of shutting down: {status} {out}"
        );
        assert!(out.contains("shutting down"), "{out}");
    }
}

/// The seed's quick start as it is: `tether run server.xml` (the `tether` command knows the
/// seed's `server.Service`), the seed's Python 2 `client.py` (Spring Python 1.3 + Pyro 3.16)
/// loading `client.xml`; then `tether call` on the same PYROLOC URL. Port 7000 is replaced by
/// a free one.
#[test]
fn the_seeds_python2_client_calls_tether_run_server_xml() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let qs = root.join("examples/quickstart");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("tether-run-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["server.xml", "client.xml"] {
        let xml = std::fs::read_to_string(qs.join(f))
            .unwrap()
            .replace("7000", &port.to_string());
        std::fs::write(dir.join(f), xml).unwrap();
    }
    let server = Proc(
        Command::new(env!("CARGO_BIN_EXE_tether"))
            .args(["run", "server.xml"])
            .current_dir(&dir)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "tether run did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = common::python2()
        .arg(qs.join("python/client.py"))
        .arg("client.xml")
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "CLIENT: You got remote data => Hello\n"
    );
    let url = format!("PYROLOC://127.0.0.1:{port}/ServiceName");
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["call", &url, "get_data", "'Hello'"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "'You got remote data => Hello'",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(server);
    std::fs::remove_dir_all(dir).ok();
}

/// `tether run --log-format python FILE` with `TETHER_LOG` = `filter`: the process, the
/// address it serves on, and the thread collecting its log lines until it exits.
fn run_logged(
    file: &std::path::Path,
    filter: &str,
) -> (Proc, String, std::thread::JoinHandle<Vec<String>>) {
    let child = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["run", "--log-format", "python"])
        .arg(file)
        .env("TETHER_LOG", filter)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut proc = Proc(child);
    let stderr = proc.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("serving on [").nth(1) {
                let _ = tx.send(rest.split(']').next().unwrap_or("").to_string());
            }
            all.push(line);
        }
        all
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("no 'serving on' line within 30 s");
    (proc, addr, reader)
}

/// Stops `proc` with SIGTERM and returns its log lines.
fn stop_logged(mut proc: Proc, reader: std::thread::JoinHandle<Vec<String>>) -> Vec<String> {
    proc.signal("TERM");
    let _ = proc.0.wait();
    reader.join().unwrap()
}

/// `TETHER_LOG` filters `tether run`'s log by logger name, and `--log-format python` lays each
/// line out as Spring Python's examples configure `logging`
/// (`%(asctime)s - %(name)s - %(levelname)s - %(message)s`), the container's XMLConfig lines and
/// the exporter's under their Spring Python names.
#[test]
fn logs_in_pythons_layout_filtered_by_tether_log() {
    let file = write_context("logged.xml", CONTEXT);
    let (proc, _addr, reader) = run_logged(&file, "springpython=debug,tether.run=info");
    let lines = stop_logged(proc, reader);
    let log = lines.join("\n");
    // 2026-12-04 22:20:18,123 - springpython.remoting.pyro.PyroServiceExporter - DEBUG - Exporting ...
    let exporting = lines
        .iter()
        .find(|l| l.contains("Exporting test.echoserver"))
        .unwrap_or_else(|| panic!("{log}"));
    let parts: Vec<&str> = exporting.splitn(4, " - ").collect();
    assert_eq!(parts.len(), 4, "{exporting}");
    assert_eq!(parts[0].len(), 23, "{exporting}");
    assert_eq!(&parts[0][19..20], ",", "{exporting}");
    assert_eq!(parts[1], "springpython.remoting.pyro.PyroServiceExporter");
    assert_eq!(parts[2], "DEBUG");
    assert_eq!(
        parts[3],
        "Exporting test.echoserver as a Pyro service at 127.0.0.1:0"
    );
    // the container's own lines, under Spring Python's XMLConfig and context loggers
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" - springpython.") && l.contains("object definition")),
        "{log}"
    );
    assert!(
        lines.iter().any(|l| l.contains(" - tether.run - INFO - ")),
        "{log}"
    );
    // the filter leaves other targets out
    assert!(!log.contains(" - tether::"), "{log}");
}

/// An `SSLServer` that refuses a client (its subject fails `verify_fields`) logs the refusal
/// under Spring Python's `SSLServer` logger (or the `logger_name` given, as the seed logs under
/// its subclass's name), at ERROR, with the client's address, as the seed does; the client only
/// sees the connection close.
#[test]
fn tls_refusals_log_under_spring_pythons_ssl_server_logger() {
    let dir = std::env::temp_dir().join(format!("tether-run-tls-{}", std::process::id()));
    assert!(Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["pki", dir.to_str().unwrap()])
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success());
    let d = |f: &str| dir.join(f).display().to_string();
    // Without a name, Spring Python's class's logger; with one (the seed logs under its
    // subclass's name), that name.
    for (logger_name, logger) in [
        ("", "springpython.remoting.xmlrpc.SSLServer"),
        (
            r#"<property name="logger_name" value="MySSLServer"/>"#,
            "MySSLServer",
        ),
    ] {
        let xml = format!(
            r#"<objects>
    <object id="echo" class="tether.echo.EchoService"/>
    <object id="secure" class="springpython.remoting.xmlrpc.SSLServer">
        <property name="service" ref="echo"/><property name="service_name" value="echo"/>
        <property name="host" value="localhost"/><property name="port" value="0"/>
        <property name="certfile" value="{}"/><property name="keyfile" value="{}"/>
        <property name="ca_certs" value="{}"/><property name="cert_reqs" value="ssl.CERT_REQUIRED"/>
        <property name="log_requests" value="False"/>{logger_name}
        <property name="verify_fields"><dict>
            <entry><key><value>commonName</value></key><value>Somebody Else</value></entry>
        </dict></property>
    </object>
</objects>"#,
            d("server-cert.pem"),
            d("server-key.pem"),
            d("ca-chain.pem")
        );
        let file = write_context("secure.xml", &xml);
        let (proc, addr, reader) = run_logged(&file, "springpython=info,tether.run=info");
        let port = addr.rsplit(':').next().unwrap().to_string();
        let code = "import ssl, sys, xmlrpc.client\nd = sys.argv[2]\nctx = ssl.create_default_context(cafile=d + '/ca-chain.pem')\nctx.load_cert_chain(d + '/client-cert.pem', d + '/client-key.pem')\ntry:\n    xmlrpc.client.ServerProxy('https://localhost:' + sys.argv[1] + '/RPC2', context=ctx).echo('x')\n    print('answered')\nexcept Exception as e:\n    print('refused')\n";
        let out = Command::new(python())
            .args(["-c", code, &port, dir.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "refused");
        let lines = stop_logged(proc, reader);
        let log = lines.join("\n");
        let refusal = lines
            .iter()
            .find(|l| l.contains(&format!(" - {logger} - ERROR - ")))
            .unwrap_or_else(|| panic!("{log}"));
        assert!(
            refusal.contains("commonName") && refusal.contains("from_addr=127.0.0.1:"),
            "{refusal}"
        );
    }
    std::fs::remove_dir_all(dir).ok();
}
