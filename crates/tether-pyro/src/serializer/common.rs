//! Pieces the three serializers share: the decode budget (depth and item limits), error
//! construction with a byte position, Python's float `repr`, and ISO date-time text.

use crate::serializer::Limits;
use tether_core::RemoteError;

/// Deepest nesting any decoder or encoder accepts, whatever [`Limits::max_depth`] says.
///
/// The codecs recurse once per container level, so an unbounded depth would let a peer (or a
/// self-referencing caller) overflow the stack; 512 levels stay far below a 2 MiB thread stack
/// even in debug builds, and real Pyro payloads nest a handful of levels (serpent's own writer
/// refuses more than 200).
pub(crate) const HARD_MAX_DEPTH: usize = 512;

/// Longest decimal integer literal accepted, as CPython 3.11's `int_max_str_digits` default: the
/// Python peer refuses longer ones, and the limit keeps quadratic decimal conversion cheap.
pub(crate) const MAX_INT_DIGITS: usize = 4300;

/// Builds a serialization error that says which format failed and where.
pub(crate) fn error_at(format: &str, pos: usize, what: impl std::fmt::Display) -> RemoteError {
    RemoteError::serialization(format!("{format}: {what} at byte {pos}"))
}

/// Tracks nesting depth and the item count of one decode against [`Limits`].
pub(crate) struct Budget {
    format: &'static str,
    depth: usize,
    max_depth: usize,
    items: usize,
    max_items: usize,
}

impl Budget {
    pub(crate) fn new(format: &'static str, limits: &Limits) -> Self {
        Budget {
            format,
            depth: 0,
            max_depth: limits.max_depth.min(HARD_MAX_DEPTH),
            items: 0,
            max_items: limits.max_items,
        }
    }

    /// Enters a container; fails when that exceeds the depth limit.
    pub(crate) fn enter(&mut self, pos: usize) -> Result<(), RemoteError> {
        if self.depth >= self.max_depth {
            return Err(error_at(
                self.format,
                pos,
                format_args!("nesting deeper than {} levels", self.max_depth),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    /// Leaves a container entered with [`Budget::enter`].
    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Counts `n` more items (elements or map entries); fails past the item limit.
    pub(crate) fn items(&mut self, n: usize, pos: usize) -> Result<(), RemoteError> {
        self.items = self.items.saturating_add(n);
        if self.items > self.max_items {
            return Err(error_at(
                self.format,
                pos,
                format_args!("more than {} items", self.max_items),
            ));
        }
        Ok(())
    }
}

/// Encoders refuse values nested deeper than [`HARD_MAX_DEPTH`] instead of overflowing the stack.
pub(crate) fn check_encode_depth(format: &str, depth: usize) -> Result<(), RemoteError> {
    if depth > HARD_MAX_DEPTH {
        Err(RemoteError::serialization(format!(
            "{format}: value nested deeper than {HARD_MAX_DEPTH} levels"
        )))
    } else {
        Ok(())
    }
}

/// Appends Python's `repr` of a *finite* float: the shortest digits that round-trip, in fixed
/// notation when the decimal exponent is in `-4 <= e < 16` (`0.0001`, `1e-05`, `1e+16`,
/// `123.0`), else in exponent notation with a sign and at least two exponent digits.
///
/// Both serpent and Python's json write floats this way, and byte-equal output is what lets
/// golden captures and echo comparisons work.
pub(crate) fn push_python_float(x: f64, out: &mut Vec<u8>) {
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
            out.extend(std::iter::repeat(b'0').take((-decpt) as usize));
            out.extend_from_slice(&digits);
        } else if decpt < n {
            out.extend_from_slice(&digits[..decpt as usize]);
            out.push(b'.');
            out.extend_from_slice(&digits[decpt as usize..]);
        } else {
            out.extend_from_slice(&digits);
            out.extend(std::iter::repeat(b'0').take((decpt - n) as usize));
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
pub(crate) fn iso_datetime(ms: i64) -> String {
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

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (H. Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
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

    fn repr(x: f64) -> String {
        let mut v = Vec::new();
        push_python_float(x, &mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn floats_print_like_python_repr() {
        for (x, want) in [
            (1.0, "1.0"),
            (1.5, "1.5"),
            (-0.0, "-0.0"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (0.1, "0.1"),
            (1.0 / 3.0, "0.3333333333333333"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (-2.5e-7, "-2.5e-07"),
            (100.0, "100.0"),
            (f64::from_bits(0x4306_ba24_c26c_3c32), "799639566387078.2"),
        ] {
            assert_eq!(repr(x), want, "{x:e}");
        }
    }

    #[test]
    fn iso_datetime_matches_python() {
        assert_eq!(iso_datetime(0), "1970-01-01T00:00:00");
        assert_eq!(
            iso_datetime(1_704_164_645_600),
            "2024-01-02T03:04:05.600000"
        );
        assert_eq!(iso_datetime(-1), "1969-12-31T23:59:59.999000");
        assert_eq!(iso_datetime(951_782_400_000), "2000-02-29T00:00:00");
    }
}

/// The error for a [`Value`](tether_core::Value) variant this serializer has no form for
/// (`Value` is non-exhaustive; a variant added for another wire lands here until mapped).
pub(crate) fn unsupported(format: &str, value: &tether_core::Value) -> RemoteError {
    RemoteError::serialization(format!("{format} cannot encode {value:?}"))
}
