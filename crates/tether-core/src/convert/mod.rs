//! Typed Rust values ↔ [`Value`] through serde: [`to_value`] and [`from_value`].
//!
//! This is where the generated proxy turns typed arguments into `Value`s and the generated
//! dispatcher turns them back, so it decides which wire form a Rust type gets. It is a serde
//! [`Serializer`](serde::Serializer) and [`Deserializer`](serde::Deserializer) of its own (not a
//! detour through JSON), because JSON would lose what the wires distinguish: 32- vs 64-bit ints,
//! tuples vs lists, bytes vs strings, big ints.
//!
//! | Rust (serde model) | `Value` |
//! |---|---|
//! | `i8`, `i16`, `i32`, `u8`, `u16` | `Int32` (Hessian `int`, XML-RPC `i4`) |
//! | `i64`, `u32` | `Int` |
//! | `u64`, `i128`, `u128` | `Int` if it fits, else `BigInt` |
//! | `f32`, `f64` | `Float` |
//! | `char`, `str` | `Str` |
//! | bytes (`serde_bytes`) | `Bytes` |
//! | `()`, unit struct, `None` | `None` (`Some(x)` is just `x`) |
//! | sequence (`Vec`, slices, sets) | `List` |
//! | tuple, tuple struct | `Tuple` |
//! | map | `Map` |
//! | struct | `Map` with `Str` keys |
//! | enum | externally tagged like serde_json: unit variant → `Str`, others → one-entry `Map` |
//!
//! Reading back is lenient where Python is: any integer variant goes into any integer type it
//! fits (else a clear overflow error), integers into floats, `List`/`Tuple`/`Set` all read as
//! sequences, an `Object` reads as the map of its fields, a `Typed` as its inner value, `Bytes`
//! into `Vec<u8>` (element by element or through `visit_bytes`), and `Str` into `String`.
//!
//! `Value` itself passes through unchanged: `from_value::<Value>` returns its input as it is, and
//! `Value`'s own `Serialize`/`Deserialize` impls carry the variants serde's model lacks (tuple,
//! set, date-time, object, typed, big int) through private newtype markers that only this module
//! understands, so `Vec<Value>` or a struct field of type `Value` is lossless here too. Other
//! serde formats see a best-effort plain form (a set as a sequence, an object as a map with a
//! `__class__` entry, a big int as its decimal string).
//!
//! Conversion errors are [`ErrorKind::Serialization`](crate::ErrorKind::Serialization) errors
//! whose message says what was expected and what was found.

use crate::{Object, RemoteError, Typed, Value};
use num_bigint::BigInt;
use num_traits::ToPrimitive;
use serde::de::{self, DeserializeSeed, Deserializer as _, IntoDeserializer, Visitor};
use serde::ser::{self, Serialize};
use std::any::{Any, TypeId};
use std::fmt;

/// Converts a typed value to a [`Value`] (see the module docs for the mapping).
///
/// `T` may be unsized (`str`, `[T]`), so a proxy can convert a `&str` argument without copying
/// it into a `String` first.
pub fn to_value<T: Serialize + ?Sized + 'static>(v: &T) -> Result<Value, RemoteError> {
    v.serialize(ValueSerializer)
        .map_err(|e| RemoteError::serialization(e.0))
}

/// Converts a [`Value`] to a typed value (see the module docs for the rules).
///
/// When `T` is `Value` itself the value is returned unchanged, so a service method taking or
/// returning `Value` is lossless.
pub fn from_value<T: de::DeserializeOwned + 'static>(v: Value) -> Result<T, RemoteError> {
    if TypeId::of::<T>() == TypeId::of::<Value>() {
        let boxed: Box<dyn Any> = Box::new(v);
        if let Ok(t) = boxed.downcast::<T>() {
            return Ok(*t);
        }
        return Err(RemoteError::serialization(
            "internal: Value downcast failed",
        ));
    }
    T::deserialize(ValueDeserializer(v)).map_err(|e| RemoteError::serialization(e.0))
}

/// The conversion error (only its message leaves this module, inside a [`RemoteError`]).
#[derive(Debug)]
struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

