//! # tether-hessian: Hessian 1.0 and 2.0 over HTTP
//!
//! Talks to Caucho's Java Hessian (4.0.38) and python-hessian as a service exporter (an HTTP
//! server, like Spring's `HessianServiceExporter`) and as a proxy (an HTTP client, like
//! `HessianProxyFactory`). One concept per file:
//!
//! - `codec/`: values of both versions to and from [`tether_core::Value`] (`read.rs`,
//!   `write.rs`, the UTF-16/CESU-8 strings in `strings.rs`), the call/reply/fault envelopes
//!   (`envelope.rs`).
//! - `methods.rs`: which method a call names (`name__N`, mangled overload names).
//! - `fault.rs`: errors ↔ faults (Java exception details both ways).
//! - `server.rs`: [`HessianServer`], the exporter's HTTP server (tether-http: TLS, bounds).
//! - `client.rs`: [`HessianProxy`], the HTTP client, an [`tether_core::Invoker`].
//! - `seam.rs`: the wire behind tether's protocol seam ([`tether_remoting::Protocol`]): its
//!   class names, options and log targets, for the container.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod client;
pub mod codec;
pub mod fault;
pub mod methods;
pub mod seam;
pub mod server;

pub use client::HessianProxy;
pub use codec::{Fault, Limits};
pub use server::{HessianServer, ServerConfig};
