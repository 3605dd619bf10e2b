//! The envelopes: calls, replies and faults of Hessian 2.0 and 1.0.
//!
//! | message | Hessian 2.0 | Hessian 1.0 |
//! |---|---|---|
//! | call | `H 02 00 C` method argc args (also a bare `C` call) | `c 01 00` (or `c 02 00`: "reply in Hessian 2") headers* `m` len16 method args `z` |
//! | reply | `H 02 00 R` value | `r 01 00` value `z` (also `r 02 00` value `z`) |
//! | fault | `H 02 00 F` map(code, message, detail) | `r 01 00 f` (key value)* `z` (Caucho adds another `z`) |
//!
//! A server answers a Hessian 2 call and a `c 02 00` call in Hessian 2, a `c 01 00` call in
//! Hessian 1, as Caucho's does (its Java client cannot read Hessian 1 replies beyond scalars).

use super::read::Reader;
use super::write::{h1_string, Writer};
use super::{DecodeError, Limits};
use tether_core::{RemoteError, Value};

/// How a call was written, which decides how to answer it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallVersion {
    /// `H 02 00 C` (or a bare `C`): Hessian 2 in and out.
    Hessian2,
    /// `c 02 00`: a Hessian 1 call that asks for a Hessian 2 reply (Caucho's default client).
    Hessian1Reply2,
    /// `c 01 00`: Hessian 1 in and out (python-hessian, older clients).
    Hessian1,
}

impl CallVersion {
    /// Whether the reply is Hessian 2.
    pub fn replies_hessian2(self) -> bool {
        self != CallVersion::Hessian1
    }
}

/// A decoded call.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedCall {
    /// The envelope it came in.
    pub version: CallVersion,
    /// The method name as sent (possibly `name__N` or mangled `name_int_string`).
    pub method: String,
    /// The arguments.
    pub args: Vec<Value>,
}

/// A Hessian fault: `code` (`ServiceException`, `NoSuchMethodException`, ...), `message`, and a
/// `detail` (Java puts the exception object there).
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    /// The fault code.
    pub code: String,
    /// The message.
    pub message: String,
    /// The detail (`Value::None` when absent).
    pub detail: Value,
}

/// Decodes a call.
pub fn parse_call(body: &[u8], limits: &Limits) -> Result<ParsedCall, DecodeError> {
    super::read::read_twice(body, limits, read_call)
}

fn read_call(r: &mut Reader<'_>) -> Result<ParsedCall, DecodeError> {
    let first = r.byte()?;
    let version = match first {
        b'H' => {
            let (major, minor) = (r.byte()?, r.byte()?);
            if (major, minor) != (2, 0) {
                return Err(DecodeError::at(
                    1,
                    format!("unsupported Hessian version {major}.{minor}"),
                ));
            }
            if r.byte()? != b'C' {
                return Err(DecodeError::at(3, "expected a call ('C')"));
            }
            CallVersion::Hessian2
        }
        b'C' => CallVersion::Hessian2,
        b'c' => {
            let major = r.byte()?;
            let _minor = r.byte()?;
            if major >= 2 {
                CallVersion::Hessian1Reply2
            } else {
                CallVersion::Hessian1
            }
        }
        b'r' | b'R' => {
            return Err(DecodeError::at(
                0,
                "a reply was sent where a call was expected",
            ))
        }
        other => {
            return Err(DecodeError::at(
                0,
                format!("0x{other:02x} is an unknown Hessian message code"),
            ))
        }
    };
    if version == CallVersion::Hessian2 {
        let method = r.h2_string()?;
        let at = r.pos;
        let argc = r.h2_int_value()?;
        if argc < 0 || argc as u64 > (r.buf.len() - r.pos) as u64 {
            return Err(DecodeError::at(
                at,
                format!("argument count {argc} is impossible"),
            ));
        }
        let mut args = Vec::with_capacity(argc as usize);
        for _ in 0..argc {
            args.push(r.h2()?);
        }
        r.end()?;
        return Ok(ParsedCall {
            version,
            method,
            args,
        });
    }
    // Hessian 1: headers (ignored), then the method, then arguments up to 'z'.
    loop {
        match r.byte()? {
            b'H' => {
                // header name, then its value
                r.pos -= 1;
                let _name = h1_name(r, b'H')?;
                let _ = r.h1()?;
            }
            b'm' => {
                r.pos -= 1;
                let method = h1_name(r, b'm')?;
                let mut args = Vec::new();
                loop {
                    if r.peek()? == b'z' {
                        r.pos += 1;
                        break;
                    }
                    args.push(r.h1()?);
                }
                r.end()?;
                return Ok(ParsedCall {
                    version,
                    method,
                    args,
                });
            }
            other => {
                return Err(DecodeError::at(
                    r.pos - 1,
                    format!("expected a header or the method ('m'), got 0x{other:02x}"),
                ))
            }
        }
    }
}

