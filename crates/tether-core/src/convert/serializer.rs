//! [`ValueSerializer`]: typed Rust values → [`Value`] (serde's data model mapped onto the wires').

use super::*;
pub(super) fn int_value(i: i128) -> Value {
    match i64::try_from(i) {
        Ok(i) => Value::Int(i),
        Err(_) => Value::BigInt(BigInt::from(i)),
    }
}

// ---------------------------------------------------------------------------------------------
// Serializer
// ---------------------------------------------------------------------------------------------

/// Serializes any `Serialize` type into a [`Value`].
pub(super) struct ValueSerializer;

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

pub(super) fn marker_error(what: &str, got: &Value) -> Error {
    Error(format!("malformed {what} marker: got {}", got.type_name()))
}

/// Preallocation cap: a size hint is only a hint (a lying `Serialize` impl must not make us
/// reserve gigabytes).
pub(super) const MAX_PREALLOC: usize = 4096;

/// Builds a `List` (sequences) or a `Tuple` (tuples and tuple structs).
pub(super) struct SeqBuilder {
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
pub(super) struct MapBuilder {
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
pub(super) struct VariantBuilder<B> {
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
