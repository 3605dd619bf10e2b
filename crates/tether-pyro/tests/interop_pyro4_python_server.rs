//! tether's [`Proxy`] on the Pyro4 wire calling Python's Pyro4 4.82 echo server
//! (`python -m Pyro4.test.echoserver`): values both ways, exceptions with remote tracebacks,
//! metadata, attributes, oneway, batch, streamed generators, the daemon object, correlation
//! ids, PING, and HMAC with a shared key (and refused when only one side has it, or a wrong one).

mod common;
use common::*;
use std::time::Duration;
use tether_core::{Call, ErrorKind, Value};
use tether_pyro::serializer::Serializer;
use tether_pyro::{HmacKey, Proxy, WireVersion};

fn proxy(uri: &str, ser: Serializer, key: Option<&str>) -> Proxy {
    let p = Proxy::new(uri)
        .unwrap()
        .with_wire(WireVersion::Pyro4)
        .with_serializer(ser)
        .with_timeout(Duration::from_secs(20));
    match key {
        Some(k) => p.with_hmac_key(HmacKey::new(k.as_bytes())),
        None => p,
    }
}

fn values(ser: Serializer) -> Vec<Value> {
    let mut v = vec![
        Value::None,
        Value::Bool(true),
        Value::Int(-1),
        Value::Int(i64::MAX),
        Value::Float(1.5),
        Value::Float(f64::INFINITY),
        Value::str(""),
        Value::str("héllo wörld ✓ non-BMP 😀"),
        Value::str("it's \"quoted\" \\ back\n\t"),
        Value::str("x".repeat(100_000)),
        Value::List(vec![Value::Int(1), Value::List(vec![Value::str("nested")])]),
        Value::Map(vec![(
            Value::str("a"),
            Value::Map(vec![(Value::str("c"), Value::None)]),
        )]),
    ];
    if matches!(ser, Serializer::Marshal | Serializer::Msgpack) {
        v.push(Value::Bytes(vec![0, 1, 255]));
    }
    if matches!(ser, Serializer::Serpent | Serializer::Marshal) {
        v.push(Value::Tuple(vec![Value::Int(1), Value::str("a")]));
        v.push(Value::Set(vec![Value::Int(3)]));
        v.push(Value::Map(vec![(Value::Int(1), Value::str("int key"))]));
    }
    v
}

