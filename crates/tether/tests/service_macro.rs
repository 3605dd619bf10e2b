//! `#[tether::service]` end to end over the in-memory `LocalInvoker`: typed proxy calls, raw
//! wire-shaped calls with Python's argument rules, attributes, oneway, renamed methods, user
//! error types, and a panicking implementation.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tether::{Call, Dispatch, ErrorKind, LocalInvoker, Remotable, RemoteError, Value};

// ---- the seed's service ----

/// The seed's example service.
#[tether::service]
pub trait DataService {
    /// Returns a greeting.
    async fn get_data(&self, param: String) -> Result<String, RemoteError>;
}

#[derive(Default)]
pub struct Service;

#[tether::service]
impl DataService for Service {
    async fn get_data(&self, param: String) -> Result<String, RemoteError> {
        Ok(format!("You got remote data => {param}"))
    }
}

// ---- a richer service ----

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    x: i32,
    y: i32,
}

/// A user error type: the framework's errors convert into it, and it converts back into a
/// remote exception on the server.
#[derive(Debug, PartialEq)]
pub enum CalcError {
    Framework(String),
    DivisionByZero,
}

impl From<RemoteError> for CalcError {
    fn from(e: RemoteError) -> Self {
        if e.short_class() == Some("ZeroDivisionError") {
            CalcError::DivisionByZero
        } else {
            CalcError::Framework(e.to_string())
        }
    }
}

impl From<CalcError> for RemoteError {
    fn from(e: CalcError) -> Self {
        match e {
            CalcError::DivisionByZero => {
                RemoteError::exception("builtins.ZeroDivisionError", "division by zero")
            }
            CalcError::Framework(m) => RemoteError::exception("builtins.RuntimeError", m),
        }
    }
}

#[tether::service]
pub trait Calculator {
    async fn add(&self, a: i64, b: i64) -> Result<i64, RemoteError>;
    async fn describe(
        &self,
        name: &str,
        tags: Vec<String>,
        origin: Point,
        scale: Option<f64>,
    ) -> Result<String, RemoteError>;
    async fn echo(&self, v: Value) -> Result<Value, RemoteError>;
    async fn divide(&self, a: f64, b: f64) -> Result<f64, CalcError>;
    async fn byte_len(&self, data: &[u8]) -> Result<u64, RemoteError>;
    #[tether(oneway)]
    async fn log(&self, line: String) -> Result<(), RemoteError>;
    async fn log_count(&self) -> Result<u64, RemoteError>;
    #[tether(getter = "verbose")]
    async fn verbose(&self) -> Result<bool, RemoteError>;
    #[tether(setter = "verbose")]
    async fn set_verbose(&self, on: bool) -> Result<(), RemoteError>;
    #[tether(getter = "version")]
    async fn version(&self) -> Result<String, RemoteError>;
    #[tether(name = "getData")]
    async fn get_data_camel(&self, key: String) -> Result<String, RemoteError>;
    async fn boom(&self) -> Result<(), RemoteError>;
}

#[derive(Default)]
pub struct Calc {
    logs: AtomicUsize,
    verbose: AtomicBool,
}

