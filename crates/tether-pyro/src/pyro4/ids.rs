//! Pyro4's serializer ids and flag bits, and their translation to tether's internal (Pyro5)
//! ones. Both translations are bijections on the values they touch, so an id or flag tether
//! does not know survives the round trip unchanged (and is refused by whoever handles it).

use crate::pyro5::flags as f5;

/// Pyro4 flag bits that differ from Pyro5's.
mod v4 {
    pub const META_ON_CONNECT: u16 = 0x10;
    pub const ITEMSTREAMRESULT: u16 = 0x20;
    pub const KEEPSERIALIZED: u16 = 0x40;
    /// EXCEPTION, COMPRESSED, ONEWAY, BATCH: the same bits in both versions.
    pub const SHARED: u16 = 0x0f;
}

/// A Pyro4 serializer id as the internal (Pyro5) id: json 2 ↔ 3, marshal 3 ↔ 2, msgpack
/// 6 ↔ 4 (pickle, 4, becomes 6, which nothing accepts); everything else unchanged.
pub fn serializer_id_from_v4(id: u16) -> u8 {
    let id5 = match id {
        2 => 3,
        3 => 2,
        6 => 4,
        4 => 6,
        other => other,
    };
    u8::try_from(id5).unwrap_or(u8::MAX)
}

/// The inverse of [`serializer_id_from_v4`].
pub fn serializer_id_to_v4(id: u8) -> u16 {
    match id {
        3 => 2,
        2 => 3,
        4 => 6,
        6 => 4,
        other => u16::from(other),
    }
}

/// Pyro4 flags as internal ones (the bits Pyro4 does not define are dropped).
pub fn flags_from_v4(f: u16) -> u16 {
    let mut out = f & v4::SHARED;
    if f & v4::META_ON_CONNECT != 0 {
        out |= super::META_ON_CONNECT;
    }
    if f & v4::ITEMSTREAMRESULT != 0 {
        out |= f5::ITEMSTREAMRESULT;
    }
    if f & v4::KEEPSERIALIZED != 0 {
        out |= f5::KEEPSERIALIZED;
    }
    out
}

/// Internal flags as Pyro4 ones (CORR_ID travels as an annotation instead).
pub fn flags_to_v4(f: u16) -> u16 {
    let mut out = f & v4::SHARED;
    if f & super::META_ON_CONNECT != 0 {
        out |= v4::META_ON_CONNECT;
    }
    if f & f5::ITEMSTREAMRESULT != 0 {
        out |= v4::ITEMSTREAMRESULT;
    }
    if f & f5::KEEPSERIALIZED != 0 {
        out |= v4::KEEPSERIALIZED;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translations_are_inverse() {
        for id in 0..=255u16 {
            assert_eq!(serializer_id_to_v4(serializer_id_from_v4(id)), id);
        }
        for f in [0x01, 0x10, 0x20, 0x40, 0x7f, 0x11] {
            assert_eq!(flags_to_v4(flags_from_v4(f)), f & 0x7f);
        }
        assert_eq!(flags_from_v4(0x20), f5::ITEMSTREAMRESULT);
    }
}
