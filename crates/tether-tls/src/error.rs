//! [`TlsError`]: what went wrong building a configuration or securing a connection.

use std::fmt;

/// The kind of a [`TlsError`].
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsErrorKind {
    /// The settings are wrong: a missing or unreadable file, a bad key or password, a
    /// contradiction (`verify_fields` without client certificates).
    Config,
    /// The TLS handshake failed (unknown CA, no client certificate, protocol mismatch).
    Handshake,
    /// The handshake did not finish within the handshake timeout.
    Timeout,
    /// The client certificate's subject did not match `verify_fields`.
    Refused,
    /// The connection failed underneath TLS.
    Io,
}

/// A TLS error: a kind and a message that names what failed.
#[derive(Debug)]
pub struct TlsError {
    kind: TlsErrorKind,
    message: String,
}

impl TlsError {
    pub(crate) fn new(kind: TlsErrorKind, message: impl Into<String>) -> Self {
        TlsError {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(TlsErrorKind::Config, message)
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> TlsErrorKind {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TlsError {}

impl From<TlsError> for tether_core::RemoteError {
    fn from(e: TlsError) -> Self {
        use tether_core::{ErrorKind, RemoteError};
        match e.kind {
            TlsErrorKind::Config => RemoteError::config(e.message),
            TlsErrorKind::Timeout => RemoteError::timeout(e.message).not_sent(),
            TlsErrorKind::Io => RemoteError::connection(e.message).not_sent(),
            _ => RemoteError::new(ErrorKind::Security, e.message).not_sent(),
        }
    }
}
