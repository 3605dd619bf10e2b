//! # tether-cluster: client-side high availability and discovery
//!
//! A [`Pool`] is itself an [`Invoker`](tether_core::Invoker), so it stands wherever a proxy
//! does, over endpoints of any wire (Pyro 3/4/5, Hessian, XML-RPC): the service trait's
//! generated proxy cannot tell a pool from one remote object. Layout, one concept per file:
//!
//! - `endpoint.rs`: one member of a pool: its invoker, its load (calls in flight) and its
//!   health record (consecutive failures, ejection and back-off, counters a user can read).
//! - `balance.rs`: which live endpoint takes a call: round-robin, weighted random, least
//!   active by the power of two choices, consistent hash on an argument.
//! - `mode.rs`: what a call does with the endpoints: failover (bounded retries with back-off,
//!   only when a retry cannot run a call twice, unless the method is marked idempotent),
//!   failfast, failsafe, forking, broadcast.
//! - `pool.rs`: the pool: membership that grows and shrinks at run time, each call run by its
//!   mode over the layers below, the "no live server" error naming each endpoint and why it is
//!   out.
//! - `retry.rs`: when failover tries again, and how long it waits.
//! - `deadline.rs`: the one place a call's deadline is set, checked and enforced (per attempt,
//!   covering the retries).
//! - `health.rs`: outlier ejection and re-admission after a probe off the call path.
//! - `discovery/`: where the endpoint list comes from and how it changes: the seam's
//!   [`Members`](tether_remoting::Members) (a watch channel of URL sets) from any directory,
//!   a fixed list, and etcd (registration under a lease kept alive, a watch on a prefix, and
//!   [`discovery::EtcdDirectory`], the `etcd://` directory), all feeding [`Pool::follow`].
//! - `component.rs`: `tether.cluster.PoolProxyFactory`, the pool as a class of the XML
//!   application context ([`component::register`]).
//!
//! Models: Apache Dubbo's cluster modes and its rule that only calls that cannot have run are
//! retried unless marked idempotent; Finagle's and tower's power-of-two-choices balancer;
//! Envoy's outlier detection (eject after consecutive failures, re-admit after a back-off).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod balance;
pub mod component;
mod deadline;
pub mod discovery;
mod endpoint;
mod health;
mod mode;
mod pool;
mod retry;

pub use balance::Balance;
pub use endpoint::EndpointStats;
pub use health::HealthPolicy;
pub use mode::Mode;
pub use pool::{Pool, PoolConfig};
