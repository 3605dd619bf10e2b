//! [`RemoteError`] ↔ Hessian faults.
//!
//! A tether service's error travels as Caucho does it: code `ServiceException`, the message
//! (HTML-escaped, as Caucho does), and a `detail` that is a Java exception object
//! (`detailMessage` field, plus the fields of a `Value::Map` second argument), so a Java client
//! throws a real exception of that class. Errors whose class looks like Java's
//! (`java.lang.IllegalStateException`, `com.example.MyException`) keep it; Python's usual
//! classes map onto their Java twins (`builtins.ValueError` →
//! `java.lang.IllegalArgumentException`, ...); anything else is a `java.lang.RuntimeException`
//! whose message starts with the original class.
//!
//! A fault a client receives becomes a remote error whose class is the detail's class when it
//! is an exception object (what Java sends), else the fault code.

use crate::codec::Fault;
use tether_core::{ErrorKind, RemoteError, Value};

fn java_class(class: &str) -> Option<&'static str> {
    Some(match class {
        "builtins.ValueError" | "builtins.TypeError" => "java.lang.IllegalArgumentException",
        "builtins.KeyError" | "builtins.IndexError" | "builtins.LookupError" => {
            "java.util.NoSuchElementException"
        }
        "builtins.AttributeError" | "builtins.NotImplementedError" => {
            "java.lang.UnsupportedOperationException"
        }
        "builtins.ZeroDivisionError" | "builtins.ArithmeticError" => {
            "java.lang.ArithmeticException"
        }
        "builtins.RuntimeError" | "builtins.Exception" => "java.lang.RuntimeException",
        _ => return None,
    })
}

/// Escapes `<`, `>` and `&` as Caucho does in a fault's message (not in the detail).
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The fault for an error a service (or the server) raised. A `Value::Map` as the error's
/// second argument adds fields to the Java exception object (`errorCode`, ...).
pub fn to_fault(e: &RemoteError) -> Fault {
    // The message: the first argument when it is a string (the usual exception shape).
    let text = match e.args().first() {
        Some(Value::Str(s)) => s.clone(),
        _ => e.message().to_string(),
    };
    let (class, message) = match e.class() {
        Some(c) if c.starts_with("builtins.") || !c.contains('.') => match java_class(c) {
            Some(j) => (j.to_string(), text),
            None => (
                "java.lang.RuntimeException".to_string(),
                format!("{c}: {text}"),
            ),
        },
        // A Java-looking class name (`java.lang.IllegalStateException`, `peer.PeerException`)
        // travels as it is: a Java client that knows the class throws it.
        Some(c) => (c.to_string(), text),
        None => ("java.lang.RuntimeException".to_string(), e.to_string()),
    };
    let mut fields = vec![("detailMessage".to_string(), Value::Str(message.clone()))];
    if let Some(Value::Map(extra)) = e.args().get(1) {
        for (k, v) in extra {
            if let Some(k) = k.as_str() {
                fields.push((k.to_string(), v.clone()));
            }
        }
    }
    Fault {
        code: "ServiceException".into(),
        message: html_escape(&message),
        detail: Value::object(class, fields),
    }
}

/// The error a received fault stands for.
pub fn from_fault(f: Fault) -> RemoteError {
    let own = |k: &str| {
        !matches!(
            k,
            "detailMessage" | "cause" | "stackTrace" | "suppressedExceptions"
        )
    };
    // An object (Hessian 2) or a typed map (Hessian 1 writes objects so).
    let (class, extra): (String, Vec<(Value, Value)>) = match &f.detail {
        Value::Object(o) => (
            o.class.clone(),
            o.fields
                .iter()
                .filter(|(k, _)| own(k))
                .map(|(k, v)| (Value::str(k.as_str()), v.clone()))
                .collect(),
        ),
        Value::Typed(t) => match &t.value {
            Value::Map(m) => (
                t.class.clone(),
                m.iter()
                    .filter(|(k, _)| k.as_str().is_some_and(own))
                    .cloned()
                    .collect(),
            ),
            _ => (f.code.clone(), Vec::new()),
        },
        _ => (f.code.clone(), Vec::new()),
    };
    if f.code == "ProtocolException" {
        return RemoteError::new(ErrorKind::Protocol, f.message);
    }
    let mut args = vec![Value::Str(f.message)];
    if !extra.is_empty() {
        args.push(Value::Map(extra));
    }
    RemoteError::exception_with_args(class, args)
}
