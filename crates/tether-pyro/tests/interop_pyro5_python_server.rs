//! tether's [`Proxy`] calling real Python Pyro5 servers: Python's echoserver (every value type,
//! both ways) and `tests/python/test_server.py` (kwargs, attributes, oneway, batch, exceptions
//! with remote tracebacks), for every serializer.

mod common;
use common::*;
use num_bigint::BigInt;
use std::time::Duration;
use tether_core::{Call, ErrorKind, Value};
use tether_pyro::serializer::Serializer;
use tether_pyro::Proxy;

fn values(ser: Serializer) -> Vec<Value> {
    let big = |s: &str| Value::BigInt(s.parse::<BigInt>().unwrap());
    let mut v = vec![
        Value::None,
        Value::Bool(true),
        Value::Bool(false),
        Value::Int(0),
        Value::Int(-1),
        Value::Int(i64::MAX),
        Value::Int(i64::MIN),
        big("1180591620717411303424"),
        big("-1267650600228229401496703205376"),
        Value::Float(1.5),
        Value::Float(-0.0),
        Value::Float(1e-5),
        Value::Float(1e16),
        Value::Float(f64::INFINITY),
        Value::Float(f64::NEG_INFINITY),
        Value::Float(f64::NAN),
        Value::str(""),
        Value::str("héllo wörld ✓ non-BMP 😀 \u{10000}"),
        Value::str("it's \"quoted\" \\ back"),
        Value::str("ctrl \u{0}\u{1}\u{1f}\u{7f}\u{9f}\n\r\t\u{2028}"),
        Value::str("x".repeat(100_000)),
        Value::List(vec![]),
        Value::Map(vec![]),
        Value::List(vec![
            Value::Int(1),
            Value::List(vec![Value::str("nested"), Value::List(vec![])]),
        ]),
        Value::Map(vec![
            (Value::str("a"), Value::Int(1)),
            (
                Value::str("b"),
                Value::Map(vec![(Value::str("c"), Value::None)]),
            ),
        ]),
    ];
    if ser != Serializer::Json {
        v.push(Value::Tuple(vec![]));
        v.push(Value::Tuple(vec![Value::Int(1), Value::str("a")]));
    }
    if matches!(ser, Serializer::Msgpack | Serializer::Marshal) {
        v.push(Value::Bytes(vec![]));
        v.push(Value::Bytes((0..=255).collect()));
    }
    if matches!(ser, Serializer::Serpent | Serializer::Marshal) {
        v.push(Value::Set(vec![Value::Int(3)]));
        v.push(Value::Map(vec![(Value::Int(1), Value::str("int key"))]));
        v.push(Value::Map(vec![(
            Value::Tuple(vec![Value::Int(1), Value::Int(2)]),
            Value::str("tuple key"),
        )]));
    }
    v
}

