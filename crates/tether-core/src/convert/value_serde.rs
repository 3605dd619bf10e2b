//! `Value`'s own `Serialize`/`Deserialize`: lossless through this module's serializer and
//! deserializer (private markers), a best-effort plain form for other serde formats.

use super::deserializer::RAW_PREFIX;
use super::serializer::{int_value, MAX_PREALLOC};
use super::*;
pub(super) struct Seq<'a>(pub(super) &'a [Value]);

impl Serialize for Seq<'_> {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0)
    }
}

pub(super) struct ObjectAsMap<'a>(pub(super) &'a Object);

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
            Value::BackRef(_) => Err(ser::Error::custom(
                "a reference loop cannot be serialized through serde",
            )),
        }
    }
}

/// Best effort from other formats; lossless out of [`from_value`] (see the module docs).
impl<'de> de::Deserialize<'de> for Value {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_newtype_struct(VALUE_TOKEN, ValueVisitor)
    }
}

pub(super) struct ValueVisitor;

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
