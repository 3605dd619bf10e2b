//! Class names in values: Pyro4 peers send and expect `Pyro4.*` classes where Pyro5 has
//! `Pyro5.*` ones (an exception from `Pyro5.errors` would make a Pyro4 client raise
//! SerializeError instead). tether works in Pyro5's names; a Pyro4 connection renames on the
//! way in ([`to_pyro5`]) and on the way out ([`to_pyro4`]). Only dicts with a `__class__` key
//! are touched, and only the known names below; everything else passes unchanged.

use tether_core::Value;

/// Pairs of (Pyro5 name or prefix, Pyro4 name or prefix); prefixes end with a dot.
const NAMES: &[(&str, &str)] = &[
    ("Pyro5.errors.", "Pyro4.errors."),
    ("Pyro5.core.URI", "Pyro4.core.URI"),
    (
        "Pyro5.core._ExceptionWrapper",
        "Pyro4.futures._ExceptionWrapper",
    ),
    ("Pyro5.client.Proxy", "Pyro4.core.Proxy"),
];

/// Most levels of nesting walked (decoded values are already bounded by the decoder's depth
/// limit; this only keeps the walk from recursing deeper than it).
const MAX_DEPTH: usize = 256;

/// Renames Pyro5 classes to their Pyro4 names, in place.
pub fn to_pyro4(v: &mut Value) {
    rename(v, true, 0);
}

/// Renames Pyro4 classes to their Pyro5 names, in place.
pub fn to_pyro5(v: &mut Value) {
    rename(v, false, 0);
}

fn rename(v: &mut Value, to4: bool, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Map(items) => {
            for (k, val) in items.iter_mut() {
                if k.as_str() == Some("__class__") {
                    if let Value::Str(class) = val {
                        if let Some(new) = renamed(class, to4) {
                            *class = new;
                        }
                    }
                } else {
                    rename(val, to4, depth + 1);
                }
            }
        }
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
            for item in items {
                rename(item, to4, depth + 1);
            }
        }
        _ => {}
    }
}

fn renamed(class: &str, to4: bool) -> Option<String> {
    for (five, four) in NAMES {
        let (from, to) = if to4 { (five, four) } else { (four, five) };
        if from.ends_with('.') {
            if let Some(rest) = class.strip_prefix(from) {
                return Some(format!("{to}{rest}"));
            }
        } else if class == *from {
            return Some(to.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceptions_and_uris_are_renamed_both_ways() {
        let exc = |c: &str| Value::Map(vec![(Value::str("__class__"), Value::str(c))]);
        let mut v = Value::List(vec![
            exc("Pyro5.errors.NamingError"),
            Value::Map(vec![
                (
                    Value::str("__class__"),
                    Value::str("Pyro5.core._ExceptionWrapper"),
                ),
                (Value::str("exception"), exc("builtins.ValueError")),
            ]),
            Value::Tuple(vec![exc("Pyro5.core.URI"), Value::str("Pyro5.errors.X")]),
        ]);
        let orig = v.clone();
        to_pyro4(&mut v);
        assert_eq!(
            v,
            Value::List(vec![
                exc("Pyro4.errors.NamingError"),
                Value::Map(vec![
                    (
                        Value::str("__class__"),
                        Value::str("Pyro4.futures._ExceptionWrapper")
                    ),
                    (Value::str("exception"), exc("builtins.ValueError")),
                ]),
                Value::Tuple(vec![exc("Pyro4.core.URI"), Value::str("Pyro5.errors.X")]),
            ])
        );
        to_pyro5(&mut v);
        assert_eq!(v, orig);
    }
}
