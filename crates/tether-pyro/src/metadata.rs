//! Object metadata: the exposed methods, oneway methods and attributes a Pyro proxy learns in
//! its handshake (CONNECTOK `meta`) or from `Pyro.Daemon.get_metadata`.
//!
//! It travels as a dict of three sets. serpent writes real sets (an empty one as `()`), json
//! and msgpack write arrays; the reader accepts any sequence.

use tether_core::{Dispatch, Value};

/// What an object exposes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Exposed method names (including oneway ones).
    pub methods: Vec<String>,
    /// Methods a proxy calls without waiting for a reply.
    pub oneway: Vec<String>,
    /// Exposed attributes (readable with `__getattr__`).
    pub attrs: Vec<String>,
}

impl Metadata {
    /// The metadata of a [`Dispatch`] object.
    pub fn of(object: &dyn Dispatch) -> Metadata {
        let methods = object.methods();
        Metadata {
            methods: methods.iter().map(|m| m.name.to_string()).collect(),
            oneway: methods
                .iter()
                .filter(|m| m.oneway)
                .map(|m| m.name.to_string())
                .collect(),
            attrs: object.attrs().iter().map(|a| a.name.to_string()).collect(),
        }
    }

    /// The wire form: `{'methods': set, 'oneway': set, 'attrs': set}`.
    pub fn to_value(&self) -> Value {
        let set = |v: &[String]| Value::Set(v.iter().map(|s| Value::str(s.as_str())).collect());
        Value::Map(vec![
            (Value::str("methods"), set(&self.methods)),
            (Value::str("oneway"), set(&self.oneway)),
            (Value::str("attrs"), set(&self.attrs)),
        ])
    }

    /// The form Pyro4 sends on connect (META_ON_CONNECT): the same keys, as lists.
    pub fn to_lists_value(&self) -> Value {
        let list = |v: &[String]| Value::List(v.iter().map(|s| Value::str(s.as_str())).collect());
        Value::Map(vec![
            (Value::str("methods"), list(&self.methods)),
            (Value::str("oneway"), list(&self.oneway)),
            (Value::str("attrs"), list(&self.attrs)),
        ])
    }

    /// Reads the wire form; missing keys are empty, non-string items are skipped.
    pub fn from_value(v: &Value) -> Metadata {
        let names = |key: &str| -> Vec<String> {
            v.get(key)
                .and_then(Value::as_seq)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        Metadata {
            methods: names("methods"),
            oneway: names("oneway"),
            attrs: names("attrs"),
        }
    }

    /// Whether nothing is exposed (Python's proxy then asks `Pyro.Daemon.get_metadata`).
    pub fn is_empty(&self) -> bool {
        self.methods.is_empty() && self.attrs.is_empty()
    }
}
