//! The codec against bytes captured from Caucho's Java Hessian 4.0.38 and python-hessian 1.2.0
//! (the protocol reference's captures): every compact form at its boundaries, strings with
//! non-BMP characters, typed lists and maps, class definitions and objects, refs, and the
//! call/reply/fault envelopes of both versions.

use tether_core::Value;
use tether_hessian::codec::{
    decode_h1, decode_h2, encode_h2, parse_call, parse_reply, write_call, write_fault, write_reply,
    CallVersion, Fault, Limits,
};

fn h(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn h2(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode_h2(v, &mut out).unwrap();
    out
}

fn both_ways(v: Value, bytes: &[u8]) {
    assert_eq!(h2(&v), bytes, "encoding {v:?}");
    assert_eq!(
        decode_h2(bytes, &Limits::default()).unwrap(),
        v,
        "decoding {bytes:02x?}"
    );
}

#[test]
fn ints_longs_doubles_and_dates_at_every_boundary() {
    for (i, b) in [
        (0, &[0x90][..]),
        (-16, &[0x80]),
        (47, &[0xbf]),
        (48, &[0xc8, 0x30]),
        (-17, &[0xc7, 0xef]),
        (-2048, &[0xc0, 0x00]),
        (2047, &[0xcf, 0xff]),
        (2048, &[0xd4, 0x08, 0x00]),
        (262144, &[0x49, 0x00, 0x04, 0x00, 0x00]),
    ] {
        both_ways(Value::Int32(i), b);
    }
    for (i, b) in [
        (0i64, &[0xe0][..]),
        (-8, &[0xd8]),
        (15, &[0xef]),
        (16, &[0xf8, 0x10]),
        (-2048, &[0xf0, 0x00]),
        (2047, &[0xff, 0xff]),
        (262143, &[0x3f, 0xff, 0xff]),
        (2147483647, &[0x59, 0x7f, 0xff, 0xff, 0xff]),
        (2147483648, &[0x4c, 0, 0, 0, 0, 0x80, 0, 0, 0]),
    ] {
        both_ways(Value::Int(i), b);
    }
    for (d, b) in [
        (0.0, &[0x5b][..]),
        (1.0, &[0x5c]),
        (-128.0, &[0x5d, 0x80]),
        (128.0, &[0x5e, 0x00, 0x80]),
        (32767.0, &[0x5e, 0x7f, 0xff]),
        (32768.0, &[0x5f, 0x01, 0xf4, 0x00, 0x00]),
        (0.001, &[0x5f, 0x00, 0x00, 0x00, 0x01]),
        (2.5, &[0x5f, 0x00, 0x00, 0x09, 0xc4]),
    ] {
        both_ways(Value::Float(d), b);
    }
    // 1e10, NaN, infinities and -0.0 go in full (Caucho writes -0.0 as 5b and loses the sign)
    for d in [
        1e10,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        0.1 + 0.2,
    ] {
        let b = h2(&Value::Float(d));
        assert_eq!(b[0], b'D', "{d}");
        assert_eq!(decode_h2(&b, &Limits::default()).unwrap(), Value::Float(d));
    }
    // what Caucho writes for -0.0 reads as 0.0
    assert_eq!(
        decode_h2(&[0x5b], &Limits::default()).unwrap(),
        Value::Float(0.0)
    );
    both_ways(Value::DateTime(0), &[0x4b, 0, 0, 0, 0]);
    both_ways(
        Value::DateTime(1_700_000_040_000),
        &[0x4b, 0x01, 0xb0, 0x55, 0x16],
    );
    both_ways(
        Value::DateTime(1_700_000_000_123),
        &[0x4a, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b],
    );
}

#[test]
fn strings_and_binaries_in_every_chunking() {
    both_ways(Value::str(""), &[0x00]);
    both_ways(
        Value::str("a😀"),
        &[0x03, 0x61, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80],
    );
    let s31 = "x".repeat(31);
    both_ways(Value::str(s31.as_str()), &h(&[&[0x1f], s31.as_bytes()]));
    let s40 = "y".repeat(40);
    both_ways(
        Value::str(s40.as_str()),
        &h(&[&[0x30, 0x28], s40.as_bytes()]),
    );
    let s1024 = "z".repeat(1024);
    both_ways(
        Value::str(s1024.as_str()),
        &h(&[&[0x53, 0x04, 0x00], s1024.as_bytes()]),
    );
    let s40000 = "w".repeat(40000);
    both_ways(
        Value::str(s40000.as_str()),
        &h(&[
            &[0x52, 0x80, 0x00],
            &s40000.as_bytes()[..32768],
            &[0x53, 0x1c, 0x40],
            &s40000.as_bytes()[32768..],
        ]),
    );
    // a surrogate pair split across chunks (a Java writer may do that) reads back whole
    let split = h(&[
        &[0x52, 0x00, 0x01, 0xed, 0xa0, 0xbd],
        &[0x01, 0xed, 0xb8, 0x80],
    ]);
    assert_eq!(
        decode_h2(&split, &Limits::default()).unwrap(),
        Value::str("😀")
    );
    both_ways(Value::Bytes(vec![]), &[0x20]);
    let b16 = vec![7u8; 16];
    both_ways(Value::Bytes(b16.clone()), &h(&[&[0x34, 0x10], &b16]));
    let b1024 = vec![9u8; 1024];
    both_ways(
        Value::Bytes(b1024.clone()),
        &h(&[&[0x42, 0x04, 0x00], &b1024]),
    );
    // any chunking on input: 70000 bytes in 8179-byte chunks, as Caucho's 8 KiB buffer writes
    let big: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
    let mut chunked = Vec::new();
    let mut rest = &big[..];
    while rest.len() > 8179 {
        chunked.push(b'A');
        chunked.extend_from_slice(&8179u16.to_be_bytes());
        chunked.extend_from_slice(&rest[..8179]);
        rest = &rest[8179..];
    }
    chunked.push(b'B');
    chunked.extend_from_slice(&(rest.len() as u16).to_be_bytes());
    chunked.extend_from_slice(rest);
    assert_eq!(
        decode_h2(&chunked, &Limits::default()).unwrap(),
        Value::Bytes(big)
    );
}

#[test]
fn lists_maps_objects_and_refs() {
    both_ways(Value::List(vec![]), &[0x78]);
    both_ways(
        Value::List(vec![Value::Int32(1), Value::Int32(2)]),
        &[0x7a, 0x91, 0x92],
    );
    both_ways(
        Value::typed(
            "[string",
            Value::List(vec![Value::str("a"), Value::str("b")]),
        ),
        &h(&[&[0x72, 0x07], b"[string", &[0x01], b"a", &[0x01], b"b"]),
    );
    both_ways(
        Value::typed(
            "[int",
            Value::List([0, 1, 4, 9].into_iter().map(Value::Int32).collect()),
        ),
        &h(&[&[0x74, 0x04], b"[int", &[0x90, 0x91, 0x94, 0x99]]),
    );
    let eight: Vec<Value> = (0..8).map(Value::Int32).collect();
    let mut b = vec![0x58, 0x98];
    b.extend((0..8).map(|i| 0x90 + i as u8));
    both_ways(Value::List(eight), &b);
    both_ways(
        Value::Map(vec![(Value::str("k"), Value::Int32(1))]),
        &h(&[&[0x48, 0x01], b"k", &[0x91, 0x5a]]),
    );
    both_ways(
        Value::typed(
            "java.util.TreeMap",
            Value::Map(vec![(Value::str("k"), Value::Int32(1))]),
        ),
        &h(&[
            &[0x4d, 0x11],
            b"java.util.TreeMap",
            &[0x01],
            b"k",
            &[0x91, 0x5a],
        ]),
    );
    // Person{Bob, 41, [t1]} as Caucho writes it: class definition, then the instance
    let bob = Value::object(
        "peer.Person",
        vec![
            ("name".into(), Value::str("Bob")),
            ("age".into(), Value::Int32(41)),
            ("tags".into(), Value::List(vec![Value::str("t1")])),
        ],
    );
    let bob_bytes = h(&[
        &[0x43, 0x0b],
        b"peer.Person",
        &[0x93, 0x04],
        b"name",
        &[0x03],
        b"age",
        &[0x04],
        b"tags",
        &[0x60, 0x03],
        b"Bob",
        &[0xb9, 0x79, 0x02],
        b"t1",
    ]);
    both_ways(bob.clone(), &bob_bytes);
    // the same object twice in a list: Caucho's second occurrence is a ref (51 91); it reads
    // as a copy; tether writes the class definition once and the instance twice
    let sam = Value::object(
        "peer.Person",
        vec![
            ("name".into(), Value::str("Sam")),
            ("age".into(), Value::Int32(7)),
            ("tags".into(), Value::List(vec![])),
        ],
    );
    let caucho = h(&[
        &[0x7a, 0x43, 0x0b],
        b"peer.Person",
        &[0x93, 0x04],
        b"name",
        &[0x03],
        b"age",
        &[0x04],
        b"tags",
        &[0x60, 0x03],
        b"Sam",
        &[0x97, 0x78, 0x51, 0x91],
    ]);
    let two = Value::List(vec![sam.clone(), sam.clone()]);
    assert_eq!(decode_h2(&caucho, &Limits::default()).unwrap(), two);
    let ours = h2(&two);
    assert_eq!(
        ours.iter().filter(|b| **b == 0x43).count(),
        1,
        "one class definition"
    );
    assert_eq!(decode_h2(&ours, &Limits::default()).unwrap(), two);
    // Hessian 1: a Java object is a typed map
    let h1 = h(&[
        &[0x4d, 0x74, 0x00, 0x0b],
        b"peer.Person",
        &[0x53, 0x00, 0x04],
        b"name",
        &[0x53, 0x00, 0x03],
        b"Ann",
        &[0x53, 0x00, 0x03],
        b"age",
        &[0x49, 0, 0, 0, 0x1e, 0x53, 0x00, 0x04],
        b"tags",
        &[0x56, 0x6c, 0, 0, 0, 1, 0x53, 0x00, 0x03],
        b"new",
        &[0x7a, 0x7a],
    ]);
    assert_eq!(
        decode_h1(&h1, &Limits::default()).unwrap(),
        Value::typed(
            "peer.Person",
            Value::Map(vec![
                (Value::str("name"), Value::str("Ann")),
                (Value::str("age"), Value::Int32(30)),
                (Value::str("tags"), Value::List(vec![Value::str("new")])),
            ])
        )
    );
}

#[test]
fn call_reply_and_fault_envelopes_of_both_versions() {
    let l = Limits::default();
    // Caucho's default call: Hessian 1 with version 2 (asks for a Hessian 2 reply)
    let c = h(&[
        &[0x63, 0x02, 0x00, 0x6d, 0x00, 0x07],
        b"getData",
        &[0x53, 0x00, 0x05],
        b"Hello",
        &[0x7a],
    ]);
    let call = parse_call(&c, &l).unwrap();
    assert_eq!(
        (call.version, call.method.as_str(), call.args.clone()),
        (
            CallVersion::Hessian1Reply2,
            "getData",
            vec![Value::str("Hello")]
        )
    );
    // python-hessian's: c 01 00 (our writer's Hessian 1 call is byte-for-byte the same)
    let mut py = c.clone();
    py[1] = 0x01;
    assert_eq!(parse_call(&py, &l).unwrap().version, CallVersion::Hessian1);
    let mut ours = Vec::new();
    write_call(false, "getData", &[Value::str("Hello")], &mut ours).unwrap();
    assert_eq!(ours, py);
    // Caucho's Hessian 2 call; our writer's is the same
    let c2 = h(&[
        &[0x48, 0x02, 0x00, 0x43, 0x07],
        b"getData",
        &[0x91, 0x05],
        b"Hello",
    ]);
    let call = parse_call(&c2, &l).unwrap();
    assert_eq!(
        (call.version, call.args.clone()),
        (CallVersion::Hessian2, vec![Value::str("Hello")])
    );
    let mut ours = Vec::new();
    write_call(true, "getData", &[Value::str("Hello")], &mut ours).unwrap();
    assert_eq!(ours, c2);
    let add = h(&[&[0x48, 0x02, 0x00, 0x43, 0x03], b"add", &[0x92, 0x92, 0x93]]);
    assert_eq!(
        parse_call(&add, &l).unwrap().args,
        vec![Value::Int32(2), Value::Int32(3)]
    );
    // replies, as Caucho's server writes them
    let text = "You got remoted data: Hello";
    let r2 = h(&[&[0x48, 0x02, 0x00, 0x52, 0x1b], text.as_bytes()]);
    let r1 = h(&[
        &[0x72, 0x01, 0x00, 0x53, 0x00, 0x1b],
        text.as_bytes(),
        &[0x7a],
    ]);
    for (v2, bytes) in [(true, &r2), (false, &r1)] {
        let mut out = Vec::new();
        write_reply(v2, &Value::str(text), &mut out).unwrap();
        assert_eq!(&out, bytes);
        assert_eq!(parse_reply(bytes, &l).unwrap(), Ok(Value::str(text)));
    }
    let mut five = Vec::new();
    write_reply(true, &Value::Int32(5), &mut five).unwrap();
    assert_eq!(five, [0x48, 0x02, 0x00, 0x52, 0x95]);
    // faults: Caucho's "no such method" byte for byte, Hessian 1 with its double 'z'
    let fault = Fault {
        code: "NoSuchMethodException".into(),
        message: "The service has no method named: noSuchM".into(),
        detail: Value::None,
    };
    let f2 = h(&[
        &[0x48, 0x02, 0x00, 0x46, 0x48, 0x04],
        b"code",
        &[0x15],
        b"NoSuchMethodException",
        &[0x07],
        b"message",
        &[0x30, 0x28],
        b"The service has no method named: noSuchM",
        &[0x5a],
    ]);
    let mut out = Vec::new();
    write_fault(true, &fault, &mut out).unwrap();
    assert_eq!(out, f2);
    assert_eq!(parse_reply(&f2, &l).unwrap(), Err(fault.clone()));
    let mut f1 = Vec::new();
    write_fault(false, &fault, &mut f1).unwrap();
    assert!(f1.starts_with(b"r\x01\x00f") && f1.ends_with(b"zz"));
    assert_eq!(parse_reply(&f1, &l).unwrap(), Err(fault));
    // the older framing r 02 00 <h2 value> z
    let old = h(&[&[0x72, 0x02, 0x00, 0x91, 0x7a]]);
    assert_eq!(parse_reply(&old, &l).unwrap(), Ok(Value::Int32(1)));
}
