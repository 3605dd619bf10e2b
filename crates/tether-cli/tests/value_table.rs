//! The value table of `docs/values.md`, checked: every value kind through every wire alone (what
//! a server of that wire receives and what its caller gets back), and through a gateway for every
//! ordered pair of wires (a client of wire A calls a gateway serving A whose target is an echo
//! server of wire B). The expected values come from [`through`], which is the table written as
//! code: a pair's answer is `through(A, through(B, through(A, value)))`, and a value one wire of
//! the pair cannot carry is an error naming why.

mod common;

use num_bigint::BigInt;
use std::sync::Arc;
use tether::remoting::gateway::Forward;
use tether::remoting::ClientOptions;
use tether_core::echo::EchoService;
use tether_core::python::iso_datetime;
use tether_core::{Call, Invoker, Value};

/// A wire with the encoding its clients use.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Wire {
    /// Pyro5 with serpent, its default.
    Pyro5,
    /// Pyro5 with msgpack.
    Pyro5Msgpack,
    /// Pyro5 with marshal (CPython's format).
    Pyro5Marshal,
    /// Pyro4 with serpent.
    Pyro4,
    /// Pyro 3: pickle.
    Pyro3,
    /// Hessian 2 (calls and replies).
    Hessian,
    /// Hessian 1 (calls and replies).
    Hessian1,
    /// XML-RPC with `allow_none` (tether's default).
    XmlRpc,
    /// XML-RPC whose client does not allow `None` (Python's `ServerProxy` default).
    XmlRpcNoNone,
}

impl Wire {
    fn protocol(self) -> &'static str {
        match self {
            Wire::Pyro5 | Wire::Pyro5Msgpack | Wire::Pyro5Marshal => "pyro5",
            Wire::Pyro4 => "pyro4",
            Wire::Pyro3 => "pyro3",
            Wire::Hessian | Wire::Hessian1 => "hessian",
            Wire::XmlRpc | Wire::XmlRpcNoNone => "xmlrpc",
        }
    }

    fn client_options(self) -> ClientOptions {
        let mut o = ClientOptions::default();
        o.serializer = match self {
            Wire::Pyro5Msgpack => Some("msgpack".into()),
            Wire::Pyro5Marshal => Some("marshal".into()),
            Wire::Hessian1 => Some("hessian1".into()),
            _ => None,
        };
        if self == Wire::XmlRpcNoNone {
            o = o.with_wire_option("allow_none", "false");
        }
        o
    }
}

