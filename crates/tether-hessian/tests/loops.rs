//! Reference loops: an object graph that contains itself (Caucho's interop suite returns one, a
//! `TestCons` whose `_rest` is the cell itself) decodes as a value with a back reference and is
//! written back as the same refs, in both Hessian versions, inside calls and replies. Copies of
//! shared values keep their loops pointing at the right container; what a copy cannot express is
//! refused with a clear error.

use tether_core::Value;
use tether_hessian::codec::{
    decode_h1, decode_h2, encode_h1, encode_h2, parse_call, parse_reply, write_call, write_reply,
    Limits,
};

fn h2(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode_h2(v, &mut out).expect("encodes");
    out
}

fn h1(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode_h1(v, &mut out).expect("encodes");
    out
}

fn cell(first: &str) -> Value {
    Value::object(
        "com.caucho.hessian.test.TestCons",
        vec![
            ("_first".into(), Value::str(first)),
            ("_rest".into(), Value::BackRef(0)),
        ],
    )
}

/// Caucho's `replyObject_3`: a class definition, the instance, its `_rest` a ref to itself.
const CAUCHO_TESTCONS_H2: &[u8] =
    b"C\x30\x20com.caucho.hessian.test.TestCons\x92\x06_first\x05_rest\x60\x01aQ\x90";

#[test]
fn cauchos_self_referencing_cell_reads_and_writes_back_unchanged() {
    let l = Limits::default();
    let v = decode_h2(CAUCHO_TESTCONS_H2, &l).expect("a loop is carried, not refused");
    assert_eq!(v, cell("a"));
    assert_eq!(h2(&v), CAUCHO_TESTCONS_H2);
    assert_eq!(
        v.to_string(),
        "com.caucho.hessian.test.TestCons(_first=\"a\", _rest=...)"
    );
}

#[test]
fn hessian1_loops_round_trip() {
    let l = Limits::default();
    // Hessian 1 writes an object as a typed map; the ref is `R` and a 32-bit index.
    let bytes = b"Mt\x00\x08TestConsS\x00\x06_firstS\x00\x01aS\x00\x05_restR\x00\x00\x00\x00z";
    let v = decode_h1(bytes, &l).expect("decodes");
    let expected = Value::typed(
        "TestCons",
        Value::Map(vec![
            (Value::str("_first"), Value::str("a")),
            (Value::str("_rest"), Value::BackRef(0)),
        ]),
    );
    assert_eq!(v, expected);
    assert_eq!(h1(&v), bytes);
    // An object written as Hessian 1 keeps its loop too.
    let back = decode_h1(&h1(&cell("b")), &l).expect("decodes");
    assert_eq!(back.get("_rest"), Some(&Value::BackRef(0)));
}

#[test]
fn loops_through_several_containers() {
    let l = Limits::default();
    // A list that contains itself.
    let v = decode_h2(b"WQ\x90Z", &l).expect("decodes");
    assert_eq!(v, Value::List(vec![Value::BackRef(0)]));
    assert_eq!(decode_h2(&h2(&v), &l).expect("decodes"), v);
    // A = [B], B = {"up": A}: the ref names the container two levels up.
    let v = decode_h2(b"WH\x02upQ\x90ZZ", &l).expect("decodes");
    assert_eq!(
        v,
        Value::List(vec![Value::Map(vec![(
            Value::str("up"),
            Value::BackRef(1)
        )])])
    );
    assert_eq!(decode_h2(&h2(&v), &l).expect("decodes"), v);
    // A typed list and the list inside it are one container.
    let typed = Value::typed(
        "java.util.ArrayList",
        Value::List(vec![Value::Int32(1), Value::BackRef(0)]),
    );
    assert_eq!(decode_h2(&h2(&typed), &l).expect("decodes"), typed);
    assert_eq!(decode_h1(&h1(&typed), &l).expect("decodes"), typed);
}

#[test]
fn copies_of_shared_values_keep_their_loops_right() {
    let l = Limits::default();
    // [C, C] with C a self-referencing cell: the copy is a cell of its own.
    let mut b = b"C\x30\x20com.caucho.hessian.test.TestCons\x92\x06_first\x05_rest".to_vec();
    b.extend_from_slice(b"W\x60\x01aQ\x91Q\x91Z");
    let v = decode_h2(&b, &l).expect("decodes");
    assert_eq!(v, Value::List(vec![cell("a"), cell("a")]));
    // X = [[X], ref [X], [ref [X]]]: a copy of an inner list whose loop names X, once at the same
    // depth and once a level deeper; both still point at X.
    let v = decode_h2(b"WWQ\x90ZQ\x91WQ\x91ZZ", &l).expect("decodes");
    assert_eq!(
        v,
        Value::List(vec![
            Value::List(vec![Value::BackRef(1)]),
            Value::List(vec![Value::BackRef(1)]),
            Value::List(vec![Value::List(vec![Value::BackRef(2)])]),
        ])
    );
    assert_eq!(decode_h2(&h2(&v), &l).expect("decodes"), v);
    // Y = [X = [[X]], ref [X]]: the copy would sit outside the X its loop names.
    let err = decode_h2(b"WWWQ\x91ZZQ\x92Z", &l).unwrap_err().to_string();
    assert!(err.contains("inside a loop from outside"), "{err}");
}

#[test]
fn calls_and_replies_number_refs_across_the_whole_message() {
    let l = Limits::default();
    // The first argument is a container too: the cell's ref must name the cell, not it.
    let args = vec![Value::List(vec![Value::Int(1)]), cell("a")];
    for hessian2 in [true, false] {
        let mut out = Vec::new();
        write_call(hessian2, "echo", &args, &mut out).expect("writes");
        let call = parse_call(&out, &l).expect("parses");
        let expected: Vec<Value> = if hessian2 {
            args.clone()
        } else {
            // Hessian 1 carries the object as a typed map of its fields.
            vec![
                args[0].clone(),
                Value::typed(
                    "com.caucho.hessian.test.TestCons",
                    Value::Map(vec![
                        (Value::str("_first"), Value::str("a")),
                        (Value::str("_rest"), Value::BackRef(0)),
                    ]),
                ),
            ]
        };
        assert_eq!(call.args, expected, "hessian2={hessian2}");
        let mut reply = Vec::new();
        write_reply(hessian2, &expected[1], &mut reply).expect("writes");
        assert_eq!(
            parse_reply(&reply, &l).expect("parses"),
            Ok(expected[1].clone())
        );
    }
}

#[test]
fn a_back_reference_outside_its_value_is_refused_when_writing() {
    for v in [
        Value::BackRef(0),
        Value::List(vec![Value::BackRef(1)]),
        Value::List(vec![Value::BackRef(u32::MAX)]),
    ] {
        let mut out = Vec::new();
        let err = encode_h2(&v, &mut out).unwrap_err().to_string();
        assert!(err.contains("outside the value"), "{err}");
        let err = encode_h1(&v, &mut out).unwrap_err().to_string();
        assert!(err.contains("outside the value"), "{err}");
    }
}
