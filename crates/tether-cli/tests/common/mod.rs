//! Helpers shared by the black-box tests of the `tether` binary.
#![allow(dead_code)]

pub mod otlp;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;
#[allow(unused_imports)]
pub use tether_test_support::{python, python2, root, Proc};

/// `tether echo-server --protocol P -H 127.0.0.1 -p 0`, to add variables to and [`start`].
pub fn echo_server_command(protocol: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tether"));
    cmd.args([
        "echo-server",
        "--protocol",
        protocol,
        "-H",
        "127.0.0.1",
        "-p",
        "0",
    ]);
    cmd
}

/// Starts `tether echo-server --protocol P -H 127.0.0.1 -p 0` for each protocol; returns the
/// processes and their URLs.
pub fn echo_servers(protocols: &[&str]) -> (Vec<Proc>, Vec<String>) {
    let mut procs = Vec::new();
    let mut urls = Vec::new();
    for p in protocols {
        let (proc, lines) = start(&mut echo_server_command(p));
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

/// Starts a server and returns it with what its first line starting with `prefix` says after
/// it (`"server uri: "` → the URI).
pub fn start_with(cmd: &mut Command, prefix: &'static str) -> (Proc, String) {
    let (p, lines) = start_until(cmd, prefix);
    let said = lines
        .last()
        .and_then(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?}: {lines:?}"))
        .to_string();
    (p, said)
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

/// A plain HTTP/1.0 GET of `path` at `base` (`http://host:port`): (status, body); (0, "") when
/// nothing answers.
pub fn http_get(base: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let hostport = base.trim_start_matches("http://").trim_end_matches('/');
    let Ok(mut s) = std::net::TcpStream::connect(hostport) else {
        return (0, String::new());
    };
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let _ = write!(s, "GET {path} HTTP/1.0\r\nHost: {hostport}\r\n\r\n");
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Waits (at most `limit`) until the admin endpoint at `base` says ready.
pub fn wait_ready(base: &str, limit: Duration) {
    let end = std::time::Instant::now() + limit;
    while http_get(base, "/readyz").0 != 200 {
        assert!(
            std::time::Instant::now() < end,
            "never ready: {:?}",
            http_get(base, "/readyz")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs the `tether` binary: (exit code, stdout).
pub fn tether(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(args)
        .output()
        .expect("tether");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The wire named `name` among the built-in protocols.
pub fn protocol(name: &str) -> std::sync::Arc<dyn tether::remoting::Protocol> {
    tether::ClassRegistry::from_inventory()
        .protocols()
        .by_name(name)
        .expect(name)
        .clone()
}

/// `object` served by `wire` on a free loopback port, under the wire's echo object name; the
/// server and the object's URL.
pub fn serve_object(
    wire: &str,
    object: std::sync::Arc<dyn tether_core::Dispatch>,
) -> (std::sync::Arc<dyn tether::remoting::ExportServer>, String) {
    let p = protocol(wire);
    let server = p
        .bind(
            "127.0.0.1",
            "127.0.0.1:0".parse().expect("addr"),
            &tether::remoting::ServerOptions::default(),
        )
        .expect("bind");
    let name = p.shell().echo_object_name();
    let uri = server.register(name, object).expect("register");
    let url = p.object_url(&uri, name);
    (server, url)
}

/// A context serving the echo service over Pyro5 at `host:port` whose exporter lists itself in
/// the directory `discovery` (an `etcd://` URL) with a 2 s TTL, as the etcd tests run it.
pub fn listed_echo_xml(host: &str, port: u16, discovery: &str) -> String {
    format!(
        r#"<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
  <object id="echo" class="tether.echo.EchoService"/>
  <object id="exporter" class="tether.pyro.ServiceExporter">
    <property name="service" ref="echo"/>
    <property name="service_name" value="echo"/>
    <property name="service_host" value="{host}"/>
    <property name="service_port" value="{port}"/>
    <property name="discovery" value="{discovery}"/>
    <property name="discovery_ttl" value="2"/>
  </object>
</objects>"#
    )
}
