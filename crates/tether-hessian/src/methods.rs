//! Finding the method a Hessian call names, as Caucho's skeleton does: the name as sent, or
//! with its overload suffix taken off: `name__N` (the argument count, which Hessian 2 clients
//! can rely on) or Java's mangled `name_int_string` (a client with overloading on). A Rust
//! service has one method per name, so the suffix only has to be stripped.

use tether_core::{Dispatch, MethodInfo};

/// The method `sent` names on `obj` for a call with `argc` arguments, if any. An object may
/// list one name several times with different parameter counts (a Java-style overload); the
/// one whose count matches wins, else the first of that name (the caller then reports the
/// arity mismatch).
pub fn find<'a>(obj: &'a dyn Dispatch, sent: &str, argc: usize) -> Option<&'a MethodInfo> {
    let by_name = |name: &str| -> Option<&'a MethodInfo> {
        let mut first = None;
        for m in obj.methods().iter().filter(|m| m.name == name) {
            if m.params.len() == argc {
                return Some(m);
            }
            first.get_or_insert(m);
        }
        first
    };
    if let Some(m) = by_name(sent) {
        return Some(m);
    }
    if let Some((base, n)) = split_arity(sent) {
        if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
            if let Some(m) = by_name(base) {
                return Some(m);
            }
        }
    }
    // Mangled: drop `_type` segments from the end until a method matches.
    let mut name = sent;
    while let Some((base, _)) = name.rsplit_once('_') {
        if base.is_empty() {
            break;
        }
        if let Some(m) = by_name(base) {
            return Some(m);
        }
        name = base;
    }
    None
}

/// The argument count a `name__N` call declares, if it has that form.
pub fn declared_arity(sent: &str) -> Option<usize> {
    let (_, n) = split_arity(sent)?;
    n.parse().ok()
}

/// `sent` split at its last `__`, as `rsplit_once("__")` would, without setting up a
/// substring searcher on every call.
fn split_arity(sent: &str) -> Option<(&str, &str)> {
    let i = sent.as_bytes().windows(2).rposition(|w| w == b"__")?;
    Some((sent.get(..i)?, sent.get(i + 2..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arity_suffix_splits_as_rsplit_once_does() {
        for s in [
            "a__3", "a___3", "a__b__3", "a__b_c", "__", "___", "a_3", "", "é__2", "__é",
        ] {
            assert_eq!(split_arity(s), s.rsplit_once("__"), "{s:?}");
        }
        assert_eq!(declared_arity("add__2"), Some(2));
        assert_eq!(declared_arity("add"), None);
    }
}
