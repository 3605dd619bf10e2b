//! Golden frames captured from the real stack (Pyro 3.16 on Python 2.7, cPickle protocol 2,
//! through a recording relay: `tests/python/pyro3_capture.py`), read by tether's frame reader,
//! pickle reader and capsule reader: the handshake, the PYROLOC resolve, a positional and a
//! keyword call, every value type, exceptions with tracebacks, an unknown name; once plain
//! and once with Pyro's checksum and compression on.

use bytes::Bytes;
use num_bigint::BigInt;
use tether_core::{RemoteError, Value};
use tether_pyro::framing::FrameFormat;
use tether_pyro::pyro3::request::{self, DAEMON_GUID};
use tether_pyro::pyro3::{auth, capsule, frame, pickle, Pyro3};
use tether_pyro::serializer::Limits;

struct Frame {
    label: String,
    to_server: bool,
    flags: u16,
    body: Vec<u8>,
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The frames of a capture, in order (raw GRANTED answers left out).
fn frames(file: &str) -> Vec<Frame> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden/pyro3")
            .join(file),
    )
    .unwrap();
    let mut out = Vec::new();
    let mut pending: [(String, Vec<u8>); 2] = Default::default();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let (label, dir, data) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            hex(parts.next().unwrap()),
        );
        let i = usize::from(dir == "c2s");
        let buf = &mut pending[i];
        if buf.1.is_empty() {
            buf.0 = label.to_string();
        }
        buf.1.extend_from_slice(&data);
        loop {
            let buf = &mut pending[i];
            if buf.1.starts_with(b"GRANTED") {
                buf.1.drain(..7);
                continue;
            }
            if buf.1.len() < 18 {
                break;
            }
            let h = Pyro3::parse_header(&buf.1[..18], 1 << 20).unwrap();
            let end = 18 + h.body_len as usize;
            if buf.1.len() < end {
                break;
            }
            let body = frame::open(&h, Bytes::copy_from_slice(&buf.1[18..end]), 1 << 20, 100)
                .unwrap()
                .to_vec();
            out.push(Frame {
                label: buf.0.clone(),
                to_server: i == 1,
                flags: h.flags,
                body,
            });
            buf.1.drain(..end);
        }
    }
    out
}

fn reply(f: &Frame) -> Result<Value, RemoteError> {
    let p = pickle::read(&f.body, &pickle::ReadLimits::default()).unwrap();
    capsule::read_reply(&p, &Limits::default()).unwrap()
}

fn values() -> Value {
    Value::Tuple(vec![
        Value::Int(1),
        Value::Int(-1),
        Value::Int(300),
        Value::Int(70000),
        Value::Int(1 << 31),
        Value::Int(1 << 40),
        Value::BigInt(BigInt::from(5)),
        Value::BigInt(BigInt::from(1u128 << 70)),
        Value::BigInt(-BigInt::from(1u128 << 70)),
        Value::Float(1.5),
        Value::Bool(true),
        Value::Bool(false),
        Value::None,
        Value::str("str"),
        Value::str("café"),
        Value::Bytes(vec![b'b', 0xff]),
        Value::List(vec![Value::Int(1), Value::List(vec![Value::Int(2)])]),
        Value::Map(vec![
            (Value::str("k"), Value::str("v")),
            (Value::Int(2), Value::None),
        ]),
        Value::Set(vec![Value::Int(3)]),
        Value::Set(vec![Value::Int(4)]),
        Value::DateTime(1_577_934_245_678),
        Value::str("x".repeat(300)),
    ])
}

/// Dict order in the capture is Python 2's hash order: compare maps as sets of entries.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().any(|(k2, v2)| k == k2 && same(v, v2)))
        }
        (Value::Tuple(x), Value::Tuple(y)) | (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        _ => a == b,
    }
}

