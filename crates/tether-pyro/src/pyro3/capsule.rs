//! Remote exceptions as Pyro 3 carries them: a normal reply whose value is an old-style
//! `Pyro.errors.PyroExceptionCapsule` instance with `excObj` (the exception, rebuilt by its
//! class from its args) and `args` (the remote traceback lines, or `None`).
//!
//! Written: the exception's class comes from a fixed table of Python 2 classes (below), so
//! a class name that arrived from anywhere is never emitted as a global: a Python 2 client
//! unpickles whatever class it is told to, and must only be told these. Anything else is sent
//! as `exceptions.Exception` whose message names the original class.
//!
//! Read: `exceptions.X` becomes `builtins.X` (the same class, as tether's other Python wires
//! name it), `Pyro.errors.X` stays; any other class name (a Python 2 server's own exception
//! class) is kept as a label with its args. Nothing is imported or instantiated.

use super::pickle::{self, op, NamedInstance, Node, Pickle, Writer};
use crate::serializer::Limits;
use tether_core::{ErrorKind, RemoteError, Value};

/// Python 2's built-in exceptions that can be rebuilt from their args alone.
const PY2_EXCEPTIONS: &[&str] = &[
    "Exception",
    "StandardError",
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "BufferError",
    "EOFError",
    "EnvironmentError",
    "FloatingPointError",
    "IOError",
    "ImportError",
    "IndexError",
    "KeyError",
    "LookupError",
    "MemoryError",
    "NameError",
    "NotImplementedError",
    "OSError",
    "OverflowError",
    "ReferenceError",
    "RuntimeError",
    "StopIteration",
    "SyntaxError",
    "SystemError",
    "TypeError",
    "UnboundLocalError",
    "UnicodeError",
    "ValueError",
    "ZeroDivisionError",
    "Warning",
    "UserWarning",
    "DeprecationWarning",
    "RuntimeWarning",
];

/// Pyro 3's own exception classes.
const PYRO3_ERRORS: &[&str] = &[
    "PyroError",
    "URIError",
    "DaemonError",
    "ProtocolError",
    "ConnectionClosedError",
    "ConnectionDeniedError",
    "TimeoutError",
    "NamingError",
    "NoModuleError",
];

/// The constant global for a class of the tables (`None`: not in them).
fn table_global(class: &str) -> Option<(&'static str, &'static str)> {
    let (module, name) = class.rsplit_once('.')?;
    match module {
        "builtins" | "exceptions" | "__builtin__" => PY2_EXCEPTIONS
            .iter()
            .find(|n| **n == name)
            .map(|n| ("exceptions", *n)),
        "Pyro.errors" | "Pyro4.errors" | "Pyro5.errors" => PYRO3_ERRORS
            .iter()
            .find(|n| **n == name)
            .map(|n| ("Pyro.errors", *n))
            .or(match name {
                "CommunicationError" | "SerializeError" | "MessageTooLargeError" => {
                    Some(("Pyro.errors", "ProtocolError"))
                }
                "SecurityError" => Some(("Pyro.errors", "ConnectionDeniedError")),
                _ => None,
            }),
        // Python 3's OSError family is Python 2's IOError/OSError.
        _ => None,
    }
}

/// The class and args a Python 2 client gets for `e`.
fn python2_exception(e: &RemoteError) -> ((&'static str, &'static str), Vec<Value>) {
    let class = e.class().map(str::to_string).unwrap_or_else(|| {
        match e.kind() {
            ErrorKind::Protocol | ErrorKind::Serialization | ErrorKind::MessageTooLarge => {
                "Pyro.errors.ProtocolError"
            }
            ErrorKind::Timeout => "Pyro.errors.TimeoutError",
            ErrorKind::Connection => "Pyro.errors.ConnectionClosedError",
            ErrorKind::Security => "Pyro.errors.ConnectionDeniedError",
            _ => "Pyro.errors.PyroError",
        }
        .to_string()
    });
    let args = if e.args().is_empty() {
        vec![Value::str(e.message())]
    } else {
        e.args().to_vec()
    };
    if let Some(g) = table_global(&class) {
        return (g, args);
    }
    let g = match class.rsplit_once('.').map(|(_, n)| n) {
        Some(
            "FileNotFoundError" | "PermissionError" | "FileExistsError" | "IsADirectoryError"
            | "NotADirectoryError",
        ) => ("exceptions", "OSError"),
        Some(n) if n.contains("Connection") || n == "BrokenPipeError" => ("exceptions", "IOError"),
        _ => ("exceptions", "Exception"),
    };
    // The original class travels in the message, as it does on the Pyro5 wire.
    (g, vec![Value::Str(format!("{class}: {}", e.message()))])
}

