//! The Pyro5 wire version (protocol 502), apart from the codecs: its header, message types
//! and flags (`header.rs`), the serializer ids its header carries (`ids.rs`), and its frame
//! format for the shared reader (`format.rs`). The serializers themselves
//! ([`crate::serializer`]) know nothing of a wire version.

mod format;
pub mod header;
mod ids;

pub use format::Pyro5;
pub use header::*;
pub use ids::{serializer_for_id, serializer_id};
