//! [`ValueDeserializer`]: [`Value`] → typed Rust values, lenient where Python is.

use super::*;
/// Deserializes any `Deserialize` type out of an owned [`Value`].
pub(super) struct ValueDeserializer(pub(super) Value);

impl<'de> IntoDeserializer<'de, Error> for Value {
    type Deserializer = ValueDeserializer;
    fn into_deserializer(self) -> ValueDeserializer {
        ValueDeserializer(self)
    }
}

/// serde's description of a value, for `invalid type` messages.
pub(super) fn unexpected(v: &Value) -> de::Unexpected<'_> {
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
        Value::BackRef(_) => U::Other("reference loop"),
    }
}

pub(super) fn invalid(v: &Value, exp: &dyn de::Expected) -> Error {
    de::Error::invalid_type(unexpected(v), exp)
}

/// The integer inside any integer variant, as a `BigInt` (the common ground for range checks).
pub(super) fn as_big(v: &Value) -> Option<BigInt> {
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
            Value::BackRef(_) => Err(Error(
                "a reference loop has no Rust form: take the value as tether::Value".into(),
            )),
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

pub(super) struct SeqAccess(pub(super) std::vec::IntoIter<Value>);

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

pub(super) struct MapAccess {
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
pub(super) struct EnumAccess {
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

pub(super) struct VariantAccess(pub(super) Option<Value>);

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
pub(super) struct RawEnum {
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
pub(super) const RAW_PREFIX: &str = "$tether::private::";

// ---------------------------------------------------------------------------------------------
// Serialize / Deserialize for Value itself
// ---------------------------------------------------------------------------------------------
