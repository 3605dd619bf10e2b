//! The serializer ids of the Pyro5 header.

use crate::serializer::Serializer;

/// The id in a Pyro5 message header (1 serpent, 3 json, 4 msgpack).
pub fn serializer_id(s: Serializer) -> u8 {
    match s {
        Serializer::Serpent => 1,
        Serializer::Marshal => 2,
        Serializer::Json => 3,
        Serializer::Msgpack => 4,
    }
}

/// The serializer for a Pyro5 header id.
pub fn serializer_for_id(id: u8) -> Option<Serializer> {
    match id {
        1 => Some(Serializer::Serpent),
        2 => Some(Serializer::Marshal),
        3 => Some(Serializer::Json),
        4 => Some(Serializer::Msgpack),
        _ => None,
    }
}
