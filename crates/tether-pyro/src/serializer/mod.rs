//! Pyro's payload serializers: serpent (id 1), marshal (id 2), json (id 3) and msgpack (id 4)
//! in Pyro5's numbering. Each maps [`Value`] both ways; the per-format module docs hold the mapping table.
//!
//! Decoders never trust their input: they enforce [`Limits`] (nesting depth, item count; the
//! total size is bounded earlier, by the frame reader's message size limit), never allocate from
//! a declared length before the bytes are there, and return a [`RemoteError`] of kind
//! `Serialization`, with the byte position, on anything they cannot map.
//!
//! Mapping in one line per format (details in each module): serpent keeps tuples and sets, and
//! carries bytes as serpent's base64 dict; json has no bytes (Pyro5 refuses them too) and turns
//! tuples and sets into lists and map keys into strings; msgpack turns tuples and sets into lists
//! and carries bytes, big ints (ext 0x31) and datetimes (ext 0x32); marshal (CPython's own
//! format) keeps tuples and sets, carries bytes and big ints, and sends datetimes as text. On
//! every format `Int32`
//! reads back as `Int`, `Object` as a `Map` with `__class__` first, `Typed` as its inner value,
//! and a decoded value comes back unchanged from another encode and decode (and as the same
//! bytes when the peer wrote canonical output), so an echo returns what it was sent.

use std::borrow::Cow;
use tether_core::{Call, RemoteError, Value};

pub(crate) mod common;
pub mod json;
pub mod marshal;
pub mod msgpack;
pub mod serpent;

/// Limits every decoder enforces.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Deepest nesting of containers. Default 64. Values above 512 act as 512: the codecs
    /// recurse once per level, and that cap keeps any payload from overflowing the stack.
    pub max_depth: usize,
    /// Most items (collection elements plus map entries) in one payload. Default 1,000,000.
    pub max_items: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_items: 1_000_000,
        }
    }
}

/// A byte string an encoder left out of its output buffer so that it can be written to the
/// socket from where it already lies (a vectored write) instead of being copied: `data` belongs
/// at offset `at` of the output buffer, i.e. after the first `at` bytes the encoder wrote.
/// Offsets are non-decreasing in the order the encoder records them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Splice<'v> {
    /// Offset in the output buffer (counted in the buffer's bytes only, without earlier splices).
    pub at: usize,
    /// The borrowed bytes.
    pub data: &'v [u8],
}

/// A byte string the frame reader took out of a payload while receiving it, reading it straight
/// into its own `Vec` (which becomes the decoded `Value::Bytes` without a copy). The payload
/// then lacks those bytes: they belong at offset `at`, where the byte string's header ends.
/// Only msgpack payloads are ever cut this way (see `Connection::set_detach_large_bytes`).
#[derive(Clone, PartialEq, Eq)]
pub struct Detached {
    /// Offset in the payload where the bytes belong.
    pub at: usize,
    /// The bytes.
    pub data: Vec<u8>,
}

impl std::fmt::Debug for Detached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detached")
            .field("at", &self.at)
            .field("len", &self.data.len())
            .finish()
    }
}

/// Byte strings at least this long are spliced by [`Serializer::encode_spliced`]: below it a
/// copy costs less than an extra I/O vector, above it the copy is the larger cost (a 1 MiB
/// copy is ~50 µs, as much as the kernel's own transfer).
pub const SPLICE_THRESHOLD: usize = 64 * 1024;

/// A Pyro serializer.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Serializer {
    /// serpent: Python literal text (Pyro's default).
    Serpent,
    /// Pyro's json dialect (with `NaN`/`Infinity`).
    Json,
    /// msgpack with Pyro's ext types.
    Msgpack,
    /// CPython's `marshal` format (accepted by Python's Pyro daemons by default).
    Marshal,
}

