//! `Value`'s own `Serialize`/`Deserialize` seen from another serde format (JSON here): a
//! best-effort plain form, while `to_value`/`from_value` stay lossless.

use tether::{from_value, to_value, BigInt, Value};

#[test]
fn other_formats_get_a_plain_form() {
    let v = Value::Map(vec![
        (Value::str("set"), Value::Set(vec![Value::Int(1)])),
        (
            Value::str("tuple"),
            Value::Tuple(vec![Value::Int32(1), Value::None]),
        ),
        (
            Value::str("obj"),
            Value::object("a.B", vec![("f".into(), Value::Int(2))]),
        ),
        (
            Value::str("big"),
            Value::BigInt(BigInt::from(u128::MAX) * 3),
        ),
        (Value::str("when"), Value::DateTime(1_700_000_000_000)),
    ]);
    let json = serde_json::to_string(&v).unwrap();
    assert_eq!(
        json,
        r#"{"set":[1],"tuple":[1,null],"obj":{"__class__":"a.B","f":2},"big":"1020847100762815390390123822295304634365","when":1700000000000}"#
    );
    // Through our own bridge nothing is lost.
    assert_eq!(from_value::<Value>(to_value(&v).unwrap()).unwrap(), v);
}

#[test]
fn other_formats_read_into_values() {
    let parsed: Value =
        serde_json::from_str(r#"{"a":[1,2.5,null,true,"x",18446744073709551615]}"#).unwrap();
    assert_eq!(
        parsed,
        Value::Map(vec![(
            Value::str("a"),
            Value::List(vec![
                Value::Int(1),
                Value::Float(2.5),
                Value::None,
                Value::Bool(true),
                Value::str("x"),
                Value::BigInt(BigInt::from(u64::MAX)),
            ])
        )])
    );
}
