//! A Pyro name server of tether's own, which Python's Pyro5 and Pyro4 clients use unchanged
//! (`locate_ns`, `PYRONAME:`, `PYROMETA:`, the `nsc` operations):
//!
//! - `service.rs`: [`NameServer`], the `Pyro.NameServer` object and its API;
//! - `store.rs`: [`Store`], its registrations in memory or in an SQLite file;
//! - `broadcast.rs`: the UDP responder for `locate_ns()` discovery, and the client side of it;
//! - `server.rs`: [`NameServerHandle::start`], a daemon with both.

pub mod broadcast;
mod server;
mod service;
mod store;

pub use server::{NameServerConfig, NameServerHandle, NS_PORT};
pub use service::{NameServer, NAME_SERVER_ID};
pub use store::{Entry, Store};
