//! serpent 1.43 (serializer id 1 in Pyro5 and Pyro4; Pyro's default).
//!
//! serpent is UTF-8 Python literal text that the receiver feeds to `ast.literal_eval`, after a
//! header comment line `# serpent utf-8 python3.2`. The writer emits what serpent itself would
//! (compact `,` and `:`, Python `repr` of strings with its quote choice and escapes, floats by
//! Python's `repr`), so captured Pyro traffic and Rust output are byte-equal. The reader accepts
//! the literal grammar `literal_eval` does, not just serpent's own output, because any Python
//! literal is a valid payload.
//!
//! | [`Value`] | written as | read back as |
//! |---|---|---|
//! | `None` / `Bool` | `None` / `True`, `False` | same |
//! | `Int32`, `Int`, `BigInt` | decimal (`42`, `1180591620717411303424`) | `Int` if it fits in i64, else `BigInt`; hex/octal/binary literals and `_` separators too; at most 4300 digits (CPython's limit) |
//! | `Float` | Python repr (`1.0`, `1e-05`, `1e+16`, `-0.0`); `1e30000` / `-1e30000` for ±inf; NaN as `{'__class__':'float','value':'nan'}` | `Float`; the `float` class dict (any value Python's `float()` reads, e.g. `'nan'`, `'inf'`) → `Float`, as Pyro's serpent serializer does |
//! | `Str` | Python `repr`: `'...'`, or `"..."` when the text has `'` but no `"`; `\\ \n \r \t`, the quote, `\xhh` for other controls and non-printables below U+0100, `\uXXXX`/`\UXXXXXXXX` above; printable non-ASCII raw UTF-8 | `Str`; both quote styles, triple quotes, `r`/`u` prefixes, implicit concatenation, all of Python's escapes except `\N{name}`; a lone surrogate is an error (Rust strings cannot hold one) |
//! | `Bytes` | `{'data': '<base64>', 'encoding': 'base64'}` (serpent writes it with `repr`, hence the spaces) | that dict (exactly those two keys, valid base64) → `Bytes`; `b'..'` literals (Pyro's `SERPENT_BYTES_REPR`) → `Bytes` |
//! | `List` | `[1,2]` | `List` |
//! | `Tuple` | `(1,2)`, `(1,)`, `()` | `Tuple` |
//! | `Set` | `{1,2}`; an empty set is `()` (Python has no empty-set literal) | `Set` for `{..}` and `set()`; `()` reads as an empty `Tuple`, as in Python |
//! | `Map` | `{'a':1,2:'b'}`, keys of any type | `Map`, in text order; a key or set element Python cannot hash (list, dict, set) is an error, as in `literal_eval` |
//! | `DateTime` | ISO string of the naive UTC time, `'2024-01-02T03:04:05.600000'` (serpent writes datetimes as `isoformat()`) | `Str` |
//! | `Object` | dict with `'__class__'` first, then the fields | `Map` (no class name ever picks a Rust type; other `__class__` dicts stay maps) |
//! | `Typed` | its inner list or map | `List` / `Map` |
//!
//! Refused on input: complex numbers (`1j`), `...`, `\N{..}` escapes, NUL bytes and invalid UTF-8
//! anywhere (serpent itself refuses NUL), trailing data, and anything else `literal_eval` would
//! not evaluate. Comments, backslash line continuations and any whitespace between tokens are
//! skipped. Repeated dict keys are kept as received (Python would keep the last value). Depth
//! (each bracket or parenthesis is a level) and item count follow [`Limits`].

use crate::serializer::common::{
    check_encode_depth, error_at, iso_datetime, push_python_float, Budget, MAX_INT_DIGITS,
};
use crate::serializer::Limits;
use base64::Engine as _;
use num_bigint::BigInt;
use tether_core::{RemoteError, Value};

const FORMAT: &str = "serpent";

/// The first line of every serpent document.
pub const HEADER: &[u8] = b"# serpent utf-8 python3.2\n";

mod parser;
mod writer;

pub use parser::check_invoke;
#[doc(hidden)]
pub use parser::check_plain_strings;
pub use parser::decode;
pub(crate) use parser::decode_invoke;
pub use writer::encode;

#[cfg(test)]
mod tests {
    use super::*;