/// What Python gives back when it echoes `v` through `ser` (the wire's own conversions).
fn expected(ser: Serializer, v: &Value) -> Value {
    match (ser, v) {
        (Serializer::Msgpack, Value::Tuple(items)) => Value::List(items.clone()),
        _ => v.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_value_round_trips_through_pythons_echoserver() {
    let (_py, uri) = python_echoserver();
    for ser in SERIALIZERS {
        let proxy = Proxy::new(&uri)
            .unwrap()
            .with_serializer(ser)
            .with_timeout(Duration::from_secs(20));
        for v in values(ser) {
            let got = within(30, proxy.call(Call::new("echo", vec![v.clone()]))).await;
            let got = got.unwrap_or_else(|e| panic!("{ser:?} echo({v}) failed: {e}"));
            assert_eq!(got, expected(ser, &v), "{ser:?}: echo({v})");
        }
        // serpent carries bytes as a base64 dict; Python's echo returns that dict as is.
        if ser == Serializer::Serpent {
            let got = within(
                30,
                proxy.call(Call::new("echo", vec![Value::Bytes(b"ab".to_vec())])),
            )
            .await
            .unwrap();
            assert!(matches!(got, Value::Bytes(_) | Value::Map(_)), "{got}");
        }
        let nan = within(30, proxy.call(Call::new("nan", vec![])))
            .await
            .unwrap();
        assert!(matches!(nan, Value::Float(x) if x.is_nan()));
        let e = within(30, proxy.call(Call::new("error", vec![])))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Remote);
        assert_eq!(e.class(), Some("builtins.ValueError"));
        assert_eq!(
            e.message(),
            "this is the generated error from echoserver echo() method"
        );
        let tb = e.remote_traceback().expect("remote traceback");
        assert!(
            tb.contains("Traceback") && tb.contains("ValueError"),
            "{tb}"
        );
        assert_eq!(
            within(30, proxy.call(Call::new("__dunder__", vec![])))
                .await
                .unwrap(),
            Value::str("should be allowed (dunder)")
        );
        let meta = within(30, proxy.metadata()).await.unwrap();
        assert!(meta.methods.iter().any(|m| m == "echo"));
        assert_eq!(meta.attrs, vec!["verbose".to_string()]);
        within(30, proxy.ping()).await.unwrap();
    }
    let proxy = Proxy::new(&uri).unwrap();
    within(30, proxy.call(Call::new("shutdown", vec![])))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kwargs_attributes_oneway_batch_and_exceptions_against_a_python_server() {
    let (_py, uri) =
        start_python_server(&[script("test_server.py").to_str().unwrap()], "server uri:");
    for ser in SERIALIZERS {
        let p = Proxy::new(&uri)
            .unwrap()
            .with_serializer(ser)
            .with_timeout(Duration::from_secs(20));
        let call = |c: Call| {
            let p = p.clone();
            async move { within(30, p.call(c)).await }
        };
        // kwargs
        let got = call(Call::new("greet", vec![Value::str("Hi")]).kwarg("name", "Rust"))
            .await
            .unwrap();
        assert_eq!(got, Value::str("Hi, Rust!"));
        let got = call(
            Call::new("greet", vec![])
                .kwarg("punct", "?")
                .kwarg("greeting", "Yo"),
        )
        .await
        .unwrap();
        assert_eq!(got, Value::str("Yo, nobody?"));
        let e = call(Call::new("greet", vec![]).kwarg("bogus", 1i64))
            .await
            .unwrap_err();
        assert_eq!(e.class(), Some("builtins.TypeError"));
        // attributes
        assert_eq!(
            within(30, p.get_attr("name")).await.unwrap(),
            Value::str("world")
        );
        within(30, p.set_attr("name", Value::str("rust")))
            .await
            .unwrap();
        assert_eq!(
            within(30, p.get_attr("name")).await.unwrap(),
            Value::str("rust")
        );
        within(30, p.set_attr("name", Value::str("world")))
            .await
            .unwrap();
        let e = within(30, p.set_attr("readonly", Value::Int(1)))
            .await
            .unwrap_err();
        assert_eq!(e.class(), Some("builtins.AttributeError"));
        let e = within(30, p.get_attr("_name")).await.unwrap_err();
        assert_eq!(e.class(), Some("builtins.AttributeError"));
        // exceptions of several classes, with remote tracebacks
        let e = call(Call::new("fail", vec![Value::str("x")]))
            .await
            .unwrap_err();
        assert_eq!(
            (e.class(), e.message()),
            (Some("builtins.ValueError"), "bad param: x")
        );
        assert!(e.remote_traceback().unwrap().contains("bad param: x"));
        let e = call(Call::new("fail_key", vec![])).await.unwrap_err();
        assert_eq!(e.class(), Some("builtins.KeyError"));
        assert_eq!(e.args(), &[Value::str("missing"), Value::Int(42)]);
        let e = call(Call::new("fail_pyro", vec![])).await.unwrap_err();
        assert_eq!(e.class(), Some("Pyro5.errors.NamingError"));
        // unknown method: Python's server refuses it
        let e = call(Call::new("nosuch", vec![])).await.unwrap_err();
        assert_eq!(e.class(), Some("builtins.AttributeError"));
        let e = call(Call::new("_private", vec![])).await.unwrap_err();
        assert_eq!(
            e.message(),
            "attempt to access private attribute '_private'"
        );
        // oneway: returns at once (the method sleeps 0.3 s), and the connection stays in sync
        let msg = format!("hello {}", ser.name());
        assert_eq!(
            call(Call::new("notify", vec![Value::str(msg.clone())]))
                .await
                .unwrap(),
            Value::None
        );
        assert_eq!(
            call(Call::new("echo", vec![Value::Int(7)])).await.unwrap(),
            Value::Int(7)
        );
        let mut seen = false;
        for _ in 0..100 {
            let ev = call(Call::new("events", vec![])).await.unwrap();
            if ev.as_seq().unwrap().contains(&Value::str(msg.clone())) {
                seen = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(seen, "oneway call never ran");
        // batch: stops at the first error, which is the last item
        let results = within(
            30,
            p.batch(vec![
                Call::new("echo", vec![Value::Int(1)]),
                Call::new("greet", vec![Value::str("Hey")]).kwarg("name", "you"),
                Call::new("fail", vec![Value::str("in batch")]),
                Call::new("echo", vec![Value::Int(2)]),
            ]),
        )
        .await;
        if ser == Serializer::Marshal {
            // Python's marshal cannot write the exception object a batch's results end with:
            // the Python daemon answers the whole batch with that failure.
            let e = results.unwrap_err();
            assert_eq!(
                (e.class(), e.message()),
                (Some("builtins.ValueError"), "unmarshallable object")
            );
        } else {
            let results = results.unwrap();
            assert_eq!(results.len(), 3);
            assert_eq!(results[0].as_ref().unwrap(), &Value::Int(1));
            assert_eq!(results[1].as_ref().unwrap(), &Value::str("Hey, you!"));
            let e = results[2].as_ref().unwrap_err();
            assert_eq!(
                (e.class(), e.message()),
                (Some("builtins.ValueError"), "bad param: in batch")
            );
        }
        // the types Python produces
        let t = call(Call::new("types", vec![])).await.unwrap();
        assert_eq!(
            t.get("big"),
            Some(&Value::BigInt("1208925819614629174706176".parse().unwrap()))
        );
        assert_eq!(t.get("unicode"), Some(&Value::str("héllo 😀")));
        assert_eq!(t.get("quote"), Some(&Value::str("it's \"q\"")));
        assert_eq!(t.get("ctrl"), Some(&Value::str("\u{0}\u{1f}\u{7f}\n")));
        assert_eq!(t.get("ninf"), Some(&Value::Float(f64::NEG_INFINITY)));
        if matches!(ser, Serializer::Serpent | Serializer::Marshal) {
            assert_eq!(
                t.get("tuple"),
                Some(&Value::Tuple(vec![Value::Int(1), Value::str("a")]))
            );
            assert!(
                matches!(t.get("empty_set"), Some(Value::Set(s) | Value::Tuple(s)) if s.is_empty())
            );
        }
        // timeout: the call fails with kind Timeout, and the next call reconnects
        let short = Proxy::new(&uri)
            .unwrap()
            .with_serializer(ser)
            .with_timeout(Duration::from_millis(200));
        let e = within(30, short.call(Call::new("slow", vec![Value::Float(1.0)])))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert_eq!(
            within(30, short.call(Call::new("echo", vec![Value::Int(3)])))
                .await
                .unwrap(),
            Value::Int(3)
        );
    }
    // unknown object: CONNECTFAIL
    let bad = Proxy::new(&uri.replace("example.tester", "no.such")).unwrap();
    let e = within(30, bad.call(Call::new("echo", vec![])))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection);
    assert!(e.message().contains("unknown object"), "{e}");
}