/// The table: what `v` is after one trip over `wire` (as the receiving side decodes it), or why
/// the wire refuses it.
fn through(wire: Wire, v: &Value) -> Result<Value, &'static str> {
    use Wire::*;
    let items = |xs: &[Value]| -> Result<Vec<Value>, &'static str> {
        xs.iter().map(|x| through(wire, x)).collect()
    };
    let pyro = matches!(wire, Pyro5 | Pyro5Msgpack | Pyro5Marshal | Pyro4 | Pyro3);
    if wire == XmlRpcNoNone {
        return if contains_none(v) {
            Err("cannot marshal None unless allow_none is enabled")
        } else {
            through(XmlRpc, v)
        };
    }
    Ok(match v {
        // Python has one int type: a 32-bit int arrives as a plain int.
        Value::Int32(i) if pyro => Value::Int(i64::from(*i)),
        Value::BigInt(_) if matches!(wire, Hessian | Hessian1) => return Err("more than 64 bits"),
        Value::BigInt(_) if wire == XmlRpc => return Err("int exceeds XML-RPC limits"),
        // Python 2's str is bytes and text at once: bytes that decode as UTF-8 arrive as text.
        Value::Bytes(b) if wire == Pyro3 && std::str::from_utf8(b).is_ok() => {
            Value::Str(String::from_utf8_lossy(b).into_owned())
        }
        Value::List(xs) => Value::List(items(xs)?),
        // Hessian, XML-RPC and msgpack have one sequence type.
        Value::Tuple(xs) | Value::Set(xs) if !pyro || wire == Pyro5Msgpack => {
            Value::List(items(xs)?)
        }
        Value::Tuple(xs) => Value::Tuple(items(xs)?),
        Value::Set(xs) => Value::Set(items(xs)?),
        Value::Map(m) => {
            if wire == XmlRpc && m.iter().any(|(k, _)| k.as_str().is_none()) {
                return Err("dictionary key must be string");
            }
            let mut out = Vec::with_capacity(m.len());
            for (k, x) in m {
                out.push((through(wire, k)?, through(wire, x)?));
            }
            Value::Map(out)
        }
        // serpent writes a date as ISO text (what Python's serpent does); marshal has no date
        // (Pyro's marshal serializer raises); msgpack writes its timestamp (a Python
        // datetime); XML-RPC's dateTime.iso8601 has whole seconds.
        Value::DateTime(ms) if matches!(wire, Pyro5 | Pyro4) => Value::Str(iso_datetime(*ms)),
        Value::DateTime(_) if wire == Pyro5Marshal => {
            return Err("marshal cannot encode a datetime")
        }
        Value::DateTime(ms) if wire == XmlRpc => Value::DateTime(ms - ms.rem_euclid(1000)),
        Value::Object(o) => {
            let mut fields = Vec::with_capacity(o.fields.len());
            for (k, x) in &o.fields {
                fields.push((k.clone(), through(wire, x)?));
            }
            match wire {
                Hessian => Value::object(o.class.clone(), fields),
                // Hessian 1 writes an object as a map typed with its class.
                Hessian1 => Value::typed(
                    o.class.clone(),
                    Value::Map(
                        fields
                            .into_iter()
                            .map(|(k, x)| (Value::Str(k), x))
                            .collect(),
                    ),
                ),
                // XML-RPC: a struct of the fields; the class is lost.
                XmlRpc => Value::Map(
                    fields
                        .into_iter()
                        .map(|(k, x)| (Value::Str(k), x))
                        .collect(),
                ),
                // Pyro: Python's class-to-dict form.
                _ => Value::Map(
                    std::iter::once((Value::str("__class__"), Value::Str(o.class.clone())))
                        .chain(fields.into_iter().map(|(k, x)| (Value::Str(k), x)))
                        .collect(),
                ),
            }
        }
        Value::Typed(t) => {
            let inner = through(wire, &t.value)?;
            if matches!(wire, Hessian | Hessian1) {
                Value::typed(t.class.clone(), inner)
            } else {
                inner
            }
        }
        Value::BackRef(_) if matches!(wire, Hessian | Hessian1) => v.clone(),
        Value::BackRef(_) => return Err("reference loop"),
        other => other.clone(),
    })
}

fn contains_none(v: &Value) -> bool {
    match v {
        Value::None => true,
        Value::List(xs) | Value::Tuple(xs) | Value::Set(xs) => xs.iter().any(contains_none),
        Value::Map(m) => m.iter().any(|(k, x)| contains_none(k) || contains_none(x)),
        Value::Object(o) => o.fields.iter().any(|(_, x)| contains_none(x)),
        Value::Typed(t) => contains_none(&t.value),
        _ => false,
    }
}

fn corpus() -> Vec<(&'static str, Value)> {
    vec![
        ("None", Value::None),
        ("bool", Value::Bool(true)),
        ("32-bit int", Value::Int32(-7)),
        ("int", Value::Int(7)),
        ("int past 32 bits", Value::Int(1 << 40)),
        ("int past 64 bits", Value::BigInt(BigInt::from(1u128 << 70))),
        ("float", Value::Float(2.5)),
        ("-0.0", Value::Float(-0.0)),
        ("str", Value::str("é😀 <&>")),
        ("bytes", Value::Bytes(vec![0, 1, 255])),
        ("bytes that are UTF-8", Value::Bytes(b"abc".to_vec())),
        ("list", Value::List(vec![Value::Int(1), Value::str("a")])),
        ("tuple", Value::Tuple(vec![Value::Int(1), Value::str("a")])),
        ("set", Value::Set(vec![Value::Int(1)])),
        ("dict", Value::Map(vec![(Value::str("k"), Value::Int(1))])),
        (
            "dict with int keys",
            Value::Map(vec![(Value::Int(1), Value::str("v"))]),
        ),
        ("date", Value::DateTime(1_700_000_000_123)),
        (
            "object",
            Value::object("a.B", vec![("x".into(), Value::Int32(1))]),
        ),
        (
            "typed list",
            Value::typed("java.util.ArrayList", Value::List(vec![Value::Int(1)])),
        ),
        (
            "reference loop",
            Value::object(
                "TestCons",
                vec![
                    ("first".into(), Value::str("a")),
                    ("rest".into(), Value::BackRef(0)),
                ],
            ),
        ),
    ]
}

/// Serves `service` on `wire` at a free loopback port; returns the server and a client of it.
fn serve(
    wire: Wire,
    service: Arc<dyn tether_core::Dispatch>,
) -> (Arc<dyn tether::remoting::ExportServer>, Arc<dyn Invoker>) {
    let (server, url) = common::serve_object(wire.protocol(), service);
    let proxy = common::protocol(wire.protocol())
        .proxy(&url, &wire.client_options())
        .expect("proxy");
    (server, proxy)
}

