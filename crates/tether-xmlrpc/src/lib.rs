//! # tether-xmlrpc: XML-RPC over HTTP and HTTPS
//!
//! Spring Python's secure XML-RPC (`SSLServer`, `SSLClient`) on the shared layers: TLS 1.2+
//! with client certificates and `verify_fields` (`tether-tls`), HTTP/1.1 keep-alive
//! (`tether-http`). Interoperable with Python's `xmlrpc.client` and `xmlrpc.server`.
//!
//! - `codec.rs`: messages ↔ [`tether_core::Value`] (the type table is there);
//! - `server.rs`: [`XmlRpcServer`] (faults, introspection, multicall);
//! - `functions.rs`: [`Functions`], plain functions as a service (`register_functions`);
//! - `client.rs`: [`XmlRpcProxy`].
//! - `seam.rs`: the wire behind tether's protocol seam ([`tether_remoting::Protocol`]): its
//!   class names, options and log targets, for the container.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod client;
pub mod codec;
pub mod functions;
pub mod seam;
pub mod server;

pub use client::XmlRpcProxy;
pub use codec::RequestEncoding;
pub use functions::Functions;
pub use server::{FaultCodes, XmlRpcConfig, XmlRpcServer};
