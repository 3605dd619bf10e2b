//! The wires tether ships, one module and one cargo feature each.
//!
//! | module | feature | protocol name | class names | URLs |
//! |---|---|---|---|---|
//! | `pyro5` | `pyro` (default) | `pyro5` | Spring Python's `PyroServiceExporter`/`PyroProxyFactory`, tether's `tether.pyro.*` | `PYRO:`, `PYRONAME:`, `PYROMETA:`, `PYROLOC://` |
//! | `pyro3` | `pyro3` (opt-in; on in the `tether` binary) | `pyro3` | Spring Python's `PyroServiceExporter`/`PyroProxyFactory` (replacing Pyro5's reading), tether's `tether.pyro3.*` | `PYROLOC://`, `PYRO://` |
//! | `pyro4` | `pyro` (default) | `pyro4` | Spring Python's `Pyro4ServiceExporter`/`Pyro4ProxyFactory`, tether's `tether.pyro4.*` | `PYRO:`, `PYRONAME:`, `PYROMETA:` (the Pyro4 wire) |
//!
//! | `xmlrpc` | `xmlrpc` (default) | `xmlrpc` | Spring Python's `SSLServer`/`SSLClient`, `tether.xmlrpc.*` | `http://`, `https://` (not claimed: `--protocol xmlrpc`) |
//! | `hessian` | `hessian` (default) | `hessian` | Spring Python's `HessianProxyFactory`, Spring's `HessianServiceExporter`, `tether.hessian.*` | `http://`, `https://` |
//!
//! Pyro 3, Pyro4 and Pyro5 exporters on one address share one daemon, which answers every
//! wire it was built with (Pyro 3 when the `pyro3` feature is on).
//!
//! ## Adding a protocol
//! 1. Write the wire in its own crate (codec, server, client), depending on `tether-core`
//!    and, for TLS, `tether-tls`; it never imports the container.
//! 2. Add `protocols/NAME.rs` here, behind a cargo feature: a type implementing
//!    [`Protocol`](crate::remoting::Protocol) whose `bind` starts the wire's server with the
//!    [`ServerOptions`](crate::remoting::ServerOptions) (refuse what the wire cannot do with
//!    [`TransportErrorKind::Unsupported`](crate::remoting::TransportErrorKind::Unsupported)),
//!    whose `proxy` makes a lazy client, and whose `families` lists its class names with a
//!    `log` function that uses the loggers Spring Python used for them.
//! 3. Add one line to [`register_builtin`] and the feature to the `tether` facade.
//!
//! Nothing else changes: exporters, proxy factories, the shared servers, `tether call`,
//! `tether bench` and `tether echo-server --protocol` find the protocol through the
//! registry. A test can register its own protocol the same way
//! ([`ClassRegistry::register_protocol`](crate::ClassRegistry::register_protocol)).

#[cfg(feature = "hessian")]
pub mod hessian;
#[cfg(feature = "pyro3")]
pub mod pyro3;
#[cfg(feature = "pyro")]
pub mod pyro4;
#[cfg(feature = "pyro")]
pub mod pyro5;
#[cfg(feature = "pyro")]
pub mod pyro_ns;
#[cfg(feature = "xmlrpc")]
pub mod xmlrpc;

use crate::ClassRegistry;

/// The message for Hessian class names when the `hessian` feature is off.
pub const HESSIAN_NOT_BUILT: &str =
    "Hessian is not compiled into this build (cargo feature `hessian` of tether-context): HessianProxyFactory cannot be loaded";

/// Registers every protocol compiled in, and the names of wires left out of this build
/// (loading one is a clear error; a protocol that provides them replaces the entry).
pub fn register_builtin(r: &mut ClassRegistry) {
    #[cfg(not(feature = "hessian"))]
    for name in [
        "springpython.remoting.hessian.HessianProxyFactory",
        "tether.hessian.ProxyFactory",
    ] {
        r.register_not_built(name, HESSIAN_NOT_BUILT);
    }
    #[cfg(feature = "hessian")]
    r.register_protocol(std::sync::Arc::new(hessian::Hessian::default()));
    #[cfg(feature = "xmlrpc")]
    r.register_protocol(std::sync::Arc::new(xmlrpc::XmlRpc));
    #[cfg(feature = "pyro")]
    {
        r.register_protocol(std::sync::Arc::new(pyro5::Pyro5::default()));
        r.register_protocol(std::sync::Arc::new(pyro4::Pyro4::default()));
    }
    // After Pyro5: Spring Python's Pyro names and PYROLOC:// URLs become Pyro 3's.
    #[cfg(feature = "pyro3")]
    r.register_protocol(std::sync::Arc::new(pyro3::Pyro3::default()));
    let _ = r;
}
