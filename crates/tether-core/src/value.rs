//! [`Value`]: the dynamic data model every wire protocol maps to.
//!
//! A value must survive a round trip through any one protocol unchanged (an echo service returns
//! exactly what it received), so `Value` keeps the distinctions the wires make even where Rust
//! would not force them: a 32-bit int vs a 64-bit one (Hessian `int` vs `long`, XML-RPC `i4` vs
//! `i8`), tuple vs list vs set (Pyro), class names of typed objects, lists and maps (Hessian).
//!
//! Equality ([`PartialEq`]) is *structural and exact*: floats compare by bit pattern, except
//! that every NaN equals every NaN, so `-0.0 != 0.0` and a round-tripped NaN equals itself.
//! That is the equality a "lossless round trip" test needs.
//!
//! `Value` is `#[non_exhaustive]`: a wire may need a new variant (a decimal, say) without
//! breaking every `match` outside this crate, so matches there end with a `_` arm.
//!
//! ## Shared references and loops
//! `Value` is a tree with no identity. Wires that carry references (Hessian's `ref`, a pickle
//! memo) resolve a reference to a value already complete **while decoding**, by cloning it into
//! each place that names it; a reference to a container still being decoded (one that encloses
//! the reference: a loop, such as a linked-list cell whose `rest` is the cell itself) becomes a
//! [`Value::BackRef`] that counts how many enclosing containers up its target is. A back
//! reference stays valid when the subtree holding it is copied or moved, and equality stays
//! structural.
//! - Encoders of wires with references (Hessian 1 and 2) write a back reference as a reference
//!   to that enclosing container, so a loop survives a round trip and a gateway between two
//!   such wires. Encoders of wires without them (serpent, msgpack, JSON, XML-RPC) refuse a value
//!   holding one with a serialization error naming the loop, as Python's own encoders do.
//! - Shared (non-loop) references arrive as copies: the data survives, identity does not. A
//!   reference is cheap on the wire but its expansion is not, so every decoder that resolves
//!   references counts the *expanded* size against its limits (total items, total bytes); a
//!   message of a few kilobytes that references itself into gigabytes is refused, not built.
//!
//! Full identity-preserving graphs would need an arena or `Rc` in `Value`, making every codec and
//! every user `match` pay for a case that remote interfaces rarely need; loops are the one case
//! that copying cannot express.

use num_bigint::BigInt;
use std::fmt;

/// A dynamically typed value as carried by a wire protocol.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Value {
    /// Python `None`, Java `null`, XML-RPC `<nil/>`.
    None,
    /// A boolean.
    Bool(bool),
    /// A 32-bit integer: Hessian `int`, XML-RPC `i4`/`int`, Rust `i32`. Pyro writes it as a plain int.
    Int32(i32),
    /// A 64-bit integer: the default integer (Python `int` that fits, Hessian `long`, XML-RPC `i8`).
    Int(i64),
    /// An integer that does not fit in 64 bits (Python big ints; serpent and msgpack carry them).
    BigInt(BigInt),
    /// A 64-bit float, including infinities, NaN and `-0.0`.
    Float(f64),
    /// A Unicode string (any code point, including non-BMP and control characters).
    Str(String),
    /// A byte string.
    Bytes(Vec<u8>),
    /// An ordered, mutable sequence (Python `list`, Java `List`, XML-RPC `array`).
    List(Vec<Value>),
    /// An ordered, immutable sequence (Python `tuple`). Wires without tuples write a list.
    Tuple(Vec<Value>),
    /// An unordered collection of distinct values (Python `set`). Kept in received order.
    Set(Vec<Value>),
    /// A map with keys of any type, in insertion order (Python `dict`, Java `Map`, XML-RPC `struct`).
    Map(Vec<(Value, Value)>),
    /// A point in time: milliseconds since the Unix epoch, UTC (Hessian date, XML-RPC dateTime).
    DateTime(i64),
    /// A typed object: a class name and named fields (Hessian objects, Pyro `__class__` dicts).
    ///
    /// The class name is only a label: no decoder ever picks a Rust type from it.
    Object(Box<Object>),
    /// A list or map that carries a class name on the wire (Hessian typed lists and maps such as
    /// `java.util.ArrayList` or `[int`). The inner value is a [`Value::List`] or [`Value::Map`].
    Typed(Box<Typed>),
    /// A reference back to a container enclosing this value: `BackRef(0)` is the list, tuple,
    /// set, map or object that directly holds it, `BackRef(1)` the one holding that, and so on
    /// (a [`Value::Typed`] and the list or map inside it count as one). This is how a reference
    /// loop is carried (see "Shared references and loops" above); no decoder makes one for
    /// anything else, and [`Value::check_back_refs`] tells whether each points inside its value.
    BackRef(u32),
}

/// The payload of [`Value::Object`]: a class name plus ordered fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    /// The class name as it travels on the wire (`com.example.Person`, `builtins.ValueError`).
    pub class: String,
    /// The fields in wire order.
    pub fields: Vec<(String, Value)>,
}

