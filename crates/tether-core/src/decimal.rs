//! [`Decimal`]: an integer's decimal digits on the stack, for the wire writers.
//!
//! Why not `write!`: the formatting machinery costs a few hundred instructions a number
//! (a `Formatter`, padding checks, a dynamic `Write`), more than the rest of a small message's
//! head; HTTP lengths and XML-RPC's integers are written at every call.

/// The decimal text of an integer, kept on the stack.
#[derive(Clone, Copy)]
pub struct Decimal {
    digits: [u8; 20],
    start: usize,
}

impl Decimal {
    /// The digits of `n`.
    pub fn unsigned(mut n: u64) -> Decimal {
        let mut d = Decimal {
            digits: [b'0'; 20],
            start: 20,
        };
        loop {
            d.start -= 1;
            d.digits[d.start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                return d;
            }
        }
    }

    /// The digits of `n`, with a `-` if it is negative.
    pub fn signed(n: i64) -> Decimal {
        // 19 digits at most, so the sign always has room.
        let mut d = Decimal::unsigned(n.unsigned_abs());
        if n < 0 {
            d.start -= 1;
            d.digits[d.start] = b'-';
        }
        d
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and '-' were written.
        std::str::from_utf8(&self.digits[self.start..]).unwrap_or("0")
    }

    /// The text's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.digits[self.start..]
    }

    /// Appends the text to `out`, a character at a time: for the few digits of a length or
    /// an integer, cheaper than checking them as UTF-8 first (`as_str`).
    pub fn push_to(&self, out: &mut String) {
        out.extend(self.as_bytes().iter().map(|&b| char::from(b)));
    }
}

#[cfg(test)]
mod tests {
    use super::Decimal;

    #[test]
    fn every_edge_reads_as_std_writes_it() {
        for n in [0u64, 1, 9, 10, 99, 100, 65_536, u64::MAX / 10, u64::MAX] {
            assert_eq!(Decimal::unsigned(n).as_str(), n.to_string());
        }
        for n in [0i64, -1, 1, -10, 41, i64::MAX, i64::MIN, i64::MIN + 1] {
            assert_eq!(Decimal::signed(n).as_str(), n.to_string());
            assert_eq!(Decimal::signed(n).as_bytes(), n.to_string().as_bytes());
            let mut pushed = String::from("x");
            Decimal::signed(n).push_to(&mut pushed);
            assert_eq!(pushed, format!("x{n}"));
        }
    }
}
