//! Writing serpent: Python literal text, as `repr()` writes it.

use super::*;

/// Appends the serpent encoding of `value` (header line included) to `out`.
pub fn encode(value: &Value, out: &mut Vec<u8>) -> Result<(), RemoteError> {
    out.extend_from_slice(HEADER);
    write_value(value, out, 0)
}

pub(super) fn write_value(
    value: &Value,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), RemoteError> {
    check_encode_depth(FORMAT, depth)?;
    match value {
        Value::None => out.extend_from_slice(b"None"),
        Value::Bool(true) => out.extend_from_slice(b"True"),
        Value::Bool(false) => out.extend_from_slice(b"False"),
        Value::Int32(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::BigInt(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Float(x) => {
            if x.is_nan() {
                out.extend_from_slice(b"{'__class__':'float','value':'nan'}");
            } else if x.is_infinite() {
                out.extend_from_slice(if *x > 0.0 { b"1e30000" } else { b"-1e30000" });
            } else {
                push_python_float(*x, out);
            }
        }
        Value::Str(s) => write_str(s, out),
        Value::Bytes(b) => {
            out.extend_from_slice(b"{'data': '");
            out.extend_from_slice(
                base64::engine::general_purpose::STANDARD
                    .encode(b)
                    .as_bytes(),
            );
            out.extend_from_slice(b"', 'encoding': 'base64'}");
        }
        Value::List(items) => write_seq(b'[', items, b']', out, depth)?,
        Value::Tuple(items) => {
            write_seq(b'(', items, b')', out, depth)?;
            if items.len() == 1 {
                // `(x,)`: without the comma Python reads a parenthesized value.
                out.pop();
                out.extend_from_slice(b",)");
            }
        }
        Value::Set(items) if items.is_empty() => out.extend_from_slice(b"()"),
        Value::Set(items) => write_seq(b'{', items, b'}', out, depth)?,
        Value::Map(entries) => {
            out.push(b'{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(k, out, depth + 1)?;
                out.push(b':');
                write_value(v, out, depth + 1)?;
            }
            out.push(b'}');
        }
        Value::DateTime(ms) => write_str(&iso_datetime(*ms), out),
        Value::Object(obj) => {
            out.extend_from_slice(b"{'__class__':");
            write_str(&obj.class, out);
            for (k, v) in &obj.fields {
                out.push(b',');
                write_str(k, out);
                out.push(b':');
                write_value(v, out, depth + 1)?;
            }
            out.push(b'}');
        }
        Value::Typed(t) => write_value(&t.value, out, depth)?,
        other => return Err(crate::serializer::common::unsupported(FORMAT, other)),
    }
    Ok(())
}

pub(super) fn write_seq(
    open: u8,
    items: &[Value],
    close: u8,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<(), RemoteError> {
    out.push(open);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_value(item, out, depth + 1)?;
    }
    out.push(close);
    Ok(())
}

/// Python's `repr(str)`.
pub(super) fn write_str(s: &str, out: &mut Vec<u8>) {
    let mut buf = String::with_capacity(s.len() + 2);
    tether_core::python::push_str_repr(s, &mut buf);
    out.extend_from_slice(buf.as_bytes());
}
