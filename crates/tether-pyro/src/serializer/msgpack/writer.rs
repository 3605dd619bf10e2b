//! Writing msgpack, with large byte strings left in place for vectored writes.

use super::*;

/// Appends the msgpack encoding of `value` to `out`.
pub fn encode(value: &Value, out: &mut Vec<u8>) -> Result<(), RemoteError> {
    let mut none = Vec::new();
    Writer {
        out,
        splices: &mut none,
        min_splice: usize::MAX,
    }
    .value(value, 0)
}

/// Appends the msgpack encoding of `value` to `out`, except the data of byte strings of at least
/// `min_splice` bytes: for those only the bin header is written, and the data is recorded in
/// `splices` at the offset of `out` where it belongs (see [`Splice`]). Inserting the splices
/// into `out` gives exactly what [`encode`] writes.
pub fn encode_spliced<'v>(
    value: &'v Value,
    out: &mut Vec<u8>,
    splices: &mut Vec<Splice<'v>>,
    min_splice: usize,
) -> Result<(), RemoteError> {
    Writer {
        out,
        splices,
        min_splice,
    }
    .value(value, 0)
}

/// Appends an INVOKE payload, the 4-array `(object, method, vargs, kwargs)`, written from the
/// call's parts as they are (kwargs `None` writes nil): what [`encode_spliced`] writes for that
/// tuple, without building the tuple (its `Vec` and a copy of the object id) on every call.
pub fn encode_invoke_spliced<'v>(
    object: &str,
    method: &str,
    args: &'v [Value],
    kwargs: Option<&'v [(String, Value)]>,
    out: &mut Vec<u8>,
    splices: &mut Vec<Splice<'v>>,
    min_splice: usize,
) -> Result<(), RemoteError> {
    out.push(0x94);
    write_str(object, out)?;
    write_str(method, out)?;
    write_len(args.len(), [0, 0xdc, 0xdd], Some((0x90, 16)), out)?;
    let mut w = Writer {
        out,
        splices,
        min_splice,
    };
    for a in args {
        w.value(a, 2)?;
    }
    match kwargs {
        None => w.out.push(0xc0),
        Some(kwargs) => {
            write_len(kwargs.len(), [0, 0xde, 0xdf], Some((0x80, 16)), w.out)?;
            for (k, v) in kwargs {
                write_str(k, w.out)?;
                w.value(v, 2)?;
            }
        }
    }
    Ok(())
}

/// The encoder's state: the output buffer and where large byte strings go.
pub(super) struct Writer<'o, 's, 'v> {
    out: &'o mut Vec<u8>,
    splices: &'s mut Vec<Splice<'v>>,
    min_splice: usize,
}

impl<'v> Writer<'_, '_, 'v> {
    fn value(&mut self, value: &'v Value, depth: usize) -> Result<(), RemoteError> {
        check_encode_depth(FORMAT, depth)?;
        let out = &mut *self.out;
        match value {
            Value::None => out.push(0xc0),
            Value::Bool(false) => out.push(0xc2),
            Value::Bool(true) => out.push(0xc3),
            Value::Int32(i) => write_int(i64::from(*i), out),
            Value::Int(i) => write_int(*i, out),
            Value::BigInt(b) => {
                if let Some(i) = b.to_i64() {
                    write_int(i, out);
                } else if let Some(u) = b.to_u64() {
                    out.push(0xcf);
                    out.extend_from_slice(&u.to_be_bytes());
                } else {
                    write_ext(EXT_BIGINT, b.to_string().as_bytes(), out)?;
                }
            }
            Value::Float(x) => {
                out.push(0xcb);
                out.extend_from_slice(&x.to_be_bytes());
            }
            Value::Str(s) => write_str(s, out)?,
            Value::Bytes(b) => {
                write_len(b.len(), [0xc4, 0xc5, 0xc6], None, out)?;
                if b.len() >= self.min_splice {
                    self.splices.push(Splice {
                        at: out.len(),
                        data: b,
                    });
                } else {
                    out.extend_from_slice(b);
                }
            }
            Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
                write_len(items.len(), [0, 0xdc, 0xdd], Some((0x90, 16)), out)?;
                for item in items {
                    self.value(item, depth + 1)?;
                }
            }
            Value::Map(entries) => {
                write_len(entries.len(), [0, 0xde, 0xdf], Some((0x80, 16)), out)?;
                for (k, v) in entries {
                    self.value(k, depth + 1)?;
                    self.value(v, depth + 1)?;
                }
            }
            Value::DateTime(ms) => {
                let secs = *ms as f64 / 1000.0;
                write_ext(EXT_DATETIME, &secs.to_le_bytes(), out)?;
            }
            Value::Object(obj) => {
                write_len(obj.fields.len() + 1, [0, 0xde, 0xdf], Some((0x80, 16)), out)?;
                write_str("__class__", out)?;
                write_str(&obj.class, out)?;
                for (k, v) in &obj.fields {
                    write_str(k, self.out)?;
                    self.value(v, depth + 1)?;
                }
            }
            Value::Typed(t) => self.value(&t.value, depth)?,
            other => return Err(crate::serializer::common::unsupported(FORMAT, other)),
        }
        Ok(())
    }
}