/// Sends every corpus value to `echo` through `client` and checks each answer against `want`.
async fn check(
    client: &Arc<dyn Invoker>,
    label: &str,
    want: impl Fn(&Value) -> Result<Value, &'static str>,
) {
    let mut wrong = Vec::new();
    for (kind, v) in corpus() {
        let got = client.invoke(Call::new("echo", vec![v.clone()])).await;
        match (got, want(&v)) {
            (Ok(g), Ok(w)) if g == w => {}
            (Err(e), Err(why)) if e.to_string().contains(why) => {}
            (g, w) => wrong.push(format!("  {kind}: got {g:?}, table says {w:?}")),
        }
    }
    assert!(wrong.is_empty(), "{label}:\n{}", wrong.join("\n"));
}

async fn alone(wire: Wire) {
    let (server, client) = serve(wire, Arc::new(EchoService::new(false)));
    check(&client, &format!("{wire:?}"), |v| {
        through(wire, &through(wire, v)?)
    })
    .await;
    server.shutdown().await;
}

async fn pair(a: Wire, b: Wire) {
    let (target, to_target) = serve(b, Arc::new(EchoService::new(false)));
    let (gateway, client) = serve(a, Arc::new(Forward::new(to_target)));
    check(&client, &format!("{a:?} -> gateway -> {b:?}"), |v| {
        through(a, &through(b, &through(a, v)?)?)
    })
    .await;
    gateway.shutdown().await;
    target.shutdown().await;
}

macro_rules! alone {
    ($($name:ident: $w:ident;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            alone(Wire::$w).await;
        }
    )*};
}

alone! {
    pyro5_alone: Pyro5;
    pyro5_msgpack_alone: Pyro5Msgpack;
    pyro5_marshal_alone: Pyro5Marshal;
    pyro4_alone: Pyro4;
    pyro3_alone: Pyro3;
    hessian_alone: Hessian;
    hessian1_alone: Hessian1;
    xmlrpc_alone: XmlRpc;
    xmlrpc_without_none_alone: XmlRpcNoNone;
}

macro_rules! pairs {
    ($($name:ident: $a:ident -> $b:ident;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            pair(Wire::$a, Wire::$b).await;
        }
    )*};
}

pairs! {
    pyro5_marshal_to_hessian: Pyro5Marshal -> Hessian;
    hessian_to_pyro5_marshal: Hessian -> Pyro5Marshal;
    pyro5_marshal_to_pyro5_msgpack: Pyro5Marshal -> Pyro5Msgpack;
    xmlrpc_to_pyro5_marshal: XmlRpc -> Pyro5Marshal;
    pyro5_to_pyro4: Pyro5 -> Pyro4;
    pyro5_to_pyro3: Pyro5 -> Pyro3;
    pyro5_to_hessian: Pyro5 -> Hessian;
    pyro5_to_xmlrpc: Pyro5 -> XmlRpc;
    pyro4_to_pyro5: Pyro4 -> Pyro5;
    pyro4_to_pyro3: Pyro4 -> Pyro3;
    pyro4_to_hessian: Pyro4 -> Hessian;
    pyro4_to_xmlrpc: Pyro4 -> XmlRpc;
    pyro3_to_pyro5: Pyro3 -> Pyro5;
    pyro3_to_pyro4: Pyro3 -> Pyro4;
    pyro3_to_hessian: Pyro3 -> Hessian;
    pyro3_to_xmlrpc: Pyro3 -> XmlRpc;
    hessian_to_pyro5: Hessian -> Pyro5;
    hessian_to_pyro4: Hessian -> Pyro4;
    hessian_to_pyro3: Hessian -> Pyro3;
    hessian_to_xmlrpc: Hessian -> XmlRpc;
    xmlrpc_to_pyro5: XmlRpc -> Pyro5;
    xmlrpc_to_pyro4: XmlRpc -> Pyro4;
    xmlrpc_to_pyro3: XmlRpc -> Pyro3;
    xmlrpc_to_hessian: XmlRpc -> Hessian;
    pyro5_msgpack_to_hessian1: Pyro5Msgpack -> Hessian1;
    hessian1_to_pyro5_msgpack: Hessian1 -> Pyro5Msgpack;
    pyro5_to_xmlrpc_without_none: Pyro5 -> XmlRpcNoNone;
}
