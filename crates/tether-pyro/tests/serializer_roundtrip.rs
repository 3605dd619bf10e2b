//! Round trips of every `Value` variant, golden payloads from captured Pyro traffic
//! (pyro.md section 7), and hostile input: garbage, truncation at every byte, lying lengths,
//! excessive depth and item counts.

mod serializer_support;

use serializer_support::*;
use tether_core::{Call, ErrorKind, Value};
use tether_pyro::serializer::{Limits, Serializer};

fn dec(ser: Serializer, b: &[u8]) -> Result<Value, tether_core::RemoteError> {
    ser.decode(b, &Limits::default())
}

#[test]
fn every_corpus_value_round_trips_to_its_documented_mapping() {
    for ser in ALL {
        for (expr, v) in corpus() {
            let mut out = Vec::new();
            match (ser.encode(&v, &mut out), expected(ser, &v)) {
                (Ok(()), Some(want)) => {
                    let got =
                        dec(ser, &out).unwrap_or_else(|e| panic!("{} {expr}: {e}", ser.name()));
                    assert_eq!(got, want, "{} {expr}", ser.name());
                    // A decoded value is a fixed point: an echo service returns the same bytes.
                    let again = encode(ser, &got);
                    assert_eq!(dec(ser, &again).unwrap(), want, "{} {expr}", ser.name());
                }
                (Err(e), None) => assert_eq!(e.kind(), ErrorKind::Serialization),
                (r, w) => panic!("{} {expr}: encode {r:?}, expected {w:?}", ser.name()),
            }
        }
    }
}

#[test]
fn exact_variants_survive_unchanged() {
    let nan = Value::Float(f64::NAN);
    assert_eq!(
        dec(Serializer::Serpent, &encode(Serializer::Serpent, &nan)).unwrap(),
        nan
    );
    assert_eq!(
        dec(Serializer::Json, &encode(Serializer::Json, &nan)).unwrap(),
        nan
    );
    assert_eq!(
        dec(Serializer::Msgpack, &encode(Serializer::Msgpack, &nan)).unwrap(),
        nan
    );
    let dt = Value::DateTime(-86_399_999);
    assert_eq!(
        dec(Serializer::Msgpack, &encode(Serializer::Msgpack, &dt)).unwrap(),
        dt
    );
    let b = Value::Bytes((0..=255).rev().collect());
    assert_eq!(
        dec(Serializer::Serpent, &encode(Serializer::Serpent, &b)).unwrap(),
        b
    );
    assert_eq!(
        dec(Serializer::Msgpack, &encode(Serializer::Msgpack, &b)).unwrap(),
        b
    );
    // Every code point class, including the non-printables serpent escapes.
    let all: String = (0u32..0x11_0000)
        .step_by(97)
        .filter_map(char::from_u32)
        .chain("\u{0}\u{7f}\u{80}\u{ad}\u{2028}\u{fffd}\u{10ffff}'\"\\".chars())
        .collect();
    for ser in ALL {
        let v = Value::Str(all.clone());
        assert_eq!(dec(ser, &encode(ser, &v)).unwrap(), v, "{}", ser.name());
    }
}

