//! # tether-test-support: what tether's tests share (dev-only, never published)
//!
//! - `peers.rs`: the real peers the test script installs: [`python`] (Python 3 with Pyro5,
//!   Pyro4, serpent, msgpack, python-hessian in `<repo>/.venv`), [`python2`] (the seed's
//!   Python 2.7 with Pyro 3.16 and Spring Python 1.3 in `<repo>/.py2`), [`java`] and the
//!   Caucho Hessian jar; each panics with a clear message naming the install step.
//! - `process.rs`: [`Proc`], a child process stopped by its pid when dropped (SIGTERM, then
//!   SIGKILL), and [`free_port`].
//! - `java_peer.rs`: Caucho's Java Hessian peer (compiled once), its server and client.
//! - `netns.rs`: test hosts in network namespaces (veth, private addresses) with black hole,
//!   partition and heal.
//! - `etcd.rs`: [`LocalEtcd`], a real etcd on free loopback ports, stopped by pid.
//! - `http.rs`: [`raw_http`], [`post_request`]: bytes no well-behaved HTTP client writes.
//! - `rng.rs`: [`xorshift`], deterministic numbers for tests that draw their inputs.
//! - `memory.rs`: [`memory::MemoryProtocol`], an in-process wire registered from outside the
//!   container the way a real wire is, for seam tests.
//!
//! Interop tests, against a peer nobody here wrote, are the files named
//! `crates/*/tests/interop_<peer>_*.rs` (`ls crates/*/tests/interop_*` lists them by peer:
//! Python's Pyro5, Pyro4 and serpent, Python 2's Pyro 3, python-hessian, Caucho's Java
//! Hessian, Python's `ssl`, etcd); the container and command-line tests that also drive those
//! peers through XML contexts and `tether` commands are in tether-context and tether-cli.
#![forbid(unsafe_code)]

mod etcd;
mod http;
pub mod java_peer;
pub mod memory;
pub mod netns;
mod peers;
mod process;
mod rng;

pub use etcd::{LocalEtcd, LocalEtcdCluster};
pub use http::{post_request, raw_http};
pub use peers::{hessian_jar, java, python, python2, root};
pub use process::{free_port, Proc};
pub use rng::xorshift;
