//! [`ContextError`]: every configuration and lifecycle failure of the container, located.
//!
//! Spring Python reports most configuration mistakes as bare `KeyError`s or `AttributeError`s
//! long after parsing. Here every error carries what a user needs to fix the file: the file,
//! the line, the object id and what was expected.

use std::fmt;
use std::path::{Path, PathBuf};

/// What went wrong, coarsely; the message says the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContextErrorKind {
    /// The file could not be read.
    Io,
    /// The file is not well-formed XML.
    Malformed,
    /// An element or attribute the format does not have (or that tether does not support).
    UnknownElement,
    /// A definition is inconsistent (missing id, bad scope, unknown parent, duplicate id, ...).
    Definition,
    /// A `class` name that no one registered.
    UnknownClass,
    /// A reference to an id that has no definition.
    MissingRef,
    /// Objects that need each other to be created.
    Cycle,
    /// A constructor argument or property the class rejected.
    BadProperty,
    /// An abstract object was asked for.
    Abstract,
    /// The object does not provide the requested trait or type.
    WrongType,
    /// An initialisation hook failed (an exporter could not bind, say).
    Lifecycle,
    /// A feature that tether does not have yet (Hessian).
    NotBuilt,
    /// The runtime refused (a blocking call inside async code, a runtime that cannot start).
    Runtime,
    /// The seam refused: a URL no wire claims, a wire option it cannot take, an address it
    /// cannot bind, a directory it cannot reach ([`ContextError::transport_kind`] says which).
    Transport,
}

/// A located container error: `file:line: object 'id': message`.
///
/// Components return it from their hooks. A component that has only a message can write
/// `Err(format!(...).into())` (or use `?` on a `String` error): such an error takes its kind
/// from where the container meets it (a property or constructor: [`ContextErrorKind::BadProperty`];
/// a lifecycle hook: [`ContextErrorKind::Lifecycle`]). Errors of the seam keep their
/// [`TransportErrorKind`](tether_remoting::TransportErrorKind).
#[derive(Clone, Debug)]
pub struct ContextError {
    kind: ContextErrorKind,
    /// Made from a bare message: the container chooses the kind.
    from_text: bool,
    transport: Option<tether_remoting::TransportErrorKind>,
    file: Option<PathBuf>,
    line: Option<u32>,
    object_id: Option<String>,
    message: String,
}

impl ContextError {
    /// A new error with no location yet.
    pub fn new(kind: ContextErrorKind, message: impl Into<String>) -> Self {
        ContextError {
            kind,
            from_text: false,
            transport: None,
            file: None,
            line: None,
            object_id: None,
            message: message.into(),
        }
    }

    /// A [`ContextErrorKind::BadProperty`] error: a value a component cannot take.
    pub fn property(message: impl Into<String>) -> Self {
        Self::new(ContextErrorKind::BadProperty, message)
    }

    /// A [`ContextErrorKind::Lifecycle`] error: a hook that failed.
    pub fn lifecycle(message: impl Into<String>) -> Self {
        Self::new(ContextErrorKind::Lifecycle, message)
    }

    /// The same error with `prefix: ` before its message (what was being done).
    pub fn context(mut self, prefix: impl fmt::Display) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }

    /// Gives an error made from a bare message, or a seam error, the kind of the place the
    /// container met it (a seam error keeps its [`transport_kind`](Self::transport_kind));
    /// other errors keep theirs.
    pub(crate) fn in_phase(mut self, kind: ContextErrorKind) -> Self {
        if self.from_text || self.kind == ContextErrorKind::Transport {
            self.kind = kind;
            self.from_text = false;
        }
        self
    }

    /// For a [`ContextErrorKind::Transport`] error, what failed at the seam.
    pub fn transport_kind(&self) -> Option<tether_remoting::TransportErrorKind> {
        self.transport
    }

    /// Sets the file and line (keeps an existing location: the innermost one is the precise one).
    /// Line 0 is the whole file (one that cannot be read, or is too large): the error then
    /// names the file alone.
    pub fn at(mut self, file: Option<&Path>, line: u32) -> Self {
        if self.file.is_none() && self.line.is_none() {
            self.file = file.map(Path::to_path_buf);
            self.line = (line > 0).then_some(line);
        }
        self
    }

    /// Sets the object id (keeps an existing one).
    pub fn for_object(mut self, id: &str) -> Self {
        if self.object_id.is_none() {
            self.object_id = Some(id.to_string());
        }
        self
    }

    /// The kind.
    pub fn kind(&self) -> ContextErrorKind {
        self.kind
    }

    /// The file, if known.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The 1-based line, if known.
    pub fn line(&self) -> Option<u32> {
        self.line
    }

    /// The object id, if known.
    pub fn object_id(&self) -> Option<&str> {
        self.object_id.as_deref()
    }

    /// The bare message, without location.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{}:{line}: ", file.display())?,
            (Some(file), None) => write!(f, "{}: ", file.display())?,
            (None, Some(line)) => write!(f, "line {line}: ",)?,
            (None, None) => {}
        }
        if let Some(id) = &self.object_id {
            write!(f, "object '{id}': ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ContextError {}

impl From<ContextError> for tether_core::RemoteError {
    fn from(e: ContextError) -> Self {
        tether_core::RemoteError::config(e.to_string())
    }
}

impl From<tether_core::RemoteError> for ContextError {
    fn from(e: tether_core::RemoteError) -> Self {
        ContextError::new(ContextErrorKind::Runtime, e.to_string())
    }
}

impl From<String> for ContextError {
    /// A bare message: the kind is chosen where the container meets it.
    fn from(message: String) -> Self {
        let mut e = ContextError::new(ContextErrorKind::BadProperty, message);
        e.from_text = true;
        e
    }
}

impl From<&str> for ContextError {
    fn from(message: &str) -> Self {
        ContextError::from(message.to_string())
    }
}

impl From<tether_remoting::TransportError> for ContextError {
    fn from(e: tether_remoting::TransportError) -> Self {
        let mut c = ContextError::new(ContextErrorKind::Transport, e.message());
        c.transport = Some(e.kind());
        c
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = ContextError> = std::result::Result<T, E>;
