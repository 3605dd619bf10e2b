//! Shared test helpers: the Java peer (compiled once per test binary from tests/java/), its
//! server and client as processes stopped by pid, python-hessian, and tether's twin of the
//! Java `TestService`.
#![allow(dead_code)]

use std::sync::Arc;
use tether_core::{BoxFuture, Call, Dispatch, MethodInfo, RemoteError, Value};
#[allow(unused_imports)]
pub use tether_test_support::{hessian_jar, java, python, Proc};

#[allow(unused_imports)]
pub use tether_test_support::java_peer::{java_peer_classes as java_classes, run};

pub fn java_server() -> (Proc, String) {
    tether_test_support::java_peer::java_hessian_server()
}

/// Runs the Java client (bounded to 120 s) and returns its stdout.
pub fn java_client(args: &[&str]) -> String {
    tether_test_support::java_peer::java_hessian_client(args)
}

/// tether's twin of the Java peer's `TestServiceImpl`, method for method.
pub struct Twin;

macro_rules! m {
    ($name:expr, [$($p:expr),*]) => {
        MethodInfo { name: $name, params: &[$($p),*], oneway: false }
    };
}

static METHODS: &[MethodInfo] = &[
    m!("getData", ["s"]),
    m!("add", ["a", "b"]),
    m!("addLong", ["a", "b"]),
    m!("multiply", ["a", "b"]),
    m!("negate", ["b"]),
    m!("echo", ["o"]),
    m!("nothing", []),
    m!("ping", []),
    m!("fail", ["msg"]),
    m!("failChecked", ["msg"]),
    m!("reverse", ["l"]),
    m!("describe", ["m"]),
    m!("addDay", ["d"]),
    m!("reverseBytes", ["b"]),
    m!("makePerson", ["name", "age"]),
    m!("birthday", ["p"]),
    m!("squares", ["n"]),
    m!("concat", ["a"]),
    m!("concat", ["a", "b"]),
    m!("cons", ["first"]),
];

fn int(v: &Value) -> i64 {
    match v {
        Value::Int32(i) => i64::from(*i),
        Value::Int(i) => *i,
        Value::Float(f) => *f as i64,
        _ => 0,
    }
}

fn float(v: &Value) -> f64 {
    match v {
        Value::Float(f) => *f,
        other => int(other) as f64,
    }
}

fn s(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        Value::None => "null".into(),
        other => other.to_string(),
    }
}

fn items(v: &Value) -> Vec<Value> {
    match v {
        Value::List(l) => l.clone(),
        Value::Typed(t) => items(&t.value),
        _ => Vec::new(),
    }
}

fn java_type(v: &Value) -> &'static str {
    match v {
        Value::Int32(_) => "java.lang.Integer",
        Value::Int(_) => "java.lang.Long",
        Value::Float(_) => "java.lang.Double",
        Value::Str(_) => "java.lang.String",
        Value::Bool(_) => "java.lang.Boolean",
        Value::List(_) => "java.util.ArrayList",
        Value::Typed(t)
            if t.class == "java.util.Arrays$ArrayList" || t.class == "java.util.ArrayList" =>
        {
            "java.util.ArrayList"
        }
        Value::Map(_) => "java.util.HashMap",
        _ => "java.lang.Object",
    }
}

fn person(name: Value, age: i32, tags: Vec<Value>) -> Value {
    Value::object(
        "peer.Person",
        vec![
            ("name".into(), name),
            ("age".into(), Value::Int32(age)),
            // Caucho writes an ArrayList as an untyped list
            ("tags".into(), Value::List(tags)),
        ],
    )
}

