//! A Pyro 3 call whose future is dropped before its reply (a caller's timeout, a pool's
//! attempt cut short) does not leave that reply to answer the proxy's next call: Pyro 3
//! numbers no request, so the half-used connection is dropped and the next call opens another.

use std::sync::Arc;
use std::time::Duration;
use tether_core::echo::EchoService;
use tether_core::{Call, Value};
use tether_pyro::pyro3::{Pyro3Proxy, Pyro3Settings};
use tether_pyro::{Daemon, DaemonConfig};

#[tokio::test]
async fn a_dropped_call_leaves_no_reply_for_the_next() {
    let daemon = Daemon::bind(DaemonConfig {
        host: "127.0.0.1".into(),
        pyro3: Some(Pyro3Settings::default()),
        silent_client_wait: Duration::from_millis(100),
        ..DaemonConfig::default()
    })
    .await
    .unwrap();
    daemon
        .register("echo", Arc::new(EchoService::new(false)))
        .unwrap();
    let port = daemon.local_addr().unwrap().port();
    let proxy = Pyro3Proxy::new(&format!("PYROLOC://127.0.0.1:{port}/echo")).unwrap();
    // A first call, so the connection is open and its object resolved.
    assert_eq!(
        proxy
            .call(Call::new("echo", vec![Value::str("first")]))
            .await
            .unwrap(),
        Value::str("first")
    );
    let checks = async {
        // `slow` answers after 5 s; its future is dropped long before, mid-call.
        let cut = tokio::time::timeout(
            Duration::from_millis(300),
            proxy.call(Call::new("slow", vec![])),
        )
        .await;
        assert!(cut.is_err(), "slow answered within 300 ms: {cut:?}");
        // Every later call gets its own answer, never slow's "Finally, an answer!".
        for i in 0..3 {
            let text = format!("after the cut {i}");
            let got = proxy
                .call(Call::new("echo", vec![Value::str(&text)]))
                .await
                .unwrap();
            assert_eq!(got, Value::str(&text));
        }
    };
    tokio::time::timeout(Duration::from_secs(20), checks)
        .await
        .expect("the calls after the cut came back");
    daemon.shutdown().await;
}
