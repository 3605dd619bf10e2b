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
    if let Some((base, n)) = sent.rsplit_once("__") {
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
    let (_, n) = sent.rsplit_once("__")?;
    n.parse().ok()
}
