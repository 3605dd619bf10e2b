//! # tether-core: the data model of tether
//!
//! Every protocol crate (Pyro, Hessian, XML-RPC) and the container speak in the terms defined
//! here, and only these:
//!
//! - [`Value`] (`value.rs`): the dynamic value every wire maps to, lossless through any one protocol.
//! - [`RemoteError`] (`error.rs`): the one framework error, opaque with a [`ErrorKind`].
//! - [`Call`], [`Invoker`], [`Dispatch`] (`call.rs`): one call, the client-side trait that sends
//!   it, and the server-side trait that routes it to an object; [`bind_args`] applies Python's
//!   positional/keyword rules.
//! - [`CallContext`] (`context.rs`): deadline, peer, verified TLS subject and annotations of a
//!   call; service code reads it with [`CallContext::current`].
//! - [`to_value`] / [`from_value`] (`convert.rs`): typed Rust values ↔ [`Value`] through serde.
//! - [`Remotable`], [`UpcastFrom`], [`ClassEntry`], [`FacetEntry`] (`registry.rs`): the glue
//!   `#[tether::service]` and `#[tether::component]` generate.
//! - [`ValueStream`], [`Reply`] (`stream.rs`): streamed results (remote iterators and
//!   generators), [`Dispatch::dispatch_reply`] and [`Invoker::invoke_stream`] carry them.
//! - [`LocalInvoker`] (`local.rs`): an in-process [`Invoker`] over a [`Dispatch`] (tests, local
//!   objects behind a proxy).
//! - [`Blocking`] (`blocking.rs`): the blocking facade for programs without an async runtime.
//! - [`echo`]: the protocol-neutral echo service behind `tether echo-server`.
//! - [`trace`]: [`TraceContext`] (W3C trace context on a call) and how wires carry it and the
//!   deadline.
//! - [`stats`]: counters and gauges that servers and pools keep for whoever reads them (the
//!   metrics endpoint).
//! - [`latch`]: [`latch::Latch`], the bits a server raises to stop one connection's task.
//! - [`ticker`]: [`ticker::Ticker`], a period kept by a thread, so that work done every few
//!   seconds leaves no timer pending on the runtime.
//! - [`python`]: CPython's `repr` of strings, floats and whole values (serpent, `tether call`).
//!
//! The flow of one call: typed args → `Value`s (generated proxy) → `Invoker` (a protocol client)
//! → codec → socket → codec → `Dispatch` (generated dispatcher) → typed args → the
//! implementation, and the result back the same way.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod blocking;
mod call;
mod context;
mod convert;
pub mod decimal;
pub mod echo;
mod error;
pub mod latch;
mod local;
pub mod lock;
pub mod markup;
pub mod net;
pub mod python;
mod registry;
pub mod stats;
mod stream;
pub mod ticker;
pub mod trace;
mod value;

pub use blocking::{Blocking, BlockingRuntime};
pub use call::value_reply;
pub use call::{
    bind_args, bind_args_with_defaults, AttrInfo, BoxFuture, Call, Description, Dispatch, Invoker,
    MethodInfo, ANY_ARGS, GETATTR, SETATTR,
};
pub use context::{CallContext, TlsSubject};
pub use convert::{from_value, to_value};
pub use error::{Delivery, ErrorKind, RemoteError};
pub use local::LocalInvoker;
pub use num_bigint::BigInt;
pub use registry::{
    submitted_classes, submitted_facets, AnyArc, ClassEntry, FacetEntry, Remotable, UpcastFrom,
};
pub use stream::{Reply, StreamSource, ValueSender, ValueStream};
pub use trace::TraceContext;
pub use value::{Object, Typed, Value};

/// Re-exports for generated code; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::convert::glue;
    pub use crate::stream::glue as stream_glue;
    pub use inventory;
}
