//! Python's text forms, exactly as CPython 3.11 prints them: `repr` of strings (with its
//! printable-character table), of floats (shortest round-trip digits, Python's tie-breaking),
//! of datetimes, and [`repr`] of a whole [`Value`] as a Python client would print what it
//! received. Serpent writes Python literals and `tether call` prints results this way, so both
//! live here once.

mod printable;

use crate::Value;
use printable::is_printable;

/// How [`repr_with`] shows byte strings.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BytesForm {
    /// Python's `bytes` repr: `b'\x00ab'` (what a msgpack client receives). The default.
    #[default]
    Bytes,
    /// Serpent's dict: `{'data': 'AGFi', 'encoding': 'base64'}` (what a serpent client
    /// receives before `serpent.tobytes`).
    Base64Dict,
}

/// Python's `repr()` of `value`, byte strings as `b'...'`.
pub fn repr(value: &Value) -> String {
    repr_with(value, BytesForm::Bytes)
}

/// Python's `repr()` of `value`, byte strings as `bytes`.
pub fn repr_with(value: &Value, bytes: BytesForm) -> String {
    repr_styled(
        value,
        &Style {
            bytes,
            ..Style::default()
        },
    )
}

/// How a Python client of some wire holds typed objects: as Pyro's class dict, or as an
/// instance of a class made up from the name (what python-hessian does).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObjectForm {
    /// `{'__class__': 'a.B', 'x': 1}`: Pyro's serializers turn objects into such dicts. The
    /// default.
    #[default]
    ClassDict,
    /// `a.B(x=1)`: an instance of the named class (a Hessian client's view; Python would print
    /// its address, this prints its fields). A typed map whose class is not a `java.util` map
    /// is such an object too (Hessian 1 writes objects that way).
    Instance,
}

/// How a Python client of some wire holds a date-time.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DateForm {
    /// `datetime.datetime(2024, 1, 2, 3, 4, 5)` (pickle, msgpack, Hessian). The default.
    #[default]
    Datetime,
    /// `<DateTime '20240102T03:04:05'>`: `xmlrpc.client.DateTime` (Python's XML-RPC client
    /// without `use_datetime`), without the object's address.
    XmlRpc,
}

/// The choices of [`repr_styled`]: what a Python client of the wire receives.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Style {
    /// Byte strings.
    pub bytes: BytesForm,
    /// Typed objects.
    pub objects: ObjectForm,
    /// Date-times.
    pub dates: DateForm,
}

impl Style {
    /// The default style with `objects` and `dates` as given.
    pub fn new(objects: ObjectForm, dates: DateForm) -> Self {
        Style {
            objects,
            dates,
            ..Style::default()
        }
    }
}

/// Python's `repr()` of `value` as a client of a wire that hands over values as `style` says.
pub fn repr_styled(value: &Value, style: &Style) -> String {
    let mut out = String::new();
    write(value, style, &mut out, 0);
    out
}

/// Python's `repr()` of a naive `datetime.datetime` holding the UTC time of `ms`: trailing zero
/// microseconds and then seconds are left out, as CPython does.
pub fn datetime_repr(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let secs = in_day / 1000;
    let mut parts = vec![
        y,
        i64::from(m),
        i64::from(d),
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        in_day % 1000 * 1000,
    ];
    for _ in 0..2 {
        if parts.last() == Some(&0) {
            parts.pop();
        }
    }
    let parts: Vec<String> = parts.iter().map(i64::to_string).collect();
    format!("datetime.datetime({})", parts.join(", "))
}

/// Deeper than this is shown as `...` (Python itself would hit its recursion limit).
const MAX_DEPTH: usize = 512;