/// The payload of [`Value::Typed`]: a class name attached to a list or map.
#[derive(Clone, Debug, PartialEq)]
pub struct Typed {
    /// The type name as it travels on the wire.
    pub class: String,
    /// The list or map itself.
    pub value: Value,
}

impl Value {
    /// Roughly how many bytes this value takes written out: its text and binary data, plus a
    /// few bytes for every other value, counted over at most 64 values. A hint for sizing the
    /// buffer an encoder writes it into, so that the buffer is not grown (and copied) piece by
    /// piece; it never walks a large value whole.
    pub fn encoded_len_hint(&self) -> usize {
        fn walk(v: &Value, budget: &mut u32) -> usize {
            if *budget == 0 {
                return 0;
            }
            *budget -= 1;
            let mut all = |items: &mut dyn Iterator<Item = &Value>| {
                let mut n = 0;
                for v in items {
                    if *budget == 0 {
                        break;
                    }
                    n += 4 + walk(v, budget);
                }
                n
            };
            match v {
                Value::Str(s) => s.len(),
                Value::Bytes(b) => b.len(),
                Value::List(x) | Value::Tuple(x) | Value::Set(x) => all(&mut x.iter()),
                Value::Map(m) => all(&mut m.iter().flat_map(|(k, v)| [k, v])),
                Value::Object(o) => {
                    o.class.len()
                        + o.fields.iter().map(|(k, _)| k.len()).sum::<usize>()
                        + all(&mut o.fields.iter().map(|(_, v)| v))
                }
                Value::Typed(t) => t.class.len() + walk(&t.value, budget),
                _ => 8,
            }
        }
        walk(self, &mut 64)
    }

    /// Builds a [`Value::Str`].
    pub fn str(s: impl Into<String>) -> Self {
        Value::Str(s.into())
    }

    /// Builds a [`Value::Object`].
    pub fn object(class: impl Into<String>, fields: Vec<(String, Value)>) -> Self {
        Value::Object(Box::new(Object {
            class: class.into(),
            fields,
        }))
    }

    /// Builds a [`Value::Typed`].
    pub fn typed(class: impl Into<String>, value: Value) -> Self {
        Value::Typed(Box::new(Typed {
            class: class.into(),
            value,
        }))
    }

    /// A short name of the variant's type, in Python's words, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int32(_) | Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Set(_) => "set",
            Value::Map(_) => "dict",
            Value::DateTime(_) => "datetime",
            Value::Object(_) => "object",
            Value::Typed(t) => t.value.type_name(),
            Value::BackRef(_) => "reference loop",
        }
    }

    /// Whether this value holds a [`Value::BackRef`] anywhere (a reference loop).
    pub fn has_back_refs(&self) -> bool {
        match self {
            Value::BackRef(_) => true,
            Value::List(v) | Value::Tuple(v) | Value::Set(v) => v.iter().any(Value::has_back_refs),
            Value::Map(m) => m
                .iter()
                .any(|(k, v)| k.has_back_refs() || v.has_back_refs()),
            Value::Object(o) => o.fields.iter().any(|(_, v)| v.has_back_refs()),
            Value::Typed(t) => t.value.has_back_refs(),
            _ => false,
        }
    }

    /// Checks that every [`Value::BackRef`] names a container of this value (none points past
    /// its top): what an encoder of a wire with references needs before it writes one.
    pub fn check_back_refs(&self) -> Result<(), String> {
        fn walk(v: &Value, depth: u32) -> Result<(), String> {
            match v {
                Value::BackRef(k) if *k >= depth => Err(format!(
                    "a back reference {k} levels up, inside only {depth} containers"
                )),
                Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
                    items.iter().try_for_each(|i| walk(i, depth + 1))
                }
                Value::Map(m) => m.iter().try_for_each(|(k, v)| {
                    walk(k, depth + 1)?;
                    walk(v, depth + 1)
                }),
                Value::Object(o) => o.fields.iter().try_for_each(|(_, v)| walk(v, depth + 1)),
                Value::Typed(t) => match &t.value {
                    Value::List(_) | Value::Tuple(_) | Value::Set(_) | Value::Map(_) => {
                        walk(&t.value, depth)
                    }
                    other => walk(other, depth),
                },
                _ => Ok(()),
            }
        }
        walk(self, 0)
    }

    /// The string, if this is a [`Value::Str`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is an integer that fits in `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int32(i) => Some(i64::from(*i)),
            Value::Int(i) => Some(*i),
            Value::BigInt(b) => num_traits::ToPrimitive::to_i64(b),
            _ => None,
        }
    }

    /// The boolean, if this is a [`Value::Bool`].
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The items, if this is a list, tuple or set (or a typed list).
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) | Value::Tuple(v) | Value::Set(v) => Some(v),
            Value::Typed(t) => t.value.as_seq(),
            _ => None,
        }
    }

    /// The entries, if this is a map (or a typed map).
    pub fn as_map(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Map(m) => Some(m),
            Value::Typed(t) => t.value.as_map(),
            _ => None,
        }
    }

    /// Looks up a string key in a map value, or a field of an object (linear: wire maps are
    /// small).
    pub fn get(&self, key: &str) -> Option<&Value> {
        if let Value::Object(o) = self {
            return o.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        }
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// Normalises an integer to the narrowest of `Int`/`BigInt` (never `Int32`): used by decoders
    /// that receive big ints which may fit after all.
    pub fn from_bigint(b: BigInt) -> Value {
        match num_traits::ToPrimitive::to_i64(&b) {
            Some(i) => Value::Int(i),
            None => Value::BigInt(b),
        }
    }
}

