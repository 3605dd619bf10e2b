//! [`RemoteError`]: the one error type of the framework.
//!
//! Business code sees it through its own `Result`: every service method returns
//! `Result<T, E>` where `E` can be built from a `RemoteError`. It is opaque; callers ask
//! [`RemoteError::kind`] what went wrong and [`RemoteError::is_retryable`] whether another try
//! (on the same or another server) may succeed.

use crate::Value;
use std::fmt;

/// What kind of failure a [`RemoteError`] is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The remote side raised an exception (it has a class, a message, maybe a traceback).
    /// Argument errors (`TypeError`) and unknown methods (`AttributeError`) are remote exceptions too.
    Remote,
    /// Connecting failed or the connection broke.
    Connection,
    /// The call did not complete in time.
    Timeout,
    /// The peer broke the wire protocol (bad frame, bad magic, unexpected message).
    Protocol,
    /// Authentication, certificate or handshake refusal.
    Security,
    /// A value could not be encoded or decoded (wire codec or typed conversion).
    Serialization,
    /// A message exceeded the configured size limit.
    MessageTooLarge,
    /// No server of a pool was alive.
    NoLiveServer,
    /// Bad configuration (a URL, an endpoint, a context file).
    Config,
    /// The object or service was shut down.
    Shutdown,
}

impl ErrorKind {
    fn label(self) -> &'static str {
        match self {
            ErrorKind::Remote => "remote exception",
            ErrorKind::Connection => "connection error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Protocol => "protocol error",
            ErrorKind::Security => "security error",
            ErrorKind::Serialization => "serialization error",
            ErrorKind::MessageTooLarge => "message too large",
            ErrorKind::NoLiveServer => "no live server",
            ErrorKind::Config => "configuration error",
            ErrorKind::Shutdown => "shut down",
        }
    }
}

/// Whether a failed call may have reached the server, which is what decides if retrying it
/// (here or on another server of a pool) could run it twice.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Delivery {
    /// The call never left this process (no connection, refused in the handshake, could not
    /// be encoded, bad configuration): retrying cannot run it twice.
    NotSent,
    /// The request was (maybe partly) sent and no answer came: the server may have run it.
    Unknown,
    /// The server received the call (it answered with an exception, for example).
    Delivered,
}

/// The error of a remote (or local, through the same trait) call.
pub struct RemoteError(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    delivery: Delivery,
    message: String,
    class: Option<String>,
    args: Vec<Value>,
    traceback: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

// The constructors are `#[cold]`: every decoder and call path builds its errors on a branch it
// rarely takes, and a call to a cold function tells the compiler so, which moves that branch
// out of the hot code (`scripts/footprint.sh`: a Pyro5 server call's code 562 -> 553 cache
// lines, 5,940 -> 5,857 instructions).
impl RemoteError {
    /// A framework error of the given kind.
    #[cold]
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let delivery = match kind {
            ErrorKind::Remote => Delivery::Delivered,
            ErrorKind::Config | ErrorKind::NoLiveServer => Delivery::NotSent,
            _ => Delivery::Unknown,
        };
        RemoteError(Box::new(Inner {
            kind,
            delivery,
            message: message.into(),
            class: None,
            args: Vec::new(),
            traceback: None,
            source: None,
        }))
    }

    /// A remote exception of a class (`builtins.ValueError`, `java.lang.IllegalStateException`)
    /// with one message argument, as Python's `ValueError("msg")`.
    #[cold]
    pub fn exception(class: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut e = Self::new(ErrorKind::Remote, message.clone());
        e.0.class = Some(class.into());
        e.0.args = vec![Value::Str(message)];
        e
    }

    /// A remote exception with explicit Python-style `args`; the message is derived from them
    /// the way Python's `str(exc)` does (the single argument, or the tuple's repr, or empty).
    #[cold]
    pub fn exception_with_args(class: impl Into<String>, args: Vec<Value>) -> Self {
        let message = match args.as_slice() {
            [] => String::new(),
            [Value::Str(s)] => s.clone(),
            [one] => one.to_string(),
            many => Value::Tuple(many.to_vec()).to_string(),
        };
        let mut e = Self::new(ErrorKind::Remote, message);
        e.0.class = Some(class.into());
        e.0.args = args;
        e
    }

    /// Python's `TypeError` (wrong argument count or types).
    #[cold]
    pub fn type_error(message: impl Into<String>) -> Self {
        Self::exception("builtins.TypeError", message)
    }

    /// Python's `AttributeError` (unknown or unexposed method or attribute).
    #[cold]
    pub fn attribute_error(message: impl Into<String>) -> Self {
        Self::exception("builtins.AttributeError", message)
    }

    /// Python's `ValueError`.
    #[cold]
    pub fn value_error(message: impl Into<String>) -> Self {
        Self::exception("builtins.ValueError", message)
    }

    /// A connection error.
    #[cold]
    pub fn connection(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Connection, message)
    }

    /// A protocol error.
    #[cold]
    pub fn protocol(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Protocol, message)
    }

    /// A serialization error.
    #[cold]
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Serialization, message)
    }

    /// A timeout.
    #[cold]
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Timeout, message)
    }

    /// A configuration error.
    #[cold]
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    /// Attaches the remote traceback text.
    pub fn with_traceback(mut self, traceback: impl Into<String>) -> Self {
        self.0.traceback = Some(traceback.into());
        self
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.0.source = Some(Box::new(source));
        self
    }

    /// Sets the remote class name (keeps the kind).
    pub fn with_class(mut self, class: impl Into<String>) -> Self {
        self.0.class = Some(class.into());
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The message (for a remote exception, Python's `str(exc)`).
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The remote exception's class as it travelled (`builtins.ValueError`), if any.
    pub fn class(&self) -> Option<&str> {
        self.0.class.as_deref()
    }

    /// The class name without its module (`ValueError`), if any.
    pub fn short_class(&self) -> Option<&str> {
        self.class().map(|c| c.rsplit('.').next().unwrap_or(c))
    }

    /// The exception's arguments (Python `exc.args`); empty for framework errors.
    pub fn args(&self) -> &[Value] {
        &self.0.args
    }

    /// The remote traceback, if the peer sent one.
    pub fn remote_traceback(&self) -> Option<&str> {
        self.0.traceback.as_deref()
    }

    /// Whether trying again (here or on another server of a pool) may succeed: true for
    /// connection failures, timeouts and "no live server"; false for remote exceptions, whose
    /// call did run, and for protocol, security and serialization errors, which would repeat.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.0.kind,
            ErrorKind::Connection | ErrorKind::Timeout | ErrorKind::NoLiveServer
        )
    }
}

