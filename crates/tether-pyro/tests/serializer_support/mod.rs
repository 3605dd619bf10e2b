//! Shared by the serializer tests: a corpus of values (each with the Python expression that
//! builds the same value), the per-format mapping a decode is expected to produce, and a runner
//! for the real Python peers in the workspace venv.
#![allow(dead_code)]

use num_bigint::BigInt;
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tether_core::Value;
use tether_pyro::serializer::Serializer;
#[allow(unused_imports)]
pub use tether_test_support::python;

pub const ALL: [Serializer; 4] = [
    Serializer::Serpent,
    Serializer::Json,
    Serializer::Msgpack,
    Serializer::Marshal,
];

fn s(x: &str) -> Value {
    Value::str(x)
}

fn big(text: &str) -> Value {
    Value::BigInt(text.parse::<BigInt>().unwrap())
}

/// `ValueError('bad', 2)` as Pyro's `class_to_dict` writes it.
pub fn value_error() -> Value {
    Value::object(
        "builtins.ValueError",
        vec![
            ("__exception__".into(), Value::Bool(true)),
            ("args".into(), Value::Tuple(vec![s("bad"), Value::Int(2)])),
            ("attributes".into(), Value::Map(vec![])),
        ],
    )
}

/// (Python expression, the same value in Rust). Every entry is written byte-identically by
/// Python's Pyro5 serializers and by ours (no multi-element sets of strings, whose Python order
/// depends on hash seeds).
pub fn corpus() -> Vec<(&'static str, Value)> {
    let mut c: Vec<(&'static str, Value)> = vec![
        ("None", Value::None),
        ("True", Value::Bool(true)),
        ("False", Value::Bool(false)),
        ("0", Value::Int(0)),
        ("-1", Value::Int(-1)),
        ("127", Value::Int(127)),
        ("128", Value::Int(128)),
        ("255", Value::Int32(255)),
        ("256", Value::Int(256)),
        ("-32", Value::Int(-32)),
        ("-33", Value::Int(-33)),
        ("-128", Value::Int(-128)),
        ("-129", Value::Int(-129)),
        ("65535", Value::Int(65535)),
        ("65536", Value::Int(65536)),
        ("-32768", Value::Int(-32768)),
        ("-32769", Value::Int(-32769)),
        ("2**31-1", Value::Int32(i32::MAX)),
        ("-2**31", Value::Int32(i32::MIN)),
        ("2**32", Value::Int(1 << 32)),
        ("2**63-1", Value::Int(i64::MAX)),
        ("-2**63", Value::Int(i64::MIN)),
        ("2**63", big("9223372036854775808")),
        ("2**64-1", big("18446744073709551615")),
        ("2**64", big("18446744073709551616")),
        ("-2**63-1", big("-9223372036854775809")),
        (
            "2**200",
            big("1606938044258990275541962092341162602522202993782792835301376"),
        ),
        (
            "-(2**200)",
            big("-1606938044258990275541962092341162602522202993782792835301376"),
        ),
        ("0.0", Value::Float(0.0)),
        ("-0.0", Value::Float(-0.0)),
        ("1.5", Value::Float(1.5)),
        ("1e-05", Value::Float(1e-5)),
        ("1e16", Value::Float(1e16)),
        ("1e15", Value::Float(1e15)),
        ("0.1", Value::Float(0.1)),
        ("1/3", Value::Float(1.0 / 3.0)),
        ("5e-324", Value::Float(5e-324)),
        ("1.7976931348623157e+308", Value::Float(f64::MAX)),
        ("-123456.789e-20", Value::Float(-123456.789e-20)),
        ("float('inf')", Value::Float(f64::INFINITY)),
        ("float('-inf')", Value::Float(f64::NEG_INFINITY)),
        ("float('nan')", Value::Float(f64::NAN)),
        ("''", s("")),
        ("'hello'", s("hello")),
        ("\"it's\"", s("it's")),
        ("'say \"hi\"'", s("say \"hi\"")),
        ("'both \\' and \"'", s("both ' and \"")),
        (
            "'\\x00\\x01\\x08\\x0c\\x1f\\x7f\\t\\n\\r\\\\'",
            s("\0\u{1}\u{8}\u{c}\u{1f}\u{7f}\t\n\r\\"),
        ),
        ("'é ü ß 中文 Ωμέγα'", s("é ü ß 中文 Ωμέγα")),
        ("'😀 \\U0001F600 \\U0010FFFF'", s("😀 😀 \u{10ffff}")),
        (
            "'\\u2028\\u00a0\\u200b\\ufeff\\x9f\\xad\\ue000'",
            s("\u{2028}\u{a0}\u{200b}\u{feff}\u{9f}\u{ad}\u{e000}"),
        ),
        ("'x'*300", s(&"x".repeat(300))),
        ("'y'*70000", s(&"y".repeat(70000))),
        ("b''", Value::Bytes(vec![])),
        ("b'\\x00\\x01ab'", Value::Bytes(b"\x00\x01ab".to_vec())),
        ("bytes(range(256))", Value::Bytes((0..=255).collect())),
        ("b'q'*70000", Value::Bytes(vec![b'q'; 70000])),
        ("[]", Value::List(vec![])),
        (
            "[1,'a',None]",
            Value::List(vec![Value::Int(1), s("a"), Value::None]),
        ),
        (
            "list(range(20))",
            Value::List((0..20).map(Value::Int).collect()),
        ),
        (
            "[[[]]]",
            Value::List(vec![Value::List(vec![Value::List(vec![])])]),
        ),
        ("()", Value::Tuple(vec![])),
        ("(1,)", Value::Tuple(vec![Value::Int(1)])),
        (
            "(1,'a',(2,3))",
            Value::Tuple(vec![
                Value::Int(1),
                s("a"),
                Value::Tuple(vec![Value::Int(2), Value::Int(3)]),
            ]),
        ),
        ("set()", Value::Set(vec![])),
        ("{1}", Value::Set(vec![Value::Int(1)])),
        (
            "{1,2,3}",
            Value::Set(vec![Value::Int(1), Value::Int(2), Value::Int(3)]),
        ),
        ("{'a'}", Value::Set(vec![s("a")])),
        ("{}", Value::Map(vec![])),
        (
            "{'a':1,'b':[1,2]}",
            Value::Map(vec![
                (s("a"), Value::Int(1)),
                (s("b"), Value::List(vec![Value::Int(1), Value::Int(2)])),
            ]),
        ),
        (
            "{1:'a',2:'b'}",
            Value::Map(vec![(Value::Int(1), s("a")), (Value::Int32(2), s("b"))]),
        ),
        (
            "{1.5:'f',True:'t',-0.0:'z'}",
            Value::Map(vec![
                (Value::Float(1.5), s("f")),
                (Value::Bool(true), s("t")),
                (Value::Float(-0.0), s("z")),
            ]),
        ),
        (
            "{(1,2):'t'}",
            Value::Map(vec![(
                Value::Tuple(vec![Value::Int(1), Value::Int(2)]),
                s("t"),
            )]),
        ),
        (
            "{str(i):i for i in range(20)}",
            Value::Map(
                (0..20)
                    .map(|i| (s(&i.to_string()), Value::Int(i)))
                    .collect(),
            ),
        ),
        (
            "datetime.datetime(2024,1,2,3,4,5,600000)",
            Value::DateTime(1_704_164_645_600),
        ),
        ("datetime.datetime(1970,1,1)", Value::DateTime(0)),
        ("ValueError('bad', 2)", value_error()),
        (
            "[1,2]",
            Value::typed(
                "java.util.ArrayList",
                Value::List(vec![Value::Int(1), Value::Int(2)]),
            ),
        ),
        (
            "{'k':[(1,{2}),{'x':[None,True]}],'e':{}}",
            Value::Map(vec![
                (
                    s("k"),
                    Value::List(vec![
                        Value::Tuple(vec![Value::Int(1), Value::Set(vec![Value::Int(2)])]),
                        Value::Map(vec![(
                            s("x"),
                            Value::List(vec![Value::None, Value::Bool(true)]),
                        )]),
                    ]),
                ),
                (s("e"), Value::Map(vec![])),
            ]),
        ),
        (
            "{'blob':b'\\xff','t':(b'',)}",
            Value::Map(vec![
                (s("blob"), Value::Bytes(vec![0xff])),
                (s("t"), Value::Tuple(vec![Value::Bytes(vec![])])),
            ]),
        ),
    ];
    c.push((
        "{'handshake':'hello','object':'example.greeting'}",
        Value::Map(vec![
            (s("handshake"), s("hello")),
            (s("object"), s("example.greeting")),
        ]),
    ));
    c
}