impl Serializer {
    /// The name Pyro uses in configuration (`serpent`, `json`, `msgpack`, `marshal`).
    pub fn name(self) -> &'static str {
        match self {
            Serializer::Serpent => "serpent",
            Serializer::Json => "json",
            Serializer::Msgpack => "msgpack",
            Serializer::Marshal => "marshal",
        }
    }

    /// Parses a configuration name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "serpent" => Some(Serializer::Serpent),
            "json" => Some(Serializer::Json),
            "msgpack" => Some(Serializer::Msgpack),
            "marshal" => Some(Serializer::Marshal),
            _ => None,
        }
    }

    /// Appends the encoding of `value` to `out`.
    pub fn encode(self, value: &Value, out: &mut Vec<u8>) -> Result<(), RemoteError> {
        match self {
            Serializer::Serpent => serpent::encode(value, out),
            Serializer::Json => json::encode(value, out),
            Serializer::Msgpack => msgpack::encode(value, out),
            Serializer::Marshal => marshal::encode(value, out),
        }
    }

    /// Like [`Self::encode`], but byte strings of at least [`SPLICE_THRESHOLD`] bytes are not
    /// copied: only their header goes into `out`, and the bytes themselves are recorded in
    /// `splices` to be written from `value` by a vectored write. `out` with the splices inserted
    /// at their offsets is exactly what [`Self::encode`] writes.
    ///
    /// Only msgpack carries raw bytes, so only msgpack splices; serpent (base64) and json (no
    /// bytes) encode as usual and record nothing.
    pub fn encode_spliced<'v>(
        self,
        value: &'v Value,
        out: &mut Vec<u8>,
        splices: &mut Vec<Splice<'v>>,
    ) -> Result<(), RemoteError> {
        match self {
            Serializer::Msgpack => msgpack::encode_spliced(value, out, splices, SPLICE_THRESHOLD),
            _ => self.encode(value, out),
        }
    }

    /// Decodes one value that must span all of `bytes`.
    pub fn decode(self, bytes: &[u8], limits: &Limits) -> Result<Value, RemoteError> {
        match self {
            Serializer::Serpent => serpent::decode(bytes, limits),
            Serializer::Json => json::decode(bytes, limits),
            Serializer::Msgpack => msgpack::decode(bytes, limits),
            Serializer::Marshal => marshal::decode(bytes, limits),
        }
    }

    /// [`Self::decode`] for a payload the frame reader cut a byte string out of (`None`: a
    /// whole payload). Only msgpack payloads can be cut; any other serializer refuses a cut one.
    pub fn decode_detached(
        self,
        bytes: &[u8],
        detached: Option<Detached>,
        limits: &Limits,
    ) -> Result<Value, RemoteError> {
        match (self, detached) {
            (_, None) => self.decode(bytes, limits),
            (Serializer::Msgpack, Some(d)) => msgpack::decode_detached(bytes, Some(d), limits),
            (_, Some(_)) => Err(RemoteError::serialization(format!(
                "{}: payload with detached bytes",
                self.name()
            ))),
        }
    }

    /// Appends an INVOKE payload for `call` on `object`: the 4-tuple
    /// `(object, method, vargs, kwargs)` for serpent, msgpack and marshal (vargs a tuple, in
    /// marshal a list, as Pyro writes them), the object
    /// `{"object", "method", "params", "kwargs"}` for json. `kwargs_none` writes `None` instead of
    /// a dict for kwargs (Python's client does so for `__getattr__`, `__setattr__` and batches).
    pub fn encode_call(
        self,
        object: &str,
        call: &Call,
        kwargs_none: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), RemoteError> {
        let kwargs = if kwargs_none {
            Value::None
        } else {
            Value::Map(
                call.kwargs
                    .iter()
                    .map(|(k, v)| (Value::Str(k.clone()), v.clone()))
                    .collect(),
            )
        };
        let payload = match self {
            Serializer::Json => Value::Map(vec![
                (Value::str("object"), Value::str(object)),
                (Value::str("method"), Value::str(call.method.clone())),
                (Value::str("params"), Value::List(call.args.clone())),
                (Value::str("kwargs"), kwargs),
            ]),
            _ => Value::Tuple(vec![
                Value::str(object),
                Value::str(call.method.clone()),
                self.vargs(call.args.clone()),
                kwargs,
            ]),
        };
        self.encode(&payload, out)
    }

    /// A call's positional arguments as this serializer's client sends them: a tuple, but a
    /// list in marshal (Pyro's `MarshalSerializer.dumpsCall` makes one).
    pub(crate) fn vargs(self, args: Vec<Value>) -> Value {
        if self == Serializer::Marshal {
            Value::List(args)
        } else {
            Value::Tuple(args)
        }
    }

    /// Decodes an INVOKE payload into `(object id, call)`. Accepts a list or tuple for vargs and
    /// `None` for kwargs, as Python clients send them. `call.oneway` is left false (it is a
    /// header flag, not part of the payload).
    pub fn decode_call(self, bytes: &[u8], limits: &Limits) -> Result<(String, Call), RemoteError> {
        self.decode_call_detached(bytes, None, limits)
            .map(|(object, call)| (object.into_owned(), call))
    }

    /// [`Self::decode_call`] for a payload the frame reader may have cut a byte string out of
    /// (see [`Detached`]). The object id may be borrowed from `bytes` (a server only looks it
    /// up).
    pub fn decode_call_detached<'a>(
        self,
        bytes: &'a [u8],
        detached: Option<Detached>,
        limits: &Limits,
    ) -> Result<(Cow<'a, str>, Call), RemoteError> {
        let bad =
            |what: &str| RemoteError::serialization(format!("invalid INVOKE payload: {what}"));
        // The object id, when it is a str (refused below, after the other parts' shapes).
        let owned_str = |v: Value| match v {
            Value::Str(s) => Some(Cow::Owned(s)),
            _ => None,
        };
        if self == Serializer::Msgpack && detached.is_none() {
            if let Some((object, call)) = msgpack::decode_invoke_usual(bytes, limits) {
                return Ok((Cow::Borrowed(object), call));
            }
        }
        let serpent = (self == Serializer::Serpent && detached.is_none())
            .then(|| serpent::decode_invoke(bytes, limits))
            .flatten();
        // The usual serpent call (a str method, a tuple or list of arguments, no keyword
        // arguments) becomes its Call at once; any other shape goes through the checks below.
        let serpent = match serpent {
            Some((
                object,
                [Value::Str(method), Value::Tuple(args) | Value::List(args), kwargs],
            )) if matches!(&kwargs, Value::None)
                || matches!(&kwargs, Value::Map(m) if m.is_empty()) =>
            {
                return Ok((Cow::Borrowed(object), Call::new(method, args)));
            }
            other => other,
        };
        let (object, method, args, kwargs) =
            if self == Serializer::Msgpack && bytes.first() == Some(&0x94) {
                // The four parts without the array around them (see decode_invoke).
                let (o, [m, a, k]) = msgpack::decode_invoke(bytes, detached, limits)?;
                (o.map(Cow::Borrowed), m, a, k)
            } else if let Some((o, [m, a, k])) = serpent {
                // The usual shape, read directly (see serpent::decode_invoke).
                (Some(Cow::Borrowed(o)), m, a, k)
            } else {
                match self.decode_detached(bytes, detached, limits)? {
                    Value::Map(mut entries) if self == Serializer::Json => {
                        let mut take = |key: &str| {
                            entries
                                .iter()
                                .position(|(k, _)| k.as_str() == Some(key))
                                .map(|i| entries.swap_remove(i).1)
                        };
                        (
                            owned_str(take("object").ok_or_else(|| bad("no 'object'"))?),
                            take("method").ok_or_else(|| bad("no 'method'"))?,
                            take("params").unwrap_or(Value::List(Vec::new())),
                            take("kwargs").unwrap_or(Value::None),
                        )
                    }
                    Value::Tuple(items) | Value::List(items) if items.len() == 4 => {
                        let mut it = items.into_iter();
                        match (it.next(), it.next(), it.next(), it.next()) {
                            (Some(o), Some(m), Some(a), Some(k)) => (owned_str(o), m, a, k),
                            _ => return Err(bad("expected a 4-tuple")),
                        }
                    }
                    _ => return Err(bad("expected (object, method, vargs, kwargs)")),
                }
            };
        let Some(object) = object else {
            return Err(bad("object id is not a string"));
        };
        let Value::Str(method) = method else {
            return Err(bad("method name is not a string"));
        };
        let args = match args {
            Value::Tuple(a) | Value::List(a) => a,
            Value::None => Vec::new(),
            _ => return Err(bad("vargs is not a sequence")),
        };
        let kwargs = match kwargs {
            Value::None => Vec::new(),
            // (Most calls: nothing to convert.)
            Value::Map(m) if m.is_empty() => Vec::new(),
            Value::Map(m) => m
                .into_iter()
                .map(|(k, v)| match k {
                    Value::Str(k) => Ok((k, v)),
                    _ => Err(bad("keyword argument name is not a string")),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(bad("kwargs is not a dict")),
        };
        Ok((object, Call::with_args(method, args, kwargs)))
    }
}
