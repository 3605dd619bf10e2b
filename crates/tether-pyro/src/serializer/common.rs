//! Pieces the three serializers share: the decode budget (depth and item limits), error
//! construction with a byte position, Python's float `repr`, and ISO date-time text.

use crate::serializer::Limits;
pub(crate) use tether_core::python::{iso_datetime, push_float_repr as push_python_float};
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

/// Builds a serialization error that says which format failed and where. Cold, as
/// [`RemoteError`]'s constructors: decoders call it on the branch they rarely take.
#[cold]
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
#[inline]
pub(crate) fn check_encode_depth(format: &str, depth: usize) -> Result<(), RemoteError> {
    if depth > HARD_MAX_DEPTH {
        Err(RemoteError::serialization(format!(
            "{format}: value nested deeper than {HARD_MAX_DEPTH} levels"
        )))
    } else {
        Ok(())
    }
}

/// The error for a [`Value`](tether_core::Value) variant this serializer has no form for
/// (`Value` is non-exhaustive; a variant added for another wire lands here until mapped).
pub(crate) fn unsupported(format: &str, value: &tether_core::Value) -> RemoteError {
    match value {
        tether_core::Value::BackRef(_) => RemoteError::serialization(loop_refused(format)),
        _ => RemoteError::serialization(format!("{format} cannot encode {value:?}")),
    }
}

/// The message for a value that contains itself on a wire without references.
pub(crate) fn loop_refused(format: &str) -> String {
    format!(
        "{format} cannot encode a reference loop (a value that contains itself): the format has \
         no references (Hessian carries loops)"
    )
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
