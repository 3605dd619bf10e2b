//! tether: configuration-driven remoting for Rust (being written).
#![deny(missing_docs)]
pub use tether_core::*;