impl RemoteError {
    /// Whether the call may have reached the server ([`Delivery`]). Defaults by kind:
    /// `Delivered` for remote exceptions, `NotSent` for configuration errors and "no live
    /// server", `Unknown` otherwise; a client marks what it knows better (a refused connect is
    /// `NotSent`) with [`RemoteError::with_delivery`].
    pub fn delivery(&self) -> Delivery {
        self.0.delivery
    }

    /// Sets what is known about delivery.
    pub fn with_delivery(mut self, delivery: Delivery) -> Self {
        self.0.delivery = delivery;
        self
    }

    /// Marks the call as never sent (see [`Delivery::NotSent`]).
    pub fn not_sent(self) -> Self {
        self.with_delivery(Delivery::NotSent)
    }

    /// Whether the call may have reached the server (`delivery() != NotSent`).
    pub fn may_have_reached_server(&self) -> bool {
        self.0.delivery != Delivery::NotSent
    }

    /// Whether a pool may retry the call without risking running it twice: the failure is
    /// retryable and the call never reached a server. A method known to be idempotent may be
    /// retried on [`is_retryable`](Self::is_retryable) alone.
    pub fn is_safe_to_retry(&self) -> bool {
        self.is_retryable() && !self.may_have_reached_server()
    }
}

impl fmt::Debug for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RemoteError");
        d.field("kind", &self.0.kind)
            .field("delivery", &self.0.delivery)
            .field("message", &self.0.message);
        if let Some(c) = &self.0.class {
            d.field("class", c);
        }
        if let Some(s) = &self.0.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.0.kind, self.short_class()) {
            (ErrorKind::Remote, Some(class)) => write!(f, "{class}: {}", self.0.message),
            (kind, _) => write!(f, "{}: {}", kind.label(), self.0.message),
        }
    }
}

impl std::error::Error for RemoteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

impl From<std::io::Error> for RemoteError {
    fn from(e: std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        let kind = match e.kind() {
            K::TimedOut | K::WouldBlock => ErrorKind::Timeout,
            K::InvalidData => ErrorKind::Protocol,
            _ => ErrorKind::Connection,
        };
        RemoteError::new(kind, e.to_string()).with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_exception_displays_like_python() {
        let e = RemoteError::value_error("bad");
        assert_eq!(e.to_string(), "ValueError: bad");
        assert_eq!(e.class(), Some("builtins.ValueError"));
        assert!(!e.is_retryable());
        assert!(RemoteError::connection("refused").is_retryable());
    }

    #[test]
    fn delivery_decides_safe_retries() {
        let e = RemoteError::connection("reset");
        assert!(e.may_have_reached_server() && !e.is_safe_to_retry());
        let e = RemoteError::connection("refused").not_sent();
        assert!(!e.may_have_reached_server() && e.is_safe_to_retry());
        assert_eq!(
            RemoteError::value_error("x").delivery(),
            Delivery::Delivered
        );
        assert_eq!(RemoteError::config("x").delivery(), Delivery::NotSent);
    }

    #[test]
    fn message_from_args_follows_python_str() {
        let e = RemoteError::exception_with_args(
            "builtins.KeyError",
            vec![Value::Int(1), Value::str("a")],
        );
        assert_eq!(e.message(), "(1, \"a\")");
    }
}