/// Appends the pickle of a capsule for `e` (protocol 2), with the traceback lines when
/// `traceback` is set and the error has one.
pub fn write(e: &RemoteError, traceback: bool, out: &mut Vec<u8>) -> Result<(), RemoteError> {
    let ((module, name), args) = python2_exception(e);
    let mut w = Writer::new(out);
    w.proto();
    w.op(op::MARK);
    w.global("Pyro.errors", "PyroExceptionCapsule");
    w.op(op::OBJ);
    w.op(op::EMPTY_DICT);
    w.op(op::MARK);
    w.text("excObj");
    w.global(module, name);
    if w.value(&Value::Tuple(args.clone())).is_err() {
        w.value(&Value::Tuple(vec![Value::str(e.message())]))?;
    }
    w.op(op::REDUCE);
    w.text("args");
    match e.remote_traceback().filter(|_| traceback) {
        Some(tb) => w.value(&Value::List(
            tb.split_inclusive('\n').map(Value::str).collect(),
        ))?,
        None => w.value(&Value::None)?,
    }
    w.op(op::SETITEMS);
    w.op(op::BUILD);
    w.stop();
    Ok(())
}

/// Reads a reply pickle: its value, or the remote exception a capsule holds.
pub fn read_reply(p: &Pickle, limits: &Limits) -> Result<Result<Value, RemoteError>, RemoteError> {
    let Some(inst) = NamedInstance::at(p, p.root) else {
        return pickle::to_value(p, p.root, limits).map(Ok);
    };
    if (inst.module, inst.name) != ("Pyro.errors", "PyroExceptionCapsule") {
        return pickle::to_value(p, p.root, limits).map(Ok);
    }
    let bad =
        |why: &str| RemoteError::protocol(format!("pickle: a malformed exception capsule: {why}"));
    let Some(state) = inst.state else {
        return Err(bad("no state"));
    };
    let Node::Dict(entries) = p.node(state) else {
        return Err(bad("its state is not a dict"));
    };
    let key = |k: u32| match p.node(k) {
        Node::Str(s) => std::str::from_utf8(s).ok(),
        Node::Unicode(s) => Some(s.as_str()),
        _ => None,
    };
    let field = |name: &str| {
        entries
            .iter()
            .find(|(k, _)| key(*k) == Some(name))
            .map(|e| e.1)
    };
    let exc = field("excObj").ok_or_else(|| bad("no excObj"))?;
    let exc = NamedInstance::at(p, exc).ok_or_else(|| bad("excObj is not an exception"))?;
    let args = exc
        .args
        .iter()
        .map(|&a| pickle::to_value(p, a, limits))
        .collect::<Result<Vec<_>, _>>()?;
    let class = match exc.module {
        "exceptions" | "__builtin__" => format!("builtins.{}", exc.name),
        m => format!("{m}.{}", exc.name),
    };
    let mut err = RemoteError::exception_with_args(class, args);
    if let Some(tb) = field("args") {
        if let Ok(Value::List(lines)) = pickle::to_value(p, tb, limits) {
            let text: String = lines.iter().filter_map(|l| l.as_str()).collect();
            if !text.is_empty() {
                err = err.with_traceback(text);
            }
        }
    }
    Ok(Err(err))
}