#[test]
fn golden_payloads_from_captured_traffic() {
    let connect = Value::Map(vec![
        (Value::str("handshake"), Value::str("hello")),
        (Value::str("object"), Value::str("example.greeting")),
    ]);
    let serpent_connect =
        b"# serpent utf-8 python3.2\n{'handshake':'hello','object':'example.greeting'}";
    assert_eq!(serpent_connect.len(), 75);
    assert_eq!(encode(Serializer::Serpent, &connect), serpent_connect);
    assert_eq!(dec(Serializer::Serpent, serpent_connect).unwrap(), connect);
    let json_connect = br#"{"handshake": "hello", "object": "example.greeting"}"#;
    assert_eq!(encode(Serializer::Json, &connect), json_connect);

    let call = Call::with_args("get_data", vec![Value::str("Hello")], vec![]);
    let mut out = Vec::new();
    Serializer::Serpent
        .encode_call("example.greeting", &call, false, &mut out)
        .unwrap();
    assert_eq!(
        out,
        b"# serpent utf-8 python3.2\n('example.greeting','get_data',('Hello',),{})"
    );
    assert_eq!(out.len(), 71);
    out.clear();
    Serializer::Json
        .encode_call("example.greeting", &call, false, &mut out)
        .unwrap();
    assert_eq!(
        out,
        br#"{"object": "example.greeting", "method": "get_data", "params": ["Hello"], "kwargs": {}}"#
    );
    out.clear();
    Serializer::Msgpack
        .encode_call("example.greeting", &call, false, &mut out)
        .unwrap();
    let mut want = vec![0x94, 0xb0];
    want.extend_from_slice(b"example.greeting");
    want.push(0xa8);
    want.extend_from_slice(b"get_data");
    want.extend_from_slice(&[0x91, 0xa5]);
    want.extend_from_slice(b"Hello");
    want.push(0x80);
    assert_eq!(out, want);
    let (object, decoded) = Serializer::Msgpack
        .decode_call(&want, &Limits::default())
        .unwrap();
    assert_eq!(
        (object.as_str(), decoded.method.as_str()),
        ("example.greeting", "get_data")
    );

    let result = Value::str("You got remote data => Hello");
    let packed = encode(Serializer::Msgpack, &result);
    assert_eq!(packed[0], 0xbc);
    assert_eq!(packed.len(), 29);

    // CONNECTOK meta: sets, and `()` for an empty one.
    let ok = b"# serpent utf-8 python3.2\n{'handshake':'hello','meta':{'methods':{'echo','notify','fail','get_data','count'},'oneway':(),'attrs':{'name'}}}";
    let v = dec(Serializer::Serpent, ok).unwrap();
    let meta = v.get("meta").unwrap();
    assert_eq!(meta.get("methods").unwrap().as_seq().unwrap().len(), 5);
    assert!(matches!(meta.get("methods"), Some(Value::Set(_))));
    assert_eq!(meta.get("oneway"), Some(&Value::Tuple(vec![])));

    // `__getattr__` sends None for kwargs; the stream calls send a list for vargs.
    let getattr = b"# serpent utf-8 python3.2\n('example.greeting','__getattr__',('name',),None)";
    let (_, c) = Serializer::Serpent
        .decode_call(getattr, &Limits::default())
        .unwrap();
    assert_eq!(
        (c.method.as_str(), c.args.len(), c.kwargs.len()),
        ("__getattr__", 1, 0)
    );
    let stream =
        b"# serpent utf-8 python3.2\n('Pyro.Daemon','get_next_stream_item',['29fdf167'],{})";
    let (o, c) = Serializer::Serpent
        .decode_call(stream, &Limits::default())
        .unwrap();
    assert_eq!(
        (o.as_str(), c.args[0].as_str()),
        ("Pyro.Daemon", Some("29fdf167"))
    );
    let mut out = Vec::new();
    Serializer::Serpent
        .encode_call(
            "example.greeting",
            &Call::with_args("__getattr__", vec![Value::str("name")], vec![]),
            true,
            &mut out,
        )
        .unwrap();
    assert_eq!(out, getattr);

    // Exception and URI dicts stay maps (no class name picks a type).
    let exc = b"# serpent utf-8 python3.2\n{'__class__':'builtins.ValueError','__exception__':True,'args':('bad param: x',),'attributes':{'_pyroTraceback':['Traceback (most recent call last):\\n']}}";
    let v = dec(Serializer::Serpent, exc).unwrap();
    assert_eq!(v.get("__class__"), Some(&Value::str("builtins.ValueError")));
    assert_eq!(
        v.get("args"),
        Some(&Value::Tuple(vec![Value::str("bad param: x")]))
    );
    let uri = b"# serpent utf-8 python3.2\n{'__class__':'Pyro5.core.URI','state':('PYRO','example.greeting',None,'127.0.0.1',9999)}";
    let v = dec(Serializer::Serpent, uri).unwrap();
    let uri_value = Value::object(
        "Pyro5.core.URI",
        vec![(
            "state".into(),
            Value::Tuple(vec![
                Value::str("PYRO"),
                Value::str("example.greeting"),
                Value::None,
                Value::str("127.0.0.1"),
                Value::Int(9999),
            ]),
        )],
    );
    assert_eq!(v, expected(Serializer::Serpent, &uri_value).unwrap());
    assert_eq!(encode(Serializer::Serpent, &uri_value), uri);
}

