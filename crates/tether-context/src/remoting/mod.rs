//! The remoting classes every protocol shares, and the seam to the wires: [`Protocol`].
//!
//! - [`Protocol`], [`ExportServer`], [`ClassFamily`], [`ProtocolSet`], [`TransportError`]
//!   (`protocol.rs`): what a wire gives the container.
//! - [`ServerOptions`], [`ClientOptions`] (`options.rs`): TLS and limits through the seam, and
//!   the `<property>` names that set them.
//! - [`ServiceExporter`] (`exporter.rs`): exports an object of the context under a name at
//!   `service_host:service_port`; starts in `after_properties_set`, stops on `destroy`.
//! - [`DaemonHolder`] (`holder.rs`): one server per (protocol, resolved address), shared by
//!   every exporter on it (Spring Python's `PyroDaemonHolder`), bound at once (no port
//!   scanning).
//! - [`ProxyFactory`] (`proxy.rs`): a lazy client; no network until the first call.
//! - [`Directory`], [`DirectorySet`] (`directory.rs`): the second seam, where an exporter lists
//!   itself for discovery (etcd), chosen by the `discovery` URL's scheme.
//!
//! The wires themselves live in [`crate::protocols`], one module and one cargo feature each.

mod directory;
mod exporter;
mod holder;
pub mod options;
mod protocol;
mod proxy;

pub use directory::{Directory, DirectorySet, Listed, Listing, Members, Role};
pub use exporter::{ServiceExporter, ServiceTarget};
pub use holder::{resolve, DaemonHolder, Registration};
pub use options::{ClientOptions, ServerLimits, ServerOptions};
pub use protocol::{
    bind_on_current_runtime, ClassFamily, ExportServer, LogSite, Protocol, ProtocolSet,
    TransportError, TransportErrorKind,
};
pub use proxy::ProxyFactory;

/// The generic proxy factory class: speaks whichever registered protocol claims its URL.
pub const GENERIC_PROXY_CLASS: &str = "tether.ProxyFactory";
