//! The admin endpoint, scraped by a real Prometheus (Debian's `prometheus`, started here on a
//! loopback port and stopped by pid): `tether echo-server --admin 127.0.0.1:0` prints its
//! `admin uri:`, answers `/healthz` and `/readyz`, and Prometheus reads the call-duration
//! histogram and the server's connection figures from `/metrics`.

mod common;

use common::{http_get as get, start, Proc};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn prometheus_bin() -> Option<std::path::PathBuf> {
    ["/usr/bin/prometheus", "/usr/local/bin/prometheus"]
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists())
}

#[test]
fn prometheus_scrapes_the_admin_endpoint() {
    let (server, lines) = start(Command::new(env!("CARGO_BIN_EXE_tether")).args([
        "echo-server",
        "--protocol",
        "pyro5",
        "-H",
        "127.0.0.1",
        "-p",
        "0",
        "--admin",
        "127.0.0.1:0",
    ]));
    let admin = lines
        .iter()
        .find_map(|l| l.strip_prefix("admin uri: "))
        .expect("admin uri line")
        .to_string();
    let url = common::uri_of(&lines);
    assert_eq!(get(&admin, "/healthz"), (200, "ok\n".into()));
    assert_eq!(get(&admin, "/readyz"), (200, "ready\n".into()));
    assert_eq!(get(&admin, "/nothing").0, 404);
    for _ in 0..3 {
        let out = Command::new(env!("CARGO_BIN_EXE_tether"))
            .args(["call", &url, "echo", "1"])
            .output()
            .expect("call");
        assert!(out.status.success());
    }
    let (status, metrics) = get(&admin, "/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("# TYPE rpc_server_call_duration_seconds histogram"),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"rpc_server_call_duration_seconds_count{rpc_system="pyro5",rpc_service="test.echoserver",rpc_method="echo"} 3"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("tether_server_connections_accepted_total{server=\"pyro\""),
        "{metrics}"
    );

    let prom = prometheus_bin().expect(
        "Debian's prometheus is not installed: scripts/test.sh installs it (apt-get install prometheus)",
    );
    let dir = std::env::temp_dir().join(format!("tether-prom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let target = admin.trim_start_matches("http://");
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: tether\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .expect("config");
    let port = tether_test_support::free_port();
    let listen = format!("127.0.0.1:{port}");
    let _prom = Proc(
        Command::new(prom)
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={listen}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    let base = format!("http://{listen}");
    let query = |q: &str| -> String {
        let q: String = q
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        std::net::TcpStream::connect(&listen)
            .ok()
            .map(|_| get(&base, &format!("/api/v1/query?query={q}")).1)
            .unwrap_or_default()
    };
    let wanted = r#"rpc_server_call_duration_seconds_count{rpc_method="echo",rpc_system="pyro5"}"#;
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        let last = query(wanted);
        if last.contains("\"rpc_service\":\"test.echoserver\"") && last.contains("\"3\"]") {
            break;
        }
        assert!(
            Instant::now() < end,
            "Prometheus never read the metric: {last}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let up = query(r#"up{job="tether"}"#);
    assert!(up.contains("\"1\"]"), "{up}");
    let conns = query("tether_server_connections_accepted_total");
    assert!(conns.contains("\"server\":\"pyro\""), "{conns}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
