//! Attributes and exposure rules, tether proxy ↔ tether daemon: exposed attributes read and
//! written, read-only and private ones refused with Pyro's texts, unknown methods and objects.

mod common;
use common::*;
use tether_core::{Call, ErrorKind, Value};
use tether_pyro::{DaemonConfig, Proxy};

#[tokio::test]
async fn attributes_and_exposure_follow_pyro() {
    let (daemon, uri, _svc) = tether_test_service(DaemonConfig::default()).await;
    for ser in SERIALIZERS {
        let p = Proxy::new(&uri).unwrap().with_serializer(ser);
        assert_eq!(
            within(10, p.get_attr("name")).await.unwrap(),
            Value::str("world")
        );
        within(10, p.set_attr("name", Value::str("rust")))
            .await
            .unwrap();
        assert_eq!(
            within(10, p.get_attr("name")).await.unwrap(),
            Value::str("rust")
        );
        within(10, p.set_attr("name", Value::str("world")))
            .await
            .unwrap();
        assert_eq!(
            within(10, p.get_attr("readonly")).await.unwrap(),
            Value::str("fixed")
        );

        fn msg<T: std::fmt::Debug>(r: Result<T, tether_core::RemoteError>) -> String {
            let e = r.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Remote);
            format!("{}: {}", e.class().unwrap_or("-"), e.message())
        }
        assert_eq!(
            msg(within(10, p.set_attr("readonly", Value::Int(1))).await),
            "builtins.AttributeError: attempt to access unexposed or unknown remote attribute 'readonly'"
        );
        assert_eq!(
            msg(within(10, p.get_attr("_secret")).await),
            "builtins.AttributeError: attempt to access unexposed or unknown remote attribute '_secret'"
        );
        assert_eq!(
            msg(within(10, p.call(Call::new("_private", vec![]))).await),
            "builtins.AttributeError: attempt to access private attribute '_private'"
        );
        assert_eq!(
            msg(within(10, p.call(Call::new("__init__", vec![]))).await),
            "builtins.AttributeError: attempt to access private attribute '__init__'"
        );
        assert_eq!(
            msg(within(10, p.call(Call::new("name", vec![]))).await),
            "builtins.AttributeError: attempt to access unexposed attribute 'name'"
        );
        assert_eq!(
            msg(within(10, p.call(Call::new("nosuch", vec![]))).await),
            "builtins.AttributeError: 'TestService' object has no attribute 'nosuch'"
        );
        // dunder methods longer than 4 characters are public
        assert_eq!(
            within(10, p.call(Call::new("__len__", vec![])))
                .await
                .unwrap(),
            Value::Int(42)
        );
        // kwargs bind by name
        let got = within(
            10,
            p.call(
                Call::new("greet", vec![])
                    .kwarg("name", "you")
                    .kwarg("greeting", "Hi"),
            ),
        )
        .await;
        assert_eq!(got.unwrap(), Value::str("\"Hi\", \"you\"!"));
        // errors carry class, args and a traceback; non-Python classes survive tether ↔ tether
        let e = within(10, p.call(Call::new("fail", vec![Value::str("x")])))
            .await
            .unwrap_err();
        assert_eq!(
            (e.class(), e.message()),
            (Some("builtins.ValueError"), "bad param: x")
        );
        assert!(e
            .remote_traceback()
            .unwrap()
            .contains("ValueError: bad param: x"));
        let e = within(10, p.call(Call::new("boom", vec![])))
            .await
            .unwrap_err();
        assert_eq!((e.class(), e.message()), (Some("com.example.Boom"), "boom"));
        // metadata
        let meta = within(10, p.metadata()).await.unwrap();
        assert_eq!(meta.oneway, vec!["notify".to_string()]);
        assert_eq!(meta.attrs, vec!["name".to_string(), "readonly".to_string()]);
    }
    // the daemon object
    let d = Proxy::new(&uri.replace("test.service", "Pyro.Daemon")).unwrap();
    assert_eq!(
        within(10, d.call(Call::new("ping", vec![]))).await.unwrap(),
        Value::None
    );
    assert_eq!(
        within(10, d.call(Call::new("registered", vec![])))
            .await
            .unwrap(),
        Value::List(vec![Value::str("Pyro.Daemon"), Value::str("test.service")])
    );
    let e = within(
        10,
        d.call(Call::new("get_metadata", vec![Value::str("nope")])),
    )
    .await
    .unwrap_err();
    assert_eq!(
        (e.class(), e.message()),
        (Some("Pyro5.errors.DaemonError"), "unknown object")
    );
    // unknown object: CONNECTFAIL 'unknown object'
    let bad = Proxy::new(&uri.replace("test.service", "no.such")).unwrap();
    let e = within(10, bad.call(Call::new("echo", vec![])))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection);
    assert!(e.message().ends_with("rejected: unknown object"), "{e}");
    // unregister: new connections are refused
    assert!(daemon.unregister("test.service"));
    let p = Proxy::new(&uri).unwrap();
    assert!(within(10, p.call(Call::new("echo", vec![Value::None])))
        .await
        .is_err());
    daemon.shutdown().await;
}
