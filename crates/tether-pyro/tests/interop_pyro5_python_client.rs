//! The key interop check: the same Python Pyro5 client script gets identical results from
//! Python's own echoserver and from tether's daemon serving tether's echo service, for every
//! serializer.

mod common;
use common::*;
use std::time::Duration;
use tether_pyro::DaemonConfig;

/// Runs `echo_client.py` against `uri` with `ser`, blocking (a Python subprocess).
fn scenario(uri: &str, ser: &str) -> String {
    let script = script("echo_client.py");
    run_python(
        &[script.to_str().unwrap(), uri, ser],
        Duration::from_secs(90),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_sees_identical_results_from_python_and_tether_echo_servers() {
    let (_py, py_uri) = python_echoserver();
    let (daemon, tether_uri, _echo) = tether_echo(DaemonConfig::default()).await;
    for ser in SERIALIZERS {
        let name = ser.name();
        let (a, b) = (py_uri.clone(), tether_uri.clone());
        let from_python = tokio::task::spawn_blocking(move || scenario(&a, name))
            .await
            .unwrap();
        let from_tether = tokio::task::spawn_blocking(move || scenario(&b, name))
            .await
            .unwrap();
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
        // Every stream the scenario opened was read to the end or closed.
        assert_eq!(daemon.open_streams(), 0, "{name}: streams left open");
    }
    daemon.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_uses_kwargs_attrs_oneway_batch_and_exceptions_on_a_tether_service() {
    let (daemon, uri, _svc) = tether_test_service(DaemonConfig::default()).await;
    for ser in SERIALIZERS {
        let u = uri.clone();
        let out = tokio::task::spawn_blocking(move || {
            let script = script("service_client.py");
            run_python(
                &[script.to_str().unwrap(), &u, ser.name()],
                Duration::from_secs(120),
            )
        })
        .await
        .unwrap();
        assert_eq!(out.trim(), "ok", "{}", ser.name());
    }
    daemon.shutdown().await;
}
