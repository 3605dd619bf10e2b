//! tether's name server as Python sees it: the same scenario (ns_client.py: register with
//! metadata and `safe`, lookup with and without metadata, list by prefix, regex and metadata,
//! yplookup, set_metadata, remove by name, prefix and regex, count, ping, PYRONAME/PYROMETA
//! resolution, and the errors) gets identical answers from Python's own name server and from
//! tether's, with Python's Pyro5 client and with Python's Pyro4 client (against Pyro4's own
//! name server). Also: registrations survive a restart with a storage file, the broadcast
//! responder answers Python's `locate_ns()`, and tether's proxies resolve through it.

mod common;
use common::*;
use std::time::Duration;
use tether_core::{Call, Value};
use tether_pyro::naming::{NameServerConfig, NameServerHandle};
use tether_pyro::{DaemonConfig, Proxy, WireVersion};

fn scenario(version: &str, ns_uri: &str, echo_uri: &str) -> String {
    let script = script("ns_client.py");
    run_python(
        &[script.to_str().unwrap(), version, ns_uri, echo_uri],
        Duration::from_secs(120),
    )
}

async fn tether_ns(storage: Option<std::path::PathBuf>, broadcast: bool) -> NameServerHandle {
    NameServerHandle::start(NameServerConfig {
        host: "127.0.0.1".into(),
        port: 0,
        storage,
        broadcast_port: broadcast.then_some(0),
        ..Default::default()
    })
    .await
    .expect("start the name server")
}

fn same(name: &str, from_python: &str, from_tether: &str) {
    assert!(
        from_python.ends_with("done\n"),
        "{name}: python run incomplete:\n{from_python}"
    );
    let diff: Vec<String> = from_python
        .lines()
        .zip(from_tether.lines())
        .filter(|(p, t)| p != t)
        .map(|(p, t)| format!("python: {p}\ntether: {t}"))
        .collect();
    assert!(
        diff.is_empty() && from_python.lines().count() == from_tether.lines().count(),
        "{name}: answers differ:\n{}\n--- full tether output:\n{from_tether}",
        diff.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_clients_get_the_same_answers_from_tether_ns_as_from_pythons() {
    let (_echo_daemon, echo_uri, _echo) = tether_echo(DaemonConfig::default()).await;
    for (version, module) in [("5", "Pyro5.nameserver"), ("4", "Pyro4.naming")] {
        let (_py, py_ns) = start_python_server(
            &["-m", module, "-n", "127.0.0.1", "-p", "0", "-x"],
            "URI = ",
        );
        let ns = tether_ns(None, false).await;
        let (a, b, e) = (py_ns.clone(), ns.uri().to_string(), echo_uri.clone());
        let e2 = e.clone();
        let from_python = tokio::task::spawn_blocking(move || scenario(version, &a, &e));
        let from_tether = tokio::task::spawn_blocking(move || scenario(version, &b, &e2));
        let (p, t) = (from_python.await.unwrap(), from_tether.await.unwrap());
        same(&format!("Pyro{version}"), &p, &t);
        ns.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_survive_a_restart_with_a_storage_file() {
    let dir = std::env::temp_dir().join(format!("tether-ns-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ns.sqlite");
    let _ = std::fs::remove_file(&file);
    let (_d, echo_uri, _echo) = tether_echo(DaemonConfig::default()).await;
    let ns = tether_ns(Some(file.clone()), false).await;
    let p = Proxy::new(ns.uri()).unwrap();
    let register = Call::new(
        "register",
        vec![Value::str("kept"), Value::str(echo_uri.as_str())],
    )
    .kwarg("metadata", Value::List(vec![Value::str("tag")]));
    within(30, p.call(register)).await.unwrap();
    ns.shutdown().await;
    // A new server on another port, same file: the registration is there; its own entry is
    // its new URI.
    let ns = tether_ns(Some(file.clone()), false).await;
    let p = Proxy::new(ns.uri()).unwrap();
    let found = within(
        30,
        p.call(Call::new(
            "lookup",
            vec![Value::str("kept"), Value::Bool(true)],
        )),
    )
    .await
    .unwrap();
    assert_eq!(
        found,
        Value::Tuple(vec![
            tether_pyro::PyroUri::parse(&echo_uri).unwrap().to_value(),
            Value::Set(vec![Value::str("tag")])
        ])
    );
    let own = within(
        30,
        p.call(Call::new("lookup", vec![Value::str("Pyro.NameServer")])),
    )
    .await
    .unwrap();
    assert_eq!(
        own,
        tether_pyro::PyroUri::parse(ns.uri()).unwrap().to_value()
    );
    ns.shutdown().await;
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_locate_and_pyroname_resolution_through_tether_ns() {
    let ns = tether_ns(None, true).await;
    let bc = ns.broadcast_addr().unwrap();
    let (_d, echo_uri, _echo) = tether_echo(DaemonConfig::default()).await;
    let p = Proxy::new(ns.uri()).unwrap();
    within(
        30,
        p.call(
            Call::new(
                "register",
                vec![Value::str("found.me"), Value::str(echo_uri.as_str())],
            )
            .kwarg("metadata", Value::Set(vec![Value::str("kind:echo")])),
        ),
    )
    .await
    .unwrap();
    // Python's locate_ns(): nothing on NS_PORT, so it broadcasts (to 127.0.0.1 here).
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let unused_port = unused.local_addr().unwrap().port();
    drop(unused);
    let code = "import Pyro5.api\nns = Pyro5.api.locate_ns()\nprint(ns._pyroUri)\nprint(ns.lookup('found.me'))\n";
    let out = tokio::task::spawn_blocking({
        let bc_port = bc.port().to_string();
        let ns_port = unused_port.to_string();
        move || {
            let mut cmd = std::process::Command::new(python());
            cmd.args(["-c", code])
                .env("PYRO_BROADCAST_ADDRS", "127.0.0.1")
                .env("PYRO_NS_BCPORT", bc_port)
                .env("PYRO_NS_PORT", ns_port);
            let out = cmd.output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        }
    })
    .await
    .unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines, [ns.uri(), echo_uri.as_str()], "{out}");
    // tether's own broadcast client finds it too
    let found = tether_pyro::naming::broadcast::locate(&[bc]).await;
    assert_eq!(found.as_deref(), Some(ns.uri()));
    // tether's proxies resolve PYRONAME and PYROMETA through it, on both wires
    let loc = ns.uri().rsplit('@').next().unwrap().to_string();
    for wire in [WireVersion::Pyro5, WireVersion::Pyro4] {
        let by_name = Proxy::new(&format!("PYRONAME:found.me@{loc}"))
            .unwrap()
            .with_wire(wire);
        assert_eq!(
            within(30, by_name.call(Call::new("echo", vec![Value::Int(5)])))
                .await
                .unwrap(),
            Value::Int(5)
        );
        let by_meta = Proxy::new(&format!("PYROMETA:kind:echo@{loc}"))
            .unwrap()
            .with_wire(wire);
        assert_eq!(
            within(30, by_meta.call(Call::new("echo", vec![Value::Int(6)])))
                .await
                .unwrap(),
            Value::Int(6)
        );
    }
    ns.shutdown().await;
}
