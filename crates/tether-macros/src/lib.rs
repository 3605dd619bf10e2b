//! Procedural macros of tether (being written).
#![deny(missing_docs)]
