//! The built-in remoting classes (Spring Python's `PyroServiceExporter`/`PyroProxyFactory` and
//! their Pyro4 twins, under tether names too) and the seam to the wire: [`Transport`].
//!
//! - [`ServiceExporter`] (`exporter.rs`): exports an object of the context under a name at
//!   `service_host:service_port`; starts in `after_properties_set`, stops on `destroy`.
//! - [`DaemonHolder`] (`holder.rs`): one server per resolved address, shared by every exporter
//!   on it (Spring Python's `PyroDaemonHolder`), bound at once (no port scanning).
//! - [`ProxyFactory`] (`proxy.rs`): a lazy client; no network until the first call.
//! - [`Transport`] (`transport.rs`): bind a server / make a lazy invoker for a URL. The Pyro5
//!   one is [`PyroTransport`] (`pyro.rs`); [`LoopbackTransport`] (`loopback.rs`) is in-process.
//! - `url.rs`: `PYROLOC://host:port/name` and `PYRO:name@host:port`.
//!
//! Wire note: every Pyro class name (the Pyro 3 `PYROLOC` ones and the Pyro4 `PYRO:` ones)
//! speaks the **Pyro5 wire** today; a Pyro4 wire is not built yet.

mod exporter;
mod holder;
mod loopback;
mod proxy;
mod pyro;
mod transport;
mod url;

pub use exporter::{ServiceExporter, ServiceTarget};
pub use holder::{DaemonHolder, Registration};
pub use loopback::LoopbackTransport;
pub use proxy::ProxyFactory;
pub use pyro::PyroTransport;
pub use transport::{ExportServer, Transport, Transports};
pub use url::{parse_pyro_url, PyroUrl};

/// Which family of names (and therefore which log targets and texts) an exporter or proxy uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// `springpython.remoting.pyro.PyroServiceExporter` / `PyroProxyFactory` (Pyro 3 names).
    Pyro,
    /// `springpython.remoting.pyro.Pyro4ServiceExporter` / `Pyro4ProxyFactory`.
    Pyro4,
    /// `tether.pyro.ServiceExporter` / `tether.pyro.ProxyFactory`.
    Tether,
}

impl Flavor {
    /// The word in Spring Python's log texts ("Pyro" or "Pyro4").
    pub fn word(self) -> &'static str {
        match self {
            Flavor::Pyro4 => "Pyro4",
            _ => "Pyro",
        }
    }
}

/// `debug!` under the exporter's logger name for the flavor.
macro_rules! log_exporter {
    ($flavor:expr, $($arg:tt)+) => {
        match $flavor {
            $crate::remoting::Flavor::Pyro => tracing::debug!(target: "springpython.remoting.pyro.PyroServiceExporter", $($arg)+),
            $crate::remoting::Flavor::Pyro4 => tracing::debug!(target: "springpython.remoting.pyro.Pyro4ServiceExporter", $($arg)+),
            $crate::remoting::Flavor::Tether => tracing::debug!(target: "tether.pyro.ServiceExporter", $($arg)+),
        }
    };
}

/// `debug!` under the daemon holder's logger name for the flavor.
macro_rules! log_holder {
    ($flavor:expr, $($arg:tt)+) => {
        match $flavor {
            $crate::remoting::Flavor::Pyro => tracing::debug!(target: "springpython.remoting.pyro.PyroDaemonHolder", $($arg)+),
            $crate::remoting::Flavor::Pyro4 => tracing::debug!(target: "springpython.remoting.pyro.Pyro4DaemonHolder", $($arg)+),
            $crate::remoting::Flavor::Tether => tracing::debug!(target: "tether.pyro.DaemonHolder", $($arg)+),
        }
    };
}

/// `debug!` under the server thread's logger name for the flavor.
macro_rules! log_thread {
    ($flavor:expr, $($arg:tt)+) => {
        match $flavor {
            $crate::remoting::Flavor::Pyro => tracing::debug!(target: "springpython.remoting.pyro.PyroDaemonHolder._PyroThread", $($arg)+),
            $crate::remoting::Flavor::Pyro4 => tracing::debug!(target: "springpython.remoting.pyro.Pyro4DaemonHolder._Pyro4Thread", $($arg)+),
            $crate::remoting::Flavor::Tether => tracing::debug!(target: "tether.pyro.DaemonHolder", $($arg)+),
        }
    };
}

pub(crate) use {log_exporter, log_holder, log_thread};
