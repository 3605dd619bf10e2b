//! `--admin HOST:PORT` on the serving commands: `tether run` and `tether ns` print `admin uri:`
//! and answer `/healthz`, `/readyz` (200 once serving) and `/metrics`; a bad address is a clear
//! error.

mod common;

use common::start_until;
use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

fn get(base: &str, path: &str) -> (u16, String) {
    let hostport = base.trim_start_matches("http://");
    let Ok(mut s) = std::net::TcpStream::connect(hostport) else {
        return (0, String::new());
    };
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let _ = write!(s, "GET {path} HTTP/1.0\r\n\r\n");
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (
        status,
        text.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default(),
    )
}

fn ready(admin: &str) {
    let end = Instant::now() + Duration::from_secs(20);
    while get(admin, "/readyz").0 != 200 {
        assert!(
            Instant::now() < end,
            "never ready: {:?}",
            get(admin, "/readyz")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn admin_of(lines: &[String]) -> String {
    lines
        .iter()
        .find_map(|l| l.strip_prefix("admin uri: "))
        .expect("admin uri line")
        .to_string()
}

#[test]
fn tether_run_serves_the_admin_endpoint() {
    let dir = std::env::temp_dir().join(format!("tether-admin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let xml = dir.join("server.xml");
    std::fs::write(
        &xml,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<objects xmlns="http://www.springframework.org/springpython/schema/objects/1.1">
  <object id="service" class="server.Service"/>
  <object id="exporter" class="tether.pyro.ServiceExporter">
    <property name="service" ref="service"/>
    <property name="service_name"><value>service</value></property>
    <property name="service_host"><value>127.0.0.1</value></property>
    <property name="service_port"><value>0</value></property>
  </object>
</objects>"#,
    )
    .unwrap();
    let (proc, lines) = start_until(
        Command::new(env!("CARGO_BIN_EXE_tether")).args([
            "run",
            "--admin",
            "127.0.0.1:0",
            xml.to_str().unwrap(),
        ]),
        "admin uri:",
    );
    let admin = admin_of(&lines);
    ready(&admin);
    assert_eq!(get(&admin, "/healthz").0, 200);
    let (status, metrics) = get(&admin, "/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("tether_server_connections{server=\"pyro\""),
        "{metrics}"
    );
    drop(proc);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tether_ns_serves_the_admin_endpoint() {
    let (proc, lines) = start_until(
        Command::new(env!("CARGO_BIN_EXE_tether")).args([
            "ns",
            "-n",
            "127.0.0.1",
            "-p",
            "0",
            "--admin",
            "127.0.0.1:0",
        ]),
        "URI =",
    );
    let admin = admin_of(&lines);
    ready(&admin);
    assert_eq!(get(&admin, "/healthz").0, 200);
    drop(proc);
}

#[test]
fn a_bad_admin_address_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["echo-server", "--admin", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--admin") && err.contains("HOST:PORT"),
        "{err}"
    );
}
