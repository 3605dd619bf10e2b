//! Exceptions on the wire: [`RemoteError`] ↔ Pyro's exception dict
//! `{'__class__': 'builtins.ValueError', '__exception__': True, 'args': (...),
//!   'attributes': {'_pyroTraceback': [...]}}`, sent with the EXCEPTION flag.
//!
//! Python clients can only rebuild `builtins.*` and `Pyro5.errors.*` classes (anything else
//! makes them raise SerializeError instead of the real error), so a Rust error with another
//! class travels as `builtins.Exception` whose message names the original class, and the
//! original class rides along in attribute `_tetherClass`, which a tether proxy restores.
//! Framework errors without a class become the matching `Pyro5.errors.*` class.
//!
//! Class names coming in are only labels: nothing here chooses a Rust type from them.

use tether_core::{ErrorKind, RemoteError, Value};

/// Attribute that carries a non-Python class name across (see module docs).
const TETHER_CLASS: &str = "_tetherClass";
/// Attribute that carries the remote traceback lines.
const TRACEBACK: &str = "_pyroTraceback";

/// Whether a Python client can rebuild an exception of this class.
fn python_known(class: &str) -> bool {
    (class.starts_with("builtins.") || class.starts_with("Pyro5.errors."))
        && !class[8..].contains("__")
}

/// The Pyro5 error class for a framework error kind.
fn pyro_class(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Protocol => "Pyro5.errors.ProtocolError",
        ErrorKind::Serialization => "Pyro5.errors.SerializeError",
        ErrorKind::Security => "Pyro5.errors.SecurityError",
        ErrorKind::Timeout => "Pyro5.errors.TimeoutError",
        ErrorKind::Connection => "Pyro5.errors.CommunicationError",
        ErrorKind::MessageTooLarge => "Pyro5.errors.MessageTooLargeError",
        _ => "Pyro5.errors.PyroError",
    }
}

/// Builds the exception dict for `err`.
pub fn to_value(err: &RemoteError) -> Value {
    let (class, args, original) = match err.class() {
        Some(c) if python_known(c) => (c.to_string(), err.args().to_vec(), None),
        Some(c) => (
            "builtins.Exception".to_string(),
            vec![Value::str(format!("{c}: {}", err.message()))],
            Some(c.to_string()),
        ),
        None => (
            pyro_class(err.kind()).to_string(),
            vec![Value::str(err.message())],
            None,
        ),
    };
    let args = if args.is_empty() && err.class().is_none() {
        vec![Value::str(err.message())]
    } else {
        args
    };
    let short = class.rsplit('.').next().unwrap_or(&class).to_string();
    let traceback: Vec<Value> = match err.remote_traceback() {
        Some(tb) => tb.split_inclusive('\n').map(Value::str).collect(),
        None => vec![
            Value::str("Traceback (most recent call last):\n"),
            Value::str("  (raised by a tether service written in Rust; no Python frames)\n"),
            Value::str(format!("{short}: {}\n", err.message())),
        ],
    };
    let mut attributes = vec![(Value::str(TRACEBACK), Value::List(traceback))];
    if let Some(c) = original {
        attributes.push((Value::str(TETHER_CLASS), Value::str(c)));
    }
    Value::Map(vec![
        (Value::str("__class__"), Value::str(class)),
        (Value::str("__exception__"), Value::Bool(true)),
        (Value::str("args"), Value::Tuple(args)),
        (Value::str("attributes"), Value::Map(attributes)),
    ])
}

/// Wraps an exception dict as a batch item: `Pyro5.core._ExceptionWrapper`.
pub fn wrapper_value(err: &RemoteError) -> Value {
    Value::Map(vec![
        (
            Value::str("__class__"),
            Value::str("Pyro5.core._ExceptionWrapper"),
        ),
        (Value::str("exception"), to_value(err)),
    ])
}

