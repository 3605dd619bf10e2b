//! msgpack as Pyro5 uses it (serializer id 4 in Pyro5, 6 in Pyro4).
//!
//! Pyro's `MsgpackSerializer` is `msgpack.packb(data, use_bin_type=True, default=...)` read back
//! with `msgpack.unpackb(raw=False, object_hook=..., ext_hook=...)`. Its `default` hook adds ext
//! types for what msgpack lacks; their payloads use the Python host's *native* byte order
//! (`struct.pack("d")`), which is little-endian on every platform Pyro runs on in practice, so
//! this codec reads and writes them little-endian.
//!
//! | [`Value`] | written as | read back as |
//! |---|---|---|
//! | `None` / `Bool` | nil `c0` / `c2`, `c3` | same |
//! | `Int32`, `Int` | the smallest int form, as Python's packer picks it (positive fixint, uint8..64 for non-negative, negative fixint, int8..64 for negative) | `Int` (uint64 above `i64::MAX` becomes `BigInt`) |
//! | `BigInt` | uint64 / int64 when it fits (as Python would), else ext `0x31` with the ASCII decimal digits | ext `0x31` → `Int` if it fits, else `BigInt` |
//! | `Float` | float64 `cb` (Python never writes float32) | float32 and float64 → `Float` |
//! | `Str` | fixstr / str8 / str16 / str32 | `Str` (must be UTF-8, as with `raw=False`) |
//! | `Bytes` | bin8 / bin16 / bin32 (`use_bin_type=True`) | `Bytes` |
//! | `List`, `Tuple`, `Set` | fixarray / array16 / array32 (Pyro turns sets into tuples; msgpack writes tuples as arrays) | `List` (Python also unpacks arrays as lists) |
//! | `Map` | fixmap / map16 / map32, keys of any type | `Map`, keys of any type, kept in wire order. Note: Python's `unpackb` (`strict_map_key=True`) refuses keys other than str and bytes |
//! | `DateTime` | ext `0x32`: float64 seconds since the epoch (Pyro writes naive `datetime.timestamp()`, i.e. the Python host's local time; a Python peer running in UTC reads back the same instant) | ext `0x32` → `DateTime` (milliseconds, rounded); ext `0x33` (date: C `long` day ordinal, 8 or 4 bytes) → `DateTime` at midnight UTC; msgpack's own timestamp ext `-1` (4, 8 or 12 bytes) → `DateTime` |
//! | `Object` | map with `"__class__"` first, then the fields (Pyro's `class_to_dict` shape) | `Map` (no class name ever picks a Rust type) |
//! | `Typed` | its inner list or map | `List` / `Map` |
//!
//! Ext `0x30` (complex: two float64) has no [`Value`] and is refused, as is any other ext type
//! (Pyro raises SerializeError for unknown codes too). The reader rejects the unused byte `c1`,
//! truncation, trailing data (Python's `ExtraData`), and every declared length or count that
//! exceeds the bytes left, before allocating anything; depth and item count follow [`Limits`].

use crate::serializer::common::{check_encode_depth, error_at, Budget, MAX_INT_DIGITS};
use crate::serializer::{Detached, Limits, Splice};
use num_bigint::BigInt;
use num_traits::ToPrimitive;
use tether_core::{Call, RemoteError, Value};

const FORMAT: &str = "msgpack";

/// Pyro's ext code for complex numbers (refused: no [`Value`] for them).
const EXT_COMPLEX: i8 = 0x30;
/// Pyro's ext code for ints beyond 64 bits: ASCII decimal.
const EXT_BIGINT: i8 = 0x31;
/// Pyro's ext code for naive datetimes: float64 timestamp, native (little-endian) order.
const EXT_DATETIME: i8 = 0x32;
/// Pyro's ext code for dates: C `long` day ordinal (day 1 = 0001-01-01), native order.
const EXT_DATE: i8 = 0x33;
/// msgpack's own timestamp extension.
const EXT_TIMESTAMP: i8 = -1;

mod parser;
mod scan;
mod writer;

pub use parser::{decode, decode_detached, decode_invoke, decode_invoke_usual};
pub use scan::{find_large_bin, BinScan};
pub use writer::{encode, encode_invoke_spliced, encode_spliced};

#[cfg(test)]
mod tests {
    use super::*;