// Private newtype markers: `Value`'s Serialize/Deserialize use them to carry the variants that
// serde's data model has no place for. Other formats treat a newtype struct as its content.
const SET_TOKEN: &str = "$tether::private::Set";
const DATETIME_TOKEN: &str = "$tether::private::DateTime";
const OBJECT_TOKEN: &str = "$tether::private::Object";
const TYPED_TOKEN: &str = "$tether::private::Typed";
const BIGINT_TOKEN: &str = "$tether::private::BigInt";
const VALUE_TOKEN: &str = "$tether::private::Value";
/// The map key that holds an object's class in the best-effort form other formats see.
const CLASS_KEY: &str = "__class__";

mod deserializer;
pub mod glue;
mod serializer;
mod value_serde;

use deserializer::ValueDeserializer;
use serializer::ValueSerializer;

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};
    use std::collections::BTreeMap;

    fn s(x: &str) -> Value {
        Value::str(x)
    }

    fn back<T: de::DeserializeOwned + 'static>(v: Value) -> T {
        from_value(v).unwrap()
    }

    fn err<T: de::DeserializeOwned + std::fmt::Debug + 'static>(v: Value) -> String {
        let e = from_value::<T>(v).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Serialization);
        e.message().to_owned()
    }

    #[test]
    fn integers_pick_their_wire_width() {
        assert_eq!(to_value(&-3i8).unwrap(), Value::Int32(-3));
        assert_eq!(to_value(&-3i16).unwrap(), Value::Int32(-3));
        assert_eq!(to_value(&7i32).unwrap(), Value::Int32(7));
        assert_eq!(to_value(&255u8).unwrap(), Value::Int32(255));
        assert_eq!(to_value(&65535u16).unwrap(), Value::Int32(65535));
        assert_eq!(to_value(&7i64).unwrap(), Value::Int(7));
        assert_eq!(to_value(&u32::MAX).unwrap(), Value::Int(u32::MAX.into()));
        assert_eq!(to_value(&5u64).unwrap(), Value::Int(5));
        assert_eq!(
            to_value(&u64::MAX).unwrap(),
            Value::BigInt(BigInt::from(u64::MAX))
        );
        assert_eq!(to_value(&5i128).unwrap(), Value::Int(5));
        assert_eq!(
            to_value(&i128::MIN).unwrap(),
            Value::BigInt(BigInt::from(i128::MIN))
        );
        assert_eq!(to_value(&5u128).unwrap(), Value::Int(5));
        assert_eq!(
            to_value(&u128::MAX).unwrap(),
            Value::BigInt(BigInt::from(u128::MAX))
        );
    }

    #[test]
    fn integers_read_leniently_with_overflow_errors() {
        assert_eq!(back::<i8>(Value::Int(-5)), -5);
        assert_eq!(back::<u16>(Value::Int32(65535)), 65535);
        assert_eq!(back::<i32>(Value::Int(12)), 12);
        assert_eq!(back::<i64>(Value::Int32(12)), 12);
        assert_eq!(back::<u64>(Value::BigInt(BigInt::from(u64::MAX))), u64::MAX);
        assert_eq!(
            back::<u128>(Value::BigInt(BigInt::from(u128::MAX))),
            u128::MAX
        );
        assert_eq!(back::<i128>(Value::Int32(-1)), -1);
        assert_eq!(
            err::<u8>(Value::Int(300)),
            "integer 300 out of range for u8"
        );
        assert_eq!(
            err::<u32>(Value::Int32(-1)),
            "integer -1 out of range for u32"
        );
        assert_eq!(
            err::<i64>(Value::BigInt(BigInt::from(u64::MAX))),
            "integer 18446744073709551615 out of range for i64"
        );
        assert_eq!(
            err::<i32>(s("x")),
            "invalid type: string \"x\", expected i32"
        );
        let huge: BigInt = BigInt::from(u128::MAX) * 4;
        assert!(err::<Value2>(Value::BigInt(huge)).contains("does not fit in 128 bits"));
    }

    /// Something that reads through `deserialize_any`.
    #[derive(Debug, Deserialize)]
    #[serde(untagged)]
    enum Value2 {
        #[allow(dead_code)]
        I(i64),
    }

    #[test]
    fn floats_and_ints_into_floats() {
        assert_eq!(to_value(&1.5f32).unwrap(), Value::Float(1.5));
        assert_eq!(to_value(&-0.0f64).unwrap(), Value::Float(-0.0));
        assert_eq!(back::<f64>(Value::Float(2.5)), 2.5);
        assert_eq!(back::<f64>(Value::Int32(2)), 2.0);
        assert_eq!(back::<f32>(Value::Int(3)), 3.0);
        assert_eq!(
            back::<f64>(Value::BigInt(BigInt::from(u64::MAX))),
            u64::MAX as f64
        );
        assert_eq!(
            err::<f64>(s("1")),
            "invalid type: string \"1\", expected f64"
        );
    }

    /// What `serde_bytes::ByteBuf` does, without the dependency.
    struct ByteBuf(Vec<u8>);

    impl Serialize for ByteBuf {
        fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(&self.0)
        }
    }

    impl<'de> Deserialize<'de> for ByteBuf {
        fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = ByteBuf;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<ByteBuf, E> {
                    Ok(ByteBuf(v))
                }
                fn visit_str<E>(self, v: &str) -> Result<ByteBuf, E> {
                    Ok(ByteBuf(v.as_bytes().to_vec()))
                }
            }
            d.deserialize_byte_buf(V)
        }
    }

    #[test]
    fn text_bytes_bool_char() {
        assert_eq!(to_value(&'é').unwrap(), s("é"));
        assert_eq!(to_value("hi").unwrap(), s("hi"));
        assert_eq!(to_value(&String::from("hi")).unwrap(), s("hi"));
        assert_eq!(to_value(&true).unwrap(), Value::Bool(true));
        assert_eq!(back::<char>(s("x")), 'x');
        assert_eq!(back::<String>(s("hi")), "hi");
        assert!(!back::<bool>(Value::Bool(false)));
        assert_eq!(
            err::<String>(Value::Int(5)),
            "invalid type: integer `5`, expected a string"
        );
        // Bytes: serde_bytes-style and element by element.
        let b = ByteBuf(vec![0u8, 1, 255]);
        assert_eq!(to_value(&b).unwrap(), Value::Bytes(vec![0, 1, 255]));
        assert_eq!(back::<ByteBuf>(Value::Bytes(vec![1, 2])).0, vec![1, 2]);
        assert_eq!(back::<ByteBuf>(s("ab")).0, b"ab".to_vec());
        assert_eq!(back::<Vec<u8>>(Value::Bytes(vec![1, 2])), vec![1, 2]);
        assert_eq!(back::<String>(Value::Bytes(b"ok".to_vec())), "ok");
        // A plain Vec<u8> is a sequence of ints, as serde sees it.
        assert_eq!(
            to_value(&vec![1u8]).unwrap(),
            Value::List(vec![Value::Int32(1)])
        );
    }

    #[test]
    fn unit_option_none() {
        assert_eq!(to_value(&()).unwrap(), Value::None);
        assert_eq!(to_value(&None::<i32>).unwrap(), Value::None);
        assert_eq!(to_value(&Some(3i32)).unwrap(), Value::Int32(3));
        #[derive(Serialize, Deserialize, Debug, PartialEq)]
        struct Unit;
        assert_eq!(to_value(&Unit).unwrap(), Value::None);
        assert_eq!(back::<Unit>(Value::None), Unit);
        back::<()>(Value::None);
        assert_eq!(back::<Option<i32>>(Value::None), None);
        assert_eq!(back::<Option<i32>>(Value::Int(4)), Some(4));
        assert_eq!(
            err::<()>(Value::Int(1)),
            "invalid type: integer `1`, expected unit"
        );
    }

    #[test]
    fn sequences_tuples_maps_structs() {
        assert_eq!(
            to_value(&vec!["a", "b"]).unwrap(),
            Value::List(vec![s("a"), s("b")])
        );
        assert_eq!(
            to_value(&(1i32, "x")).unwrap(),
            Value::Tuple(vec![Value::Int32(1), s("x")])
        );
        #[derive(Serialize, Deserialize, Debug, PartialEq)]
        struct Pair(i64, String);
        assert_eq!(
            to_value(&Pair(1, "x".into())).unwrap(),
            Value::Tuple(vec![Value::Int(1), s("x")])
        );
        assert_eq!(
            back::<Pair>(Value::List(vec![Value::Int32(1), s("x")])),
            Pair(1, "x".into())
        );
        let mut m = BTreeMap::new();
        m.insert(1i64, "one");
        assert_eq!(
            to_value(&m).unwrap(),
            Value::Map(vec![(Value::Int(1), s("one"))])
        );
        #[derive(Serialize, Deserialize, Debug, PartialEq)]
        struct P {
            name: String,
            age: u8,
        }
        let p = P {
            name: "Ann".into(),
            age: 7,
        };
        let v = to_value(&p).unwrap();
        assert_eq!(
            v,
            Value::Map(vec![(s("name"), s("Ann")), (s("age"), Value::Int32(7))])
        );
        assert_eq!(back::<P>(v), p);
        // Objects read as the map of their fields, typed values as their inner value.
        let obj = Value::object(
            "com.example.P",
            vec![("name".into(), s("Bo")), ("age".into(), Value::Int(3))],
        );
        assert_eq!(
            back::<P>(obj),
            P {
                name: "Bo".into(),
                age: 3
            }
        );
        let typed = Value::typed("java.util.ArrayList", Value::List(vec![Value::Int(1)]));
        assert_eq!(back::<Vec<i64>>(typed), vec![1]);
        // List, tuple and set all read as sequences.
        assert_eq!(back::<Vec<i32>>(Value::Tuple(vec![Value::Int(1)])), vec![1]);
        assert_eq!(back::<Vec<i32>>(Value::Set(vec![Value::Int(2)])), vec![2]);
        assert_eq!(
            back::<(i32, String)>(Value::List(vec![Value::Int(2), s("a")])),
            (2, "a".into())
        );
        assert_eq!(
            err::<P>(Value::Map(vec![(s("name"), s("x"))])),
            "missing field `age`"
        );
        assert_eq!(
            err::<Vec<i32>>(s("no")),
            "invalid type: string \"no\", expected a sequence"
        );
        assert!(
            err::<(i32,)>(Value::List(vec![Value::Int(1), Value::Int(2)]))
                .contains("invalid length")
        );
    }

    #[test]
    fn enums_are_externally_tagged() {
        #[derive(Serialize, Deserialize, Debug, PartialEq)]
        enum E {
            A,
            B(i32),
            C(i32, i32),
            D { x: bool },
        }
        for (e, v) in [
            (E::A, s("A")),
            (E::B(1), Value::Map(vec![(s("B"), Value::Int32(1))])),
            (
                E::C(1, 2),
                Value::Map(vec![(
                    s("C"),
                    Value::Tuple(vec![Value::Int32(1), Value::Int32(2)]),
                )]),
            ),
            (
                E::D { x: true },
                Value::Map(vec![(
                    s("D"),
                    Value::Map(vec![(s("x"), Value::Bool(true))]),
                )]),
            ),
        ] {
            assert_eq!(to_value(&e).unwrap(), v);
            assert_eq!(back::<E>(v), e);
        }
        assert!(err::<E>(s("Z")).contains("unknown variant `Z`"));
        assert!(err::<E>(Value::Int(1)).contains("expected a variant name"));
    }

    fn all_variants() -> Value {
        Value::List(vec![
            Value::None,
            Value::Bool(true),
            Value::Int32(1),
            Value::Int(1),
            Value::BigInt(BigInt::from(1)),
            Value::BigInt(BigInt::from(u128::MAX) * 3),
            Value::BigInt(BigInt::from(i128::MIN)),
            Value::Float(f64::NAN),
            s("s"),
            Value::Bytes(vec![1]),
            Value::Tuple(vec![Value::Int32(1), Value::Tuple(vec![])]),
            Value::Set(vec![s("x")]),
            Value::Map(vec![(
                Value::Tuple(vec![Value::Int(1)]),
                Value::Set(vec![]),
            )]),
            Value::DateTime(1_700_000_000_000),
            Value::object("a.B", vec![("f".into(), Value::Int32(2))]),
            Value::typed("[int", Value::List(vec![Value::Int32(1)])),
        ])
    }

    #[test]
    fn value_passes_through_unchanged() {
        let v = all_variants();
        assert_eq!(to_value(&v).unwrap(), v);
        assert_eq!(from_value::<Value>(v.clone()).unwrap(), v);
        // Nested inside other types the private markers keep it lossless too.
        let Value::List(items) = v.clone() else {
            unreachable!()
        };
        assert_eq!(to_value(&items).unwrap(), v);
        assert_eq!(back::<Vec<Value>>(v.clone()), items);
        let pair = (Value::Tuple(vec![]), Value::Int32(3));
        assert_eq!(back::<(Value, Value)>(to_value(&pair).unwrap()), pair);
    }
}