/// The smallest form for an integer, as Python's msgpack packer chooses it.
pub(super) fn write_int(i: i64, out: &mut Vec<u8>) {
    if i >= 0 {
        let u = i as u64;
        if u < 0x80 {
            out.push(u as u8);
        } else if u <= 0xff {
            out.extend_from_slice(&[0xcc, u as u8]);
        } else if u <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(u as u16).to_be_bytes());
        } else if u <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(u as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&u.to_be_bytes());
        }
    } else if i >= -32 {
        out.push(i as u8);
    } else if i >= -0x80 {
        out.extend_from_slice(&[0xd0, i as u8]);
    } else if i >= -0x8000 {
        out.push(0xd1);
        out.extend_from_slice(&(i as i16).to_be_bytes());
    } else if i >= -0x8000_0000 {
        out.push(0xd2);
        out.extend_from_slice(&(i as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

#[inline]
pub(super) fn write_str(s: &str, out: &mut Vec<u8>) -> Result<(), RemoteError> {
    write_len(s.len(), [0xd9, 0xda, 0xdb], Some((0xa0, 32)), out)?;
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// Writes a length header: the fix form `(base, limit)` when given and `len < limit`, else the
/// 8-, 16- or 32-bit form (`codes[0]` is only used when non-zero: arrays and maps have no 8-bit form).
///
/// Inline, with the longer forms apart: a call writes three or four of these, nearly all in
/// their one-byte fix form, and as a call of its own each cost some 30 instructions.
#[inline]
pub(super) fn write_len(
    len: usize,
    codes: [u8; 3],
    fix: Option<(u8, usize)>,
    out: &mut Vec<u8>,
) -> Result<(), RemoteError> {
    match fix {
        Some((base, limit)) if len < limit => {
            out.push(base | len as u8);
            Ok(())
        }
        _ => write_long_len(len, codes, out),
    }
}

/// [`write_len`]'s 8-, 16- and 32-bit forms.
fn write_long_len(len: usize, codes: [u8; 3], out: &mut Vec<u8>) -> Result<(), RemoteError> {
    if codes[0] != 0 && len <= 0xff {
        out.extend_from_slice(&[codes[0], len as u8]);
    } else if len <= 0xffff {
        out.push(codes[1]);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        let len = u32::try_from(len).map_err(|_| {
            RemoteError::serialization("msgpack: item longer than 4 GiB cannot be encoded")
        })?;
        out.push(codes[2]);
        out.extend_from_slice(&len.to_be_bytes());
    }
    Ok(())
}

pub(super) fn write_ext(code: i8, data: &[u8], out: &mut Vec<u8>) -> Result<(), RemoteError> {
    match data.len() {
        1 => out.push(0xd4),
        2 => out.push(0xd5),
        4 => out.push(0xd6),
        8 => out.push(0xd7),
        16 => out.push(0xd8),
        n if n <= 0xff => out.extend_from_slice(&[0xc7, n as u8]),
        n if n <= 0xffff => {
            out.push(0xc8);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            let n = u32::try_from(n)
                .map_err(|_| RemoteError::serialization("msgpack: ext longer than 4 GiB"))?;
            out.push(0xc9);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
    out.push(code as u8);
    out.extend_from_slice(data);
    Ok(())
}
