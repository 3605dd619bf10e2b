//! The echo service behind `tether echo-server`: a hand-written [`Dispatch`] that behaves like
//! the object of Python's `python -m Pyro5.utils.echoserver` (Pyro5 5.17), so the same client
//! script gets the same results from either server.
//!
//! Methods and what they return (as in Python):
//! - `echo(message)` → `message`; `oneway_echo(message)` (oneway) → `"bogus return value"`;
//! - `error()` → `ValueError("this is the generated error from echoserver echo() method")`
//!   (on the Pyro4 wire: `"expected error from echoserver error() method"`, as
//!   `python -m Pyro4.test.echoserver` says);
//! - `error_with_text()` → `ValueError("the message of the error")`;
//! - `slow()` → `"Finally, an answer!"` after 5 s; `oneway_slow()` (oneway) likewise;
//! - `nan()` → `float('nan')`, `inf()` → `float('inf')`;
//! - `__dunder__()` → `"should be allowed (dunder)"`;
//! - `shutdown()` → `None`, and the service's shutdown signal fires
//!   ([`EchoService::shutdown_requested`]), which the server awaits to stop;
//! - attribute `verbose` (readable and writable, stored as `bool(value)`): when true, calls are
//!   logged to stdout as Python does (`<asctime> - echo: <repr>`).
//!
//! - `generator()` streams `"one"`, `"two"`, `"three"` ([`Dispatch::dispatch_reply`] answers
//!   [`Reply::Stream`]; a Pyro client iterates it with `get_next_stream_item`). Through the
//!   plain [`Dispatch::dispatch`] (servers and batches that cannot stream) it is the list of
//!   those three items.