    /// The INVOKE path reads the shapes Pyro4 clients write, with the same parts as the
    /// general path, and leaves every other shape, garbage and truncation to it (which gives
    /// the same answers as before).
    #[test]
    fn invoke_payloads_decode_the_same_either_way() {
        let limits = Limits::default();
        let read = [
            "# serpent utf-8 python3.2\n('echo','echo',('hello, tether',),{})",
            "# serpent utf-8 python3.2\n('obj_1','m',(1,[2,3],{'a':{'data': 'eA==', 'encoding': 'base64'}}),{'k':None})",
            "( 'o' , \"m\" , () , {} , )",
            "('ünï 😀','m',('x',),{})\n",
        ];
        for doc in read {
            assert!(
                decode_invoke(doc.as_bytes(), &limits).is_some(),
                "not read directly: {doc}"
            );
            check_invoke(doc.as_bytes());
        }
        let left = [
            "('a' 'b','m',(),{})",
            "(b'o','m',(),{})",
            "('o\\n','m',(),{})",
            "(1,'m',(),{})",
            "('o','m',(),{},5)",
            "('o','m',())",
            "['o','m',(),{}]",
            "('o','m',(),{}) x",
            "('','m',(),{})",
            "('o','m',(),{}",
            "('o',\x00'm',(),{})",
        ];
        for doc in left {
            assert!(
                decode_invoke(doc.as_bytes(), &limits).is_none(),
                "read directly: {doc}"
            );
        }
        // Every cut of the read shapes, and a lying nesting: never a disagreement.
        for doc in read {
            for n in 0..doc.len() {
                check_invoke(&doc.as_bytes()[..n]);
            }
        }
        let deep = format!("('o','m',{}{},{{}})", "(".repeat(200), ")".repeat(200));
        assert!(decode_invoke(deep.as_bytes(), &limits).is_none());
        check_invoke(deep.as_bytes());
    }

    fn enc(v: &Value) -> String {
        let mut out = Vec::new();
        encode(v, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn dec(s: &str) -> Result<Value, RemoteError> {
        decode(s.as_bytes(), &Limits::default())
    }

    #[test]
    fn writes_strings_like_python_repr() {
        let cases = [
            ("it's", "\"it's\""),
            ("say \"hi\"", "'say \"hi\"'"),
            ("both ' and \"", "'both \\' and \"'"),
            ("\0\u{9f}\u{2028}é😀\\", "'\\x00\\x9f\\u2028é😀\\\\'"),
            ("\u{e000}\u{10ffff}", "'\\ue000\\U0010ffff'"),
        ];
        for (s, want) in cases {
            let text = enc(&Value::str(s));
            assert_eq!(&text[HEADER.len()..], want);
            assert_eq!(dec(&text).unwrap(), Value::str(s));
        }
    }

    /// A lone plain literal is read as one slice; everything next to it that makes it more
    /// than that (another literal, a prefix, an escape, a triple quote) reads as before.
    #[test]
    fn a_plain_literal_reads_as_the_general_path_does() {
        let ok = [
            (r#"'abc'"#, "abc"),
            (r#""a'b""#, "a'b"),
            ("'é😀'  # c\n", "é😀"),
            (r#"'a' 'b'"#, "ab"),
            ("'a'\\\n'b'", "ab"),
            (r#"'a' u'b'"#, "ab"),
            (r#"''"#, ""),
            (r#"''''''"#, ""),
            (r#"'''a'''"#, "a"),
            (r#"'a\'b'"#, "a'b"),
            (r#"'a\nb'"#, "a\nb"),
        ];
        for (text, want) in ok {
            assert_eq!(dec(text).unwrap(), Value::str(want), "{text}");
        }
        assert_eq!(
            dec("('x', 'y')").unwrap(),
            Value::Tuple(vec![Value::str("x"), Value::str("y")])
        );
        for bad in [r#"'a' b'x'"#, r#"'a'b"#, "'a\nb'", r#"'a"#, r#"'a' \x"#] {
            assert!(dec(bad).is_err(), "{bad}");
        }
        let nul = dec("'ab\0'").unwrap_err().message().to_string();
        assert!(
            nul.contains("NUL byte") && nul.contains("at byte 3"),
            "{nul}"
        );
    }

    #[test]
    fn reads_literal_eval_grammar() {
        let ok = [
            ("(1)", Value::Int(1)),
            ("( 1 , )", Value::Tuple(vec![Value::Int(1)])),
            ("-(1)", Value::Int(-1)),
            ("- 1e30000", Value::Float(f64::NEG_INFINITY)),
            ("0x_1f", Value::Int(31)),
            ("1_0.5", Value::Float(10.5)),
            ("01.5", Value::Float(1.5)),
            ("00", Value::Int(0)),
            ("set ( )", Value::Set(vec![])),
            ("'a' \"b\" '''c'''", Value::str("abc")),
            ("r'\\''", Value::str("\\'")),
            ("b'\\777\\u1'", Value::Bytes(b"\xff\\u1".to_vec())),
            ("'\\q\\0000'", Value::str("\\q\u{0}0")),
            ("[1,\\\n2]", Value::List(vec![Value::Int(1), Value::Int(2)])),
            ("-9223372036854775808", Value::Int(i64::MIN)),
        ];
        for (text, want) in ok {
            assert_eq!(dec(text).unwrap(), want, "{text}");
        }
        for bad in [
            "(,)",
            "set([1])",
            "1j",
            "--1",
            "-True",
            "007",
            "0_9",
            "1__0",
            "1_",
            "0b",
            "0o8",
            "1e",
            "'a' b'b'",
            "ur'x'",
            "f'x'",
            "'a\nb'",
            "b'é'",
            "'\\x4'",
            "'\\N{DASH}'",
            "...",
            "true",
            "[1 2]",
            "1+2",
            "{[1]:2}",
            "{{1}}",
            "1;",
            "'\\ud800'",
            "\u{feff}1",
            "1.5.",
            "",
        ] {
            assert!(dec(bad).is_err(), "{bad:?} should fail");
        }
    }
}
