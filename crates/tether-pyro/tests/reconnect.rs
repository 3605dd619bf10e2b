//! Connection lifecycle on the client side: a connection the server closed while idle is
//! replaced transparently; a server restarted on the same port is reached again; Unix sockets
//! work both ways (tether proxy and Python client).

mod common;
use common::*;
use std::time::Duration;
use tether_core::{Call, Value};
use tether_pyro::{Daemon, DaemonConfig, Proxy};

#[tokio::test]
async fn idle_closed_connections_and_restarted_servers_are_reconnected() {
    let (daemon, uri, _svc) = tether_test_service(DaemonConfig {
        idle_timeout: Some(Duration::from_millis(100)),
        ..Default::default()
    })
    .await;
    let p = Proxy::new(&uri).unwrap();
    assert_eq!(
        within(10, p.call(Call::new("echo", vec![Value::Int(1)])))
            .await
            .unwrap(),
        Value::Int(1)
    );
    tokio::time::sleep(Duration::from_millis(400)).await; // the server closes the idle connection
    assert_eq!(
        within(10, p.call(Call::new("echo", vec![Value::Int(2)])))
            .await
            .unwrap(),
        Value::Int(2)
    );

    // restart on the same port
    let port = daemon.local_addr().unwrap().port();
    daemon.shutdown().await;
    let e = within(10, p.call(Call::new("echo", vec![Value::Int(3)])))
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    let daemon2 = Daemon::bind(DaemonConfig {
        host: "127.0.0.1".into(),
        port,
        ..Default::default()
    })
    .await
    .unwrap();
    daemon2
        .register("test.service", std::sync::Arc::new(TestService::default()))
        .unwrap();
    assert_eq!(
        within(10, p.call(Call::new("echo", vec![Value::Int(4)])))
            .await
            .unwrap(),
        Value::Int(4)
    );
    daemon2.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_sockets_serve_tether_and_python_clients() {
    let dir = std::env::temp_dir().join(format!("tether-pyro-unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("d.sock");
    let daemon = Daemon::bind_unix(&path, DaemonConfig::default())
        .await
        .unwrap();
    let uri = daemon
        .register(
            "test.echoserver",
            std::sync::Arc::new(tether_core::echo::EchoService::default()),
        )
        .unwrap();
    assert_eq!(uri, format!("PYRO:test.echoserver@./u:{}", path.display()));
    assert_eq!(daemon.local_addr(), None);
    for ser in SERIALIZERS {
        let p = Proxy::new(&uri).unwrap().with_serializer(ser);
        let v = Value::str("over a unix socket");
        assert_eq!(
            within(10, p.call(Call::new("echo", vec![v.clone()])))
                .await
                .unwrap(),
            v
        );
    }
    let code = "import sys, Pyro5.api; print(Pyro5.api.Proxy(sys.argv[1]).echo('py unix'))";
    let u = uri.clone();
    let out =
        tokio::task::spawn_blocking(move || run_python(&["-c", code, &u], Duration::from_secs(60)))
            .await
            .unwrap();
    assert_eq!(out.trim(), "py unix");
    daemon.shutdown().await;
    assert!(!path.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn bind_errors_are_immediate_and_ids_are_unique() {
    let (daemon, _uri, _svc) = tether_test_service(DaemonConfig::default()).await;
    let port = daemon.local_addr().unwrap().port();
    let e = Daemon::bind(DaemonConfig {
        host: "127.0.0.1".into(),
        port,
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert_eq!(e.kind(), tether_core::ErrorKind::Connection, "{e}");
    let svc = std::sync::Arc::new(TestService::default());
    assert!(daemon.register("test.service", svc.clone()).is_err());
    assert!(daemon.register("Pyro.Daemon", svc.clone()).is_err());
    let generated = daemon.register("", svc).unwrap();
    assert!(generated.starts_with("PYRO:obj_"), "{generated}");
    assert_eq!(daemon.uri_for("x"), format!("PYRO:x@127.0.0.1:{port}"));
    daemon.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correlation_id_reaches_a_python_server() {
    let (_py, uri) =
        start_python_server(&[script("test_server.py").to_str().unwrap()], "server uri:");
    let p = Proxy::new(&uri).unwrap().with_correlation_id([0x11; 16]);
    assert_eq!(
        within(30, p.call(Call::new("echo", vec![Value::Int(1)])))
            .await
            .unwrap(),
        Value::Int(1)
    );
    let got = within(30, p.call(Call::new("correlation", vec![])))
        .await
        .unwrap();
    assert_eq!(got, Value::str("11111111-1111-1111-1111-111111111111"));
}
