//! A Pyro 3 request body: the pickled 4-tuple `(object id, method, flags, args)`.
//!
//! `flags` says how `args` ends (Pyro 3's `RIF_*` bits): with `Varargs` the last item is a
//! tuple of extra positional arguments, with `Keywords` the last item is a dict of keyword
//! arguments (before it, with both). Python's proxy always sends both: `((a, b), {'k': v})`.
//! `Oneway` asks for no reply.

use super::pickle::{self, Node, Pickle, ReadLimits, Writer};
use crate::serializer::Limits;
use tether_core::{Call, RemoteError, Value};

/// `*args` at the end of `args`.
pub const RIF_VARARGS: i64 = 1;
/// `**kwargs` at the end of `args`.
pub const RIF_KEYWORDS: i64 = 2;
/// No reply wanted.
pub const RIF_ONEWAY: i64 = 4;

/// The object id of every Pyro 3 daemon's own object (it answers `ResolvePYROLOC`).
pub const DAEMON_GUID: &str = "c0000000011000001000000010000001";

/// A decoded request.
#[derive(Debug)]
pub struct Request {
    /// The object id.
    pub object: String,
    /// The call (method, positional and keyword arguments; `oneway` from the flags).
    pub call: Call,
}

#[cold]
fn bad(why: impl std::fmt::Display) -> RemoteError {
    RemoteError::protocol(format!("invalid request data format: {why}"))
}

fn text(p: &Pickle, id: u32) -> Option<String> {
    match p.node(id) {
        Node::Str(b) => String::from_utf8(b.clone()).ok(),
        Node::Unicode(s) => Some(s.clone()),
        _ => None,
    }
}

/// Decodes a request body (already checked and inflated).
pub fn decode(body: &[u8], read: &ReadLimits, limits: &Limits) -> Result<Request, RemoteError> {
    let (object, method, flags, mut args) = match plain_parts(body, read, limits) {
        Some(parts) => parts,
        None => general_parts(body, read, limits)?,
    };
    let mut kwargs = Vec::new();
    if flags & RIF_KEYWORDS != 0 {
        match args.pop() {
            Some(Value::Map(m)) => {
                for (k, v) in m {
                    match k {
                        Value::Str(k) => kwargs.push((k, v)),
                        _ => return Err(bad("a keyword argument name is not a string")),
                    }
                }
            }
            _ => return Err(bad("keyword flag without a dict of keyword arguments")),
        }
    }
    if flags & RIF_VARARGS != 0 {
        match args.pop() {
            Some(Value::Tuple(extra)) | Some(Value::List(extra)) => args.extend(extra),
            _ => return Err(bad("varargs flag without a tuple of arguments")),
        }
    }
    let mut call = Call::with_args(method, args, kwargs);
    call.oneway = flags & RIF_ONEWAY != 0;
    Ok(Request { object, call })
}

/// The request's four parts, when the body is plain data of the expected shape (the usual
/// case, read in one pass: see `pickle/direct.rs`); `None` leaves it to [`general_parts`],
/// which words what is wrong.
fn plain_parts(
    body: &[u8],
    read: &ReadLimits,
    limits: &Limits,
) -> Option<(String, String, i64, Vec<Value>)> {
    let Value::Tuple(items) = pickle::plain_value(body, read, limits)? else {
        return None;
    };
    let [Value::Str(object), Value::Str(method), Value::Int(flags), Value::Tuple(args)] =
        <[Value; 4]>::try_from(items).ok()?
    else {
        return None;
    };
    Some((object, method, flags, args))
}

/// The request's four parts read with the general reader (shared references, any opcode).
fn general_parts(
    body: &[u8],
    read: &ReadLimits,
    limits: &Limits,
) -> Result<(String, String, i64, Vec<Value>), RemoteError> {
    let p = pickle::read(body, read)?;
    let Node::Tuple(items) = p.node(p.root) else {
        return Err(bad("not a tuple"));
    };
    let [object, method, flags, args] = items[..] else {
        return Err(bad("not a 4-tuple"));
    };
    let object = text(&p, object).ok_or_else(|| bad("the object id is not a string"))?;
    let method = text(&p, method).ok_or_else(|| bad("the method name is not a string"))?;
    let Node::Int(flags) = *p.node(flags) else {
        return Err(bad("the flags are not an int"));
    };
    let Node::Tuple(arg_ids) = p.node(args) else {
        return Err(bad("the arguments are not a tuple"));
    };
    let args = arg_ids
        .iter()
        .map(|&a| pickle::to_value(&p, a, limits))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((object, method, flags, args))
}

/// Encodes a request as Python's proxy does (flags `Varargs|Keywords`, plus `Oneway`).
/// (The tuple `(object, method, flags, (args, kwargs))`, written from the call's parts.)
pub fn encode(object: &str, call: &Call, out: &mut Vec<u8>) -> Result<(), RemoteError> {
    let flags = RIF_VARARGS | RIF_KEYWORDS | if call.oneway { RIF_ONEWAY } else { 0 };
    pickle::write_request(object, &call.method, flags, &call.args, &call.kwargs, out)
}

/// Encodes the daemon call that resolves a `PYROLOC` name (plain positional arguments).
pub fn encode_resolve(name: &str, out: &mut Vec<u8>) -> Result<(), RemoteError> {
    let mut w = Writer::new(out);
    w.proto();
    w.value(&Value::Tuple(vec![
        Value::str(DAEMON_GUID),
        Value::str("ResolvePYROLOC"),
        Value::Int(0),
        Value::Tuple(vec![Value::str(name)]),
    ]))?;
    w.stop();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request written from the call's parts is byte for byte the pickle of the tuple
    /// Python's proxy sends, and reads back as the same call.
    #[test]
    fn a_request_is_the_pickle_of_its_tuple() {
        let args = [
            vec![],
            vec![Value::str("hi")],
            vec![
                Value::Int(1),
                Value::Bytes(vec![0; 300]),
                Value::None,
                Value::str("é"),
            ],
        ];
        let kwargs = [
            vec![],
            vec![
                ("key".to_string(), Value::Int(70_000)),
                ("clé".to_string(), Value::None),
            ],
        ];
        for a in &args {
            for k in &kwargs {
                for oneway in [false, true] {
                    let mut call = Call::with_args("get_data", a.clone(), k.clone());
                    call.oneway = oneway;
                    let mut got = Vec::new();
                    encode("obj.guid", &call, &mut got).unwrap();
                    let flags = RIF_VARARGS | RIF_KEYWORDS | if oneway { RIF_ONEWAY } else { 0 };
                    let tuple = Value::Tuple(vec![
                        Value::str("obj.guid"),
                        Value::str("get_data"),
                        Value::Int(flags),
                        Value::Tuple(vec![
                            Value::Tuple(a.clone()),
                            Value::Map(
                                k.iter()
                                    .map(|(k, v)| (Value::str(k.as_str()), v.clone()))
                                    .collect(),
                            ),
                        ]),
                    ]);
                    let mut want = Vec::new();
                    pickle::write(&tuple, &mut want).unwrap();
                    assert_eq!(got, want);
                }
            }
        }
    }
}