/// A payload with every kind of container and scalar, ending in a closing bracket so that no
/// strict prefix is a complete value.
fn rich() -> Value {
    Value::Map(vec![
        (Value::str("s"), Value::str("é😀'\"\\\n")),
        (
            Value::str("i"),
            Value::List(vec![Value::Int(-1), Value::Int(70000), Value::Int(1 << 40)]),
        ),
        (
            Value::str("f"),
            Value::Tuple(vec![
                Value::Float(1.5e-7),
                Value::Float(f64::INFINITY),
                Value::Float(f64::NAN),
            ]),
        ),
        (
            Value::str("n"),
            Value::Set(vec![Value::None, Value::Bool(true)]),
        ),
        (
            Value::str("b"),
            Value::BigInt("123456789012345678901234567890".parse().unwrap()),
        ),
        (
            Value::str("m"),
            Value::Map(vec![(Value::str("k"), Value::List(vec![]))]),
        ),
    ])
}

#[test]
fn truncation_at_every_byte_is_an_error() {
    for ser in ALL {
        let mut v = rich();
        if ser != Serializer::Json {
            if let Value::Map(m) = &mut v {
                m.push((Value::str("y"), Value::Bytes(vec![0, 1, 2, 255])));
                if ser != Serializer::Marshal {
                    m.push((Value::str("d"), Value::DateTime(1_704_164_645_600)));
                }
            }
        }
        let full = encode(ser, &v);
        assert!(dec(ser, &full).is_ok());
        for cut in 0..full.len() {
            let e = dec(ser, &full[..cut]).expect_err(&format!("{} prefix {cut}", ser.name()));
            assert_eq!(e.kind(), ErrorKind::Serialization);
        }
        // Trailing garbage is refused too.
        let mut extra = full.clone();
        extra.extend_from_slice(b" x");
        assert!(dec(ser, &extra).is_err(), "{}", ser.name());
    }
}

#[test]
fn errors_carry_a_position() {
    let e = dec(Serializer::Json, b"[1, 2, x]").unwrap_err();
    assert!(e.message().contains("at byte 7"), "{e}");
    let e = dec(Serializer::Serpent, b"[1,2,x]").unwrap_err();
    assert!(e.message().contains("at byte 5"), "{e}");
    let e = dec(Serializer::Msgpack, &[0x92, 0x01, 0xc1]).unwrap_err();
    assert!(e.message().contains("at byte 2"), "{e}");
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn garbage_and_mutations_never_panic() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for ser in ALL {
        let full = encode(ser, &rich());
        for _ in 0..20_000 {
            // Mutate a valid payload at a few bytes...
            let mut m = full.clone();
            for _ in 0..(1 + rng.next() % 3) {
                let i = (rng.next() as usize) % m.len();
                m[i] = rng.next() as u8;
            }
            let _ = dec(ser, &m);
            // ...and try pure noise, biased towards the format's structural bytes.
            let len = (rng.next() % 64) as usize;
            let alphabet: &[u8] = match ser {
                Serializer::Serpent => b"()[]{},:'\"\\-+.0123456789eEjxbru#TrueNon \n",
                Serializer::Json => b"[]{},:\"\\-+.0123456789eEu NaInfity",
                Serializer::Msgpack => &[
                    0x91, 0xdc, 0xdd, 0xc6, 0xdb, 0xc7, 0xd7, 0xff, 0x00, 0x31, 0x32, 0xcb,
                ],
                Serializer::Marshal => b"()[]{}<>0NTFilgsuazZr\xda\xe9\xff\x00\x01",
            };
            let noise: Vec<u8> = (0..len)
                .map(|_| {
                    if rng.next().is_multiple_of(2) {
                        alphabet[(rng.next() as usize) % alphabet.len()]
                    } else {
                        rng.next() as u8
                    }
                })
                .collect();
            let _ = dec(ser, &noise);
        }
    }
}

#[test]
fn lying_msgpack_lengths_are_refused_without_allocating() {
    let cases: [&[u8]; 9] = [
        &[0xdb, 0xff, 0xff, 0xff, 0xff, b'a'],       // str32 of 4 GiB
        &[0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02], // array32 of 4 G elements
        &[0xdf, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02], // map32
        &[0xc6, 0xff, 0xff, 0xff, 0xff],             // bin32
        &[0xc9, 0xff, 0xff, 0xff, 0xff, 0x31],       // ext32
        &[0xdc, 0xff, 0xff],                         // array16 of 65535, no elements
        &[0xde, 0x00, 0x02, 0x01],                   // map16 of 2, half an entry
        &[0xd9, 0x05, b'a'],                         // str8 of 5, 1 byte
        &[0xc7, 0x08, 0x32, 0, 0, 0],                // ext8 datetime cut short
    ];
    for c in cases {
        let e = dec(Serializer::Msgpack, c).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Serialization, "{c:02x?}");
    }
    // Unknown and unsupported ext types, the reserved byte, bad UTF-8.
    for c in [
        &[0xd4, 0x05, 0x00][..],
        &[0xd8, 0x30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        &[0xc1],
        &[0xa1, 0xff],
        &[0xd4, 0x31, b'x'],
    ] {
        assert!(dec(Serializer::Msgpack, c).is_err(), "{c:02x?}");
    }
}

