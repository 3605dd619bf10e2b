//! `--admin HOST:PORT` on the serving commands: `tether run` and `tether ns` print `admin uri:`
//! and answer `/healthz`, `/readyz` (200 once serving) and `/metrics` (the name server's own
//! calls counted there too); a bad address is a clear error.

mod common;

use common::{http_get as get, start_until};
use std::process::Command;
use std::time::Duration;

fn ready(admin: &str) {
    common::wait_ready(admin, Duration::from_secs(20));
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
    // The name server's own calls are timed like any exporter's.
    let port = lines
        .iter()
        .find_map(|l| l.strip_prefix("URI = "))
        .and_then(|u| u.rsplit(':').next())
        .expect("URI line")
        .to_string();
    let list = Command::new(env!("CARGO_BIN_EXE_tether"))
        .args(["ns", "-n", "127.0.0.1", "-p", &port, "list"])
        .output()
        .unwrap();
    assert!(list.status.success(), "{list:?}");
    let (status, metrics) = get(&admin, "/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains(r#"rpc_server_call_duration_seconds_count{rpc_system="pyro5",rpc_service="Pyro.NameServer",rpc_method="list"} 1"#),
        "{metrics}"
    );
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