#[tether::service]
impl Calculator for Calc {
    async fn add(&self, a: i64, b: i64) -> Result<i64, RemoteError> {
        Ok(a + b)
    }
    async fn describe(
        &self,
        name: &str,
        tags: Vec<String>,
        origin: Point,
        scale: Option<f64>,
    ) -> Result<String, RemoteError> {
        Ok(format!(
            "{name} {tags:?} ({}, {}) x{}",
            origin.x,
            origin.y,
            scale.unwrap_or(1.0)
        ))
    }
    async fn echo(&self, v: Value) -> Result<Value, RemoteError> {
        Ok(v)
    }
    async fn divide(&self, a: f64, b: f64) -> Result<f64, CalcError> {
        if b == 0.0 {
            Err(CalcError::DivisionByZero)
        } else {
            Ok(a / b)
        }
    }
    async fn byte_len(&self, data: &[u8]) -> Result<u64, RemoteError> {
        Ok(data.len() as u64)
    }
    async fn log(&self, _line: String) -> Result<(), RemoteError> {
        self.logs.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    async fn log_count(&self) -> Result<u64, RemoteError> {
        Ok(self.logs.load(Ordering::SeqCst) as u64)
    }
    async fn verbose(&self) -> Result<bool, RemoteError> {
        Ok(self.verbose.load(Ordering::SeqCst))
    }
    async fn set_verbose(&self, on: bool) -> Result<(), RemoteError> {
        self.verbose.store(on, Ordering::SeqCst);
        Ok(())
    }
    async fn version(&self) -> Result<String, RemoteError> {
        Ok("1.0".into())
    }
    async fn get_data_camel(&self, key: String) -> Result<String, RemoteError> {
        Ok(format!("camel {key}"))
    }
    async fn boom(&self) -> Result<(), RemoteError> {
        panic!("kaboom");
    }
}

fn data_dispatcher() -> Arc<dyn Dispatch> {
    let local: Arc<dyn DataService> = Arc::new(Service);
    <dyn DataService>::dispatcher(local)
}

fn calc() -> (Arc<dyn Calculator>, Arc<dyn Calculator>, Arc<dyn Dispatch>) {
    let local: Arc<dyn Calculator> = Arc::new(Calc::default());
    let dispatcher = <dyn Calculator>::dispatcher(local.clone());
    let proxy = <dyn Calculator>::proxy(Arc::new(LocalInvoker::new(dispatcher.clone())));
    (local, proxy, dispatcher)
}

async fn raw(d: &Arc<dyn Dispatch>, call: Call) -> Result<Value, String> {
    d.dispatch(call).await.map_err(|e| {
        assert_eq!(e.kind(), ErrorKind::Remote, "{e}");
        format!("{} {}", e.class().unwrap_or("?"), e.message())
    })
}

#[tokio::test]
async fn seed_example_local_and_proxy_agree() {
    let local: Arc<dyn DataService> = Arc::new(Service);
    let proxy = <dyn DataService>::proxy(Arc::new(LocalInvoker::of(local.clone())));
    let want = "You got remote data => Hello";
    assert_eq!(local.get_data("Hello".into()).await.unwrap(), want);
    assert_eq!(proxy.get_data("Hello".into()).await.unwrap(), want);
    // The generated proxy type is nameable too.
    let named = DataServiceProxy::new(Arc::new(LocalInvoker::of(local)));
    assert_eq!(named.get_data("Hello".into()).await.unwrap(), want);
}

/// The table of the design notes, §2, with the exact messages.
#[tokio::test]
async fn argument_errors_read_like_python() {
    let d = data_dispatcher();
    let ok = |s: &str| Ok(Value::str(format!("You got remote data => {s}")));
    assert_eq!(
        raw(&d, Call::new("get_data", vec![Value::str("pos")])).await,
        ok("pos")
    );
    assert_eq!(
        raw(&d, Call::new("get_data", vec![]).kwarg("param", "kw")).await,
        ok("kw")
    );
    let cases: Vec<(Call, &str)> = vec![
        (
            Call::new("get_data", vec![]),
            "builtins.TypeError get_data() missing 1 required positional argument: 'param'",
        ),
        (
            Call::new("get_data", vec![Value::str("a"), Value::str("b")]),
            "builtins.TypeError get_data() takes 2 positional arguments but 3 were given",
        ),
        (
            Call::new("get_data", vec![Value::Int(5)]),
            "builtins.TypeError get_data() argument 'param': cannot convert int (invalid type: integer `5`, expected a string)",
        ),
        (
            Call::new("get_data", vec![Value::str("a")]).kwarg("param", "b"),
            "builtins.TypeError get_data() got multiple values for argument 'param'",
        ),
        (
            Call::new("get_data", vec![]).kwarg("nope", "b"),
            "builtins.TypeError get_data() got an unexpected keyword argument 'nope'",
        ),
        (
            Call::new("drop_tables", vec![]),
            "builtins.AttributeError remote object has no exposed method 'drop_tables'",
        ),
    ];
    for (call, want) in cases {
        assert_eq!(raw(&d, call).await, Err(want.to_owned()));
    }
}

#[tokio::test]
async fn metadata_tables() {
    let names: Vec<&str> = <dyn Calculator>::methods().iter().map(|m| m.name).collect();
    assert_eq!(
        names,
        [
            "add",
            "describe",
            "echo",
            "divide",
            "byte_len",
            "log",
            "log_count",
            "getData",
            "boom"
        ]
    );
    let describe = <dyn Calculator>::methods()[1];
    assert_eq!(describe.params, ["name", "tags", "origin", "scale"]);
    assert!(<dyn Calculator>::methods()[5].oneway);
    assert!(!<dyn Calculator>::methods()[0].oneway);
    let attrs: Vec<(&str, bool)> = <dyn Calculator>::attrs()
        .iter()
        .map(|a| (a.name, a.writable))
        .collect();
    assert_eq!(attrs, [("verbose", true), ("version", false)]);
    assert_eq!(<dyn Calculator as Remotable>::NAME, "Calculator");
    let (_, _, d) = calc();
    assert_eq!(d.methods().len(), 9);
    assert_eq!(d.method("getData").map(|m| m.params), Some(&["key"][..]));
}

#[tokio::test]
async fn proxy_and_local_give_identical_results() {
    let (local, proxy, _) = calc();
    for svc in [&local, &proxy] {
        assert_eq!(svc.add(2, 3).await.unwrap(), 5);
        let p = Point { x: 1, y: -2 };
        assert_eq!(
            svc.describe("pt", vec!["a".into()], p, Some(2.5))
                .await
                .unwrap(),
            "pt [\"a\"] (1, -2) x2.5"
        );
        assert_eq!(
            svc.describe("pt", vec![], Point { x: 0, y: 0 }, None)
                .await
                .unwrap(),
            "pt [] (0, 0) x1"
        );
        assert_eq!(svc.divide(1.0, 4.0).await, Ok(0.25));
        assert_eq!(svc.divide(1.0, 0.0).await, Err(CalcError::DivisionByZero));
        assert_eq!(svc.byte_len(b"abc").await.unwrap(), 3);
        assert_eq!(svc.get_data_camel("k".into()).await.unwrap(), "camel k");
        assert_eq!(svc.version().await.unwrap(), "1.0");
    }
    // Setters through one path are seen through the other.
    proxy.set_verbose(true).await.unwrap();
    assert!(local.verbose().await.unwrap());
    local.set_verbose(false).await.unwrap();
    assert!(!proxy.verbose().await.unwrap());
}

#[tokio::test]
async fn value_parameters_are_lossless() {
    let (_, proxy, _) = calc();
    let v = Value::List(vec![
        Value::Tuple(vec![Value::Int32(1), Value::Int(1)]),
        Value::Set(vec![Value::str("s")]),
        Value::object("a.B", vec![("f".into(), Value::Bytes(vec![0]))]),
        Value::Map(vec![(Value::Tuple(vec![]), Value::None)]),
    ]);
    assert_eq!(proxy.echo(v.clone()).await.unwrap(), v);
}

#[tokio::test]
async fn kwargs_and_wire_forms_reach_typed_parameters() {
    let (_, _, d) = calc();
    let call = Call::new("describe", vec![Value::str("n")])
        .kwarg("scale", Value::Int32(3))
        .kwarg(
            "origin",
            Value::Map(vec![
                (Value::str("x"), Value::Int(4)),
                (Value::str("y"), Value::Int32(5)),
            ]),
        )
        .kwarg("tags", Value::Tuple(vec![Value::str("t")]));
    assert_eq!(raw(&d, call).await, Ok(Value::str("n [\"t\"] (4, 5) x3")));
    // An `Option` parameter may be omitted (it reads as None); required ones may not.
    let call = Call::new("describe", vec![Value::str("n"), Value::List(vec![])])
        .kwarg("origin", Value::Tuple(vec![Value::Int(0), Value::Int(1)]));
    assert_eq!(raw(&d, call).await, Ok(Value::str("n [] (0, 1) x1")));
    assert_eq!(
        raw(&d, Call::new("describe", vec![]).kwarg("scale", 2.0)).await,
        Err("builtins.TypeError describe() missing 3 required positional arguments: 'name', 'tags', and 'origin'".into())
    );
    // Renamed method: reachable by its wire name only.
    let camel = raw(&d, Call::new("getData", vec![Value::str("z")])).await;
    assert_eq!(camel, Ok(Value::str("camel z")));
    assert_eq!(
        raw(&d, Call::new("get_data_camel", vec![Value::str("z")])).await,
        Err("builtins.AttributeError remote object has no exposed method 'get_data_camel'".into())
    );
    // i64 result goes back as Int, bytes parameter accepts Bytes.
    assert_eq!(
        raw(&d, Call::new("add", vec![Value::Int32(1), Value::Int(2)])).await,
        Ok(Value::Int(3))
    );
    assert_eq!(
        raw(&d, Call::new("byte_len", vec![Value::Bytes(vec![1, 2])])).await,
        Ok(Value::Int(2))
    );
    assert_eq!(
        raw(&d, Call::new("add", vec![Value::Int(1), Value::str("x")])).await,
        Err("builtins.TypeError add() argument 'b': cannot convert str (invalid type: string \"x\", expected i64)".into())
    );
    assert_eq!(
        raw(&d, Call::new("add", vec![Value::Int(i64::MAX), Value::Float(1.0)])).await,
        Err("builtins.TypeError add() argument 'b': cannot convert float (invalid type: floating point `1.0`, expected i64)".into())
    );
    assert_eq!(
        raw(&d, Call::new("log_count", vec![Value::None])).await,
        Err("builtins.TypeError log_count() takes 1 positional argument but 2 were given".into())
    );
    // A user error converts into a remote exception.
    assert_eq!(
        raw(&d, Call::new("divide", vec![Value::Int(1), Value::Int(0)])).await,
        Err("builtins.ZeroDivisionError division by zero".into())
    );
}

#[tokio::test]
async fn attributes_through_getattr_and_setattr() {
    let (local, _, d) = calc();
    assert_eq!(
        raw(&d, Call::get_attr("verbose")).await,
        Ok(Value::Bool(false))
    );
    assert_eq!(
        raw(&d, Call::set_attr("verbose", Value::Bool(true))).await,
        Ok(Value::None)
    );
    assert!(local.verbose().await.unwrap());
    assert_eq!(
        raw(&d, Call::get_attr("version")).await,
        Ok(Value::str("1.0"))
    );
    let cases: Vec<(Call, &str)> = vec![
        (
            Call::set_attr("version", Value::str("2")),
            "builtins.AttributeError attribute 'version' of remote object is read-only",
        ),
        (
            Call::get_attr("secret"),
            "builtins.AttributeError remote object has no exposed attribute 'secret'",
        ),
        (
            Call::set_attr("secret", Value::None),
            "builtins.AttributeError remote object has no exposed attribute 'secret'",
        ),
        (
            Call::set_attr("verbose", Value::str("yes")),
            "builtins.TypeError __setattr__() argument 'verbose': cannot convert str (invalid type: string \"yes\", expected a boolean)",
        ),
        (
            Call::new("__getattr__", vec![Value::Int(1)]),
            "builtins.TypeError __getattr__(): attribute name must be string, not 'int'",
        ),
        (
            Call::new("__getattr__", vec![]),
            "builtins.TypeError __getattr__() missing 1 required positional argument: 'name'",
        ),
        // Getters are attributes, not methods.
        (
            Call::new("verbose", vec![]),
            "builtins.AttributeError remote object has no exposed method 'verbose'",
        ),
    ];
    for (call, want) in cases {
        assert_eq!(raw(&d, call).await, Err(want.to_owned()));
    }
    // A service without attributes answers attribute calls with AttributeError too.
    assert_eq!(
        raw(&data_dispatcher(), Call::get_attr("x")).await,
        Err("builtins.AttributeError remote object has no exposed attribute 'x'".into())
    );
}

/// An invoker that records the calls it sees, then forwards them.
struct Recorder {
    seen: std::sync::Mutex<Vec<Call>>,
    inner: LocalInvoker,
}

impl tether::Invoker for Recorder {
    fn invoke(&self, call: Call) -> tether::BoxFuture<'_, Result<Value, RemoteError>> {
        if let Ok(mut seen) = self.seen.lock() {
            seen.push(call.clone());
        }
        self.inner.invoke(call)
    }
}

