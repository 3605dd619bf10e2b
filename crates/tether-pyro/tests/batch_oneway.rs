//! Batches and oneway calls, tether proxy ↔ tether daemon.

mod common;
use common::*;
use tether_core::{Call, Value};
use tether_pyro::{DaemonConfig, Proxy};

#[tokio::test]
async fn batch_stops_at_the_first_error_and_refuses_private_names_whole() {
    let (daemon, uri, _svc) = tether_test_service(DaemonConfig::default()).await;
    for ser in SERIALIZERS {
        let p = Proxy::new(&uri).unwrap().with_serializer(ser);
        let results = within(
            10,
            p.batch(vec![
                Call::new("echo", vec![Value::Int(1)]),
                Call::new("greet", vec![Value::str("a")]).kwarg("name", "b"),
                Call::new("fail", vec![Value::str("third")]),
                Call::new("echo", vec![Value::Int(4)]),
            ]),
        )
        .await
        .unwrap();
        assert_eq!(results.len(), 3, "{ser:?}");
        assert_eq!(results[0].as_ref().unwrap(), &Value::Int(1));
        assert_eq!(results[1].as_ref().unwrap(), &Value::str("\"a\", \"b\"!"));
        let e = results[2].as_ref().unwrap_err();
        assert_eq!(
            (e.class(), e.message()),
            (Some("builtins.ValueError"), "bad param: third")
        );
        // a private name fails the whole batch, as Python's daemon does
        let e = within(
            10,
            p.batch(vec![
                Call::new("echo", vec![Value::Int(1)]),
                Call::new("_x", vec![]),
            ]),
        )
        .await
        .unwrap_err();
        assert_eq!(e.message(), "attempt to access private attribute '_x'");
        // the connection is still in sync
        assert_eq!(
            within(10, p.call(Call::new("echo", vec![Value::Int(5)])))
                .await
                .unwrap(),
            Value::Int(5)
        );
        assert_eq!(within(10, p.batch(vec![])).await.unwrap().len(), 0);
    }
    daemon.shutdown().await;
}

#[tokio::test]
async fn oneway_does_not_block_the_connections_next_call() {
    let (daemon, uri, svc) = tether_test_service(DaemonConfig::default()).await;
    for ser in SERIALIZERS {
        let p = Proxy::new(&uri).unwrap().with_serializer(ser);
        // `notify("block")` waits until `release()` is called. If the oneway call blocked the
        // connection, `release()` on the same connection could never run and this would time out.
        assert_eq!(
            within(10, p.call(Call::new("notify", vec![Value::str("block")])))
                .await
                .unwrap(),
            Value::None
        );
        loop {
            // notify_waiters only wakes tasks already waiting: repeat until the oneway saw it
            within(10, p.call(Call::new("release", vec![])))
                .await
                .unwrap();
            let ev = within(10, p.call(Call::new("events", vec![])))
                .await
                .unwrap();
            if ev.as_seq().unwrap().contains(&Value::str("block")) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        // Call::oneway on a method that is not declared oneway: no reply is read either
        let r = within(10, p.call(Call::new("echo", vec![Value::Int(1)]).oneway()))
            .await
            .unwrap();
        assert_eq!(r, Value::None);
        assert_eq!(
            within(10, p.call(Call::new("echo", vec![Value::Int(2)])))
                .await
                .unwrap(),
            Value::Int(2)
        );
        svc.events.lock().await.clear();
    }
    daemon.shutdown().await;
}
