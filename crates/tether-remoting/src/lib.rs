//! # tether-remoting: the seam between the container and the wires
//!
//! Everything a wire, a directory or a shell adapter implements, and nothing else: the crates
//! of the wires (tether-pyro, tether-hessian, tether-xmlrpc) and of the pool (tether-cluster)
//! implement these traits for themselves, the container (tether-context) uses them without
//! naming any wire, and the facade (`tether`) registers the built-ins, one line per cargo
//! feature.
//!
//! Rooms, one concept per file:
//! - `protocol.rs`: [`Protocol`] (bind a server with options, make a lazy client for a URL,
//!   the class names and URL forms a wire answers to), [`ExportServer`] (one running server),
//!   [`ClassFamily`] and [`LogSite`] (class names and the loggers their lines go to),
//!   and `set.rs`: [`ProtocolSet`] (the protocols of a registry, found by name or by URL).
//! - `options.rs`: [`ServerOptions`], [`ClientOptions`] (TLS and limits for every wire) and
//!   [`WireOptions`] (a wire's own settings, read into its typed settings by its adapter).
//! - `directory.rs`: [`Directory`] (a store exporters list themselves in and pools follow,
//!   chosen by URL scheme), [`Members`], [`Listed`], [`DirectorySet`].
//! - `holder.rs`: [`DaemonHolder`], one server per (protocol, address) shared by every exporter
//!   on it, bound at once and shut down gracefully.
//! - `shell.rs`: [`Shell`], what the command line needs from a wire (echo object, printing
//!   results, reading arguments), apart from the wire concerns.
//! - `interceptor.rs`: [`Interceptor`], code around each call on both sides ([`Intercepted`]
//!   for clients, [`InterceptedDispatch`] for exporters).
//! - `observe.rs`: [`observe::Observer`]s (spans, metrics) installed for the process and applied
//!   here, at the seam: every protocol of a [`ProtocolSet`] is wrapped in [`observe::Observed`],
//!   so every server, proxy and pool of every wire is watched without knowing; a call whose
//!   caller's deadline passed stops on the server.
//! - `gateway.rs`: [`gateway::Forward`], a proxy or a pool served as an object: an exporter of
//!   any wire forwarding to a target of any wire.
//! - `error.rs`: [`TransportError`] with its [`TransportErrorKind`].
//!
//! ## The flow of one call through the seam
//! An exporter (a container object) asks its [`DaemonHolder`] to register a dispatcher under a
//! name; the holder binds the wire's server through [`Protocol::bind`] the first time an
//! address is used. A proxy factory asks the [`ProtocolSet`] for the protocol that claims its
//! URL and gets an [`Invoker`](tether_core::Invoker) from [`Protocol::proxy`]; that invoker
//! encodes each call on the wire, and the server decodes it and hands it to the dispatcher.
//! Discovery goes through a [`Directory`] picked by the `discovery` URL's scheme.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod directory;
mod error;
pub mod gateway;
mod holder;
mod interceptor;
pub mod observe;
mod options;
mod protocol;
mod set;
mod shell;

pub use directory::{Directory, DirectorySet, Listed, Listing, Members, Role};
pub use error::{TransportError, TransportErrorKind};
pub use holder::{resolve, DaemonHolder, Registration};
pub use interceptor::{Chain, Intercepted, InterceptedDispatch, Interceptor, Next};
pub use options::{flag_option, ClientOptions, ServerLimits, ServerOptions, WireOptions};
pub use protocol::{
    bind_on_current_runtime, run_sync_hooks, ClassFamily, ExportServer, LogSite, Protocol,
    CURRENT_THREAD_WAIT, EXPORTER_PARAMS, PROXY_PARAMS,
};
pub use set::ProtocolSet;
pub use shell::{DefaultShell, Shell};