/// `tag` len16 name (Hessian 1's method and header names).
fn h1_name(r: &mut Reader<'_>, tag: u8) -> Result<String, DecodeError> {
    let at = r.pos;
    if r.byte()? != tag {
        return Err(DecodeError::at(at, "expected a name"));
    }
    // Same layout as a final string chunk: reuse the string reader by pretending it is 'S'.
    let len_hi = r.byte()?;
    let len_lo = r.byte()?;
    let units = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    let mut s = String::new();
    let mut pending = None;
    if units > r.buf.len() - r.pos {
        return Err(DecodeError::at(
            at,
            format!("name length {units} is past the end"),
        ));
    }
    super::strings::decode_units(r.buf, &mut r.pos, units, &mut s, &mut pending)?;
    if pending.is_some() {
        return Err(DecodeError::at(r.pos, "lone surrogate in a name"));
    }
    Ok(s)
}

/// Writes a reply.
pub fn write_reply(hessian2: bool, value: &Value, out: &mut Vec<u8>) -> Result<(), RemoteError> {
    if hessian2 {
        out.extend_from_slice(b"H\x02\x00R");
        Writer::default().h2(value, out)
    } else {
        out.extend_from_slice(b"r\x01\x00");
        Writer::default().h1(value, out)?;
        out.push(b'z');
        Ok(())
    }
}

/// Writes a fault.
pub fn write_fault(hessian2: bool, fault: &Fault, out: &mut Vec<u8>) -> Result<(), RemoteError> {
    let mut entries = vec![
        (Value::str("code"), Value::str(fault.code.as_str())),
        (Value::str("message"), Value::str(fault.message.as_str())),
    ];
    if !matches!(fault.detail, Value::None) {
        entries.push((Value::str("detail"), fault.detail.clone()));
    }
    if hessian2 {
        out.extend_from_slice(b"H\x02\x00F");
        Writer::default().h2(&Value::Map(entries), out)
    } else {
        out.extend_from_slice(b"r\x01\x00f");
        let mut w = Writer::default();
        for (k, v) in &entries {
            w.h1(k, out)?;
            w.h1(v, out)?;
        }
        out.extend_from_slice(b"zz");
        Ok(())
    }
}

/// Writes a call: Hessian 2 (`H 02 00 C`), or Hessian 1 (`c 01 00 m ...`).
pub fn write_call(
    hessian2: bool,
    method: &str,
    args: &[Value],
    out: &mut Vec<u8>,
) -> Result<(), RemoteError> {
    if hessian2 {
        out.extend_from_slice(b"H\x02\x00C");
        super::write::string(method, out);
        super::write::int(
            i32::try_from(args.len())
                .map_err(|_| RemoteError::serialization("too many arguments"))?,
            out,
        );
        let mut w = Writer::default();
        for a in args {
            w.h2(a, out)?;
        }
    } else {
        out.extend_from_slice(b"c\x01\x00m");
        let mut name = Vec::new();
        h1_string(method, &mut name);
        // h1_string wrote 'S' len16 data: a method name has the same layout after 'm'.
        out.extend_from_slice(&name[1..]);
        let mut w = Writer::default();
        for a in args {
            w.h1(a, out)?;
        }
        out.push(b'z');
    }
    Ok(())
}

/// Decodes a reply: the value, or the fault.
pub fn parse_reply(body: &[u8], limits: &Limits) -> Result<Result<Value, Fault>, DecodeError> {
    super::read::read_twice(body, limits, read_reply)
}

fn read_reply(r: &mut Reader<'_>) -> Result<Result<Value, Fault>, DecodeError> {
    match r.byte()? {
        b'H' => {
            let (major, minor) = (r.byte()?, r.byte()?);
            if major != 2 {
                return Err(DecodeError::at(
                    1,
                    format!("unsupported Hessian version {major}.{minor}"),
                ));
            }
            match r.byte()? {
                b'R' => {
                    let v = r.h2()?;
                    r.end()?;
                    Ok(Ok(v))
                }
                b'F' => {
                    r.loops_as_none = true;
                    let m = r.h2()?;
                    Ok(Err(fault_of(&m)))
                }
                other => Err(DecodeError::at(
                    3,
                    format!("expected a reply or fault, got 0x{other:02x}"),
                )),
            }
        }
        b'r' => {
            let major = r.byte()?;
            let _minor = r.byte()?;
            if r.peek()? == b'f' {
                r.pos += 1;
                r.loops_as_none = true;
                let mut entries = Vec::new();
                loop {
                    if r.peek()? == b'z' {
                        break;
                    }
                    let k = r.h1()?;
                    let v = r.h1()?;
                    entries.push((k, v));
                }
                return Ok(Err(fault_of(&Value::Map(entries))));
            }
            let v = if major >= 2 { r.h2()? } else { r.h1()? };
            if r.byte()? != b'z' {
                return Err(DecodeError::at(
                    r.pos - 1,
                    "expected the end of the reply ('z')",
                ));
            }
            r.end()?;
            Ok(Ok(v))
        }
        other => Err(DecodeError::at(
            0,
            format!("0x{other:02x} is not a Hessian reply"),
        )),
    }
}

fn fault_of(m: &Value) -> Fault {
    let get = |k: &str| m.get(k).cloned().unwrap_or(Value::None);
    let text = |v: Value| match v {
        Value::Str(s) => s,
        Value::None => String::new(),
        other => other.to_string(),
    };
    Fault {
        code: text(get("code")),
        message: text(get("message")),
        detail: get("detail"),
    }
}
