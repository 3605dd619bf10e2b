//! The decoders on hostile bytes: truncation at every byte, garbage, lengths that lie (up to
//! 4 GiB), nesting bombs, refs to nothing, ref expansion bombs. Each is a clear
//! error, never a panic, a hang or a large allocation.

use tether_core::Value;
use tether_hessian::codec::{decode_h1, decode_h2, encode_h2, parse_call, parse_reply, Limits};

fn sample() -> Vec<u8> {
    let v = Value::List(vec![
        Value::str("héllo 😀"),
        Value::Int(1 << 40),
        Value::Float(2.5),
        Value::Bytes(vec![1; 40]),
        Value::Map(vec![(
            Value::str("k"),
            Value::typed("[int", Value::List(vec![Value::Int32(3)])),
        )]),
        Value::object("a.B", vec![("x".into(), Value::None)]),
        Value::DateTime(123),
    ]);
    let mut out = Vec::new();
    encode_h2(&v, &mut out).unwrap();
    out
}

#[test]
fn truncation_at_every_byte_is_an_error() {
    let whole = sample();
    let l = Limits::default();
    assert!(decode_h2(&whole, &l).is_ok());
    for cut in 0..whole.len() {
        assert!(decode_h2(&whole[..cut], &l).is_err(), "cut {cut}");
    }
    let mut call = b"H\x02\x00C\x04echo\x91".to_vec();
    call.extend_from_slice(&whole);
    assert!(parse_call(&call, &l).is_ok());
    for cut in 0..call.len() {
        assert!(parse_call(&call[..cut], &l).is_err(), "call cut {cut}");
    }
}

#[test]
fn lies_bombs_and_loops_are_refused() {
    let l = Limits::default();
    let err = |b: &[u8]| decode_h2(b, &l).unwrap_err().to_string();
    // a list of 2^31-1 items declared, nothing sent
    assert!(err(&[b'X', b'I', 0x7f, 0xff, 0xff, 0xff]).contains("impossible"));
    // a string of 65535 units declared, 3 bytes sent
    assert!(err(&[b'S', 0xff, 0xff, b'a', b'b', b'c']).contains("impossible"));
    // a Hessian 1 list declaring 4 GiB (-1 means unknown in Hessian 1; 0x7fffffff is a lie)
    assert!(decode_h1(&[b'V', b'l', 0x7f, 0xff, 0xff, 0xff, b'z'], &l).is_err());
    // nesting 100,000 deep
    let deep = vec![0x79u8; 100_000];
    assert!(err(&deep).contains("nested deeper"));
    let deep1: Vec<u8> = std::iter::repeat_n(*b"Vl\x00\x00\x00\x01", 50_000)
        .flatten()
        .collect();
    assert!(decode_h1(&deep1, &l)
        .unwrap_err()
        .to_string()
        .contains("nested deeper"));
    // a ref to nothing, an object of an undefined class (a list that contains itself is a
    // loop, carried: tests/loops.rs)
    assert!(err(&[b'Q', 0x95]).contains("names nothing"));
    assert!(err(&[0x61]).contains("does not exist"));
    assert!(err(&[0x40]).contains("not a Hessian 2 value"));
    // refs that expand a small message into millions of items
    let mut bomb = vec![b'W', 0x7f];
    bomb.extend(std::iter::repeat_n(0x90, 7));
    for _ in 0..40 {
        // each level: a list of 7 refs to the previous list
        let prev = (bomb.iter().filter(|b| **b == b'W' || **b == 0x7f).count() - 1) as u8;
        let mut next = vec![b'W'];
        next.extend_from_slice(&bomb);
        for _ in 0..6 {
            next.extend_from_slice(&[b'Q', 0x90 + prev]);
        }
        next.push(b'Z');
        bomb = next;
    }
    let r = decode_h2(&bomb, &l);
    assert!(r.is_err(), "an expansion bomb was accepted");
    // garbage envelopes
    assert!(parse_call(b"GET / HTTP/1.1", &l).is_err());
    assert!(parse_call(b"r\x01\x00N", &l).is_err());
    assert!(parse_reply(b"\x00\x01", &l).is_err());
    assert!(parse_call(
        &[b'H', 2, 0, b'C', 0x04, b'e', b'c', b'h', b'o', b'I', 0x7f, 0xff, 0xff, 0xff],
        &l
    )
    .unwrap_err()
    .to_string()
    .contains("impossible"));
}

#[test]
fn random_values_round_trip() {
    // A small deterministic generator (xorshift): thousands of nested values.
    let mut next = tether_test_support::xorshift(0x2545_f491_4f6c_dd1d);
    fn gen(next: &mut dyn FnMut() -> u64, depth: u32) -> Value {
        let pick = next() % if depth > 3 { 9 } else { 13 };
        match pick {
            0 => Value::None,
            1 => Value::Bool(next().is_multiple_of(2)),
            2 => Value::Int32(next() as i32 >> (next() % 31)),
            3 => Value::Int(next() as i64 >> (next() % 63)),
            4 => Value::Float(f64::from_bits(next())),
            5 => Value::Float((next() % 100_000) as f64 / 1000.0),
            6 => Value::DateTime(next() as i64 >> 20),
            7 => Value::Str(
                (0..next() % 40)
                    .filter_map(|_| char::from_u32((next() % 0x11_0000) as u32))
                    .collect(),
            ),
            8 => Value::Bytes((0..next() % 70).map(|_| next() as u8).collect()),
            9 => Value::List((0..next() % 10).map(|_| gen(next, depth + 1)).collect()),
            10 => Value::Map(
                (0..next() % 5)
                    .map(|_| (gen(next, depth + 1), gen(next, depth + 1)))
                    .collect(),
            ),
            11 => Value::typed(
                "java.util.ArrayList",
                Value::List((0..next() % 9).map(|_| gen(next, depth + 1)).collect()),
            ),
            _ => Value::object(
                if next().is_multiple_of(2) {
                    "a.A"
                } else {
                    "b.B"
                },
                vec![
                    ("f".into(), gen(next, depth + 1)),
                    ("g".into(), gen(next, depth + 1)),
                ],
            ),
        }
    }
    for _ in 0..5000 {
        let v = gen(&mut next, 0);
        let mut out = Vec::new();
        encode_h2(&v, &mut out).unwrap();
        assert_eq!(
            decode_h2(&out, &Limits::default()).unwrap(),
            v,
            "{out:02x?}"
        );
        let mut out1 = Vec::new();
        tether_hessian::codec::encode_h1(&v, &mut out1).unwrap();
        let back = decode_h1(&out1, &Limits::default()).unwrap();
        // Hessian 1 has no objects: they come back as typed maps
        if !format!("{v:?}").contains("Object") {
            assert_eq!(back, v, "h1 {out1:02x?}");
        }
    }
}
