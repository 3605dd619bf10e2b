//! The Pyro 3 wire (3.16, Python 2): what Spring Python 1.3's `PyroServiceExporter` and
//! `PyroProxyFactory` speak with `PYROLOC://host:port/name` URLs.
//!
//! Unlike Pyro4 and Pyro5 the server speaks first: it sends a framed 16-byte challenge, the
//! client answers with a framed `CONNECT` + 16-byte token, and the server answers with the raw
//! 7 bytes `GRANTED` (or `DENIED` and a digit). Then each request is one frame holding a
//! pickled `(object id, method, flags, args)` and each reply one frame holding the pickled
//! result, in order; there are no message ids. A `PYROLOC` name is resolved by calling
//! `ResolvePYROLOC(name)` on the daemon's fixed object id.
//!
//! - `frame.rs`: the 18-byte header, Adler-32, zlib with an inflate cap.
//! - `auth.rs`: the challenge and the HMAC-MD5 token of an optional passphrase.
//! - `pickle/`: the strict pickle codec (read protocols 0-2, write 2): data only.
//! - `request.rs`: the request tuple and its argument flags.
//! - `capsule.rs`: remote exceptions, both ways, with a fixed table of classes.
//! - `url.rs`: `PYROLOC://` and `PYRO://` URLs.
//! - `proxy.rs`: [`Pyro3Proxy`], the client.
//!
//! The server side is a session of the ordinary [`crate::Daemon`]: with
//! [`crate::DaemonConfig::pyro3`] set, a client that has sent nothing after
//! [`crate::DaemonConfig::silent_client_wait`] is taken for a Pyro 3 client and challenged
//! (Pyro4 and Pyro5 clients speak at once), so one port serves every Pyro.
//!
//! Security: a Python 2 Pyro 3 peer runs whatever pickle it is sent, so it belongs on loopback
//! or behind a tunnel whatever tether does; tether itself never runs anything it receives
//! (see `pickle/`), never sends a class name it did not write itself, and sends no tracebacks
//! unless asked.

pub mod auth;
pub mod capsule;
pub mod frame;
pub mod pickle;
mod proxy;
pub mod request;
pub mod url;

pub use frame::Pyro3;
pub use proxy::Pyro3Proxy;
pub use url::Pyro3Url;

/// The server's answer to an accepted `CONNECT`.
pub const GRANTED: &[u8; 7] = b"GRANTED";

/// Why a server refused a connection: the digit after `DENIED`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    /// `DENIED0`: no reason given.
    Unspecified = 0,
    /// `DENIED1`: too many connections.
    ServerTooBusy = 1,
    /// `DENIED2`: the host is not allowed.
    HostBlocked = 2,
    /// `DENIED3`: the identification was wrong.
    Security = 3,
}

impl Denied {
    /// The 7 bytes on the wire.
    pub fn bytes(self) -> [u8; 7] {
        let mut b = *b"DENIED0";
        b[6] = b'0' + self as u8;
        b
    }

    /// Python's text for the reason (`Pyro.constants.deniedReasons`).
    pub fn reason(code: u8) -> &'static str {
        match code {
            b'0' => "unspecified reason",
            b'1' => "server too busy",
            b'2' => "host blocked",
            b'3' => "security reasons",
            _ => "invalid response",
        }
    }
}

/// Pyro 3 settings of a daemon ([`crate::DaemonConfig::pyro3`]).
#[derive(Clone, Debug)]
pub struct Pyro3Settings {
    /// The passphrase clients must identify with (Pyro's `setAllowedIdentifications`); `None`
    /// (the default, Spring Python's behaviour) admits any client.
    pub passphrase: Option<Vec<u8>>,
    /// Send the remote traceback with an exception. Default `false` (Pyro 3 sends the server's
    /// full traceback, file paths and source lines, to every caller).
    pub send_tracebacks: bool,
    /// Add an Adler-32 checksum to replies (Pyro's `PYRO_CHECKSUM`). Default `false`.
    pub checksum: bool,
    /// Largest request body (compressed or not, and once inflated). Default 16 MiB.
    pub max_body: usize,
}

impl Default for Pyro3Settings {
    fn default() -> Self {
        Pyro3Settings {
            passphrase: None,
            send_tracebacks: false,
            checksum: false,
            max_body: 16 << 20,
        }
    }
}

/// Limits of one pickle body, from the daemon's or proxy's settings.
pub(crate) fn read_limits(max_message_size: usize) -> pickle::ReadLimits {
    let d = pickle::ReadLimits::default();
    pickle::ReadLimits {
        // Every opcode takes at least a byte: a body cannot run more than its size.
        max_ops: d.max_ops.min(max_message_size.saturating_add(1)).max(1024),
        ..d
    }
}