fn check_capture(file: &str, compressed: bool) {
    let all = frames(file);
    let of = |label: &str, to_server: bool| -> Vec<&Frame> {
        all.iter()
            .filter(|f| f.label == label && f.to_server == to_server)
            .collect()
    };
    // Handshake: challenge, CONNECT + the token of no identification.
    let challenge = &of("get_data", false)[0].body;
    assert_eq!(challenge.len(), 16);
    let connect = &of("get_data", true)[0].body;
    assert_eq!(&connect[..7], b"CONNECT");
    assert!(auth::verify(challenge, &auth::ident(None), &connect[7..]));
    let limits = pickle::ReadLimits::default();
    let lim = Limits::default();
    // The resolve: a plain positional call on the daemon's object.
    let resolve = request::decode(&of("get_data", true)[1].body, &limits, &lim).unwrap();
    assert_eq!(resolve.object, DAEMON_GUID);
    assert_eq!(resolve.call.method, "ResolvePYROLOC");
    assert_eq!(resolve.call.args, [Value::str("echo")]);
    let guid = match reply(of("get_data", false)[1]) {
        Ok(Value::Str(g)) => g,
        other => panic!("{other:?}"),
    };
    let call = request::decode(&of("get_data", true)[2].body, &limits, &lim).unwrap();
    assert_eq!(
        (call.object.as_str(), call.call.method.as_str()),
        (guid.as_str(), "get_data")
    );
    assert_eq!(call.call.args, [Value::str("Hello")]);
    assert_eq!(
        reply(of("get_data", false)[2]).unwrap(),
        Value::str("You got remote data => Hello")
    );
    let kw = request::decode(&of("kwargs", true)[0].body, &limits, &lim).unwrap();
    assert!(kw.call.args.is_empty());
    assert_eq!(kw.call.kwargs, [("param".to_string(), Value::str("kw"))]);
    let v = request::decode(&of("values", true)[0].body, &limits, &lim).unwrap();
    assert!(same(&v.call.args[0], &values()), "{:?}", v.call.args[0]);
    assert!(same(&reply(of("values", false)[0]).unwrap(), &values()));
    let e = reply(of("error", false)[0]).unwrap_err();
    assert_eq!(e.class(), Some("builtins.ValueError"));
    assert_eq!(
        e.args(),
        [Value::str(
            "this is the generated error from echoserver echo() method"
        )]
    );
    assert!(e.remote_traceback().unwrap().contains("raise ValueError"));
    let e = reply(of("unknown-method", false)[0]).unwrap_err();
    assert_eq!(e.class(), Some("builtins.AttributeError"));
    let e = reply(of("unknown-name", false).last().unwrap()).unwrap_err();
    assert_eq!(e.class(), Some("Pyro.errors.NamingError"));
    assert_eq!(
        e.args(),
        [
            Value::str("no object found by this name"),
            Value::str("Nope")
        ]
    );
    // Compression is used only where it makes the body smaller; the checksum everywhere.
    let flags: Vec<u16> = all.iter().map(|f| f.flags).collect();
    if compressed {
        assert!(
            flags.iter().all(|f| f & frame::flags::CHECKSUM != 0),
            "{flags:?}"
        );
        assert!(
            flags.iter().any(|f| f & frame::flags::COMPRESSED != 0),
            "{flags:?}"
        );
    } else {
        assert!(flags.iter().all(|f| *f == 0), "{flags:?}");
    }
}

#[test]
fn plain_capture_reads_back() {
    check_capture("plain.txt", false);
}

#[test]
fn checksum_and_compression_capture_reads_back() {
    check_capture("checksum-zlib.txt", true);
}

#[test]
fn tethers_capsule_reads_back_as_the_same_error() {
    let e = RemoteError::exception_with_args(
        "Pyro.errors.NamingError",
        vec![Value::str("no object found by this name"), Value::str("X")],
    );
    let mut out = Vec::new();
    capsule::write(&e, false, &mut out).unwrap();
    let p = pickle::read(&out, &pickle::ReadLimits::default()).unwrap();
    let back = capsule::read_reply(&p, &Limits::default())
        .unwrap()
        .unwrap_err();
    assert_eq!(back.class(), Some("Pyro.errors.NamingError"));
    assert_eq!(back.args(), e.args());
    // A class outside the table travels as exceptions.Exception naming it.
    let e = RemoteError::exception("os.system", "x");
    let mut out = Vec::new();
    capsule::write(&e, false, &mut out).unwrap();
    assert!(
        !out.windows(10).any(|w| w == b"cos\nsystem"),
        "no foreign global is ever written"
    );
    let p = pickle::read(&out, &pickle::ReadLimits::default()).unwrap();
    let back = capsule::read_reply(&p, &Limits::default())
        .unwrap()
        .unwrap_err();
    assert_eq!(back.class(), Some("builtins.Exception"));
    assert_eq!(back.args(), [Value::str("os.system: x")]);
}
