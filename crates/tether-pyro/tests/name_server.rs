//! PYRONAME and PYROMETA resolution through Python's Pyro5 name server: a tether daemon's
//! object is registered there by tether's proxy, then found by name and by metadata, from tether
//! and from a Python client.

mod common;
use common::*;
use std::time::Duration;
use tether_core::{Call, ErrorKind, Value};
use tether_pyro::{DaemonConfig, Proxy};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyroname_and_pyrometa_resolve_through_pythons_name_server() {
    let (_ns, ns_uri) = start_python_server(
        &["-m", "Pyro5.nameserver", "-n", "127.0.0.1", "-p", "0"],
        "URI = ",
    );
    let ns_loc = ns_uri.rsplit('@').next().unwrap().to_string();
    let (daemon, uri, _echo) = tether_echo(DaemonConfig::default()).await;
    for ser in SERIALIZERS {
        let ns = Proxy::new(&ns_uri).unwrap().with_serializer(ser);
        let register = Call::new(
            "register",
            vec![Value::str("tether.echo"), Value::str(uri.as_str())],
        )
        .kwarg("metadata", Value::Set(vec![Value::str("class:Echo")]));
        within(30, ns.call(register)).await.unwrap();
        let by_name = Proxy::new(&format!("PYRONAME:tether.echo@{ns_loc}"))
            .unwrap()
            .with_serializer(ser);
        let v = Value::str("found by name");
        assert_eq!(
            within(30, by_name.call(Call::new("echo", vec![v.clone()])))
                .await
                .unwrap(),
            v
        );
        let by_meta = Proxy::new(&format!("PYROMETA:class:Echo@{ns_loc}"))
            .unwrap()
            .with_serializer(ser);
        let v = Value::str("found by metadata");
        assert_eq!(
            within(30, by_meta.call(Call::new("echo", vec![v.clone()])))
                .await
                .unwrap(),
            v
        );
        let missing = Proxy::new(&format!("PYRONAME:no.such.name@{ns_loc}"))
            .unwrap()
            .with_serializer(ser);
        let e = within(30, missing.call(Call::new("echo", vec![])))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.message().contains("unknown name: no.such.name"), "{e}");
    }
    // a Python client resolves the same name to the tether daemon
    let code = "import sys, Pyro5.api; print(Pyro5.api.Proxy(sys.argv[1]).echo('py by name'))";
    let target = format!("PYRONAME:tether.echo@{ns_loc}");
    let out = tokio::task::spawn_blocking(move || {
        run_python(&["-c", code, &target], Duration::from_secs(60))
    })
    .await
    .unwrap();
    assert_eq!(out.trim(), "py by name");
    daemon.shutdown().await;
}
