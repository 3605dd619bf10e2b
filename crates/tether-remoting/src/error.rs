//! [`TransportError`]: what failed at the seam (a URL, an option, a bind, a directory), with a
//! [`TransportErrorKind`] a caller can match on. The container wraps it in its own located
//! error; the CLI prints it as it is.

use std::fmt;

/// What failed at the seam.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// A URL the protocol or directory does not understand, or that no protocol claims.
    BadUrl,
    /// An option the protocol cannot take (a bad value, or TLS files that do not load).
    BadOption,
    /// Something the protocol does not support, such as TLS on a wire without it.
    Unsupported,
    /// The address could not be bound (in use, not local, no permission).
    Bind,
    /// No tokio runtime to serve on.
    NoRuntime,
    /// A name is already exported on that server, or two exporters disagree on a shared one.
    Conflict,
    /// A directory (etcd, a name server) could not be reached or refused an entry.
    Directory,
}

/// An error at the seam: a [`TransportErrorKind`] and a message for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
}

impl TransportError {
    /// An error of `kind`.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        TransportError {
            kind,
            message: message.into(),
        }
    }

    /// A [`TransportErrorKind::BadOption`] error.
    pub fn bad_option(message: impl Into<String>) -> Self {
        Self::new(TransportErrorKind::BadOption, message)
    }

    /// A [`TransportErrorKind::BadUrl`] error.
    pub fn bad_url(message: impl Into<String>) -> Self {
        Self::new(TransportErrorKind::BadUrl, message)
    }

    /// A [`TransportErrorKind::Unsupported`] error.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(TransportErrorKind::Unsupported, message)
    }

    /// The kind.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error with `prefix: ` before its message (where it happened).
    pub fn context(self, prefix: impl fmt::Display) -> Self {
        TransportError {
            kind: self.kind,
            message: format!("{prefix}: {}", self.message),
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransportError {}

impl From<tether_tls::TlsError> for TransportError {
    fn from(e: tether_tls::TlsError) -> Self {
        TransportError::new(TransportErrorKind::BadOption, e.message())
    }
}

impl From<TransportError> for tether_core::RemoteError {
    fn from(e: TransportError) -> Self {
        tether_core::RemoteError::config(e.message)
    }
}
