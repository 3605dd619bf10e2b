//! The pickle reader: a closed set of opcodes run by an iterative machine into an arena of
//! [`Node`]s. It decodes data and never executes anything: a `GLOBAL` becomes an inert
//! [`Node::Global`] name, and `REDUCE`/`OBJ`/`INST`/`NEWOBJ`/`BUILD` become
//! [`Node::Instance`] records that [`super::convert`] either recognises (a set, a date-time,
//! Pyro's exception capsule) or refuses.
//!
//! Shared references stay shared: `PUT` records a node id, `GET` pushes the same id, and a
//! container is one node that `APPEND`/`SETITEM` fill in place, so a list put in the memo
//! before it was filled (as cPickle does) is the filled list wherever it is referenced.
//!
//! Every resource is bounded by [`ReadLimits`]: opcodes run, nodes made, memo entries, stack
//! height; every length is checked against the bytes that are left before it is used.

use super::op;
use num_bigint::BigInt;
use tether_core::RemoteError;

/// An index into [`Pickle::nodes`].
pub type NodeId = u32;

/// A decoded pickle value. Containers hold ids, so shared and (for lists and dicts)
/// recursive references are represented as they were sent.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// `None`.
    None,
    /// `True`/`False`.
    Bool(bool),
    /// A Python 2 `int` (64 bits).
    Int(i64),
    /// A Python 2 `long`.
    Long(BigInt),
    /// A float.
    Float(f64),
    /// A Python 2 `str` (bytes).
    Str(Vec<u8>),
    /// A Python 2 `unicode`.
    Unicode(String),
    /// A tuple.
    Tuple(Vec<NodeId>),
    /// A list.
    List(Vec<NodeId>),
    /// A dict, in the order its items were sent.
    Dict(Vec<(NodeId, NodeId)>),
    /// A `module.name` reference, kept as a name: nothing is imported or looked up.
    Global {
        /// The module.
        module: String,
        /// The name in it.
        name: String,
    },
    /// What a constructor opcode would build: `class(*args)`, then `BUILD`'s state.
    Instance {
        /// The class (a `Global` node, or whatever the pickle put there).
        class: NodeId,
        /// The arguments (a `Tuple` node).
        args: NodeId,
        /// The state `BUILD` attached, if any.
        state: Option<NodeId>,
    },
}

/// Limits of one decode. The body's size is bounded before (by the frame reader).
#[derive(Clone, Copy, Debug)]
pub struct ReadLimits {
    /// Most opcodes run. Default 4,000,000.
    pub max_ops: usize,
    /// Most nodes made. Default 1,000,000.
    pub max_nodes: usize,
    /// Most memo entries. Default 100,000.
    pub max_memo: usize,
    /// Highest stack (marks included). Default 1,000,000.
    pub max_stack: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_ops: 4_000_000,
            max_nodes: 1_000_000,
            max_memo: 100_000,
            max_stack: 1_000_000,
        }
    }
}

/// A decoded pickle: its nodes and the id of the value `STOP` returned.
#[derive(Debug)]
pub struct Pickle {
    /// Every node made.
    pub nodes: Vec<Node>,
    /// The result.
    pub root: NodeId,
}

impl Pickle {
    /// The node `id`.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }
}

#[derive(Clone, Copy)]
enum Slot {
    Mark,
    Node(NodeId),
}

struct Machine<'a> {
    data: &'a [u8],
    pos: usize,
    nodes: Vec<Node>,
    stack: Vec<Slot>,
    marks: Vec<usize>,
    memo: std::collections::HashMap<u32, NodeId>,
    limits: ReadLimits,
}

#[cold]
fn err(pos: usize, what: impl std::fmt::Display) -> RemoteError {
    RemoteError::serialization(format!("pickle: {what} at byte {pos}"))
}