fn json_key(k: &Value) -> Option<Value> {
    Some(match k {
        Value::Str(_) => k.clone(),
        Value::Int32(i) => s(&i.to_string()),
        Value::Int(i) => s(&i.to_string()),
        Value::BigInt(i) => s(&i.to_string()),
        Value::Bool(b) => s(if *b { "true" } else { "false" }),
        Value::None => s("null"),
        Value::Float(_) => {
            let mut out = Vec::new();
            tether_pyro::serializer::json::encode(k, &mut out).unwrap();
            s(std::str::from_utf8(&out).unwrap())
        }
        _ => return None,
    })
}

fn iso(ms: i64) -> String {
    // Only the corpus' instants are needed here.
    match ms {
        0 => "1970-01-01T00:00:00".into(),
        1_704_164_645_600 => "2024-01-02T03:04:05.600000".into(),
        _ => panic!("add {ms} to iso()"),
    }
}

/// What decoding `encode(value)` must give for `ser`: the documented, lossy-by-design mappings
/// (Int32 → Int, Object → map, Typed → inner, tuple/set → list where the format has no tuple...).
/// `None` when the format cannot carry the value at all.
pub fn expected(ser: Serializer, v: &Value) -> Option<Value> {
    let rec = |x: &Value| expected(ser, x);
    let seq = |items: &[Value]| items.iter().map(rec).collect::<Option<Vec<_>>>();
    Some(match v {
        Value::Int32(i) => Value::Int(i64::from(*i)),
        Value::BigInt(b) => Value::from_bigint(b.clone()),
        Value::Bytes(_) if ser == Serializer::Json => return None,
        Value::List(items) => Value::List(seq(items)?),
        // marshal keeps tuples and sets as they are.
        Value::Tuple(items) if ser == Serializer::Marshal => Value::Tuple(seq(items)?),
        Value::Set(items) if ser == Serializer::Marshal => Value::Set(seq(items)?),
        // ...and has no date (Pyro's marshal serializer raises).
        Value::DateTime(_) if ser == Serializer::Marshal => return None,
        Value::Tuple(items) if ser == Serializer::Serpent => Value::Tuple(seq(items)?),
        Value::Set(items) if ser == Serializer::Serpent && items.is_empty() => Value::Tuple(vec![]),
        Value::Set(items) if ser == Serializer::Serpent => Value::Set(seq(items)?),
        Value::Tuple(items) | Value::Set(items) => Value::List(seq(items)?),
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| {
                    let k = if ser == Serializer::Json {
                        json_key(k)?
                    } else {
                        rec(k)?
                    };
                    Some((k, rec(v)?))
                })
                .collect::<Option<Vec<_>>>()?,
        ),
        Value::DateTime(ms) if ser != Serializer::Msgpack => s(&iso(*ms)),
        Value::Object(o) => {
            let mut entries = vec![(s("__class__"), s(&o.class))];
            for (k, v) in &o.fields {
                entries.push((s(k), rec(v)?));
            }
            Value::Map(entries)
        }
        Value::Typed(t) => rec(&t.value)?,
        other => other.clone(),
    })
}

pub fn encode(ser: Serializer, v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ser.encode(v, &mut out)
        .unwrap_or_else(|e| panic!("{} encode of {v}: {e}", ser.name()));
    out
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Kills the child if the test fails or times out before it exits.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `script` in the venv Python (TZ=UTC, so naive datetimes are UTC) with `input` on stdin
/// and returns its stdout; panics on failure or after 120 s.
pub fn run_python(script: &str, input: &[u8]) -> String {
    let child = Command::new(python())
        .arg("-c")
        .arg(script)
        .env("TZ", "UTC")
        .env("PYTHONIOENCODING", "utf-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the venv python (run scripts/test.sh to install the peers)");
    let mut guard = KillOnDrop(child);
    let mut stdin = guard.0.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stdout = guard.0.stdout.take().unwrap();
    let mut stderr = guard.0.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(st) = guard.0.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "python did not finish in 120 s");
        std::thread::sleep(Duration::from_millis(20));
    };
    writer.join().unwrap();
    let out = out_reader.join().unwrap();
    let err = err_reader.join().unwrap();
    assert!(status.success(), "python failed: {status}\n{err}");
    out
}
