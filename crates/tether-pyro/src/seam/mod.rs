//! The Pyro wires behind tether's protocol seam ([`tether_remoting::Protocol`]), and the Pyro
//! name server as a [`tether_remoting::Directory`]: what the facade registers in the container.
//!
//! | type | protocol name | class names | URLs |
//! |---|---|---|---|
//! | [`Pyro5`] | `pyro5` | Spring Python's `PyroServiceExporter`/`PyroProxyFactory` (in a build without `pyro3`), `tether.pyro.*` | `PYRO:`, `PYRONAME:`, `PYROMETA:`, `PYROLOC://` |
//! | [`Pyro4`] | `pyro4` | Spring Python's `Pyro4ServiceExporter`/`Pyro4ProxyFactory`, `tether.pyro4.*` | chosen by class name or `--protocol pyro4` |
//! | `Pyro3` (feature `pyro3`) | `pyro3` | Spring Python's `PyroServiceExporter`/`PyroProxyFactory` (registered after Pyro5, replacing its reading), `tether.pyro3.*` | `PYROLOC://`, `PYRO://` |
//! | [`PyroNameServerDirectory`] | directory `pyro-ns://` | the `name_server` property of Pyro exporters; pools' `discovery` | |
//!
//! Pyro 3, Pyro4 and Pyro5 exporters on one address share one daemon
//! ([`Protocol::server_key`](tether_remoting::Protocol::server_key) `"pyro"`), which answers
//! every wire it was built with (Pyro 3 when the `pyro3` feature is on).

mod name_server;
#[cfg(feature = "pyro3")]
mod pyro3;
mod pyro4;
mod pyro5;

pub use name_server::PyroNameServerDirectory;
#[cfg(feature = "pyro3")]
pub use pyro3::{Pyro3, TETHER_PYRO3};
pub use pyro4::{Pyro4, TETHER_PYRO4};
pub use pyro5::{Pyro5, PyroServerSettings, SPRING_PYRO, SPRING_PYRO4, TETHER_PYRO};