fn float_eq(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (None, None) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int32(a), Int32(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (BigInt(a), BigInt(b)) => a == b,
            (Float(a), Float(b)) => float_eq(*a, *b),
            (Str(a), Str(b)) => a == b,
            (Bytes(a), Bytes(b)) => a == b,
            (List(a), List(b)) | (Tuple(a), Tuple(b)) | (Set(a), Set(b)) => a == b,
            (Map(a), Map(b)) => a == b,
            (DateTime(a), DateTime(b)) => a == b,
            (Object(a), Object(b)) => a == b,
            (Typed(a), Typed(b)) => a == b,
            (BackRef(a), BackRef(b)) => a == b,
            _ => false,
        }
    }
}

macro_rules! from_impl {
    ($($t:ty => $v:ident),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(x: $t) -> Self { Value::$v(x.into()) }
        }
    )*};
}
from_impl!(bool => Bool, i32 => Int32, i64 => Int, f64 => Float, String => Str, &str => Str, Vec<u8> => Bytes, BigInt => BigInt);

impl From<()> for Value {
    fn from(_: ()) -> Self {
        Value::None
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::None, Into::into)
    }
}

/// Formats like Python's `repr`, which is what users of the Pyro peers expect in messages.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn seq(
            f: &mut fmt::Formatter<'_>,
            open: &str,
            items: &[Value],
            close: &str,
        ) -> fmt::Result {
            f.write_str(open)?;
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{v}")?;
            }
            f.write_str(close)
        }
        match self {
            Value::None => f.write_str("None"),
            Value::Bool(true) => f.write_str("True"),
            Value::Bool(false) => f.write_str("False"),
            Value::Int32(i) => write!(f, "{i}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::BigInt(i) => write!(f, "{i}"),
            Value::Float(x) if x.is_nan() => f.write_str("nan"),
            Value::Float(x) if x.is_infinite() => {
                f.write_str(if *x > 0.0 { "inf" } else { "-inf" })
            }
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => write!(f, "b{:?}", String::from_utf8_lossy(b)),
            Value::List(v) => seq(f, "[", v, "]"),
            Value::Tuple(v) if v.len() == 1 => seq(f, "(", v, ",)"),
            Value::Tuple(v) => seq(f, "(", v, ")"),
            Value::Set(v) => seq(f, "{", v, "}"),
            Value::Map(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
            Value::DateTime(ms) => write!(f, "datetime({ms} ms)"),
            Value::Object(o) => {
                write!(f, "{}(", o.class)?;
                for (i, (k, v)) in o.fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}={v}")?;
                }
                f.write_str(")")
            }
            Value::Typed(t) => write!(f, "{}:{}", t.class, t.value),
            // Python's repr of a container that holds itself: `[[...]]`.
            Value::BackRef(_) => f.write_str("..."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_is_exact_for_floats_and_kinds() {
        assert_eq!(Value::Float(f64::NAN), Value::Float(f64::NAN));
        assert_ne!(Value::Float(0.0), Value::Float(-0.0));
        assert_ne!(Value::Int32(1), Value::Int(1));
        assert_ne!(Value::List(vec![]), Value::Tuple(vec![]));
    }

    #[test]
    fn display_is_python_like() {
        let v = Value::Tuple(vec![Value::Int(1)]);
        assert_eq!(v.to_string(), "(1,)");
        assert_eq!(Value::Bool(true).to_string(), "True");
    }

    #[test]
    fn back_refs_must_point_inside_their_value() {
        let cell = Value::object(
            "TestCons",
            vec![
                ("_first".into(), Value::str("a")),
                ("_rest".into(), Value::BackRef(0)),
            ],
        );
        assert!(cell.has_back_refs());
        assert_eq!(cell.check_back_refs(), Ok(()));
        assert_eq!(cell.to_string(), "TestCons(_first=\"a\", _rest=...)");
        // Inside a list, one level further down, the same cell is still fine.
        assert_eq!(Value::List(vec![cell.clone()]).check_back_refs(), Ok(()));
        // A typed list and its list are one container.
        let typed = Value::typed("java.util.ArrayList", Value::List(vec![Value::BackRef(0)]));
        assert_eq!(typed.check_back_refs(), Ok(()));
        assert!(Value::List(vec![Value::BackRef(1)])
            .check_back_refs()
            .is_err());
        assert!(Value::BackRef(0).check_back_refs().is_err());
        assert!(!Value::List(vec![Value::Int(1)]).has_back_refs());
    }
}