#[test]
fn nul_bytes_and_bad_utf8_are_refused_where_python_refuses_them() {
    assert!(dec(Serializer::Serpent, b"# serpent utf-8 python3.2\n'a\0'").is_err());
    assert!(dec(Serializer::Serpent, b"[1]\0").is_err());
    assert!(dec(Serializer::Json, b"\"a\0\"").is_err());
    assert!(dec(Serializer::Serpent, b"'\xff'").is_err());
    assert!(dec(Serializer::Json, b"\"\xc3\"").is_err());
    // Escaped NULs are ordinary characters.
    assert_eq!(
        dec(Serializer::Serpent, b"'\\x00'").unwrap(),
        Value::str("\0")
    );
    assert_eq!(
        dec(Serializer::Json, b"\"\\u0000\"").unwrap(),
        Value::str("\0")
    );
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let n = 100_000;
    let deep: [(Serializer, Vec<u8>); 5] = [
        (Serializer::Json, "[".repeat(n).into_bytes()),
        (Serializer::Serpent, "[".repeat(n).into_bytes()),
        (Serializer::Serpent, "(".repeat(n).into_bytes()),
        (
            Serializer::Serpent,
            format!("-{}", "(".repeat(n)).into_bytes(),
        ),
        (Serializer::Msgpack, vec![0x91; n]),
    ];
    let unlimited = Limits {
        max_depth: usize::MAX,
        max_items: usize::MAX,
    };
    for (ser, text) in &deep {
        for limits in [Limits::default(), unlimited] {
            let e = ser.decode(text, &limits).unwrap_err();
            assert!(e.message().contains("nesting"), "{}: {e}", ser.name());
        }
    }
    // Exactly at the limit is fine, one more is not.
    for ser in ALL {
        let mut v = Value::Int(1);
        for _ in 0..64 {
            v = Value::List(vec![v]);
        }
        let bytes = encode(ser, &v);
        assert_eq!(dec(ser, &bytes).unwrap(), v);
        let tight = Limits {
            max_depth: 63,
            ..Limits::default()
        };
        assert!(ser.decode(&bytes, &tight).is_err());
        // Encoders refuse absurd depth instead of overflowing too.
        let mut deep = Value::None;
        for _ in 0..600 {
            deep = Value::List(vec![deep]);
        }
        assert!(ser.encode(&deep, &mut Vec::new()).is_err());
        let unlimited = Limits {
            max_depth: usize::MAX,
            max_items: usize::MAX,
        };
        let mut v500 = Value::None;
        for _ in 0..500 {
            v500 = Value::List(vec![v500]);
        }
        assert_eq!(ser.decode(&encode(ser, &v500), &unlimited).unwrap(), v500);
    }
}