fn write(value: &Value, style: &Style, out: &mut String, depth: usize) {
    let bytes = style.bytes;
    if depth > MAX_DEPTH {
        out.push_str("...");
        return;
    }
    let seq = |items: &[Value], open: &str, close: &str, out: &mut String| {
        out.push_str(open);
        for (i, v) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write(v, style, out, depth + 1);
        }
        out.push_str(close);
    };
    match value {
        Value::None => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Int32(i) => out.push_str(&i.to_string()),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::BigInt(i) => out.push_str(&i.to_string()),
        Value::Float(x) if x.is_nan() => out.push_str("nan"),
        Value::Float(x) if x.is_infinite() => out.push_str(if *x > 0.0 { "inf" } else { "-inf" }),
        Value::Float(x) => {
            let mut b = Vec::new();
            push_float_repr(*x, &mut b);
            out.push_str(&String::from_utf8_lossy(&b));
        }
        Value::Str(s) => push_str_repr(s, out),
        Value::Bytes(b) => match bytes {
            BytesForm::Bytes => push_bytes_repr(b, out),
            BytesForm::Base64Dict => {
                use base64::Engine;
                out.push_str("{'data': '");
                out.push_str(&base64::engine::general_purpose::STANDARD.encode(b));
                out.push_str("', 'encoding': 'base64'}");
            }
        },
        Value::List(items) => seq(items, "[", "]", out),
        Value::Tuple(items) if items.len() == 1 => seq(items, "(", ",)", out),
        Value::Tuple(items) => seq(items, "(", ")", out),
        Value::Set(items) if items.is_empty() => out.push_str("set()"),
        Value::Set(items) => seq(items, "{", "}", out),
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(k, style, out, depth + 1);
                out.push_str(": ");
                write(v, style, out, depth + 1);
            }
            out.push('}');
        }
        Value::DateTime(ms) => match style.dates {
            DateForm::Datetime => out.push_str(&datetime_repr(*ms)),
            DateForm::XmlRpc => {
                let iso = iso_datetime(ms - ms.rem_euclid(1000)).replace('-', "");
                out.push_str(&format!("<DateTime '{iso}'>"));
            }
        },
        Value::Object(o) if style.objects == ObjectForm::Instance => {
            out.push_str(&o.class);
            out.push('(');
            for (i, (k, v)) in o.fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                write(v, style, out, depth + 1);
            }
            out.push(')');
        }
        Value::Typed(t)
            if style.objects == ObjectForm::Instance
                && !t.class.starts_with("java.")
                && t.value
                    .as_map()
                    .is_some_and(|m| m.iter().all(|(k, _)| k.as_str().is_some())) =>
        {
            out.push_str(&t.class);
            out.push('(');
            for (i, (k, v)) in t.value.as_map().unwrap_or(&[]).iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k.as_str().unwrap_or(""));
                out.push('=');
                write(v, style, out, depth + 1);
            }
            out.push(')');
        }
        Value::Object(o) => {
            out.push_str("{'__class__': ");
            push_str_repr(&o.class, out);
            for (k, v) in &o.fields {
                out.push_str(", ");
                push_str_repr(k, out);
                out.push_str(": ");
                write(v, style, out, depth + 1);
            }
            out.push('}');
        }
        Value::Typed(t) => write(&t.value, style, out, depth),
        // Python's repr of a container met again inside itself.
        Value::BackRef(_) => out.push_str("..."),
    }
}

/// Python's `repr(bytes)`.
pub fn push_bytes_repr(b: &[u8], out: &mut String) {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    out.push('b');
    out.push(quote);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            c if c as char == quote => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push(quote);
}

/// Appends Python's `repr` of a *finite* float: the shortest digits that round-trip, in fixed
/// notation when the decimal exponent is in `-4 <= e < 16` (`0.0001`, `1e-05`, `1e+16`,
/// `123.0`), else in exponent notation with a sign and at least two exponent digits.
///
/// Both serpent and Python's json write floats this way, and byte-equal output is what lets
/// golden captures and echo comparisons work.
pub fn push_float_repr(x: f64, out: &mut Vec<u8>) {
    debug_assert!(x.is_finite());
    if x == 0.0 {
        out.extend_from_slice(if x.is_sign_negative() {
            b"-0.0"
        } else {
            b"0.0"
        });
        return;
    }
    let (digits, exp) = shortest_digits(x.abs());
    if x.is_sign_negative() {
        out.push(b'-');
    }
    // Python's decpt: the position of the decimal point relative to the digit string.
    let decpt = exp + 1;
    let n = digits.len() as i32;
    if -4 < decpt && decpt <= 16 {
        if decpt <= 0 {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-decpt) as usize));
            out.extend_from_slice(&digits);
        } else if decpt < n {
            out.extend_from_slice(&digits[..decpt as usize]);
            out.push(b'.');
            out.extend_from_slice(&digits[decpt as usize..]);
        } else {
            out.extend_from_slice(&digits);
            out.extend(std::iter::repeat_n(b'0', (decpt - n) as usize));
            out.extend_from_slice(b".0");
        }
    } else {
        out.push(digits[0]);
        if n > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        out.extend_from_slice(format!("{:02}", exp.unsigned_abs()).as_bytes());
    }
}

