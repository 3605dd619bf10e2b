//! tether's Pyro 3 proxy against Pyro 3.16's own daemon on Python 2.7: every value type both
//! ways, exceptions as their classes, keyword calls, oneway, an unknown name, checksums and
//! compression, identification.

mod common;

use common::*;
use num_bigint::BigInt;
use std::time::Duration;
use tether_core::{Call, ErrorKind, Value};
use tether_pyro::pyro3::Pyro3Proxy;

fn values() -> Vec<Value> {
    vec![
        Value::None,
        Value::Bool(true),
        Value::Bool(false),
        Value::Int(0),
        Value::Int(255),
        Value::Int(256),
        Value::Int(65536),
        Value::Int(-1),
        Value::Int(i32::MIN as i64),
        Value::Int(1 << 40),
        Value::Int(i64::MAX),
        Value::Int(i64::MIN),
        Value::BigInt(BigInt::from(5)),
        Value::BigInt(BigInt::from(1u128 << 100)),
        Value::BigInt(-BigInt::from(1u128 << 70)),
        Value::Float(1.5),
        Value::Float(-0.0),
        Value::Float(f64::INFINITY),
        Value::str("ascii"),
        Value::str(""),
        Value::str("café €"),
        Value::str("x".repeat(300)),
        Value::Bytes(vec![0xff, 0, 1]),
        Value::Tuple(vec![]),
        Value::Tuple(vec![Value::Int(1)]),
        Value::Tuple((0..5).map(Value::Int).collect()),
        Value::List((0..2500).map(Value::Int).collect()),
        Value::Map(vec![
            (Value::str("a"), Value::Int(1)),
            (Value::Int(2), Value::List(vec![Value::None])),
        ]),
        Value::Set(vec![Value::Int(1), Value::Int(2)]),
        Value::DateTime(1_577_934_245_678),
    ]
}

fn peer(env: &[(&str, &str)]) -> (Proc, String) {
    let peer = script("pyro3_peer.py");
    start_python2_server(&[peer.to_str().unwrap(), "server"], env, "pyro3 uri:")
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Set(x), Value::Set(y)) => x.len() == y.len() && x.iter().all(|v| y.contains(v)),
        _ => a == b,
    }
}

#[tokio::test]
async fn every_value_comes_back_from_pyro3s_daemon() {
    for (env, proxy) in [
        (vec![], None),
        (
            vec![("PYRO_CHECKSUM", "1"), ("PYRO_COMPRESSION", "1")],
            Some(("", true)),
        ),
        (vec![("PEER_PASSPHRASE", "sesame")], Some(("sesame", false))),
    ] {
        let (_py, url) = peer(&env);
        let mut p = Pyro3Proxy::new(&url)
            .unwrap()
            .with_timeout(Duration::from_secs(10));
        if let Some((pass, zip)) = proxy {
            if !pass.is_empty() {
                p = p.with_passphrase(pass.as_bytes());
            }
            p = p.with_checksum(zip).with_compression(zip);
        }
        for v in values() {
            let got = p.call(Call::new("echo", vec![v.clone()])).await.unwrap();
            assert!(same(&got, &v), "{env:?}: sent {v:?}, got {got:?}");
        }
        // The seed's own call, positional and by keyword.
        let got = p
            .call(Call::new("get_data", vec![Value::str("Hello")]))
            .await
            .unwrap();
        assert_eq!(got, Value::str("You got remote data => Hello"));
        let got = p
            .call(Call::new("get_data", vec![]).kwarg("param", Value::str("kw")))
            .await
            .unwrap();
        assert_eq!(got, Value::str("You got remote data => kw"));
        // Exceptions: class and args, no traceback text.
        let e = p.call(Call::new("error", vec![])).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Remote);
        assert_eq!(e.class(), Some("builtins.ValueError"));
        assert_eq!(
            e.args(),
            [Value::str(
                "this is the generated error from echoserver echo() method"
            )]
        );
        let e = p.call(Call::new("nosuch", vec![])).await.unwrap_err();
        assert_eq!(e.class(), Some("builtins.AttributeError"), "{e}");
        // Pyro 3 sends the server's traceback: it is kept.
        assert!(
            e.remote_traceback()
                .is_some_and(|t| t.contains("Traceback")),
            "{e:?}"
        );
        // Oneway returns at once; the connection goes on.
        let mut one = Call::new("slow", vec![]);
        one.oneway = true;
        let t = std::time::Instant::now();
        assert_eq!(p.call(one).await.unwrap(), Value::None);
        assert!(t.elapsed() < Duration::from_millis(400));
        let got = p
            .call(Call::new("echo", vec![Value::Int(7)]))
            .await
            .unwrap();
        assert_eq!(got, Value::Int(7));
        p.close().await;
    }
}

#[tokio::test]
async fn unknown_names_and_wrong_passphrases_are_clear_errors() {
    let (_py, url) = peer(&[("PEER_PASSPHRASE", "sesame")]);
    let nope = url.rsplit_once('/').unwrap().0.to_string() + "/NoSuchName";
    let p = Pyro3Proxy::new(&nope).unwrap().with_passphrase(b"sesame");
    let e = p.call(Call::new("echo", vec![])).await.unwrap_err();
    assert_eq!(e.class(), Some("Pyro.errors.NamingError"), "{e}");
    assert_eq!(
        e.args(),
        [
            Value::str("no object found by this name"),
            Value::str("NoSuchName")
        ]
    );
    assert!(
        !e.may_have_reached_server(),
        "a failed resolve sent no call"
    );
    let p = Pyro3Proxy::new(&url).unwrap().with_passphrase(b"wrong");
    let e = p.call(Call::new("echo", vec![])).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Security, "{e}");
    assert!(e.to_string().contains("security reasons"), "{e}");
    // Nobody listening: a connection error, marked not sent.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let p = Pyro3Proxy::new(&format!("PYROLOC://127.0.0.1:{port}/x")).unwrap();
    let e = p.call(Call::new("echo", vec![])).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert!(!e.may_have_reached_server());
}
