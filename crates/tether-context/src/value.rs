//! [`ContextValue`]: what the container injects into a constructor or a property.
//!
//! Values stay what the file says (strings, plus `True`/`False` as booleans); numbers appear
//! only where a *typed sink* asks for them ([`ContextValue::to_port`], [`ContextValue::to_i64`]),
//! which accept `"7000"` and `7000` alike. This is Spring Python's behaviour (no global numeric
//! coercion) with the conversion moved from `getaddrinfo` into explicit, checked accessors.

use crate::error::ContextError;
use crate::object::ObjectRef;
use tether_core::Value;

/// An injected value: a plain value, another object, or a collection of those.
#[derive(Clone, Debug)]
pub enum ContextValue {
    /// A plain value (a string, a bool, a number from a typed shorthand, `None`).
    Value(Value),
    /// Another object of the context (a `ref`, or an inner object).
    Object(ObjectRef),
    /// `<list>`.
    List(Vec<ContextValue>),
    /// `<tuple>`.
    Tuple(Vec<ContextValue>),
    /// `<set>` (duplicates collapsed: equal plain values and the same object once).
    Set(Vec<ContextValue>),
    /// `<frozenset>` (as `Set`).
    FrozenSet(Vec<ContextValue>),
    /// `<dict>` or `<props>`: string keys in document order.
    Dict(Vec<(String, ContextValue)>),
}

impl ContextValue {
    /// A short description for error messages ("str", "object 'svc'", "list").
    pub fn describe(&self) -> String {
        match self {
            ContextValue::Value(v) => v.type_name().to_string(),
            ContextValue::Object(o) => format!("object '{}' ({})", o.id(), o.class()),
            ContextValue::List(_) => "list".into(),
            ContextValue::Tuple(_) => "tuple".into(),
            ContextValue::Set(_) => "set".into(),
            ContextValue::FrozenSet(_) => "frozenset".into(),
            ContextValue::Dict(_) => "dict".into(),
        }
    }

    /// The plain value, if this is one.
    pub fn as_value(&self) -> Option<&Value> {
        match self {
            ContextValue::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The string, if this is a plain string.
    pub fn as_str(&self) -> Option<&str> {
        self.as_value().and_then(Value::as_str)
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&ObjectRef> {
        match self {
            ContextValue::Object(o) => Some(o),
            _ => None,
        }
    }

    /// Whether this is `None` (`<null/>`).
    pub fn is_none(&self) -> bool {
        matches!(self, ContextValue::Value(Value::None))
    }

    /// The items of a list, tuple, set or frozenset.
    pub fn as_seq(&self) -> Option<&[ContextValue]> {
        match self {
            ContextValue::List(v)
            | ContextValue::Tuple(v)
            | ContextValue::Set(v)
            | ContextValue::FrozenSet(v) => Some(v),
            _ => None,
        }
    }

    /// The entries of a dict or props.
    pub fn as_dict(&self) -> Option<&[(String, ContextValue)]> {
        match self {
            ContextValue::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// A string sink: a plain string as is, an integer or a float in decimal.
    pub fn to_string_value(&self) -> Result<String, ContextError> {
        match self.as_value() {
            Some(Value::Str(s)) => Ok(s.clone()),
            Some(v @ (Value::Int(_) | Value::Int32(_) | Value::BigInt(_) | Value::Float(_))) => {
                Ok(match v {
                    Value::Float(f) => f.to_string(),
                    other => other.as_i64().map(|i| i.to_string()).unwrap_or_default(),
                })
            }
            _ => Err(format!("expected a string, got {}", self.describe()).into()),
        }
    }

    /// An integer sink: accepts an integer or a string holding one (`"7000"` or `7000`).
    pub fn to_i64(&self) -> Result<i64, ContextError> {
        match self.as_value() {
            Some(Value::Str(s)) => s.trim().parse::<i64>().map_err(|_| {
                ContextError::from(format!("expected an integer, got the string {s:?}"))
            }),
            Some(v) => v.as_i64().ok_or_else(|| {
                ContextError::from(format!("expected an integer, got {}", self.describe()))
            }),
            None => Err(format!("expected an integer, got {}", self.describe()).into()),
        }
    }

    /// A TCP port sink: `"7000"` or `7000`, in 0..=65535 (0 means "any free port").
    pub fn to_port(&self) -> Result<u16, ContextError> {
        let n = self.to_i64()?;
        u16::try_from(n)
            .map_err(|_| ContextError::from(format!("port {n} is out of range (0..=65535)")))
    }

    /// A boolean sink: a bool, or the strings true/false/True/False.
    pub fn to_bool(&self) -> Result<bool, ContextError> {
        match self.as_value() {
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::Str(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
            Some(Value::Str(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
            _ => Err(format!("expected true or false, got {}", self.describe()).into()),
        }
    }

    /// Converts to a plain [`Value`] (collections become `List`/`Tuple`/`Set`/`Map`), failing
    /// if an object is inside: objects are not data.
    pub fn to_value(&self) -> Result<Value, ContextError> {
        let seq = |v: &[ContextValue]| {
            v.iter()
                .map(ContextValue::to_value)
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(match self {
            ContextValue::Value(v) => v.clone(),
            ContextValue::Object(o) => match o.value() {
                Some(v) => v.clone(),
                None => return Err(format!("object '{}' is not a plain value", o.id()).into()),
            },
            ContextValue::List(v) => Value::List(seq(v)?),
            ContextValue::Tuple(v) => Value::Tuple(seq(v)?),
            ContextValue::Set(v) | ContextValue::FrozenSet(v) => Value::Set(seq(v)?),
            ContextValue::Dict(d) => Value::Map(
                d.iter()
                    .map(|(k, v)| Ok((Value::Str(k.clone()), v.to_value()?)))
                    .collect::<Result<Vec<_>, ContextError>>()?,
            ),
        })
    }

    /// Whether two values are "the same" for set membership: equal plain values, or the same object.
    pub(crate) fn same(&self, other: &ContextValue) -> bool {
        match (self, other) {
            (ContextValue::Value(a), ContextValue::Value(b)) => a == b,
            (ContextValue::Object(a), ContextValue::Object(b)) => a.ptr_eq(b),
            _ => false,
        }
    }
}

impl From<Value> for ContextValue {
    fn from(v: Value) -> Self {
        ContextValue::Value(v)
    }
}

impl From<&str> for ContextValue {
    fn from(v: &str) -> Self {
        ContextValue::Value(Value::Str(v.to_string()))
    }
}

impl From<String> for ContextValue {
    fn from(v: String) -> Self {
        ContextValue::Value(Value::Str(v))
    }
}

impl From<u16> for ContextValue {
    fn from(v: u16) -> Self {
        ContextValue::Value(Value::Int(i64::from(v)))
    }
}

impl From<ObjectRef> for ContextValue {
    fn from(v: ObjectRef) -> Self {
        ContextValue::Object(v)
    }
}
