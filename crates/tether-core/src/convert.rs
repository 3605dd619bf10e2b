//! Typed Rust values ↔ [`Value`] through serde. (Placeholder being replaced by the macro work.)
use crate::{RemoteError, Value};

/// Converts a typed value to a [`Value`].
pub fn to_value<T: serde::Serialize + ?Sized + 'static>(_v: &T) -> Result<Value, RemoteError> {
    Err(RemoteError::serialization("to_value not implemented yet"))
}

/// Converts a [`Value`] to a typed value.
pub fn from_value<T: serde::de::DeserializeOwned + 'static>(_v: Value) -> Result<T, RemoteError> {
    Err(RemoteError::serialization("from_value not implemented yet"))
}