/// The shortest decimal digits that read back as `x` (positive, finite, non-zero) and the
/// decimal exponent of the first digit, chosen as CPython's `repr` does: among the shortest
/// candidates the one nearest to the exact binary value, and on an exact tie the even one.
///
/// Rust's `{:e}` already gives shortest digits, but breaks exact ties differently (it prints
/// `799639566387078.3` where Python prints `799639566387078.2` for the value
/// `799639566387078.25`), so its last digit's neighbours are checked with exact arithmetic.
fn shortest_digits(x: f64) -> (Vec<u8>, i32) {
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let n = digits.len();
    // At most 17 significant digits, so the digit string fits in a u64.
    let m: u64 = digits
        .iter()
        .fold(0u64, |acc, &d| acc * 10 + u64::from(d - b'0'));
    let k = exp - (n as i32 - 1);
    let same_len = |c: u64| c != 0 && c.to_string().len() == n;
    let reads_back = |c: u64| format!("{c}e{k}").parse::<f64>().ok() == Some(x);
    let neighbours: Vec<u64> = [m.checked_sub(1), m.checked_add(1)]
        .into_iter()
        .flatten()
        .filter(|&c| same_len(c) && reads_back(c))
        .collect();
    if neighbours.is_empty() {
        return (digits, exp);
    }
    let mut best = m;
    let mut best_dist = exact_distance(m, k, x);
    for c in neighbours {
        let d = exact_distance(c, k, x);
        if d < best_dist || (d == best_dist && c % 2 == 0) {
            best = c;
            best_dist = d;
        }
    }
    (best.to_string().into_bytes(), exp)
}

/// `|c * 10^k - x|` scaled by a positive constant that depends only on `k` and `x`, exactly.
fn exact_distance(c: u64, k: i32, x: f64) -> num_bigint::BigInt {
    use num_bigint::BigInt;
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    let (mant, exp2) = if biased == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), biased - 1075)
    };
    let ten = BigInt::from(10u8);
    let two = BigInt::from(2u8);
    let pow = |b: &BigInt, e: i32| num_traits::pow(b.clone(), e.max(0) as usize);
    let a = BigInt::from(c) * pow(&ten, k) * pow(&two, -exp2);
    let b = BigInt::from(mant) * pow(&two, exp2) * pow(&ten, -k);
    let d = a - b;
    if d.sign() == num_bigint::Sign::Minus {
        -d
    } else {
        d
    }
}

/// Python's `datetime.isoformat()` of a naive datetime holding the UTC time of `ms` milliseconds
/// since the epoch: `2024-01-02T03:04:05`, with `.600000` microseconds only when non-zero.
pub fn iso_datetime(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let secs = in_day / 1000;
    let frac = in_day % 1000;
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    if frac != 0 {
        s.push_str(&format!(".{:06}", frac * 1000));
    }
    s
}

/// Python's `repr(str)`.
pub fn push_str_repr(s: &str, buf: &mut String) {
    // Printable ASCII with no quote or backslash (most text) is its own repr, in single quotes.
    if s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'\'' && b != b'\\')
    {
        buf.reserve(s.len() + 2);
        buf.push('\'');
        buf.push_str(s);
        buf.push('\'');
        return;
    }
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    buf.push(quote);
    for c in s.chars() {
        match c {
            '\\' => buf.push_str("\\\\"),
            '\t' => buf.push_str("\\t"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            c if c == quote => {
                buf.push('\\');
                buf.push(c);
            }
            c if c < ' ' || c == '\u{7f}' => buf.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_ascii() || is_printable(c) => buf.push(c),
            c if (c as u32) < 0x100 => buf.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => buf.push_str(&format!("\\u{:04x}", c as u32)),
            c => buf.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    buf.push(quote);
}

/// (year, month, day) to days since 1970-01-01 in the proleptic Gregorian calendar
/// (H. Hinnant's `days_from_civil`); the inverse of [`civil_from_days`].
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (H. Hinnant's `civil_from_days`). Every wire that prints or packs a date uses this one.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reprs_like_cpython() {
        let v = Value::List(vec![
            Value::Tuple(vec![Value::Int(1)]),
            Value::Set(vec![]),
            Value::Float(1e16),
            Value::Float(0.1),
            Value::Float(f64::NAN),
            Value::str("it's"),
            Value::Bytes(b"\x00a'".to_vec()),
            Value::Map(vec![(Value::str("k"), Value::None)]),
            Value::Bool(true),
        ]);
        assert_eq!(
            repr(&v),
            r#"[(1,), set(), 1e+16, 0.1, nan, "it's", b"\x00a'", {'k': None}, True]"#
        );
        assert_eq!(
            repr_with(&Value::Bytes(b"ab".to_vec()), BytesForm::Base64Dict),
            "{'data': 'YWI=', 'encoding': 'base64'}"
        );
    }

    /// The plain-ASCII shortcut gives what the general path (CPython's rules) gives, and
    /// leaves everything else to it.
    #[test]
    fn str_reprs_like_cpython_at_the_shortcuts_edges() {
        let cases = [
            ("", "''"),
            (" az~", "' az~'"),
            ("it's", r#""it's""#),
            ("both ' \"", r#"'both \' "'"#),
            ("a\\b", r"'a\\b'"),
            ("\x1f\x7f", r"'\x1f\x7f'"),
            ("tab\t", r"'tab\t'"),
            ("é", "'é'"),
        ];
        for (s, want) in cases {
            let mut out = String::new();
            push_str_repr(s, &mut out);
            assert_eq!(out, want, "{s:?}");
        }
    }
}
