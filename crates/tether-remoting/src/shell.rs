//! [`Shell`]: what the command line needs from a wire besides calling it: the name of the echo
//! object, how a result reads for a person, how a typed argument reads, and what to say when
//! an echo server starts. Kept apart from [`crate::Protocol`], which holds wire concerns only.

use crate::options::{ClientOptions, ServerOptions};
use tether_core::Value;

/// The shell side of a wire. Every method has a default that suits most wires.
pub trait Shell: Send + Sync + 'static {
    /// The name `tether echo-server` serves its echo object under: Pyro's `test.echoserver`
    /// by default (what Pyro's echo servers use); an HTTP wire serves it at a path (`echo`).
    fn echo_object_name(&self) -> &'static str {
        tether_core::echo::ECHO_OBJECT_ID
    }

    /// How a result reads when printed for a person (`tether call`): by default Python's
    /// `repr()` of it, which is what a Python client of most wires would print; a wire
    /// overrides it where its Python client receives something else (Pyro's serpent hands
    /// bytes over as a base64 dict).
    fn repr(&self, value: &Value, options: &ClientOptions) -> String {
        let _ = options;
        tether_core::python::repr(value)
    }

    /// Reads one command-line argument written as a Python literal (`42`, `'text'`,
    /// `[1, 2]`), if this wire brings a reader for them. Default: `None` (no reader).
    fn literal(&self, text: &str) -> Option<Result<Value, tether_core::RemoteError>> {
        let _ = text;
        None
    }

    /// Whether an integer typed on the command line goes as a 32-bit int when it fits, as this
    /// wire's Python client sends it (python-hessian: `int` up to 32 bits, else `long`).
    /// Default `false` (a 64-bit int, which Pyro and XML-RPC write as their plain int).
    fn narrow_int_arguments(&self) -> bool {
        false
    }

    /// Whether the wire can carry a call annotation named `name` (`tether call --header`), and
    /// if not, why. Default: it carries none.
    fn check_header(&self, name: &str) -> Result<(), String> {
        let _ = name;
        Err("this wire carries no headers or annotations".into())
    }

    /// What the echo service's `error()` says to this wire's clients, where the wire's own
    /// echo server words it differently from Pyro5's (Pyro4's does). Default `None`.
    fn echo_error_text(&self) -> Option<&'static str> {
        None
    }

    /// Lines an echo server of this wire prints at start for `options` (Pyro4's warning
    /// about a server without an HMAC key). Default none.
    fn echo_server_notes(&self, options: &ServerOptions) -> Vec<String> {
        let _ = options;
        Vec::new()
    }
}

/// The shell of a wire that keeps every default.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultShell;

impl Shell for DefaultShell {}