#[test]
fn item_limit_counts_elements_and_entries() {
    let limits = Limits {
        max_items: 10,
        ..Limits::default()
    };
    for ser in ALL {
        let ten = Value::List((0..10).map(Value::Int).collect());
        assert!(ser.decode(&encode(ser, &ten), &limits).is_ok());
        let eleven = Value::List((0..11).map(Value::Int).collect());
        assert!(ser.decode(&encode(ser, &eleven), &limits).is_err());
        let nested = Value::List(vec![Value::Map(
            (0..10)
                .map(|i| (Value::str(i.to_string()), Value::None))
                .collect(),
        )]);
        assert!(
            ser.decode(&encode(ser, &nested), &limits).is_err(),
            "{}",
            ser.name()
        );
    }
    // msgpack checks a declared count against the limit before reading elements.
    let e = Serializer::Msgpack
        .decode(
            &[0xdc, 0x00, 0x0b, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
            &limits,
        )
        .unwrap_err();
    assert!(e.message().contains("items"), "{e}");
}

#[test]
fn huge_integer_literals_are_refused_like_python() {
    let digits = "7".repeat(4301);
    assert!(dec(Serializer::Json, digits.as_bytes()).is_err());
    assert!(dec(Serializer::Serpent, digits.as_bytes()).is_err());
    let mut ext = vec![0xc8, 0x10, 0xcd, 0x31];
    ext.extend_from_slice(digits.as_bytes());
    assert!(dec(Serializer::Msgpack, &ext).is_err());
    let ok = "7".repeat(4300);
    assert!(matches!(
        dec(Serializer::Json, ok.as_bytes()).unwrap(),
        Value::BigInt(_)
    ));
    assert!(matches!(
        dec(Serializer::Serpent, ok.as_bytes()).unwrap(),
        Value::BigInt(_)
    ));
}

#[test]
fn msgpack_reads_every_format_family() {
    let cases: Vec<(Vec<u8>, Value)> = vec![
        (vec![0x05], Value::Int(5)),
        (vec![0xe0], Value::Int(-32)),
        (vec![0xcc, 0xff], Value::Int(255)),
        (vec![0xcd, 0x01, 0x00], Value::Int(256)),
        (vec![0xce, 0, 1, 0, 0], Value::Int(65536)),
        (
            vec![0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            Value::BigInt(u64::MAX.into()),
        ),
        (vec![0xd0, 0x80], Value::Int(-128)),
        (vec![0xd1, 0x80, 0x00], Value::Int(-32768)),
        (vec![0xd2, 0x80, 0, 0, 0], Value::Int(i64::from(i32::MIN))),
        (vec![0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], Value::Int(i64::MIN)),
        (vec![0xca, 0x3f, 0xc0, 0, 0], Value::Float(1.5)),
        (vec![0xd9, 1, b'a'], Value::str("a")),
        (vec![0xda, 0, 1, b'a'], Value::str("a")),
        (vec![0xdb, 0, 0, 0, 1, b'a'], Value::str("a")),
        (vec![0xc4, 1, 7], Value::Bytes(vec![7])),
        (vec![0xc5, 0, 1, 7], Value::Bytes(vec![7])),
        (vec![0xc6, 0, 0, 0, 1, 7], Value::Bytes(vec![7])),
        (vec![0xdc, 0, 1, 0xc0], Value::List(vec![Value::None])),
        (
            vec![0xdd, 0, 0, 0, 1, 0xc2],
            Value::List(vec![Value::Bool(false)]),
        ),
        (
            vec![0xde, 0, 1, 1, 2],
            Value::Map(vec![(Value::Int(1), Value::Int(2))]),
        ),
        (
            vec![0xdf, 0, 0, 0, 1, 0x90, 0x80],
            Value::Map(vec![(Value::List(vec![]), Value::Map(vec![]))]),
        ),
        // Pyro's date ext (ordinal of 2024-01-02, little-endian C long) and msgpack's timestamp.
        (
            vec![0xd7, 0x33, 0x47, 0x46, 0x0b, 0, 0, 0, 0, 0],
            Value::DateTime(1_704_153_600_000),
        ),
        (vec![0xd6, 0xff, 0, 0, 0, 1], Value::DateTime(1000)),
        (vec![0xc7, 0x03, 0x31, b'-', b'4', b'2'], Value::Int(-42)),
    ];
    for (bytes, want) in cases {
        assert_eq!(
            dec(Serializer::Msgpack, &bytes).unwrap(),
            want,
            "{bytes:02x?}"
        );
    }
}

#[test]
fn a_reference_loop_is_refused_by_every_format_without_references() {
    // A cell whose rest is itself, as a Hessian peer sends it (tether-hessian's tests/loops.rs).
    let cell = Value::object(
        "TestCons",
        vec![
            ("first".into(), Value::str("a")),
            ("rest".into(), Value::BackRef(0)),
        ],
    );
    for ser in ALL {
        let mut out = Vec::new();
        let e = ser.encode(&cell, &mut out).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Serialization, "{}", ser.name());
        assert!(
            e.to_string().contains("reference loop"),
            "{}: {e}",
            ser.name()
        );
    }
    #[cfg(feature = "pyro3")]
    {
        let mut out = Vec::new();
        let e = tether_pyro::pyro3::pickle::write(&Value::List(vec![cell]), &mut out).unwrap_err();
        assert!(e.to_string().contains("reference loop"), "{e}");
    }
}