/// The `__class__` of a class dict, whether the serializer gave a map or an object.
pub fn class_of(v: &Value) -> Option<&str> {
    match v {
        Value::Object(o) => Some(&o.class),
        Value::Map(_) => v.get("__class__").and_then(Value::as_str),
        _ => None,
    }
}

/// A field of a class dict (map or object form).
pub fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    match v {
        Value::Object(o) => o.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v),
        _ => v.get(name),
    }
}

/// If `v` is a `Pyro5.core._ExceptionWrapper` (or `Pyro4.futures._ExceptionWrapper`), the error
/// it wraps.
pub fn from_wrapper(v: &Value) -> Option<RemoteError> {
    let class = class_of(v)?;
    if class.ends_with("._ExceptionWrapper") {
        Some(
            field(v, "exception")
                .map(from_value)
                .unwrap_or_else(|| RemoteError::protocol("exception wrapper without an exception")),
        )
    } else {
        None
    }
}

/// Turns a received exception payload into a [`RemoteError`] of kind `Remote` with the class,
/// args and the `_pyroTraceback` lines joined. A payload that is not an exception dict still
/// becomes an error (the flag said so), with its text as the message.
pub fn from_value(v: &Value) -> RemoteError {
    let Some(mut class) = class_of(v).map(str::to_string) else {
        return RemoteError::exception_with_args("builtins.Exception", vec![v.clone()]);
    };
    let args = match field(v, "args") {
        Some(a) => a
            .as_seq()
            .map(<[Value]>::to_vec)
            .unwrap_or_else(|| vec![a.clone()]),
        None => Vec::new(),
    };
    let attributes = field(v, "attributes");
    if let Some(Value::Str(orig)) = attributes.and_then(|a| a.get(TETHER_CLASS)) {
        // A tether server's non-Python class: restore it, and strip the "Class: " prefix it added.
        let prefix = format!("{orig}: ");
        let args = match args.as_slice() {
            [Value::Str(s)] if s.starts_with(&prefix) => vec![Value::str(&s[prefix.len()..])],
            _ => args.clone(),
        };
        class = orig.clone();
        return with_tb(RemoteError::exception_with_args(class, args), attributes);
    }
    with_tb(RemoteError::exception_with_args(class, args), attributes)
}

fn with_tb(err: RemoteError, attributes: Option<&Value>) -> RemoteError {
    match attributes.and_then(|a| a.get(TRACEBACK)) {
        Some(Value::Str(s)) => err.with_traceback(s.clone()),
        Some(tb) => match tb.as_seq() {
            Some(lines) => {
                let text: String = lines.iter().filter_map(Value::as_str).collect();
                err.with_traceback(text)
            }
            None => err,
        },
        None => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_class_args_and_traceback() {
        let e =
            RemoteError::value_error("bad").with_traceback("Traceback:\n  here\nValueError: bad\n");
        let v = to_value(&e);
        assert_eq!(class_of(&v), Some("builtins.ValueError"));
        let back = from_value(&v);
        assert_eq!(back.class(), Some("builtins.ValueError"));
        assert_eq!(back.args(), &[Value::str("bad")]);
        assert_eq!(
            back.remote_traceback(),
            Some("Traceback:\n  here\nValueError: bad\n")
        );
        assert_eq!(back.kind(), ErrorKind::Remote);
    }

    #[test]
    fn foreign_and_framework_classes_are_python_safe() {
        let v = to_value(&RemoteError::exception("com.example.Boom", "x"));
        assert_eq!(class_of(&v), Some("builtins.Exception"));
        let back = from_value(&v);
        assert_eq!(back.class(), Some("com.example.Boom"));
        assert_eq!(back.message(), "x");
        let v = to_value(&RemoteError::protocol("bad frame"));
        assert_eq!(class_of(&v), Some("Pyro5.errors.ProtocolError"));
        assert_eq!(
            field(&v, "args"),
            Some(&Value::Tuple(vec![Value::str("bad frame")]))
        );
        assert!(from_wrapper(&wrapper_value(&RemoteError::value_error("w"))).is_some());
    }
}