async fn scenario(uri: &str, ser: Serializer, key: Option<&str>) {
    let p = proxy(uri, ser, key);
    for v in values(ser) {
        let got = within(30, p.call(Call::new("echo", vec![v.clone()]))).await;
        let got = got.unwrap_or_else(|e| panic!("{ser:?} echo({v}) failed: {e}"));
        assert_eq!(got, v, "{ser:?}");
    }
    // exceptions, with Pyro4's text and a remote traceback
    let e = within(30, p.call(Call::new("error", vec![])))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.class(), e.message()),
        (
            ErrorKind::Remote,
            Some("builtins.ValueError"),
            "expected error from echoserver error() method"
        )
    );
    assert!(e.remote_traceback().unwrap().contains("Traceback"));
    // metadata from CONNECTOK (Pyro4 sends lists), attributes
    let meta = within(30, p.metadata()).await.unwrap();
    assert!(meta.methods.iter().any(|m| m == "echo"));
    assert_eq!(meta.oneway.len(), 2, "{meta:?}");
    assert_eq!(meta.attrs, vec!["verbose".to_string()]);
    assert_eq!(
        within(30, p.get_attr("verbose")).await.unwrap(),
        Value::Bool(false)
    );
    within(30, p.set_attr("verbose", Value::Bool(false)))
        .await
        .unwrap();
    // oneway, then still in sync
    assert_eq!(
        within(30, p.call(Call::new("oneway_echo", vec![Value::str("x")])))
            .await
            .unwrap(),
        Value::None
    );
    assert_eq!(
        within(30, p.call(Call::new("echo", vec![Value::str("in sync")])))
            .await
            .unwrap(),
        Value::str("in sync")
    );
    // a streamed generator, item by item
    let items = within(30, p.call(Call::new("generator", vec![])))
        .await
        .unwrap();
    assert_eq!(
        items,
        Value::List(vec![
            Value::str("one"),
            Value::str("two"),
            Value::str("three")
        ])
    );
    // batch: stops at the first exception, which arrives as Pyro4's _ExceptionWrapper
    let results = within(
        30,
        p.batch(vec![
            Call::new("echo", vec![Value::Int(1)]),
            Call::new("error_with_text", vec![]),
            Call::new("echo", vec![Value::Int(3)]),
        ]),
    )
    .await;
    match results {
        // Python's marshal cannot write the exception object a batch's results end with, so
        // a Python daemon answers the whole batch with that failure (tether's daemon writes
        // the exception as Pyro's dict and answers the batch).
        Err(e) if ser == Serializer::Marshal => {
            assert_eq!(
                (e.class(), e.message()),
                (Some("builtins.ValueError"), "unmarshallable object")
            );
        }
        results => {
            let results = results.unwrap();
            assert_eq!(results.len(), 2);
            assert_eq!(results[0].as_ref().unwrap(), &Value::Int(1));
            assert_eq!(
                results[1].as_ref().unwrap_err().message(),
                "the message of the error"
            );
        }
    }
    within(30, p.ping()).await.unwrap();
    // a correlation id travels as the CORR annotation
    let c = proxy(uri, ser, key).with_correlation_id([0x11; 16]);
    assert_eq!(
        within(30, c.call(Call::new("echo", vec![Value::str("corr")])))
            .await
            .unwrap(),
        Value::str("corr")
    );
    // the daemon object; its errors are Pyro4's, seen under tether's (Pyro5) names
    let d = proxy(&uri.replace("test.echoserver", "Pyro.Daemon"), ser, key);
    let ids = within(30, d.call(Call::new("registered", vec![])))
        .await
        .unwrap();
    assert!(
        ids.as_seq()
            .unwrap()
            .contains(&Value::str("test.echoserver")),
        "{ids}"
    );
    let e = within(
        30,
        d.call(Call::new("get_metadata", vec![Value::str("nosuch")])),
    )
    .await
    .unwrap_err();
    assert_eq!(e.class(), Some("Pyro5.errors.DaemonError"), "{e}");
    // an unknown object: CONNECTFAIL
    let n = proxy(&uri.replace("test.echoserver", "no.such"), ser, key);
    let e = within(30, n.call(Call::new("echo", vec![])))
        .await
        .unwrap_err();
    assert!(e.message().ends_with("rejected: unknown object"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tether_pyro4_proxy_calls_pythons_pyro4_echoserver() {
    for key in [None, Some("s3cret key")] {
        let (_py, uri) = python_pyro4_echoserver(key);
        for ser in [Serializer::Serpent, Serializer::Json, Serializer::Marshal] {
            scenario(&uri, ser, key).await;
        }
        // HMAC on one side only, or the wrong key: refused as Pyro4 refuses it
        let (other, why) = match key {
            Some(_) => (None, "hmac key config not symmetric"),
            None => (Some("a key"), "hmac key config not symmetric"),
        };
        let e = within(
            30,
            proxy(&uri, Serializer::Serpent, other).call(Call::new("echo", vec![])),
        )
        .await
        .unwrap_err();
        assert!(e.message().contains(why), "{e}");
        if key.is_some() {
            let wrong = proxy(&uri, Serializer::Serpent, Some("wrong"));
            let e = within(30, wrong.call(Call::new("echo", vec![])))
                .await
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Security, "{e}");
            assert!(e.message().contains("message hmac mismatch"), "{e}");
        }
    }
}

/// Pyro4's msgpack: refused by a Python Pyro4 daemon by default, in Pyro4's words; with
/// msgpack in its `SERIALIZERS_ACCEPTED` (Pyro4's `PYRO_SERIALIZERS_ACCEPTED`), the whole
/// scenario passes in msgpack.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tether_pyro4_proxy_speaks_msgpack_where_pyro4_accepts_it() {
    let (_py, uri) = python_pyro4_echoserver(None);
    let e = within(
        30,
        proxy(&uri, Serializer::Msgpack, None).call(Call::new("echo", vec![])),
    )
    .await
    .unwrap_err();
    assert!(
        e.message()
            .contains("message used serializer that is not accepted"),
        "{e}"
    );
    let (_py, uri) = start_python_server_env(
        &["-m", "Pyro4.test.echoserver", "-H", "127.0.0.1", "-p", "0"],
        &[("PYRO_SERIALIZERS_ACCEPTED", "serpent,json,marshal,msgpack")],
        "echo uri:",
    );
    scenario(&uri, Serializer::Msgpack, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tether_pyro4_proxy_and_daemon_with_hmac() {
    let key = HmacKey::new(b"k");
    let (daemon, uri, _echo) = tether_echo(tether_pyro::DaemonConfig {
        hmac_key: Some(key.clone()),
        ..Default::default()
    })
    .await;
    for ser in [Serializer::Serpent, Serializer::Json, Serializer::Marshal] {
        scenario(&uri, ser, Some("k")).await;
    }
    // A Pyro5 proxy cannot sign: refused with the reason.
    let e = within(
        30,
        Proxy::new(&uri).unwrap().call(Call::new("echo", vec![])),
    )
    .await
    .unwrap_err();
    assert!(
        e.message()
            .contains("requires Pyro4 with its shared HMAC key"),
        "{e}"
    );
    daemon.shutdown().await;
}
