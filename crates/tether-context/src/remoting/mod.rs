//! The container's remoting classes over the protocol seam ([`tether_remoting`], re-exported
//! here whole, so `tether::context::remoting::Protocol` is the seam's trait).
//!
//! - [`ServiceExporter`] (`exporter.rs`): exports an object of the context under a name at
//!   `service_host:service_port` over one [`Protocol`]; starts in `after_properties_set`,
//!   stops on `destroy`; lists itself in a [`Directory`] when asked.
//! - [`ProxyFactory`] (`proxy.rs`): a lazy client; no network until the first call.
//! - `props.rs`: how both read the seam's options from `<property>`s, and the typed property
//!   readers ([`props::timeout_prop`], [`props::text_prop`]) other components share.
//!
//! The wires themselves live in their own crates and reach the container only through a
//! registry ([`crate::ClassRegistry::register_protocol`]).

mod exporter;
pub mod props;
mod proxy;

pub use exporter::{ServiceExporter, ServiceTarget};
pub use proxy::ProxyFactory;
pub use tether_remoting::*;

/// The generic proxy factory class: speaks whichever registered protocol claims its URL.
pub const GENERIC_PROXY_CLASS: &str = "tether.ProxyFactory";
