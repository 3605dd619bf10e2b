//! Python's Pyro4 4.82 client against tether: the same scenario (echo_client.py --pyro4: every value,
//! metadata on connect or not, oneway, batch, attributes, exceptions with remote tracebacks,
//! CORR, streaming, the daemon object, which serializers bind, HMAC on one side only or wrong)
//! gets identical results from Python's own Pyro4 echo server and from a tether daemon, with
//! and without a shared HMAC key. The tether daemon answers a Pyro5 client on the same port
//! while it does.

mod common;
use common::*;
use std::time::Duration;
use tether_pyro::{DaemonConfig, HmacKey};

fn scenario(client: &str, uri: &str, ser: &str, key: Option<&str>) -> String {
    let script = script("echo_client.py");
    let mut args = vec![
        script.to_str().unwrap().to_string(),
        uri.to_string(),
        ser.to_string(),
    ];
    if client == "pyro4" {
        args.push("--pyro4".into());
        args.extend(key.map(str::to_string));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_python(&args, Duration::from_secs(120))
}

fn same(name: &str, from_python: &str, from_tether: &str) {
    assert!(
        from_python.ends_with("done\n"),
        "{name}: python run incomplete:\n{from_python}"
    );
    assert!(
        from_python.lines().count() > 40,
        "{name}: too few checks ran"
    );
    let diff: Vec<String> = from_python
        .lines()
        .zip(from_tether.lines())
        .filter(|(p, t)| p != t)
        .map(|(p, t)| format!("python: {p}\ntether: {t}"))
        .collect();
    assert!(
        diff.is_empty() && from_python.lines().count() == from_tether.lines().count(),
        "{name}: results differ:\n{}\n--- full tether output:\n{from_tether}",
        diff.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_pyro4_client_sees_identical_results_from_python_and_tether() {
    for key in [None, Some("s3cret key")] {
        let (_py, py_uri) = python_pyro4_echoserver(key);
        let (daemon, tether_uri, _echo) = tether_echo(DaemonConfig {
            hmac_key: key.map(|k| HmacKey::new(k.as_bytes())),
            ..DaemonConfig::default()
        })
        .await;
        for ser in ["serpent", "json", "marshal"] {
            let name = format!("{ser}, key {key:?}");
            let (a, b) = (py_uri.clone(), tether_uri.clone());
            let from_python = tokio::task::spawn_blocking(move || scenario("pyro4", &a, ser, key));
            let from_tether = tokio::task::spawn_blocking(move || scenario("pyro4", &b, ser, key));
            let (p, t) = (from_python.await.unwrap(), from_tether.await.unwrap());
            same(&name, &p, &t);
        }
        assert_eq!(daemon.open_streams(), 0, "streams left open");
        daemon.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_port_serves_pyro4_and_pyro5_clients_at_once() {
    let (daemon, uri, _echo) = tether_echo(DaemonConfig::default()).await;
    let (a, b) = (uri.clone(), uri.clone());
    let v4 = tokio::task::spawn_blocking(move || scenario("pyro4", &a, "serpent", None));
    let v5 = tokio::task::spawn_blocking(move || scenario("pyro5", &b, "serpent", None));
    let (v4, v5) = (v4.await.unwrap(), v5.await.unwrap());
    assert!(
        v4.ends_with("done\n") && v4.contains("echo 1 bool:True -> bool:True"),
        "{v4}"
    );
    assert!(
        v5.ends_with("done\n") && v5.contains("echo 1 bool:True -> bool:True"),
        "{v5}"
    );
    // A Pyro4-only daemon (pyro4 off: Pyro5 only) refuses the Pyro4 client with a close.
    daemon.shutdown().await;
    let (daemon, uri, _echo) = tether_echo(DaemonConfig {
        pyro4: false,
        ..DaemonConfig::default()
    })
    .await;
    let code = format!(
        "import Pyro4, Pyro4.errors\ntry:\n    Pyro4.Proxy('{uri}')._pyroBind()\nexcept Pyro4.errors.CommunicationError as e:\n    print('refused:', type(e).__name__)\n"
    );
    let out =
        tokio::task::spawn_blocking(move || run_python(&["-c", &code], Duration::from_secs(60)))
            .await
            .unwrap();
    assert_eq!(out.trim(), "refused: ConnectionClosedError");
    daemon.shutdown().await;
}
