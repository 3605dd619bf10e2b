//! From the reader's nodes to [`Value`]: plain data, plus the three named things Pyro 3
//! traffic holds as data (`__builtin__.set`/`frozenset` and `datetime.datetime`). Any other
//! name in a data position is refused with an error that names it; Pyro's exception capsule
//! is taken apart by `pyro3/capsule.rs` with [`NamedInstance`].

use super::read::{Node, NodeId, Pickle};
use crate::serializer::Limits;
use tether_core::{RemoteError, Value};

/// Deepest nesting turned into a value, whatever the limits say (the conversion recurses).
pub(super) const HARD_MAX_DEPTH: usize = 512;

/// An instance record whose class is a plain name: `module.name(*args)` + state.
#[derive(Debug)]
pub struct NamedInstance<'p> {
    /// The class's module.
    pub module: &'p str,
    /// The class's name.
    pub name: &'p str,
    /// The constructor arguments (tuple items).
    pub args: &'p [NodeId],
    /// What `BUILD` attached.
    pub state: Option<NodeId>,
}

impl<'p> NamedInstance<'p> {
    /// The instance record at `id`, if it is one with a named class.
    pub fn at(p: &'p Pickle, id: NodeId) -> Option<NamedInstance<'p>> {
        let Node::Instance { class, args, state } = p.node(id) else {
            return None;
        };
        let Node::Global { module, name } = p.node(*class) else {
            return None;
        };
        let Node::Tuple(args) = p.node(*args) else {
            return None;
        };
        Some(NamedInstance {
            module,
            name,
            args,
            state: *state,
        })
    }
}

struct Budget {
    items: usize,
    max_items: usize,
    max_depth: usize,
}

#[cold]
fn err(what: impl std::fmt::Display) -> RemoteError {
    RemoteError::serialization(format!("pickle: {what}"))
}

/// The value of node `id` (see the table in the module docs).
pub fn to_value(p: &Pickle, id: NodeId, limits: &Limits) -> Result<Value, RemoteError> {
    let mut b = Budget {
        items: 0,
        max_items: limits.max_items,
        max_depth: limits.max_depth.min(HARD_MAX_DEPTH),
    };
    convert(p, id, 0, &mut b)
}

fn count(b: &mut Budget, n: usize) -> Result<(), RemoteError> {
    b.items = b.items.saturating_add(n);
    if b.items > b.max_items {
        return Err(err(format_args!(
            "more than {} items (shared references are counted at each use)",
            b.max_items
        )));
    }
    Ok(())
}

fn convert(p: &Pickle, id: NodeId, depth: usize, b: &mut Budget) -> Result<Value, RemoteError> {
    count(b, 1)?;
    let seq = |items: &[NodeId], b: &mut Budget| -> Result<Vec<Value>, RemoteError> {
        if depth >= b.max_depth {
            return Err(err(format_args!(
                "nesting deeper than {} levels (or a container that holds itself)",
                b.max_depth
            )));
        }
        items.iter().map(|&i| convert(p, i, depth + 1, b)).collect()
    };
    Ok(match p.node(id) {
        Node::None => Value::None,
        Node::Bool(v) => Value::Bool(*v),
        Node::Int(i) => Value::Int(*i),
        Node::Long(v) => Value::BigInt(v.clone()),
        Node::Float(f) => Value::Float(*f),
        Node::Str(bytes) => match std::str::from_utf8(bytes) {
            Ok(s) => Value::Str(s.to_string()),
            Err(_) => Value::Bytes(bytes.clone()),
        },
        Node::Unicode(s) => Value::Str(s.clone()),
        Node::Tuple(items) => Value::Tuple(seq(items, b)?),
        Node::List(items) => Value::List(seq(items, b)?),
        Node::Dict(entries) => {
            let flat: Vec<NodeId> = entries.iter().flat_map(|(k, v)| [*k, *v]).collect();
            let mut vals = seq(&flat, b)?.into_iter();
            let mut out = Vec::with_capacity(entries.len());
            while let (Some(k), Some(v)) = (vals.next(), vals.next()) {
                out.push((k, v));
            }
            Value::Map(out)
        }
        Node::Global { module, name } => {
            return Err(err(format_args!(
                "the name {module}.{name} where data was expected"
            )))
        }
        Node::Instance { .. } => {
            let Some(inst) = NamedInstance::at(p, id) else {
                return Err(err("an object whose class is not a name"));
            };
            match (inst.module, inst.name, inst.args, inst.state) {
                ("__builtin__", "set" | "frozenset", args, None) if args.len() <= 1 => {
                    match args.first().map(|&a| p.node(a)) {
                        None => Value::Set(Vec::new()),
                        Some(Node::List(items)) | Some(Node::Tuple(items)) => {
                            Value::Set(seq(items, b)?)
                        }
                        Some(_) => return Err(err("a set built from something not a list")),
                    }
                }
                ("datetime", "datetime", [state], None) => match p.node(*state) {
                    Node::Str(s) if s.len() == 10 => datetime(s)?,
                    _ => return Err(err("a datetime with a time zone or a bad state")),
                },
                (m, n, _, _) => {
                    return Err(err(format_args!(
                    "an object of class {m}.{n} is not accepted (Pyro 3 carries plain data only)"
                )))
                }
            }
        }
    })
}

fn datetime(s: &[u8]) -> Result<Value, RemoteError> {
    let y = u16::from_be_bytes([s[0], s[1]]) as i64;
    let (mo, d, h, mi, se) = (
        s[2] as i64,
        s[3] as i64,
        s[4] as i64,
        s[5] as i64,
        s[6] as i64,
    );
    let us = u32::from_be_bytes([0, s[7], s[8], s[9]]) as i64;
    if !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || se > 59
        || us > 999_999
    {
        return Err(err("a datetime with fields out of range"));
    }
    let days = tether_core::python::days_from_civil(y, mo as u32, d as u32);
    Ok(Value::DateTime(
        ((days * 86_400 + h * 3600 + mi * 60 + se) * 1000) + us / 1000,
    ))
}
