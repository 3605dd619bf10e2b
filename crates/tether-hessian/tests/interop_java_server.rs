//! tether's Hessian proxy against Caucho's Java server (the JDK HTTP server in front of
//! Caucho's skeleton): values at every compact-form boundary both ways, non-BMP strings,
//! dates, chunked binary, lists, maps, Java objects, null and void, faults carrying the Java
//! exception class (and its fields), overloads by argument count, Hessian 1 and 2 requests.

mod common;
use common::*;
use std::time::Duration;
use tether_core::{Call, ErrorKind, Value};
use tether_hessian::HessianProxy;

async fn call(
    p: &HessianProxy,
    m: &str,
    args: Vec<Value>,
) -> Result<Value, tether_core::RemoteError> {
    tokio::time::timeout(Duration::from_secs(30), p.call(Call::new(m, args)))
        .await
        .expect("call within 30 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tether_proxy_calls_caucho_java_server() {
    let (_java, url) = java_server();
    for hessian1 in [false, true] {
        let p = HessianProxy::new(&url)
            .unwrap()
            .with_timeout(Duration::from_secs(20));
        let p = if hessian1 { p.with_hessian1() } else { p };
        let ok = |v: Result<Value, _>| v.unwrap_or_else(|e| panic!("hessian1={hessian1}: {e}"));
        assert_eq!(
            ok(call(&p, "getData", vec![Value::str("héllo 😀")]).await),
            Value::str("You got remoted data: héllo 😀")
        );
        for i in [
            0,
            -16,
            47,
            48,
            -17,
            -2048,
            2047,
            2048,
            -262144,
            262143,
            262144,
            i32::MAX,
            i32::MIN,
        ] {
            assert_eq!(
                ok(call(&p, "add", vec![Value::Int32(i), Value::Int32(0)]).await),
                Value::Int32(i)
            );
            assert_eq!(
                ok(call(&p, "echo", vec![Value::Int32(i)]).await),
                Value::Int32(i),
                "int {i}"
            );
        }
        for i in [
            0i64,
            -8,
            15,
            16,
            -2048,
            2047,
            262143,
            -262144,
            1 << 31,
            i64::MAX,
            i64::MIN,
        ] {
            assert_eq!(
                ok(call(&p, "addLong", vec![Value::Int(i), Value::Int(0)]).await),
                Value::Int(i)
            );
            assert_eq!(
                ok(call(&p, "echo", vec![Value::Int(i)]).await),
                Value::Int(i),
                "long {i}"
            );
        }
        for d in [
            0.0,
            1.0,
            -128.0,
            127.0,
            128.0,
            32767.0,
            32768.0,
            0.001,
            2.5,
            1e10,
            1.5e-300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ] {
            assert_eq!(
                ok(call(&p, "echo", vec![Value::Float(d)]).await),
                Value::Float(d),
                "double {d}"
            );
        }
        assert_eq!(
            ok(call(&p, "multiply", vec![Value::Float(1.5), Value::Float(2.0)]).await),
            Value::Float(3.0)
        );
        assert_eq!(
            ok(call(&p, "negate", vec![Value::Bool(true)]).await),
            Value::Bool(false)
        );
        assert_eq!(ok(call(&p, "echo", vec![Value::None]).await), Value::None);
        assert_eq!(ok(call(&p, "nothing", vec![]).await), Value::None);
        assert_eq!(ok(call(&p, "ping", vec![]).await), Value::None);
        let long = format!("a😀{}", "x".repeat(40000));
        assert_eq!(
            ok(call(&p, "echo", vec![Value::str(long.as_str())]).await),
            Value::str(long.as_str())
        );
        for ms in [0, 1_700_000_040_000, 1_700_000_000_123] {
            assert_eq!(
                ok(call(&p, "echo", vec![Value::DateTime(ms)]).await),
                Value::DateTime(ms)
            );
        }
        assert_eq!(
            ok(call(&p, "addDay", vec![Value::DateTime(0)]).await),
            Value::DateTime(86_400_000)
        );
        let big: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
        let mut rev = big.clone();
        rev.reverse();
        assert_eq!(
            ok(call(&p, "reverseBytes", vec![Value::Bytes(big)]).await),
            Value::Bytes(rev)
        );
        let list = Value::List(vec![
            Value::Int32(1),
            Value::str("x"),
            Value::Float(2.5),
            Value::Bool(true),
            Value::None,
        ]);
        let reversed = ok(call(&p, "reverse", vec![list]).await);
        assert_eq!(
            reversed.as_seq().map(<[Value]>::to_vec),
            Some(vec![
                Value::None,
                Value::Bool(true),
                Value::Float(2.5),
                Value::str("x"),
                Value::Int32(1)
            ])
        );
        let described = ok(call(
            &p,
            "describe",
            vec![Value::Map(vec![
                (Value::str("a"), Value::Int32(1)),
                (Value::str("b"), Value::str("two")),
            ])],
        )
        .await);
        assert_eq!(
            described.get("size").cloned(),
            Some(Value::Int32(2)),
            "{described}"
        );
        // Java objects both ways
        let ann = ok(call(&p, "makePerson", vec![Value::str("Ann"), Value::Int32(30)]).await);
        let fields = |v: &Value| -> Vec<(String, Value)> {
            match v {
                Value::Object(o) => {
                    assert_eq!(o.class, "peer.Person");
                    o.fields.clone()
                }
                Value::Typed(t) => {
                    assert_eq!(t.class, "peer.Person");
                    t.value
                        .as_map()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| (k.as_str().unwrap().to_string(), v.clone()))
                        .collect()
                }
                other => panic!("not a Person: {other}"),
            }
        };
        let f = fields(&ann);
        assert!(
            f.contains(&("name".into(), Value::str("Ann")))
                && f.contains(&("age".into(), Value::Int32(30))),
            "{f:?}"
        );
        let bob = Value::object(
            "peer.Person",
            vec![
                ("name".into(), Value::str("Bob")),
                ("age".into(), Value::Int32(41)),
                ("tags".into(), Value::List(vec![Value::str("t1")])),
            ],
        );
        let older = ok(call(&p, "birthday", vec![bob]).await);
        assert!(fields(&older).contains(&("age".into(), Value::Int32(42))));
        let sq = ok(call(&p, "squares", vec![Value::Int32(4)]).await);
        assert_eq!(
            sq,
            Value::typed(
                "[int",
                Value::List([0, 1, 4, 9].into_iter().map(Value::Int32).collect())
            )
        );
        // a reference loop from Java (a cell whose rest is itself), and one sent to Java
        let cell = ok(call(&p, "cons", vec![Value::str("z")]).await);
        assert_eq!(
            (cell.get("first"), cell.get("rest")),
            (Some(&Value::str("z")), Some(&Value::BackRef(0))),
            "{cell}"
        );
        let echoed = ok(call(&p, "echo", vec![cell.clone()]).await);
        assert_eq!(echoed, cell, "the loop went to Java and came back");
        // faults: the Java exception's class and message (and its fields)
        let e = call(&p, "fail", vec![Value::str("boom")])
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind(), e.class(), e.args().first()),
            (
                ErrorKind::Remote,
                Some("java.lang.IllegalStateException"),
                Some(&Value::str("boom"))
            )
        );
        let e = call(&p, "failChecked", vec![Value::str("bad")])
            .await
            .unwrap_err();
        assert_eq!(e.class(), Some("peer.PeerException"));
        assert_eq!(
            e.args().get(1).and_then(|m| m.get("errorCode")),
            Some(&Value::Int32(42)),
            "{e:?}"
        );
        let e = call(&p, "noSuchMethod", vec![]).await.unwrap_err();
        assert!(
            e.to_string().contains("NoSuchMethodException") && e.message().contains("noSuchMethod"),
            "{e}"
        );
        // overloads: Hessian 2 carries the argument count, so both work; Hessian 1 needs the
        // mangled names
        if hessian1 {
            let m = p.clone().with_overload_names();
            assert_eq!(
                ok(call(&m, "concat", vec![Value::str("a"), Value::str("b")]).await),
                Value::str("ab")
            );
        } else {
            assert_eq!(
                ok(call(&p, "concat", vec![Value::str("a")]).await),
                Value::str("a!")
            );
            assert_eq!(
                ok(call(&p, "concat", vec![Value::str("a"), Value::str("b")]).await),
                Value::str("ab")
            );
        }
    }
    // a non-Hessian URL path: the server's HTTP error reaches the caller
    let wrong = HessianProxy::new(&url.replace("/test", "/nothing-here")).unwrap();
    let e = call(&wrong, "getData", vec![Value::str("x")])
        .await
        .unwrap_err();
    assert!(e.message().contains("HTTP 404"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tether_proxy_and_server_round_trip_everything() {
    let (server, url) = tether_server().await;
    let p = HessianProxy::new(&url).unwrap();
    let v = Value::List(vec![
        Value::Int32(-262_145),
        Value::Int(1 << 40),
        Value::Float(-0.0),
        Value::str("😀".repeat(20_000).as_str()),
        Value::Bytes(vec![3; 100_000]),
        Value::typed(
            "java.util.TreeMap",
            Value::Map(vec![(Value::str("k"), Value::None)]),
        ),
        Value::object("x.Y", vec![("f".into(), Value::DateTime(5))]),
    ]);
    assert_eq!(call(&p, "echo", vec![v.clone()]).await.unwrap(), v);
    let h1 = p.clone().with_hessian1();
    assert_eq!(
        call(&h1, "echo", vec![Value::Int(7)]).await.unwrap(),
        Value::Int(7)
    );
    let e = call(&p, "add", vec![Value::Int32(1)]).await.unwrap_err();
    assert!(e.message().contains("argument length mismatch"), "{e}");
    server.shutdown().await;
}
