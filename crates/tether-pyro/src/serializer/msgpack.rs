//! msgpack (being written).
use crate::serializer::Limits;
use tether_core::{RemoteError, Value};

/// Appends the msgpack encoding of `value` to `out`.
pub fn encode(_value: &Value, _out: &mut Vec<u8>) -> Result<(), RemoteError> {
    Err(RemoteError::serialization("msgpack: not implemented yet"))
}

/// Decodes one msgpack value spanning all of `bytes`.
pub fn decode(_bytes: &[u8], _limits: &Limits) -> Result<Value, RemoteError> {
    Err(RemoteError::serialization("msgpack: not implemented yet"))
}
