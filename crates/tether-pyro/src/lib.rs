//! # tether-pyro: the Pyro5 wire protocol
//!
//! - `serializer/`: serpent, json and msgpack, each mapping [`tether_core::Value`] both ways.
#![deny(missing_docs)]

pub mod serializer;