    /// An INVOKE payload written from the call's parts is byte for byte the tuple's encoding,
    /// splices included (a large byte string in vargs and in kwargs, kwargs as nil).
    #[test]
    fn invoke_payloads_encode_as_the_tuple_does() {
        let big = Value::Bytes(vec![7u8; 300]);
        let args = vec![
            Value::str("hi"),
            big.clone(),
            Value::List(vec![Value::Int(300)]),
        ];
        let kwargs = vec![
            ("k".to_string(), big.clone()),
            ("n".to_string(), Value::None),
        ];
        for kw in [Some(kwargs.as_slice()), Some(&[][..]), None] {
            let tuple = Value::Tuple(vec![
                Value::str("obj"),
                Value::str("echo"),
                Value::Tuple(args.clone()),
                match kw {
                    Some(kw) => Value::Map(
                        kw.iter()
                            .map(|(k, v)| (Value::str(k.as_str()), v.clone()))
                            .collect(),
                    ),
                    None => Value::None,
                },
            ]);
            let (mut want, mut want_sp) = (Vec::new(), Vec::new());
            encode_spliced(&tuple, &mut want, &mut want_sp, 100).unwrap();
            let (mut got, mut got_sp) = (Vec::new(), Vec::new());
            encode_invoke_spliced("obj", "echo", &args, kw, &mut got, &mut got_sp, 100).unwrap();
            assert_eq!(got, want);
            let at = |sp: &Vec<crate::serializer::Splice<'_>>| {
                sp.iter().map(|s| (s.at, s.data.len())).collect::<Vec<_>>()
            };
            assert_eq!(at(&got_sp), at(&want_sp));
            assert_eq!(
                got_sp.len(),
                if kw.is_some_and(|k| !k.is_empty()) {
                    2
                } else {
                    1
                }
            );
        }
    }

    /// An INVOKE payload decoded by the direct path (a fixarray, `decode_invoke`) and by the
    /// general one (the same elements behind an array16 header, decoded as a value first)
    /// gives the same call, or the same complaint, for good payloads, wrong shapes, garbage,
    /// truncation and lying lengths.
    #[test]
    fn invoke_payloads_decode_the_same_either_way() {
        use crate::serializer::Serializer;
        let limits = crate::serializer::Limits::default();
        let tail = |v: &[Value]| -> Vec<u8> {
            let mut out = Vec::new();
            for x in v {
                encode(x, &mut out).unwrap();
            }
            out
        };
        let s = Value::str;
        let kw = Value::Map(vec![(s("k"), Value::Int(1))]);
        let mut cases: Vec<Vec<u8>> = vec![
            tail(&[
                s("obj"),
                s("echo"),
                Value::List(vec![s("hi")]),
                Value::Map(vec![]),
            ]),
            tail(&[s("obj"), s("echo"), Value::Tuple(vec![]), kw.clone()]),
            tail(&[
                s("obj"),
                s("__getattr__"),
                Value::List(vec![s("x")]),
                Value::None,
            ]),
            tail(&[s("obj"), s("m"), Value::None, Value::None]),
            tail(&[Value::Int(1), s("m"), Value::None, Value::None]),
            tail(&[s("obj"), Value::Int(2), Value::None, Value::None]),
            tail(&[s("obj"), s("m"), Value::Int(3), Value::None]),
            tail(&[s("obj"), s("m"), Value::None, Value::Int(4)]),
            tail(&[
                s("obj"),
                s("m"),
                Value::None,
                Value::Map(vec![(Value::Int(1), s("v"))]),
            ]),
            tail(&[s("obj"), s("m"), Value::None]),
        ];
        let good = cases[0].clone();
        cases.push(good[..good.len() - 3].to_vec()); // truncated
        let mut extra = good.clone();
        extra.push(0xc0); // extra data
        cases.push(extra);
        cases.push(vec![0xa3, b'o', b'b', 0xdd, 0xff, 0xff, 0xff, 0xff]); // a 4 GiB list
        cases.push(vec![0xdb, 0xff, 0xff, 0xff, 0xf0]); // a 4 GiB string
        cases.push(vec![0xc1, 0xc1, 0xc1, 0xc1]); // garbage
                                                  // The usual shape (read by `decode_invoke_usual`) with more in it, then mutations of
                                                  // the usual payloads from a fixed seed: bytes replaced, inserted, removed, cut off.
        let usual = [
            cases[0].clone(),
            tail(&[
                s("Pyro.Daemon"),
                s("get_metadata"),
                Value::List(vec![s("obj"), Value::Int(-7), Value::Bytes(vec![1, 2])]),
                Value::None,
            ]),
            tail(&[
                s("x"),
                s("m\u{e9}"),
                Value::List(vec![Value::List(vec![Value::Map(vec![(s("k"), s("v"))])])]),
                Value::Map(vec![]),
            ]),
        ];
        cases.extend(usual.iter().skip(1).cloned());
        let mut next = tether_test_support::xorshift(0x2545_f491_4f6c_dd1d);
        let interesting = [
            0x00, 0x80, 0x81, 0x90, 0x91, 0x9f, 0xa1, 0xc0, 0xc1, 0xdd, 0xff,
        ];
        for _ in 0..20_000 {
            let mut t = usual[(next() % 3) as usize].clone();
            for _ in 0..1 + next() % 2 {
                let at = (next() % t.len() as u64) as usize;
                let byte = interesting[(next() % interesting.len() as u64) as usize];
                match next() % 4 {
                    0 => t[at] = byte,
                    1 => t.insert(at, byte),
                    2 => {
                        t.remove(at);
                    }
                    _ => t.truncate(at),
                }
                if t.is_empty() {
                    t.push(0xc0);
                }
            }
            cases.push(t);
        }
        // Limits too tight for the usual payload fail the same way on both paths.
        let tight = [
            crate::serializer::Limits {
                max_depth: 1,
                ..crate::serializer::Limits::default()
            },
            crate::serializer::Limits {
                max_items: 5,
                ..crate::serializer::Limits::default()
            },
        ];
        for limits in tight {
            let mut direct = vec![0x94];
            direct.extend_from_slice(&usual[2]);
            let mut general = vec![0xdc, 0x00, 0x04];
            general.extend_from_slice(&usual[2]);
            let a = Serializer::Msgpack.decode_call(&direct, &limits);
            let b = Serializer::Msgpack.decode_call(&general, &limits);
            assert!(a.is_err() && b.is_err(), "{a:?} / {b:?}");
        }
        for (i, t) in cases.iter().enumerate() {
            let mut direct = vec![0x94];
            direct.extend_from_slice(t);
            let mut general = vec![0xdc, 0x00, 0x04];
            general.extend_from_slice(t);
            let a = Serializer::Msgpack.decode_call(&direct, &limits);
            let b = Serializer::Msgpack.decode_call(&general, &limits);
            match (a, b) {
                (Ok((oa, ca)), Ok((ob, cb))) => {
                    assert_eq!(oa, ob, "case {i}");
                    assert_eq!(
                        (ca.method, ca.args, ca.kwargs),
                        (cb.method, cb.args, cb.kwargs),
                        "case {i}"
                    );
                }
                (Err(ea), Err(eb)) => {
                    assert_eq!(ea.kind(), eb.kind(), "case {i}: {ea} / {eb}");
                    // the same words; a position in the text is two bytes further on in the
                    // array16 form
                    let words = |e: &tether_core::RemoteError| {
                        e.message()
                            .split(|c: char| c.is_ascii_digit())
                            .collect::<String>()
                    };
                    assert_eq!(words(&ea), words(&eb), "case {i}");
                }
                (a, b) => panic!("case {i}: {a:?} / {b:?}"),
            }
        }
    }

    fn enc(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        encode(v, &mut out).unwrap();
        out
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn ints_take_pythons_smallest_form() {
        assert_eq!(enc(&Value::Int(200)), hex("ccc8"));
        assert_eq!(enc(&Value::Int(-100)), hex("d09c"));
        let two63: BigInt = BigInt::from(1u64 << 63);
        assert_eq!(enc(&Value::BigInt(two63)), hex("cf8000000000000000"));
        let two64: BigInt = BigInt::from(u64::MAX) + 1;
        assert_eq!(
            enc(&Value::BigInt(two64)),
            hex("c714313138343436373434303733373039353531363136")
        );
        assert_eq!(enc(&Value::Float(1.5)), hex("cb3ff8000000000000"));
    }

    #[test]
    fn lying_lengths_fail_without_allocating() {
        for h in [
            "dbffffffff",
            "ddffffffff",
            "dfffffffff",
            "c6ffffffff",
            "c9ffffffff31",
        ] {
            assert!(decode(&hex(h), &Limits::default()).is_err(), "{h}");
        }
    }

    /// Inserts the splices into the buffer: what a vectored write puts on the wire.
    fn joined(buf: &[u8], splices: &[Splice<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut from = 0;
        for s in splices {
            assert!(s.at >= from && s.at <= buf.len(), "splice offsets in order");
            out.extend_from_slice(&buf[from..s.at]);
            out.extend_from_slice(s.data);
            from = s.at;
        }
        out.extend_from_slice(&buf[from..]);
        out
    }

    #[test]
    fn spliced_encoding_joins_to_the_plain_encoding() {
        let min = 1000;
        // sizes around the threshold and around the bin8/bin16/bin32 boundaries
        let mut sizes = vec![0, 1, 255, 256, 65_535, 65_536, 70_000];
        sizes.extend(min - 2..=min + 2);
        for &n in &sizes {
            let big = Value::Bytes((0..n).map(|i| (i % 251) as u8).collect());
            let other = Value::Bytes(vec![7u8; n / 2]);
            let values = [
                big.clone(),
                Value::Tuple(vec![
                    Value::str("obj"),
                    Value::str("echo"),
                    Value::Tuple(vec![big.clone(), Value::Int(5), other.clone()]),
                    Value::Map(vec![(Value::str("k"), big.clone())]),
                ]),
                Value::List(vec![other.clone(), big.clone(), big.clone(), Value::None]),
            ];
            for v in &values {
                let plain = enc(v);
                // a non-empty buffer in front, as in a message (header and annotations)
                let mut buf = b"prefix".to_vec();
                let mut splices = Vec::new();
                encode_spliced(v, &mut buf, &mut splices, min).unwrap();
                assert!(splices.iter().all(|s| s.data.len() >= min));
                assert_eq!(joined(&buf, &splices)[6..], plain[..], "size {n}");
                // and it decodes (tuples come back as lists, as from the plain encoding)
                assert!(decode(&joined(&buf, &splices)[6..], &Limits::default()).is_ok());
                if n < min {
                    assert!(splices.is_empty());
                }
            }
        }
        // the depth limit holds on the spliced path as on the plain one
        let mut deep = Value::Bytes(vec![1; 10]);
        for _ in 0..600 {
            deep = Value::List(vec![deep]);
        }
        assert!(encode(&deep, &mut Vec::new()).is_err());
        assert!(encode_spliced(&deep, &mut Vec::new(), &mut Vec::new(), 1).is_err());
    }

    #[test]
    fn large_bins_are_found_and_decode_from_a_detached_buffer() {
        let big = Value::Bytes((0..5000u32).map(|i| i as u8).collect());
        let call = Value::Tuple(vec![
            Value::str("obj"),
            Value::str("echo"),
            Value::Tuple(vec![
                Value::Bytes(vec![1; 10]),
                Value::Float(1.0),
                big.clone(),
            ]),
            Value::Map(vec![]),
        ]);
        let bytes = enc(&call);
        let BinScan::Found { at, len } = find_large_bin(&bytes, 1000) else {
            panic!("not found")
        };
        assert_eq!((len, &bytes[at..at + len]), (5000, &enc(&big)[3..]));
        // every prefix that stops before the bin's header is complete wants more
        for cut in 0..at {
            assert_eq!(
                find_large_bin(&bytes[..cut], 1000),
                BinScan::NeedMore,
                "{cut}"
            );
        }
        assert_eq!(find_large_bin(&bytes, 6000), BinScan::NeedMore);
        assert_eq!(find_large_bin(&hex("c1"), 1), BinScan::None);
        // the payload without the bin's bytes, plus the bytes, decodes as the whole payload
        let mut cut = bytes[..at].to_vec();
        cut.extend_from_slice(&bytes[at + len..]);
        let data = bytes[at..at + len].to_vec();
        let d = |at, data: &Vec<u8>| {
            Some(Detached {
                at,
                data: data.clone(),
            })
        };
        let limits = Limits::default();
        assert_eq!(
            decode_detached(&cut, d(at, &data), &limits).unwrap(),
            decode(&bytes, &limits).unwrap()
        );
        // a detached part nobody claims (wrong offset or length) is an error, never a panic
        assert!(decode_detached(&cut, d(at - 1, &data), &limits).is_err());
        assert!(decode_detached(&cut, d(at, &data[1..].to_vec()), &limits).is_err());
        assert!(decode_detached(&cut, d(usize::MAX, &data), &limits).is_err());
    }
}