use crate::{
    bind_args, AttrInfo, BoxFuture, Call, Dispatch, MethodInfo, RemoteError, Reply, Value,
    ValueStream, GETATTR, SETATTR,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The object id the echo server registers the service under.
pub const ECHO_OBJECT_ID: &str = "test.echoserver";

/// How long `slow` and `oneway_slow` take, as in Python.
const SLOW: Duration = Duration::from_secs(5);

const fn m(name: &'static str, params: &'static [&'static str], oneway: bool) -> MethodInfo {
    MethodInfo {
        name,
        params,
        oneway,
    }
}

static METHODS: [MethodInfo; 11] = [
    m("__dunder__", &[], false),
    m("echo", &["message"], false),
    m("error", &[], false),
    m("error_with_text", &[], false),
    m("generator", &[], false),
    m("inf", &[], false),
    m("nan", &[], false),
    m("oneway_echo", &["message"], true),
    m("oneway_slow", &[], true),
    m("shutdown", &[], false),
    m("slow", &[], false),
];

static ATTRS: [AttrInfo; 1] = [AttrInfo {
    name: "verbose",
    writable: true,
}];

/// The echo service. Cheap to clone (shared state), so a server can keep a handle to await
/// [`EchoService::shutdown_requested`] while the daemon holds another.
#[derive(Clone, Debug)]
pub struct EchoService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    verbose: AtomicBool,
    must_shutdown: watch::Sender<bool>,
    /// `error()`'s message by the wire a call came in on, where a wire's own echo server
    /// words it differently (Pyro4's); the wires provide them.
    error_texts: Vec<(&'static str, &'static str)>,
}

/// What `error()` says on a wire that did not give its own wording (Pyro5's echo server).
pub const ECHO_ERROR_TEXT: &str = "this is the generated error from echoserver echo() method";

impl Default for EchoService {
    fn default() -> Self {
        EchoService::new(false)
    }
}

impl EchoService {
    /// A new service; `verbose` as Python's `-v`.
    pub fn new(verbose: bool) -> EchoService {
        EchoService {
            inner: Arc::new(Inner {
                verbose: AtomicBool::new(verbose),
                must_shutdown: watch::channel(false).0,
                error_texts: Vec::new(),
            }),
        }
    }

    /// A new service whose `error()` says `texts[protocol]` to calls that came in over that
    /// wire ([`CallContext::protocol`](crate::CallContext::protocol)), and
    /// [`ECHO_ERROR_TEXT`] to the others.
    pub fn with_error_texts(
        verbose: bool,
        texts: impl IntoIterator<Item = (&'static str, &'static str)>,
    ) -> EchoService {
        EchoService {
            inner: Arc::new(Inner {
                verbose: AtomicBool::new(verbose),
                must_shutdown: watch::channel(false).0,
                error_texts: texts.into_iter().collect(),
            }),
        }
    }

    /// Whether `shutdown()` was called.
    pub fn is_shutdown_requested(&self) -> bool {
        *self.inner.must_shutdown.borrow()
    }

    /// Resolves once `shutdown()` has been called (at once if it already was).
    pub async fn shutdown_requested(&self) {
        let mut rx = self.inner.must_shutdown.subscribe();
        let _ = rx.wait_for(|v| *v).await;
    }

    fn verbose(&self) -> bool {
        self.inner.verbose.load(Ordering::Relaxed)
    }

    fn log(&self, what: std::fmt::Arguments<'_>) {
        if self.verbose() {
            println!("{} - {what}", asctime_utc());
        }
    }

    async fn run(&self, call: Call) -> Result<Reply, RemoteError> {
        match call.method.as_str() {
            GETATTR | SETATTR => return self.attr(call).map(Reply::Value),
            _ => {}
        }
        let Some(info) = METHODS.iter().find(|mi| mi.name == call.method) else {
            return Err(RemoteError::attribute_error(format!(
                "'EchoServer' object has no attribute '{}'",
                call.method
            )));
        };
        // The qualified name is formatted only into a TypeError's text.
        let mut args = bind_args(
            format_args!("EchoServer.{}", info.name),
            info.params,
            call.args,
            call.kwargs,
        )?;
        if info.name == "generator" {
            // Python's generator body only runs on the first next(): nothing to log here.
            let items = ["one", "two", "three"].into_iter().map(Value::str);
            return Ok(Reply::Stream(ValueStream::from_iter(items)));
        }
        let value = match info.name {
            "echo" => {
                let message = args.pop().unwrap_or(Value::None);
                self.log(format_args!("echo: {message}"));
                Ok(message)
            }
            "oneway_echo" => {
                let message = args.pop().unwrap_or(Value::None);
                self.log(format_args!("oneway_echo: {message}"));
                Ok(Value::str("bogus return value"))
            }
            "error" => {
                self.log(format_args!("error: generating exception"));
                // Each wire's own echo server words it its own way.
                let text = call
                    .context
                    .protocol
                    .and_then(|p| {
                        self.inner
                            .error_texts
                            .iter()
                            .find(|(q, _)| *q == p)
                            .map(|(_, t)| *t)
                    })
                    .unwrap_or(ECHO_ERROR_TEXT);
                Err(RemoteError::value_error(text))
            }
            "error_with_text" => {
                self.log(format_args!("error: generating exception"));
                Err(RemoteError::value_error("the message of the error"))
            }
            "slow" => {
                self.log(format_args!("slow: waiting a bit..."));
                tokio::time::sleep(SLOW).await;
                self.log(format_args!("slow: returning result"));
                Ok(Value::str("Finally, an answer!"))
            }
            "oneway_slow" => {
                self.log(format_args!("oneway_slow: waiting a bit..."));
                tokio::time::sleep(SLOW).await;
                self.log(format_args!("oneway_slow: returning result"));
                Ok(Value::str("bogus return value"))
            }
            "nan" => Ok(Value::Float(f64::NAN)),
            "inf" => Ok(Value::Float(f64::INFINITY)),
            "__dunder__" => Ok(Value::str("should be allowed (dunder)")),
            "shutdown" => {
                self.log(format_args!("shutting down"));
                self.inner.must_shutdown.send_replace(true);
                Ok(Value::None)
            }
            other => Err(RemoteError::attribute_error(format!(
                "'EchoServer' object has no attribute '{other}'"
            ))),
        };
        value.map(Reply::Value)
    }

    fn attr(&self, call: Call) -> Result<Value, RemoteError> {
        let name = call.args.first().and_then(Value::as_str).unwrap_or("");
        if name != "verbose" {
            return Err(RemoteError::attribute_error(format!(
                "attempt to access unexposed or unknown remote attribute '{name}'"
            )));
        }
        if call.method == GETATTR {
            return Ok(Value::Bool(self.verbose()));
        }
        let value = call.args.get(1).map(truthy).unwrap_or(false);
        self.inner.verbose.store(value, Ordering::Relaxed);
        Ok(Value::None)
    }
}

/// Python's `bool(value)`.
fn truthy(v: &Value) -> bool {
    match v {
        Value::None => false,
        Value::Bool(b) => *b,
        Value::Int32(i) => *i != 0,
        Value::Int(i) => *i != 0,
        Value::BigInt(_) => true, // a BigInt never holds a value that fits in i64, so never 0
        Value::Float(x) => *x != 0.0,
        Value::Str(s) => !s.is_empty(),
        Value::Bytes(b) => !b.is_empty(),
        Value::List(v) | Value::Tuple(v) | Value::Set(v) => !v.is_empty(),
        Value::Map(m) => !m.is_empty(),
        Value::Typed(t) => truthy(&t.value),
        Value::DateTime(_) | Value::Object(_) | Value::BackRef(_) => true,
    }
}

/// `time.asctime()` in UTC, e.g. `Mon Nov 23 09:05:01 2026`.
fn asctime_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = crate::python::civil_from_days(days);
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        year
    )
}