impl<'a> Machine<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], RemoteError> {
        if n > self.data.len() - self.pos {
            return Err(err(
                self.pos,
                format_args!(
                    "truncated: {n} bytes wanted, {} left",
                    self.data.len() - self.pos
                ),
            ));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, RemoteError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, RemoteError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, RemoteError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A text argument up to `\n` (protocol 0), without the newline.
    fn line(&mut self) -> Result<&'a [u8], RemoteError> {
        let rest = &self.data[self.pos..];
        let Some(i) = rest.iter().position(|&b| b == b'\n') else {
            return Err(err(
                self.pos,
                "truncated: a text argument without its newline",
            ));
        };
        self.pos += i + 1;
        Ok(&rest[..i])
    }

    fn line_str(&mut self) -> Result<&'a str, RemoteError> {
        let at = self.pos;
        let l = self.line()?;
        std::str::from_utf8(l).map_err(|_| err(at, "a text argument is not ASCII"))
    }

    fn new_node(&mut self, n: Node) -> Result<NodeId, RemoteError> {
        if self.nodes.len() >= self.limits.max_nodes {
            return Err(err(
                self.pos,
                format_args!("more than {} values", self.limits.max_nodes),
            ));
        }
        self.nodes.push(n);
        Ok((self.nodes.len() - 1) as NodeId)
    }

    fn push_slot(&mut self, s: Slot) -> Result<(), RemoteError> {
        if self.stack.len() >= self.limits.max_stack {
            return Err(err(
                self.pos,
                format_args!("stack higher than {}", self.limits.max_stack),
            ));
        }
        self.stack.push(s);
        Ok(())
    }

    fn push(&mut self, n: Node) -> Result<(), RemoteError> {
        let id = self.new_node(n)?;
        self.push_slot(Slot::Node(id))
    }

    fn pop(&mut self) -> Result<NodeId, RemoteError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(err(self.pos, "stack underflow"));
        }
        match self.stack.pop() {
            Some(Slot::Node(id)) => Ok(id),
            _ => Err(err(self.pos, "stack underflow")),
        }
    }

    fn top(&self) -> Result<NodeId, RemoteError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        match self.stack.last() {
            Some(Slot::Node(id)) if self.stack.len() > floor => Ok(*id),
            _ => Err(err(self.pos, "stack underflow")),
        }
    }

    /// Pops everything down to the last mark, and the mark.
    fn pop_mark(&mut self) -> Result<Vec<NodeId>, RemoteError> {
        let Some(at) = self.marks.pop() else {
            return Err(err(self.pos, "no mark on the stack"));
        };
        let items = self
            .stack
            .drain(at + 1..)
            .map(|s| match s {
                Slot::Node(id) => id,
                Slot::Mark => 0, // unreachable: marks are tracked in `marks`
            })
            .collect();
        self.stack.truncate(at);
        Ok(items)
    }

    fn memo_put(&mut self, key: u32) -> Result<(), RemoteError> {
        let id = self.top()?;
        if self.memo.len() >= self.limits.max_memo && !self.memo.contains_key(&key) {
            return Err(err(
                self.pos,
                format_args!("more than {} memo entries", self.limits.max_memo),
            ));
        }
        self.memo.insert(key, id);
        Ok(())
    }

    fn memo_get(&mut self, key: u32) -> Result<(), RemoteError> {
        let Some(&id) = self.memo.get(&key) else {
            return Err(err(self.pos, format_args!("memo key {key} was never put")));
        };
        self.push_slot(Slot::Node(id))
    }

    fn node_mut(&mut self, id: NodeId) -> &mut Node {
        &mut self.nodes[id as usize]
    }

    fn append(&mut self, list: NodeId, items: Vec<NodeId>) -> Result<(), RemoteError> {
        let pos = self.pos;
        match self.node_mut(list) {
            Node::List(v) => {
                v.extend(items);
                Ok(())
            }
            _ => Err(err(pos, "APPEND to something that is not a list")),
        }
    }

    fn set_items(&mut self, dict: NodeId, items: Vec<NodeId>) -> Result<(), RemoteError> {
        if !items.len().is_multiple_of(2) {
            return Err(err(self.pos, "SETITEMS with an odd number of items"));
        }
        let pos = self.pos;
        let Node::Dict(entries) = self.node_mut(dict) else {
            return Err(err(pos, "SETITEM on something that is not a dict"));
        };
        // Entries are kept as sent (Python's pickler never repeats a key; a repeated key in
        // a hostile pickle stays visible instead of being merged by a quadratic search).
        entries.extend(items.chunks(2).map(|c| (c[0], c[1])));
        Ok(())
    }

    fn tuple_of(&mut self, items: Vec<NodeId>) -> Result<(), RemoteError> {
        self.push(Node::Tuple(items))
    }

    fn global(&mut self, module: &str, name: &str) -> Result<Node, RemoteError> {
        let ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 200
                && s.split('.').all(|p| {
                    !p.is_empty()
                        && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                        && !p.as_bytes()[0].is_ascii_digit()
                })
        };
        if !ok(module) || !ok(name) {
            return Err(err(self.pos, "a GLOBAL that is not a dotted name"));
        }
        Ok(Node::Global {
            module: module.to_string(),
            name: name.to_string(),
        })
    }

    fn int_text(&mut self, at: usize, text: &str) -> Result<Node, RemoteError> {
        // Protocol 0 spells booleans as I01/I00.
        match text {
            "01" => return Ok(Node::Bool(true)),
            "00" => return Ok(Node::Bool(false)),
            _ => {}
        }
        let t = text.trim_end_matches('L');
        if t.len() > super::MAX_INT_DIGITS {
            return Err(err(at, "an integer literal too long"));
        }
        if let Ok(v) = t.parse::<i64>() {
            return Ok(Node::Int(v));
        }
        match t.parse::<BigInt>() {
            Ok(b) => Ok(Node::Long(b)),
            Err(_) => Err(err(at, format_args!("bad integer literal {t:?}"))),
        }
    }

    fn long_bytes(&mut self, n: usize) -> Result<Node, RemoteError> {
        if n > super::MAX_LONG_BYTES {
            return Err(err(self.pos, "a long of more than 4 KiB"));
        }
        let b = self.take(n)?;
        Ok(Node::Long(BigInt::from_signed_bytes_le(b)))
    }

    fn run(mut self) -> Result<Pickle, RemoteError> {
        let mut ops = 0usize;
        loop {
            ops += 1;
            if ops > self.limits.max_ops {
                return Err(err(
                    self.pos,
                    format_args!("more than {} opcodes", self.limits.max_ops),
                ));
            }
            let at = self.pos;
            let code = self.u8()?;
            match code {
                op::PROTO => {
                    let v = self.u8()?;
                    if v > 2 {
                        return Err(err(at, format_args!("pickle protocol {v} (only 0 to 2)")));
                    }
                }
                op::STOP => {
                    let root = self.pop()?;
                    if !self.stack.is_empty() || !self.marks.is_empty() {
                        return Err(err(at, "STOP with more left on the stack"));
                    }
                    if self.pos != self.data.len() {
                        return Err(err(self.pos, "bytes after STOP"));
                    }
                    return Ok(Pickle {
                        nodes: self.nodes,
                        root,
                    });
                }
                op::MARK => {
                    let at = self.stack.len();
                    self.push_slot(Slot::Mark)?;
                    self.marks.push(at);
                }
                op::POP => {
                    if self.stack.len() == self.marks.last().map_or(usize::MAX, |m| m + 1) {
                        // POP of a mark (Python 3 allows it; harmless)
                        self.pop_mark()?;
                    } else {
                        self.pop()?;
                    }
                }
                op::POP_MARK => {
                    self.pop_mark()?;
                }
                op::DUP => {
                    let id = self.top()?;
                    self.push_slot(Slot::Node(id))?;
                }
                op::NONE => self.push(Node::None)?,
                op::NEWTRUE => self.push(Node::Bool(true))?,
                op::NEWFALSE => self.push(Node::Bool(false))?,
                op::INT => {
                    let t = self.line_str()?;
                    let n = self.int_text(at, t)?;
                    self.push(n)?
                }
                op::LONG => {
                    let t = self.line_str()?;
                    let n = match self.int_text(at, t)? {
                        Node::Bool(b) => Node::Long(BigInt::from(b as i64)),
                        Node::Int(i) => Node::Long(BigInt::from(i)),
                        n => n,
                    };
                    self.push(n)?
                }
                op::BININT => {
                    let v = self.u32()? as i32;
                    self.push(Node::Int(v as i64))?
                }
                op::BININT1 => {
                    let v = self.u8()?;
                    self.push(Node::Int(v as i64))?
                }
                op::BININT2 => {
                    let v = self.u16()?;
                    self.push(Node::Int(v as i64))?
                }
                op::LONG1 => {
                    let n = self.u8()? as usize;
                    let v = self.long_bytes(n)?;
                    self.push(v)?
                }
                op::LONG4 => {
                    let n = self.u32()? as i32;
                    if n < 0 {
                        return Err(err(at, "LONG4 with a negative length"));
                    }
                    let v = self.long_bytes(n as usize)?;
                    self.push(v)?
                }
                op::FLOAT => {
                    let t = self.line_str()?;
                    let v: f64 = t
                        .trim()
                        .parse()
                        .map_err(|_| err(at, format_args!("bad float literal {t:?}")))?;
                    self.push(Node::Float(v))?
                }
                op::BINFLOAT => {
                    let b = self.take(8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    self.push(Node::Float(f64::from_be_bytes(a)))?
                }
                op::STRING => {
                    let t = self.line()?;
                    let s = super::text::unquote_string(t).ok_or_else(|| {
                        err(at, "STRING argument is not a quoted Python 2 string")
                    })?;
                    self.push(Node::Str(s))?
                }
                op::BINSTRING => {
                    let n = self.u32()? as i32;
                    if n < 0 {
                        return Err(err(at, "BINSTRING with a negative length"));
                    }
                    let s = self.take(n as usize)?.to_vec();
                    self.push(Node::Str(s))?
                }
                op::SHORT_BINSTRING => {
                    let n = self.u8()? as usize;
                    let s = self.take(n)?.to_vec();
                    self.push(Node::Str(s))?
                }
                op::UNICODE => {
                    let t = self.line()?;
                    let s = super::text::raw_unicode_escape(t)
                        .ok_or_else(|| err(at, "UNICODE argument is not raw-unicode-escape"))?;
                    self.push(Node::Unicode(s))?
                }
                op::BINUNICODE => {
                    let n = self.u32()? as usize;
                    let b = self.take(n)?;
                    let s = String::from_utf8(b.to_vec())
                        .map_err(|_| err(at, "BINUNICODE that is not UTF-8"))?;
                    self.push(Node::Unicode(s))?
                }
                op::EMPTY_TUPLE => self.tuple_of(Vec::new())?,
                op::TUPLE => {
                    let items = self.pop_mark()?;
                    self.tuple_of(items)?
                }
                op::TUPLE1 => {
                    let a = self.pop()?;
                    self.tuple_of(vec![a])?
                }
                op::TUPLE2 => {
                    let b = self.pop()?;
                    let a = self.pop()?;
                    self.tuple_of(vec![a, b])?
                }
                op::TUPLE3 => {
                    let c = self.pop()?;
                    let b = self.pop()?;
                    let a = self.pop()?;
                    self.tuple_of(vec![a, b, c])?
                }
                op::EMPTY_LIST => self.push(Node::List(Vec::new()))?,
                op::LIST => {
                    let items = self.pop_mark()?;
                    self.push(Node::List(items))?
                }
                op::APPEND => {
                    let v = self.pop()?;
                    let l = self.top()?;
                    self.append(l, vec![v])?
                }
                op::APPENDS => {
                    let items = self.pop_mark()?;
                    let l = self.top()?;
                    self.append(l, items)?
                }
                op::EMPTY_DICT => self.push(Node::Dict(Vec::new()))?,
                op::DICT => {
                    let items = self.pop_mark()?;
                    let d = self.new_node(Node::Dict(Vec::new()))?;
                    self.set_items(d, items)?;
                    self.push_slot(Slot::Node(d))?
                }
                op::SETITEM => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    let d = self.top()?;
                    self.set_items(d, vec![k, v])?
                }
                op::SETITEMS => {
                    let items = self.pop_mark()?;
                    let d = self.top()?;
                    self.set_items(d, items)?
                }
                op::PUT => {
                    let t = self.line_str()?;
                    let k = t.parse::<u32>().map_err(|_| err(at, "bad PUT argument"))?;
                    self.memo_put(k)?
                }
                op::BINPUT => {
                    let k = self.u8()? as u32;
                    self.memo_put(k)?
                }
                op::LONG_BINPUT => {
                    let k = self.u32()?;
                    self.memo_put(k)?
                }
                op::GET => {
                    let t = self.line_str()?;
                    let k = t.parse::<u32>().map_err(|_| err(at, "bad GET argument"))?;
                    self.memo_get(k)?
                }
                op::BINGET => {
                    let k = self.u8()? as u32;
                    self.memo_get(k)?
                }
                op::LONG_BINGET => {
                    let k = self.u32()?;
                    self.memo_get(k)?
                }
                op::GLOBAL => {
                    let module = self.line_str()?;
                    let name = self.line_str()?;
                    let g = self.global(module, name)?;
                    self.push(g)?
                }
                op::REDUCE | op::NEWOBJ => {
                    let args = self.pop()?;
                    let class = self.pop()?;
                    if !matches!(self.nodes[args as usize], Node::Tuple(_)) {
                        let name = if code == op::REDUCE {
                            "REDUCE"
                        } else {
                            "NEWOBJ"
                        };
                        return Err(err(
                            at,
                            format_args!("{name} with arguments that are not a tuple"),
                        ));
                    }
                    self.push(Node::Instance {
                        class,
                        args,
                        state: None,
                    })?
                }
                op::OBJ => {
                    let mut items = self.pop_mark()?;
                    if items.is_empty() {
                        return Err(err(at, "OBJ without a class"));
                    }
                    let class = items.remove(0);
                    let args = self.new_node(Node::Tuple(items))?;
                    self.push(Node::Instance {
                        class,
                        args,
                        state: None,
                    })?
                }
                op::INST => {
                    let module = self.line_str()?;
                    let name = self.line_str()?;
                    let g = self.global(module, name)?;
                    let items = self.pop_mark()?;
                    let class = self.new_node(g)?;
                    let args = self.new_node(Node::Tuple(items))?;
                    self.push(Node::Instance {
                        class,
                        args,
                        state: None,
                    })?
                }
                op::BUILD => {
                    let state = self.pop()?;
                    let target = self.top()?;
                    match self.node_mut(target) {
                        Node::Instance {
                            state: s @ None, ..
                        } => *s = Some(state),
                        Node::Instance { .. } => {
                            return Err(err(at, "BUILD twice on one object"));
                        }
                        _ => return Err(err(at, "BUILD on something that is not an object")),
                    }
                }
                other => {
                    let what = op::name(other);
                    return Err(err(
                        at,
                        match what {
                            Some(n) => format!("opcode {n} (0x{other:02x}) is not accepted"),
                            None => format!("unknown opcode 0x{other:02x}"),
                        },
                    ));
                }
            }
        }
    }
}

/// Decodes a pickle (protocols 0 to 2) that must span all of `data`.
pub fn read(data: &[u8], limits: &ReadLimits) -> Result<Pickle, RemoteError> {
    Machine {
        data,
        pos: 0,
        // Room for a request's worth (a Pyro 3 call is a dozen nodes): grown from empty, the
        // three were reallocated several times on every message.
        nodes: Vec::with_capacity(16),
        stack: Vec::with_capacity(8),
        marks: Vec::with_capacity(4),
        memo: std::collections::HashMap::new(),
        limits: *limits,
    }
    .run()
}
