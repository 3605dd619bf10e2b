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

fn int_value(i: i128) -> Value {
    match i64::try_from(i) {
        Ok(i) => Value::Int(i),
        Err(_) => Value::BigInt(BigInt::from(i)),
    }
}

// ---------------------------------------------------------------------------------------------
// Serializer
// ---------------------------------------------------------------------------------------------

/// Serializes any `Serialize` type into a [`Value`].
struct ValueSerializer;

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = VariantBuilder<SeqBuilder>;
    type SerializeMap = MapBuilder;
    type SerializeStruct = MapBuilder;
    type SerializeStructVariant = VariantBuilder<MapBuilder>;

    fn serialize_bool(self, v: bool) -> Result<Value, Error> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, Error> {
        Ok(Value::Int32(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, Error> {
        Ok(Value::Int32(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, Error> {
        Ok(Value::Int32(v))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, Error> {
        Ok(Value::Int(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Value, Error> {
        Ok(int_value(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Value, Error> {
        Ok(Value::Int32(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, Error> {
        Ok(Value::Int32(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, Error> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, Error> {
        Ok(int_value(v.into()))
    }
    fn serialize_u128(self, v: u128) -> Result<Value, Error> {
        Ok(match i64::try_from(v) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::BigInt(BigInt::from(v)),
        })
    }
    fn serialize_f32(self, v: f32) -> Result<Value, Error> {
        Ok(Value::Float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, Error> {
        Ok(Value::Float(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, Error> {
        Ok(Value::Str(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, Error> {
        Ok(Value::Str(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, Error> {
        Ok(Value::Bytes(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Value, Error> {
        Ok(Value::None)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Value, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, Error> {
        Ok(Value::None)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, Error> {
        Ok(Value::None)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, Error> {
        Ok(Value::Str(variant.to_owned()))
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Value, Error> {
        let inner = value.serialize(ValueSerializer)?;
        match name {
            SET_TOKEN => match inner {
                Value::List(items) => Ok(Value::Set(items)),
                other => Err(marker_error("set", &other)),
            },
            DATETIME_TOKEN => match inner {
                Value::Int(ms) => Ok(Value::DateTime(ms)),
                other => Err(marker_error("date-time", &other)),
            },
            BIGINT_TOKEN => match &inner {
                Value::Str(s) => s
                    .parse::<BigInt>()
                    .map(Value::BigInt)
                    .map_err(|_| marker_error("big int", &inner)),
                other => Err(marker_error("big int", other)),
            },
            OBJECT_TOKEN => match inner {
                Value::Map(entries) => {
                    let mut it = entries.into_iter();
                    let class = match it.next() {
                        Some((Value::Str(k), Value::Str(c))) if k == CLASS_KEY => c,
                        _ => return Err(Error("object marker without a class".into())),
                    };
                    let fields = it
                        .map(|(k, v)| match k {
                            Value::Str(k) => Ok((k, v)),
                            other => Err(marker_error("object field name", &other)),
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok(Value::Object(Box::new(Object { class, fields })))
                }
                other => Err(marker_error("object", &other)),
            },
            TYPED_TOKEN => match inner {
                Value::Tuple(mut pair) if pair.len() == 2 => {
                    let value = pair.pop().unwrap_or(Value::None);
                    match pair.pop() {
                        Some(Value::Str(class)) => {
                            Ok(Value::Typed(Box::new(Typed { class, value })))
                        }
                        _ => Err(Error("typed marker without a class".into())),
                    }
                }
                other => Err(marker_error("typed value", &other)),
            },
            _ => Ok(inner),
        }
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, Error> {
        let inner = value.serialize(ValueSerializer)?;
        Ok(Value::Map(vec![(Value::Str(variant.to_owned()), inner)]))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, Error> {
        Ok(SeqBuilder::new(len, false))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, Error> {
        Ok(SeqBuilder::new(Some(len), true))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqBuilder, Error> {
        Ok(SeqBuilder::new(Some(len), true))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantBuilder<SeqBuilder>, Error> {
        Ok(VariantBuilder {
            variant,
            inner: SeqBuilder::new(Some(len), true),
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapBuilder, Error> {
        Ok(MapBuilder::new(len))
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<MapBuilder, Error> {
        Ok(MapBuilder::new(Some(len)))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantBuilder<MapBuilder>, Error> {
        Ok(VariantBuilder {
            variant,
            inner: MapBuilder::new(Some(len)),
        })
    }
}

fn marker_error(what: &str, got: &Value) -> Error {
    Error(format!("malformed {what} marker: got {}", got.type_name()))
}

/// Preallocation cap: a size hint is only a hint (a lying `Serialize` impl must not make us
/// reserve gigabytes).
const MAX_PREALLOC: usize = 4096;

/// Builds a `List` (sequences) or a `Tuple` (tuples and tuple structs).
struct SeqBuilder {
    items: Vec<Value>,
    tuple: bool,
}

impl SeqBuilder {
    fn new(len: Option<usize>, tuple: bool) -> Self {
        SeqBuilder {
            items: Vec::with_capacity(len.unwrap_or(0).min(MAX_PREALLOC)),
            tuple,
        }
    }
    fn push<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Error> {
        self.items.push(v.serialize(ValueSerializer)?);
        Ok(())
    }
    fn finish(self) -> Value {
        if self.tuple {
            Value::Tuple(self.items)
        } else {
            Value::List(self.items)
        }
    }
}

impl ser::SerializeSeq for SeqBuilder {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Error> {
        self.push(v)
    }
    fn end(self) -> Result<Value, Error> {
        Ok(self.finish())
    }
}

impl ser::SerializeTuple for SeqBuilder {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Error> {
        self.push(v)
    }
    fn end(self) -> Result<Value, Error> {
        Ok(self.finish())
    }
}

impl ser::SerializeTupleStruct for SeqBuilder {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Error> {
        self.push(v)
    }
    fn end(self) -> Result<Value, Error> {
        Ok(self.finish())
    }
}

/// Builds a `Map` (maps, and structs with `Str` keys).
struct MapBuilder {
    entries: Vec<(Value, Value)>,
    key: Option<Value>,
}

impl MapBuilder {
    fn new(len: Option<usize>) -> Self {
        MapBuilder {
            entries: Vec::with_capacity(len.unwrap_or(0).min(MAX_PREALLOC)),
            key: None,
        }
    }
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key.serialize(ValueSerializer)?);
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error("map value serialized before its key".into()))?;
        self.entries.push((key, value.serialize(ValueSerializer)?));
        Ok(())
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Value::Map(self.entries))
    }
}

impl ser::SerializeStruct for MapBuilder {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.entries.push((
            Value::Str(key.to_owned()),
            value.serialize(ValueSerializer)?,
        ));
        Ok(())
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Value::Map(self.entries))
    }
}

/// Wraps a tuple or struct variant's content as `{variant: content}`.
struct VariantBuilder<B> {
    variant: &'static str,
    inner: B,
}

impl ser::SerializeTupleVariant for VariantBuilder<SeqBuilder> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<(), Error> {
        self.inner.push(v)
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Value::Map(vec![(
            Value::Str(self.variant.to_owned()),
            self.inner.finish(),
        )]))
    }
}

impl ser::SerializeStructVariant for VariantBuilder<MapBuilder> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        ser::SerializeStruct::serialize_field(&mut self.inner, key, value)
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Value::Map(vec![(
            Value::Str(self.variant.to_owned()),
            Value::Map(self.inner.entries),
        )]))
    }
}

// ---------------------------------------------------------------------------------------------
// Deserializer
// ---------------------------------------------------------------------------------------------

/// Deserializes any `Deserialize` type out of an owned [`Value`].
struct ValueDeserializer(Value);

impl<'de> IntoDeserializer<'de, Error> for Value {
    type Deserializer = ValueDeserializer;
    fn into_deserializer(self) -> ValueDeserializer {
        ValueDeserializer(self)
    }
}

/// serde's description of a value, for `invalid type` messages.
fn unexpected(v: &Value) -> de::Unexpected<'_> {
    use de::Unexpected as U;
    match v {
        Value::None => U::Unit,
        Value::Bool(b) => U::Bool(*b),
        Value::Int32(i) => U::Signed((*i).into()),
        Value::Int(i) => U::Signed(*i),
        Value::BigInt(_) => U::Other("big integer"),
        Value::Float(f) => U::Float(*f),
        Value::Str(s) => U::Str(s),
        Value::Bytes(b) => U::Bytes(b),
        Value::List(_) => U::Other("list"),
        Value::Tuple(_) => U::Other("tuple"),
        Value::Set(_) => U::Other("set"),
        Value::Map(_) => U::Map,
        Value::DateTime(_) => U::Other("date-time"),
        Value::Object(_) => U::Other("object"),
        Value::Typed(_) => U::Other("typed value"),
    }
}

fn invalid(v: &Value, exp: &dyn de::Expected) -> Error {
    de::Error::invalid_type(unexpected(v), exp)
}

/// The integer inside any integer variant, as a `BigInt` (the common ground for range checks).
fn as_big(v: &Value) -> Option<BigInt> {
    match v {
        Value::Int32(i) => Some(BigInt::from(*i)),
        Value::Int(i) => Some(BigInt::from(*i)),
        Value::BigInt(b) => Some(b.clone()),
        _ => None,
    }
}

macro_rules! deserialize_int {
    ($($method:ident => $ty:ty, $visit:ident, $conv:ident;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            if let Value::Typed(t) = self.0 {
                return ValueDeserializer(t.value).$method(visitor);
            }
            match as_big(&self.0) {
                Some(b) => match b.$conv() {
                    Some(n) => visitor.$visit(n),
                    None => Err(Error(format!(
                        "integer {b} out of range for {}",
                        stringify!($ty)
                    ))),
                },
                None => self.deserialize_any(visitor),
            }
        }
    )*};
}

impl ValueDeserializer {
    fn visit_seq_of<'de, V: Visitor<'de>>(
        items: Vec<Value>,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let len = items.len();
        let mut access = SeqAccess(items.into_iter());
        let out = visitor.visit_seq(&mut access)?;
        if access.0.len() == 0 {
            Ok(out)
        } else {
            Err(de::Error::invalid_length(len, &"fewer elements"))
        }
    }

    fn visit_map_of<'de, V: Visitor<'de>>(
        entries: Vec<(Value, Value)>,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_map(MapAccess {
            iter: entries.into_iter(),
            value: None,
        })
    }

    fn visit_object<'de, V: Visitor<'de>>(obj: Object, visitor: V) -> Result<V::Value, Error> {
        let entries = obj
            .fields
            .into_iter()
            .map(|(k, v)| (Value::Str(k), v))
            .collect();
        Self::visit_map_of(entries, visitor)
    }

    /// The lossless form `Value`'s own `Deserialize` asks for (see `VALUE_TOKEN`): variants with
    /// no serde equivalent travel as a private enum.
    fn deserialize_raw<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let (tag, content) = match self.0 {
            Value::Tuple(items) => ("Tuple", Value::List(items)),
            Value::Set(items) => ("Set", Value::List(items)),
            Value::DateTime(ms) => ("DateTime", Value::Int(ms)),
            Value::BigInt(b) => ("BigInt", Value::Str(b.to_string())),
            Value::Object(o) => {
                let fields = o
                    .fields
                    .into_iter()
                    .map(|(k, v)| Value::Tuple(vec![Value::Str(k), v]))
                    .collect();
                (
                    "Object",
                    Value::Tuple(vec![Value::Str(o.class), Value::List(fields)]),
                )
            }
            Value::Typed(t) => ("Typed", Value::Tuple(vec![Value::Str(t.class), t.value])),
            Value::Map(entries) => {
                // Keys may themselves be tuples etc., so route them through the raw form too.
                let pairs = entries
                    .into_iter()
                    .map(|(k, v)| Value::Tuple(vec![k, v]))
                    .collect();
                ("Map", Value::List(pairs))
            }
            other => return ValueDeserializer(other).deserialize_any(visitor),
        };
        visitor.visit_enum(RawEnum { tag, content })
    }
}

impl<'de> de::Deserializer<'de> for ValueDeserializer {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::None => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Int32(i) => visitor.visit_i32(i),
            Value::Int(i) => visitor.visit_i64(i),
            Value::BigInt(b) => {
                if let Some(i) = b.to_i64() {
                    visitor.visit_i64(i)
                } else if let Some(u) = b.to_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = b.to_i128() {
                    visitor.visit_i128(i)
                } else if let Some(u) = b.to_u128() {
                    visitor.visit_u128(u)
                } else {
                    Err(Error(format!("integer {b} does not fit in 128 bits")))
                }
            }
            Value::Float(f) => visitor.visit_f64(f),
            Value::Str(s) => visitor.visit_string(s),
            Value::Bytes(b) => visitor.visit_byte_buf(b),
            Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
                Self::visit_seq_of(items, visitor)
            }
            Value::Map(entries) => Self::visit_map_of(entries, visitor),
            Value::DateTime(ms) => visitor.visit_i64(ms),
            Value::Object(o) => Self::visit_object(*o, visitor),
            Value::Typed(t) => ValueDeserializer(t.value).deserialize_any(visitor),
        }
    }

    deserialize_int! {
        deserialize_i8 => i8, visit_i8, to_i8;
        deserialize_i16 => i16, visit_i16, to_i16;
        deserialize_i32 => i32, visit_i32, to_i32;
        deserialize_i64 => i64, visit_i64, to_i64;
        deserialize_i128 => i128, visit_i128, to_i128;
        deserialize_u8 => u8, visit_u8, to_u8;
        deserialize_u16 => u16, visit_u16, to_u16;
        deserialize_u32 => u32, visit_u32, to_u32;
        deserialize_u64 => u64, visit_u64, to_u64;
        deserialize_u128 => u128, visit_u128, to_u128;
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Float(f) => visitor.visit_f64(f),
            Value::Int32(i) => visitor.visit_f64(i.into()),
            // Python's float(int): rounds to the nearest double.
            Value::Int(i) => visitor.visit_f64(i as f64),
            Value::BigInt(b) => match b.to_f64() {
                Some(f) if f.is_finite() => visitor.visit_f64(f),
                _ => Err(Error(format!("integer {b} too large to convert to float"))),
            },
            Value::Typed(t) => ValueDeserializer(t.value).deserialize_f64(visitor),
            other => Err(invalid(&other, &visitor)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_byte_buf(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Bytes(b) => visitor.visit_byte_buf(b),
            Value::Str(s) => visitor.visit_string(s),
            Value::List(items) | Value::Tuple(items) => Self::visit_seq_of(items, visitor),
            Value::Typed(t) => ValueDeserializer(t.value).deserialize_byte_buf(visitor),
            other => Err(invalid(&other, &visitor)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::None => visitor.visit_none(),
            other => visitor.visit_some(ValueDeserializer(other)),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::None => visitor.visit_unit(),
            Value::List(v) | Value::Tuple(v) if v.is_empty() => visitor.visit_unit(),
            other => Err(invalid(&other, &visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name == VALUE_TOKEN {
            self.deserialize_raw(visitor)
        } else {
            visitor.visit_newtype_struct(self)
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
                Self::visit_seq_of(items, visitor)
            }
            // `Vec<u8>` reads `Bytes` element by element.
            Value::Bytes(b) => Self::visit_seq_of(
                b.into_iter().map(|x| Value::Int32(x.into())).collect(),
                visitor,
            ),
            Value::Typed(t) => ValueDeserializer(t.value).deserialize_seq(visitor),
            other => Err(invalid(&other, &visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Map(entries) => Self::visit_map_of(entries, visitor),
            Value::Object(o) => Self::visit_object(*o, visitor),
            Value::Typed(t) => ValueDeserializer(t.value).deserialize_map(visitor),
            other => Err(invalid(&other, &visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::Map(entries) => Self::visit_map_of(entries, visitor),
            Value::Object(o) => Self::visit_object(*o, visitor),
            Value::List(items) | Value::Tuple(items) => Self::visit_seq_of(items, visitor),
            Value::Typed(t) => ValueDeserializer(t.value).deserialize_any(visitor),
            other => Err(invalid(&other, &visitor)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::Str(variant) => visitor.visit_enum(EnumAccess {
                variant: Value::Str(variant),
                content: None,
            }),
            Value::Map(entries) if entries.len() == 1 => {
                let mut it = entries.into_iter();
                match it.next() {
                    Some((variant, content)) => visitor.visit_enum(EnumAccess {
                        variant,
                        content: Some(content),
                    }),
                    None => Err(Error("empty enum map".into())),
                }
            }
            Value::Typed(t) => {
                ValueDeserializer(t.value).deserialize_enum(_name, _variants, visitor)
            }
            other => Err(invalid(
                &other,
                &"a variant name or a map with a single entry {variant: content}",
            )),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        drop(self);
        visitor.visit_unit()
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn is_human_readable(&self) -> bool {
        true
    }
}

struct SeqAccess(std::vec::IntoIter<Value>);

impl<'de> de::SeqAccess<'de> for SeqAccess {
    type Error = Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.0.next() {
            Some(v) => seed.deserialize(ValueDeserializer(v)).map(Some),
            None => Ok(None),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct MapAccess {
    iter: std::vec::IntoIter<(Value, Value)>,
    value: Option<Value>,
}

impl<'de> de::MapAccess<'de> for MapAccess {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(ValueDeserializer(k)).map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(v) => seed.deserialize(ValueDeserializer(v)),
            None => Err(Error("map value requested before its key".into())),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// An externally tagged enum: `Str(variant)` or `{variant: content}`.
struct EnumAccess {
    variant: Value,
    content: Option<Value>,
}

impl<'de> de::EnumAccess<'de> for EnumAccess {
    type Error = Error;
    type Variant = VariantAccess;
    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, VariantAccess), Error> {
        let v = seed.deserialize(ValueDeserializer(self.variant))?;
        Ok((v, VariantAccess(self.content)))
    }
}

struct VariantAccess(Option<Value>);

impl<'de> de::VariantAccess<'de> for VariantAccess {
    type Error = Error;
    fn unit_variant(self) -> Result<(), Error> {
        match self.0 {
            None | Some(Value::None) => Ok(()),
            Some(other) => Err(invalid(&other, &"a unit variant")),
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        match self.0 {
            Some(v) => seed.deserialize(ValueDeserializer(v)),
            None => Err(de::Error::invalid_type(
                de::Unexpected::UnitVariant,
                &"a newtype variant",
            )),
        }
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Some(v) => de::Deserializer::deserialize_seq(ValueDeserializer(v), visitor),
            None => Err(de::Error::invalid_type(
                de::Unexpected::UnitVariant,
                &"a tuple variant",
            )),
        }
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Some(v) => de::Deserializer::deserialize_map(ValueDeserializer(v), visitor),
            None => Err(de::Error::invalid_type(
                de::Unexpected::UnitVariant,
                &"a struct variant",
            )),
        }
    }
}

/// The private enum form of the variants serde's model lacks (see `deserialize_raw`).
struct RawEnum {
    tag: &'static str,
    content: Value,
}

impl<'de> de::EnumAccess<'de> for RawEnum {
    type Error = Error;
    type Variant = VariantAccess;
    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, VariantAccess), Error> {
        let tag = seed.deserialize(ValueDeserializer(Value::Str(format!(
            "{RAW_PREFIX}{}",
            self.tag
        ))))?;
        Ok((tag, VariantAccess(Some(self.content))))
    }
}

/// Prefix of the private enum tags, so a foreign enum can never be mistaken for one.
const RAW_PREFIX: &str = "$tether::private::";

// ---------------------------------------------------------------------------------------------
// Serialize / Deserialize for Value itself
// ---------------------------------------------------------------------------------------------

struct Seq<'a>(&'a [Value]);

impl Serialize for Seq<'_> {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0)
    }
}

struct ObjectAsMap<'a>(&'a Object);

impl Serialize for ObjectAsMap<'_> {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.fields.len() + 1))?;
        m.serialize_entry(CLASS_KEY, &self.0.class)?;
        for (k, v) in &self.0.fields {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Best effort through serde's model for other formats; lossless into [`to_value`] (see the
/// module docs).
impl Serialize for Value {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use ser::SerializeTuple;
        match self {
            Value::None => s.serialize_none(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int32(i) => s.serialize_i32(*i),
            Value::Int(i) => s.serialize_i64(*i),
            Value::BigInt(b) => match b.to_i128() {
                Some(i) if i64::try_from(i).is_err() => s.serialize_i128(i),
                _ => s.serialize_newtype_struct(BIGINT_TOKEN, &b.to_string()),
            },
            Value::Float(f) => s.serialize_f64(*f),
            Value::Str(x) => s.serialize_str(x),
            Value::Bytes(b) => s.serialize_bytes(b),
            Value::List(items) => s.collect_seq(items),
            Value::Tuple(items) => {
                let mut t = s.serialize_tuple(items.len())?;
                for v in items {
                    t.serialize_element(v)?;
                }
                t.end()
            }
            Value::Set(items) => s.serialize_newtype_struct(SET_TOKEN, &Seq(items)),
            Value::Map(entries) => s.collect_map(entries.iter().map(|(k, v)| (k, v))),
            Value::DateTime(ms) => s.serialize_newtype_struct(DATETIME_TOKEN, ms),
            Value::Object(o) => s.serialize_newtype_struct(OBJECT_TOKEN, &ObjectAsMap(o)),
            Value::Typed(t) => s.serialize_newtype_struct(TYPED_TOKEN, &(&t.class, &t.value)),
        }
    }
}

/// Best effort from other formats; lossless out of [`from_value`] (see the module docs).
impl<'de> de::Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_newtype_struct(VALUE_TOKEN, ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i8<E>(self, v: i8) -> Result<Value, E> {
        Ok(Value::Int32(v.into()))
    }
    fn visit_i16<E>(self, v: i16) -> Result<Value, E> {
        Ok(Value::Int32(v.into()))
    }
    fn visit_i32<E>(self, v: i32) -> Result<Value, E> {
        Ok(Value::Int32(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(int_value(v))
    }
    fn visit_u8<E>(self, v: u8) -> Result<Value, E> {
        Ok(Value::Int32(v.into()))
    }
    fn visit_u16<E>(self, v: u16) -> Result<Value, E> {
        Ok(Value::Int32(v.into()))
    }
    fn visit_u32<E>(self, v: u32) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(int_value(v.into()))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::BigInt(BigInt::from(v)),
        })
    }
    fn visit_f32<E>(self, v: f32) -> Result<Value, E> {
        Ok(Value::Float(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_char<E>(self, v: char) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(v.to_vec()))
    }
    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bytes(v))
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::None)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::None)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        de::Deserialize::deserialize(d)
    }
    fn visit_newtype_struct<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_PREALLOC));
        while let Some(v) = seq.next_element::<Value>()? {
            items.push(v);
        }
        Ok(Value::List(items))
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(MAX_PREALLOC));
        while let Some((k, v)) = map.next_entry::<Value, Value>()? {
            entries.push((k, v));
        }
        Ok(Value::Map(entries))
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        use de::{Error as _, VariantAccess as _};
        let (tag, var): (String, _) = data.variant()?;
        let Some(raw) = tag.strip_prefix(RAW_PREFIX) else {
            // A foreign enum (from another format): keep it externally tagged.
            let content: Value = var.newtype_variant()?;
            return Ok(Value::Map(vec![(Value::Str(tag), content)]));
        };
        match raw {
            "Tuple" => Ok(Value::Tuple(var.newtype_variant()?)),
            "Set" => Ok(Value::Set(var.newtype_variant()?)),
            "DateTime" => Ok(Value::DateTime(var.newtype_variant()?)),
            "BigInt" => {
                let s: String = var.newtype_variant()?;
                s.parse::<BigInt>()
                    .map(Value::BigInt)
                    .map_err(|_| A::Error::custom("malformed big int"))
            }
            "Object" => {
                let (class, fields): (String, Vec<(String, Value)>) = var.newtype_variant()?;
                Ok(Value::Object(Box::new(Object { class, fields })))
            }
            "Typed" => {
                let (class, value): (String, Value) = var.newtype_variant()?;
                Ok(Value::Typed(Box::new(Typed { class, value })))
            }
            "Map" => Ok(Value::Map(var.newtype_variant()?)),
            other => Err(A::Error::custom(format!("unknown private tag {other}"))),
        }
    }
}

/// Small functions the code generated by `#[tether::service]` calls, kept here (not inlined
/// into every expansion) so the expansion stays short and the wording of the Python-style
/// errors lives in one place. Not a public API.
#[doc(hidden)]
pub mod glue {
    use crate::{bind_args, from_value, to_value, Call, Invoker, RemoteError, Value};
    use serde::{de, Serialize};
    use std::sync::Arc;

    /// Proxy side: a method call from its already converted arguments. Taking the conversion
    /// results here (not `?` in the generated code) keeps the one `E: From<RemoteError>` bound
    /// in [`invoke`], so a missing impl is reported once, at the method's return type.
    pub fn call<const N: usize>(
        method: &str,
        args: [Result<Value, RemoteError>; N],
        oneway: bool,
    ) -> Result<Call, RemoteError> {
        Ok(Call::new(method, args.into_iter().collect::<Result<Vec<_>, _>>()?).set_oneway(oneway))
    }

    /// Proxy side: sends a call and converts the reply to the method's result type.
    pub async fn invoke<T: de::DeserializeOwned + 'static, E: From<RemoteError>>(
        invoker: &Arc<dyn Invoker>,
        call: Result<Call, RemoteError>,
    ) -> Result<T, E> {
        let reply = invoker.invoke(call?).await?;
        Ok(from_value(reply)?)
    }

    /// Dispatcher side: binds arguments to exactly `N` parameters (Python's rules).
    pub fn bind<const N: usize>(
        method: &str,
        params: &[&str],
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    ) -> Result<[Value; N], RemoteError> {
        let bound = bind_args(method, params, args, kwargs)?;
        let n = bound.len();
        <[Value; N]>::try_from(bound).map_err(|_| {
            RemoteError::type_error(format!(
                "{method}() bound {n} argument(s) where {N} were declared"
            ))
        })
    }

    /// Dispatcher side: like [`bind`], but parameters marked `optional` (Rust `Option<T>`) may
    /// be omitted and then read as `None`, the way a Python parameter with default `None` does.
    pub fn bind_defaults<const N: usize>(
        method: &str,
        params: &[&str],
        optional: &[bool],
        args: Vec<Value>,
        mut kwargs: Vec<(String, Value)>,
    ) -> Result<[Value; N], RemoteError> {
        for (i, (name, opt)) in params.iter().zip(optional).enumerate() {
            if *opt && i >= args.len() && !kwargs.iter().any(|(k, _)| k == name) {
                kwargs.push(((*name).to_owned(), Value::None));
            }
        }
        bind(method, params, args, kwargs)
    }

    /// Dispatcher side: checks that a method without parameters got no arguments.
    pub fn bind_none(
        method: &str,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    ) -> Result<(), RemoteError> {
        bind_args(method, &[], args, kwargs).map(drop)
    }

    /// Dispatcher side: converts one argument, as a `TypeError` naming the parameter on failure.
    pub fn arg<T: de::DeserializeOwned + 'static>(
        method: &str,
        param: &str,
        v: Value,
    ) -> Result<T, RemoteError> {
        let found = v.type_name();
        from_value(v).map_err(|e| {
            RemoteError::type_error(format!(
                "{method}() argument '{param}': cannot convert {found} ({})",
                e.message()
            ))
        })
    }

    /// Dispatcher side: the method's result as a reply value.
    pub fn reply<T: Serialize + 'static, E: Into<RemoteError>>(
        r: Result<T, E>,
    ) -> Result<Value, RemoteError> {
        match r {
            Ok(v) => to_value(&v),
            Err(e) => Err(e.into()),
        }
    }

    fn attr_name(method: &str, v: Value) -> Result<String, RemoteError> {
        match v {
            Value::Str(s) => Ok(s),
            other => Err(RemoteError::type_error(format!(
                "{method}(): attribute name must be string, not '{}'",
                other.type_name()
            ))),
        }
    }

    /// Dispatcher side: the attribute name of a `__getattr__` call.
    pub fn getattr_args(
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    ) -> Result<String, RemoteError> {
        let [name] = bind::<1>(crate::GETATTR, &["name"], args, kwargs)?;
        attr_name(crate::GETATTR, name)
    }

    /// Dispatcher side: the attribute name and new value of a `__setattr__` call.
    pub fn setattr_args(
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    ) -> Result<(String, Value), RemoteError> {
        let [name, value] = bind::<2>(crate::SETATTR, &["name", "value"], args, kwargs)?;
        Ok((attr_name(crate::SETATTR, name)?, value))
    }

    /// Bound of `#[tether::component]`: its own trait so the compiler's message says why
    /// `Default` is needed.
    #[diagnostic::on_unimplemented(
        message = "`#[tether::component]` needs `{Self}: Default`: the container builds instances with `Default::default()`",
        label = "`{Self}` does not implement `Default`",
        note = "add `#[derive(Default)]` to the type, or implement `Default` for it"
    )]
    pub trait ComponentDefault: Default + Send + Sync + 'static {}

    impl<T: Default + Send + Sync + 'static> ComponentDefault for T {}

    /// The class entry `#[tether::component]` submits.
    pub const fn class_entry<S: ComponentDefault>(name: &'static str) -> crate::ClassEntry {
        crate::ClassEntry::default_ctor::<S>(name)
    }

    /// The `AttributeError` for an unknown method.
    pub fn no_method(name: &str) -> RemoteError {
        RemoteError::attribute_error(format!("remote object has no exposed method '{name}'"))
    }

    /// The `AttributeError` for an unknown attribute.
    pub fn no_attr(name: &str) -> RemoteError {
        RemoteError::attribute_error(format!("remote object has no exposed attribute '{name}'"))
    }

    /// The `AttributeError` for a write to an attribute without a setter.
    pub fn read_only_attr(name: &str) -> RemoteError {
        RemoteError::attribute_error(format!("attribute '{name}' of remote object is read-only"))
    }
}

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