impl Dispatch for EchoService {
    fn methods(&self) -> &[MethodInfo] {
        &METHODS
    }

    fn attrs(&self) -> &[AttrInfo] {
        &ATTRS
    }

    fn dispatch(&self, call: Call) -> BoxFuture<'_, Result<Value, RemoteError>> {
        // Collecting the three generator items is bounded by construction.
        Box::pin(async move { self.run(call).await?.into_value(usize::MAX).await })
    }

    fn dispatch_reply(&self, call: Call) -> BoxFuture<'_, Result<Reply, RemoteError>> {
        Box::pin(self.run(call))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(svc: &EchoService, call: Call) -> Result<Value, RemoteError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(svc.dispatch(call))
    }

    #[test]
    fn behaves_like_pythons_echoserver() {
        let svc = EchoService::default();
        assert_eq!(
            run(&svc, Call::new("echo", vec![Value::Int(1)])).unwrap(),
            Value::Int(1)
        );
        let e = run(&svc, Call::new("error", vec![])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ValueError: this is the generated error from echoserver echo() method"
        );
        assert_eq!(
            run(&svc, Call::get_attr("verbose")).unwrap(),
            Value::Bool(false)
        );
        run(&svc, Call::set_attr("verbose", Value::Int(3))).unwrap();
        assert_eq!(
            run(&svc, Call::get_attr("verbose")).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            run(&svc, Call::new("generator", vec![])).unwrap(),
            Value::List(vec![
                Value::str("one"),
                Value::str("two"),
                Value::str("three")
            ])
        );
        assert!(!svc.is_shutdown_requested());
        run(&svc, Call::new("shutdown", vec![])).unwrap();
        assert!(svc.is_shutdown_requested());
        let e = run(&svc, Call::new("nope", vec![])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "AttributeError: 'EchoServer' object has no attribute 'nope'"
        );
        assert!(asctime_utc().len() >= 24);
        let e = run(&svc, Call::new("echo", vec![])).unwrap_err();
        assert_eq!(
            e.message(),
            "EchoServer.echo() missing 1 required positional argument: 'message'"
        );
        let e = run(&svc, Call::new("error", vec![Value::None])).unwrap_err();
        assert_eq!(
            e.message(),
            "EchoServer.error() takes 1 positional argument but 2 were given"
        );
    }
}
