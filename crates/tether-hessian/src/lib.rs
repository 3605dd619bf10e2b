//! # tether-hessian: Hessian 1.0 and 2.0 over HTTP
//!
//! Talks to Caucho's Java Hessian (4.0.38) and python-hessian as a service exporter (an HTTP
//! server, like Spring's `HessianServiceExporter`) and as a proxy (an HTTP client, like
//! `HessianProxyFactory`). One concept per file:
//!
//! - `codec/`: values of both versions to and from [`tether_core::Value`] (`read.rs`,
//!   `write.rs`, the UTF-16/CESU-8 strings in `strings.rs`), the call/reply/fault envelopes
//!   (`envelope.rs`).
#![deny(missing_docs)]

pub mod codec;

pub use codec::{Fault, Limits};