#[tokio::test]
async fn proxy_builds_wire_calls() {
    let (local, _, _) = calc();
    let rec = Arc::new(Recorder {
        seen: Default::default(),
        inner: LocalInvoker::of(local.clone()),
    });
    let proxy = CalculatorProxy::new(rec.clone());
    proxy.log("hello".into()).await.unwrap();
    proxy.get_data_camel("k".into()).await.unwrap();
    proxy.set_verbose(true).await.unwrap();
    proxy.verbose().await.unwrap();
    proxy.add(1, 2).await.unwrap();
    let seen = rec.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            Call::new("log", vec![Value::str("hello")]).oneway(),
            Call::new("getData", vec![Value::str("k")]),
            Call::set_attr("verbose", Value::Bool(true)),
            Call::get_attr("verbose"),
            Call::new("add", vec![Value::Int(1), Value::Int(2)]),
        ]
    );
    // The oneway call ran in the background; wait for it, bounded in time and count.
    let done = tokio::time::timeout(Duration::from_secs(5), async {
        for _ in 0..500 {
            if local.log_count().await.unwrap() == 1 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    })
    .await;
    assert_eq!(done, Ok(true));
}

#[tokio::test]
async fn framework_errors_reach_user_error_types() {
    struct Down;
    impl tether::Invoker for Down {
        fn invoke(&self, _call: Call) -> tether::BoxFuture<'_, Result<Value, RemoteError>> {
            Box::pin(async { Err(RemoteError::connection("refused")) })
        }
    }
    let proxy = <dyn Calculator>::proxy(Arc::new(Down));
    assert_eq!(
        proxy.divide(1.0, 2.0).await,
        Err(CalcError::Framework("connection error: refused".into()))
    );
    let e = proxy.add(1, 2).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection);
    // A reply of the wrong type is a serialization error, not a panic.
    struct Liar;
    impl tether::Invoker for Liar {
        fn invoke(&self, _call: Call) -> tether::BoxFuture<'_, Result<Value, RemoteError>> {
            Box::pin(async { Ok(Value::str("not a number")) })
        }
    }
    let e = <dyn Calculator>::proxy(Arc::new(Liar))
        .add(1, 2)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Serialization);
    assert_eq!(
        e.message(),
        "invalid type: string \"not a number\", expected i64"
    );
}

#[tokio::test]
async fn a_panicking_method_poisons_nothing() {
    let (_, proxy, _) = calc();
    let e = proxy.boom().await.unwrap_err();
    assert_eq!(e.class(), Some("builtins.RuntimeError"));
    assert_eq!(e.message(), "service method panicked: kaboom");
    // The proxy, the invoker and the service keep working.
    assert_eq!(proxy.add(1, 1).await.unwrap(), 2);
    proxy.set_verbose(true).await.unwrap();
    assert!(proxy.verbose().await.unwrap());
    let e = proxy.boom().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Remote);
    assert_eq!(proxy.add(2, 2).await.unwrap(), 4);
}