impl Twin {
    fn run(&self, c: &Call) -> Result<Value, RemoteError> {
        let a = &c.args;
        Ok(match (c.method.as_str(), a.len()) {
            ("getData", _) => Value::Str(format!("You got remoted data: {}", s(&a[0]))),
            ("add", _) => Value::Int32((int(&a[0]) as i32).wrapping_add(int(&a[1]) as i32)),
            ("addLong", _) => Value::Int(int(&a[0]).wrapping_add(int(&a[1]))),
            ("multiply", _) => Value::Float(float(&a[0]) * float(&a[1])),
            ("negate", _) => Value::Bool(!matches!(a[0], Value::Bool(true))),
            ("echo", _) => a[0].clone(),
            ("nothing", _) | ("ping", _) => Value::None,
            ("fail", _) => {
                return Err(RemoteError::exception(
                    "java.lang.IllegalStateException",
                    s(&a[0]),
                ))
            }
            ("failChecked", _) => {
                return Err(RemoteError::exception_with_args(
                    "peer.PeerException",
                    vec![
                        Value::Str(s(&a[0])),
                        Value::Map(vec![(Value::str("errorCode"), Value::Int32(42))]),
                    ],
                ))
            }
            ("reverse", _) => {
                let mut l = items(&a[0]);
                l.reverse();
                Value::List(l)
            }
            ("describe", _) => {
                let m = match &a[0] {
                    Value::Map(m) => m.clone(),
                    Value::Typed(t) => match &t.value {
                        Value::Map(m) => m.clone(),
                        _ => Vec::new(),
                    },
                    _ => Vec::new(),
                };
                let mut keys: Vec<String> = m.iter().map(|(k, _)| s(k)).collect();
                keys.sort();
                let mut types: Vec<(String, &'static str)> =
                    m.iter().map(|(k, v)| (s(k), java_type(v))).collect();
                types.sort();
                Value::typed(
                    "java.util.LinkedHashMap",
                    Value::Map(vec![
                        (Value::str("size"), Value::Int32(m.len() as i32)),
                        (
                            Value::str("keys"),
                            Value::List(keys.into_iter().map(Value::Str).collect()),
                        ),
                        (
                            Value::str("types"),
                            Value::typed(
                                "java.util.TreeMap",
                                Value::Map(
                                    types
                                        .into_iter()
                                        .map(|(k, t)| (Value::Str(k), Value::str(t)))
                                        .collect(),
                                ),
                            ),
                        ),
                    ]),
                )
            }
            ("addDay", _) => match a[0] {
                Value::DateTime(ms) => Value::DateTime(ms + 86_400_000),
                _ => {
                    return Err(RemoteError::exception(
                        "java.lang.IllegalArgumentException",
                        "not a date",
                    ))
                }
            },
            ("reverseBytes", _) => match &a[0] {
                Value::Bytes(b) => Value::Bytes(b.iter().rev().copied().collect()),
                _ => {
                    return Err(RemoteError::exception(
                        "java.lang.IllegalArgumentException",
                        "not bytes",
                    ))
                }
            },
            ("makePerson", _) => person(a[0].clone(), int(&a[1]) as i32, vec![Value::str("new")]),
            ("birthday", _) => {
                // an object (Hessian 2), or a typed map (Hessian 1)
                let fields: Vec<(String, Value)> = match &a[0] {
                    Value::Object(o) => o.fields.clone(),
                    Value::Typed(t) => match &t.value {
                        Value::Map(m) => m.iter().map(|(k, v)| (s(k), v.clone())).collect(),
                        _ => Vec::new(),
                    },
                    _ => {
                        return Err(RemoteError::exception(
                            "java.lang.IllegalArgumentException",
                            "not a Person",
                        ))
                    }
                };
                let f = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                let (name, age, tags) = (
                    f("name").unwrap_or(Value::None),
                    f("age").map(|v| int(&v)).unwrap_or(0),
                    items(&f("tags").unwrap_or(Value::None)),
                );
                person(name, age as i32 + 1, tags)
            }
            ("squares", _) => {
                let n = int(&a[0]).clamp(0, 1_000_000) as i32;
                Value::typed(
                    "[int",
                    Value::List((0..n).map(|i| Value::Int32(i * i)).collect()),
                )
            }
            ("concat", 1) => Value::Str(format!("{}!", s(&a[0]))),
            ("concat", _) => Value::Str(format!("{}{}", s(&a[0]), s(&a[1]))),
            // A cell whose rest is itself: a reference loop.
            ("cons", _) => Value::object(
                "peer.Cons",
                vec![
                    ("first".into(), a[0].clone()),
                    ("rest".into(), Value::BackRef(0)),
                ],
            ),
            (other, _) => return Err(RemoteError::attribute_error(format!("no method {other}"))),
        })
    }
}

impl Dispatch for Twin {
    fn methods(&self) -> &[MethodInfo] {
        METHODS
    }

    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        Box::pin(async move { self.run(&call) })
    }
}

/// A tether Hessian server on 127.0.0.1 serving the twin at `/test`; returns it and its URL.
pub async fn tether_server() -> (tether_hessian::HessianServer, String) {
    let server = tether_hessian::HessianServer::bind(tether_hessian::ServerConfig {
        host: "127.0.0.1".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let url = server.register("test", Arc::new(Twin)).unwrap();
    (server, url)
}
