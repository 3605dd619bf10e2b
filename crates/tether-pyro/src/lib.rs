//! # tether-pyro: the Pyro5, Pyro4 and Pyro 3 wire protocols, and a Pyro name server
//!
//! Talks byte-for-byte to Python's Pyro5 (5.17) and Pyro4 (4.82) as a server ([`Daemon`],
//! which answers both wires on one port, and Pyro 3.16 too with the `pyro3` feature) and as a
//! client ([`Proxy`], either wire; `pyro3::Pyro3Proxy` for Pyro 3). One concept
//! per file:
//!
//! - `pyro5/`: the wire version apart from the codecs: the 40-byte header, message types,
//!   flags, the serializer ids of the header, and the Pyro5 [`framing::FrameFormat`].
//! - `pyro4/`: Pyro4's 24-byte header with its checksum, its ids and flags, HMAC signing, and
//!   the translation of its class names; a Pyro4 frame is read into the same [`message::Message`]
//!   as a Pyro5 one.
//! - `wire.rs`: [`WireConnection`], one connection type over both versions; how a daemon tells
//!   them apart (the first six bytes).
//! - `pyro3/` (feature `pyro3`): the Pyro 3 wire of Spring Python 1.3 on Python 2: its 18-byte
//!   frame, the challenge handshake, a strict pickle codec that never runs anything, exception
//!   capsules, `PYROLOC://` URLs and [`pyro3::Pyro3Proxy`]; the daemon's side is
//!   `daemon/pyro3.rs` (a client silent for [`DaemonConfig::silent_client_wait`] is Pyro 3).
//! - `naming/`: the name server (`Pyro.NameServer`, memory or SQLite storage, the broadcast
//!   responder) and `locate_ns`.
//! - `framing.rs`: what the bounded reader needs of any wire's frames ([`framing::FrameFormat`])
//!   and [`framing::FrameError`]; Pyro4's and Pyro 3's headers plug in here.
//! - `message.rs`: annotations, payload, zlib inflation, single-buffer encoding.
//! - `connection/`: [`Connection`], the bounded reader over a buffer, generic over the frame
//!   format (`mod.rs`), Pyro5 messages on top (`pyro5.rs`), vectored writes (`write.rs`).
//! - `socket.rs`: TCP (`TCP_NODELAY`) or Unix socket.
//! - `uri.rs`: `PYRO:`, `PYRONAME:`, `PYROMETA:` and Spring Python's `PYROLOC:` URIs.
//! - `exception.rs`: [`tether_core::RemoteError`] ↔ Pyro's exception dicts.
//! - `metadata.rs`: the exposed methods/oneway/attrs sets of the handshake.
//! - `daemon/`: the server.
//! - `proxy/`: the client, an [`tether_core::Invoker`], laid out like `daemon/`: `session.rs`
//!   (connect and handshake), `call.rs` (one exchange), `streams.rs` (remote iterators).
//! - `resolve.rs`: `PYRONAME:`/`PYROMETA:` resolution through a name server.
//! - `serializer/`: serpent, json, msgpack and marshal, each mapping [`tether_core::Value`] both
//!   ways.
//! - `seam/`: the wires behind tether's protocol seam ([`seam::Pyro5`], [`seam::Pyro4`], and
//!   `seam::Pyro3` with the feature: class names, options, log targets, the command line's
//!   view) and the Pyro name server as a directory ([`seam::PyroNameServerDirectory`]).
//!
//! TLS comes from the shared `tether-tls` layer ([`DaemonConfig::tls`], [`Proxy::with_tls`]),
//! interoperable with Python's Pyro5 `SSL=True`.
//!
//! Streamed results (remote iterators/generators) work both ways: the daemon keeps a
//! [`tether_core::Reply::Stream`] under a stream id (see [`DaemonConfig`]'s stream limits) and
//! the proxy reads one with [`Proxy::invoke_stream`].
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod connection;
pub mod daemon;
pub mod exception;
pub mod framing;
pub mod message;
pub mod metadata;
pub mod naming;
pub mod proxy;
#[cfg(feature = "pyro3")]
pub mod pyro3;
pub mod pyro4;
pub mod pyro5;
pub mod resolve;
pub mod seam;
pub mod serializer;
pub mod socket;
pub mod uri;
pub mod wire;

pub use connection::Connection;
pub use daemon::{Daemon, DaemonConfig, HandshakeValidator, DAEMON_OBJECT_ID};
pub use metadata::Metadata;
pub use proxy::Proxy;
pub use pyro4::HmacKey;
pub use serializer::{Limits, Serializer};
pub use uri::{Location, PyroUri};
pub use wire::{WireConnection, WireVersion};
